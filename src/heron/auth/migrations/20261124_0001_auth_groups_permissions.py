"""heron.auth: permissions and groups.

Revision ID: auth_0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "auth_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("auth",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_group")),
        sa.UniqueConstraint("name", name=op.f("uq_auth_group_name")),
    )
    op.create_table(
        "auth_permission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("codename", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_permission")),
        sa.UniqueConstraint("component", "codename",
                            name=op.f("uq_auth_permission_component_codename")),
    )
    op.create_table(
        "auth_group_permissions",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("permission_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["auth_group.id"],
                                name=op.f("fk_auth_group_permissions_group_id_auth_group"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["permission_id"], ["auth_permission.id"],
            name=op.f("fk_auth_group_permissions_permission_id_auth_permission"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_id", "permission_id",
                                name=op.f("pk_auth_group_permissions")),
    )


def downgrade() -> None:
    op.drop_table("auth_group_permissions")
    op.drop_table("auth_permission")
    op.drop_table("auth_group")
