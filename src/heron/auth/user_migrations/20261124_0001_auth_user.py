"""heron.auth: the default user model (``auth_user_model = "heron.auth.user:User"``),
its groups, permissions and API tokens.

Revision ID: auth_user_0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "auth_user_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("auth_user",)
depends_on: str | Sequence[str] | None = ("auth_0001",)


def upgrade() -> None:
    op.create_table(
        "auth_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("email", sa.String(length=254), server_default="", nullable=False),
        sa.Column("date_joined", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("is_superuser", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("is_staff", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("password", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("last_login", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_user")),
    )
    # Unique whatever the case: "Alice" and "alice" are one user.
    op.create_index("uq_auth_user_username_lower", "auth_user", [sa.text("lower(username)")],
                    unique=True)
    op.create_table(
        "auth_user_api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"],
                                name=op.f("fk_auth_user_api_token_user_id_auth_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_user_api_token")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_auth_user_api_token_key_hash")),
    )
    op.create_index(op.f("ix_auth_user_api_token_user_id"), "auth_user_api_token", ["user_id"])
    op.create_table(
        "auth_user_groups",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["auth_group.id"],
                                name=op.f("fk_auth_user_groups_group_id_auth_group"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"],
                                name=op.f("fk_auth_user_groups_user_id_auth_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "group_id", name=op.f("pk_auth_user_groups")),
    )
    op.create_table(
        "auth_user_permissions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("permission_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["permission_id"], ["auth_permission.id"],
            name=op.f("fk_auth_user_permissions_permission_id_auth_permission"),
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"],
                                name=op.f("fk_auth_user_permissions_user_id_auth_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "permission_id",
                                name=op.f("pk_auth_user_permissions")),
    )


def downgrade() -> None:
    op.drop_table("auth_user_permissions")
    op.drop_table("auth_user_groups")
    op.drop_index(op.f("ix_auth_user_api_token_user_id"), table_name="auth_user_api_token")
    op.drop_table("auth_user_api_token")
    op.drop_index("uq_auth_user_username_lower", table_name="auth_user")
    op.drop_table("auth_user")
