"""heron.admin: the audit log.

Revision ID: admin_0001
Revises:
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "admin_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("admin",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_log_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("user_repr", sa.String(length=150), nullable=False),
        sa.Column("component", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("object_repr", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_log_entry")),
    )
    op.create_index(op.f("ix_admin_log_entry_action_time"), "admin_log_entry", ["action_time"])
    op.create_index("ix_admin_log_entry_object", "admin_log_entry",
                    ["component", "model", "object_id"])
    op.create_index("ix_admin_log_entry_user", "admin_log_entry", ["user_id", "action_time"])


def downgrade() -> None:
    op.drop_index("ix_admin_log_entry_user", table_name="admin_log_entry")
    op.drop_index("ix_admin_log_entry_object", table_name="admin_log_entry")
    op.drop_index(op.f("ix_admin_log_entry_action_time"), table_name="admin_log_entry")
    op.drop_table("admin_log_entry")
