"""``heron_lower(text)``: one case folding, the same on SQLite and PostgreSQL.

Neither database's ``lower()`` will do for case-insensitive logins: SQLite's folds
ASCII only, and PostgreSQL's follows the database's locale, ASCII only under the
``C`` locale.  ``heron_lower`` maps every letter that has a one-letter case folding
in Python's Unicode tables (``É`` -> ``é``, Greek capital and final sigma -> small
sigma, the Kelvin sign -> ``k``), whatever the locale.  It is deterministic
(``IMMUTABLE``), so a unique index can be made on it.

- SQLite: a function of the connection, registered on each one heron opens
  (another program opening the file, such as the ``sqlite3`` shell, does not have
  it and cannot write the tables whose indexes use it);
- PostgreSQL: a SQL function over ``translate()``, made by ``db.create_all`` and
  before every ``heron db migrate``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, MetaData, event

__all__ = ["FUNCTION_NAME", "fold", "install", "postgresql_function_sql", "register_sqlite"]

FUNCTION_NAME = "heron_lower"


@lru_cache(maxsize=1)
def _pairs() -> tuple[str, str]:
    """The letters that change, and what each becomes."""
    upper, lower = [], []
    # Every cased letter is below U+20000 (the last ones are Adlam's, U+1E900...):
    # the planes above hold CJK ideographs and private use, which have no case.
    for code in range(0x20000):
        char = chr(code)
        folded = char.casefold()
        if len(folded) != 1:  # "ß" -> "ss": one letter to two is not translate()'s
            folded = char.lower()
        if len(folded) == 1 and folded != char:
            upper.append(char)
            lower.append(folded)
    return "".join(upper), "".join(lower)


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    return dict(zip(map(ord, _pairs()[0]), _pairs()[1], strict=True))


def fold(value: str) -> str:
    """``value`` as ``heron_lower()`` gives it back from either database."""
    return value.translate(_table())


def _sqlite_lower(value: Any) -> Any:
    return fold(value) if isinstance(value, str) else value


def register_sqlite(dbapi_connection: Any) -> None:
    """Give one SQLite connection (sqlite3 or aiosqlite) the ``heron_lower`` function."""
    dbapi_connection.create_function(FUNCTION_NAME, 1, _sqlite_lower, deterministic=True)


def postgresql_function_sql() -> str:
    """``CREATE OR REPLACE FUNCTION heron_lower(text)`` for PostgreSQL."""
    upper, lower = _pairs()
    # No quote, backslash, dollar or percent sign is a letter: the literals need no escaping.
    return (f"CREATE OR REPLACE FUNCTION {FUNCTION_NAME}(value text) RETURNS text "
            "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE "
            f"AS $heron$ SELECT translate(value, '{upper}', '{lower}') $heron$")


def _create_on_postgresql(target: MetaData, connection: Connection, **kw: Any) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(postgresql_function_sql())


def install(metadata: MetaData) -> None:
    """Make ``create_all`` on PostgreSQL create the function before the tables."""
    event.listen(metadata, "before_create", _create_on_postgresql)
