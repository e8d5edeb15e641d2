"""heron's sessions table (session_backend = "database").

Revision ID: heron_0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "heron_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("heron",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "heron_session",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_heron_session")),
    )
    op.create_index(op.f("ix_heron_session_expires_at"), "heron_session", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_heron_session_expires_at"), table_name="heron_session")
    op.drop_table("heron_session")
