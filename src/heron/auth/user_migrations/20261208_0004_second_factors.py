"""heron.auth: second factors of the default user: a TOTP authenticator, recovery
codes and passkeys (docs/auth.md, "Two-factor login").

Revision ID: auth_user_0004
Revises: auth_user_0003
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "auth_user_0004"
down_revision: str | Sequence[str] | None = "auth_user_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"],
                                   name=op.f(f"fk_{table}_user_id_auth_user"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "auth_user_totp",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=255), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_step", sa.Integer(), server_default="0", nullable=False),
        sa.Column("grace_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _user_fk("auth_user_totp"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_user_totp")),
        sa.UniqueConstraint("user_id", name=op.f("uq_auth_user_totp_user_id")),
    )
    op.create_table(
        "auth_user_recovery_code",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _user_fk("auth_user_recovery_code"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_user_recovery_code")),
    )
    op.create_index(op.f("ix_auth_user_recovery_code_user_id"), "auth_user_recovery_code",
                    ["user_id"])
    op.create_table(
        "auth_user_passkey",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("transports", sa.String(length=200), server_default="", nullable=False),
        sa.Column("aaguid", sa.String(length=36), server_default="", nullable=False),
        sa.Column("backed_up", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        _user_fk("auth_user_passkey"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_user_passkey")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_auth_user_passkey_credential_id")),
    )
    op.create_index(op.f("ix_auth_user_passkey_user_id"), "auth_user_passkey", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_auth_user_passkey_user_id"), table_name="auth_user_passkey")
    op.drop_table("auth_user_passkey")
    op.drop_index(op.f("ix_auth_user_recovery_code_user_id"),
                  table_name="auth_user_recovery_code")
    op.drop_table("auth_user_recovery_code")
    op.drop_table("auth_user_totp")
