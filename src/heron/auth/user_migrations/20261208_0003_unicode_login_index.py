"""heron.auth: logins unique whatever the case of any letter, not only ASCII's.

The unique index on ``lower(username)`` let ``Émile`` and ``émile`` be two users on
SQLite (whose ``lower()`` folds ASCII only) and on PostgreSQL under the ``C``
locale.  It is now on ``heron_lower(username)``, which folds every letter alike on
both (heron.db makes the function before migrations run).

Revision ID: auth_user_0003
Revises: auth_user_0002
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "auth_user_0003"
down_revision: str | Sequence[str] | None = "auth_user_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _refuse_duplicates() -> None:
    """Users the new index would refuse: they must be merged or renamed first."""
    from heron.db._lower import fold

    groups: dict[str, list[str]] = defaultdict(list)
    for (name,) in op.get_bind().execute(sa.text("SELECT username FROM auth_user")):
        groups[fold(name)].append(name)
    clashes = [names for names in groups.values() if len(names) > 1]
    if clashes:
        listed = "; ".join(", ".join(repr(name) for name in names) for names in clashes)
        raise RuntimeError(
            "These users differ only by the case of a letter, and a login must name "
            f"one user: {listed}. Rename or delete all but one of each, then migrate again.")


def upgrade() -> None:
    _refuse_duplicates()
    op.drop_index("uq_auth_user_username_lower", table_name="auth_user")
    op.create_index("uq_auth_user_username_lower", "auth_user",
                    [sa.text("heron_lower(username)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_auth_user_username_lower", table_name="auth_user")
    op.create_index("uq_auth_user_username_lower", "auth_user", [sa.text("lower(username)")],
                    unique=True)
