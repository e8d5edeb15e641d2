"""64-bit ids (BIGINT on PostgreSQL)

heron's default ``id`` became a 64-bit integer, and so did the foreign keys to it.
On PostgreSQL the columns, and the sequences numbering new rows, were 4-byte
integers; SQLite's ``INTEGER PRIMARY KEY`` holds 64 bits already.

Revision ID: 5fcb808cd481
Revises: 2f44da882074
Create Date: 2026-12-07 20:54:34.816843
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5fcb808cd481"
down_revision: str | Sequence[str] | None = "2f44da882074"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: The ids, and the foreign keys that refer to them.
COLUMNS = [("task", "id")]
#: The tables whose ``id`` a sequence numbers.
SEQUENCES = ["task"]


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        return  # nothing to change: INTEGER PRIMARY KEY is 64 bits
    for table, column in COLUMNS:
        op.alter_column(
            table,
            column,
            existing_type=sa.Integer(),
            type_=sa.BigInteger(),
            existing_nullable=False,
        )
    for table in SEQUENCES:
        op.execute(f"ALTER SEQUENCE {table}_id_seq AS bigint")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        return
    for table in SEQUENCES:
        op.execute(f"ALTER SEQUENCE {table}_id_seq AS integer")
    for table, column in reversed(COLUMNS):
        op.alter_column(
            table,
            column,
            existing_type=sa.BigInteger(),
            type_=sa.Integer(),
            existing_nullable=False,
        )
