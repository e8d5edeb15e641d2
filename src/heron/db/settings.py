"""heron.db's settings section: the databases and their pools (docs/database.md).

A light module: it imports no SQLAlchemy, so that every app's settings can include it.
"""

from __future__ import annotations

import dataclasses

from heron.settings import settings_section

__all__ = ["DatabaseSettings"]


@settings_section
class DatabaseSettings:
    """The default database, more databases by name, pools and the instance folder."""

    #: SQLAlchemy URL of the default database; ``None`` means a SQLite file,
    #: ``<instance_dir>/db.sqlite3``.  PostgreSQL: ``postgresql://user:pw@host/name``.
    database_url: str | None = dataclasses.field(default=None, repr=False)
    #: More databases by name (``{"analytics": "postgresql://..."}``; JSON in the
    #: environment), used by models with ``__bind_key__`` or ``db.session_for(name)``.
    database_binds: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)
    database_pool_size: int = 5
    database_max_overflow: int = 10
    #: Seconds a request waits for a free connection before it gets 503.
    database_pool_timeout: float = 10.0
    #: Replace connections older than this many seconds.
    database_pool_recycle: int = 1800
    #: Seconds to wait for the database server to accept a connection.
    database_connect_timeout: int = 5
    #: Log every SQL statement (on ``sqlalchemy.engine``).
    database_echo: bool = False
    #: Folder, relative to the app's root, for files the app writes (the SQLite database).
    instance_dir: str = "instance"
