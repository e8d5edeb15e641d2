"""heron.auth: API tokens know their kind (API token or JWT login) and end with a
password change.

Revision ID: auth_user_0002
Revises: auth_user_0001
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "auth_user_0002"
down_revision: str | Sequence[str] | None = "auth_user_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_user_api_token") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=8), server_default="api",
                                   nullable=False))
        batch.add_column(sa.Column("auth_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("auth_user_api_token") as batch:
        batch.drop_column("auth_hash")
        batch.drop_column("kind")
