"""Deprecated alias: the database session backend is :mod:`heron.sessions.database`.

Kept so that ``from heron.db.sessions import StoredSession`` keeps working; the
one upward import it needs is listed in the import contracts' ``ignore_imports``.
"""

from heron.sessions.database import (
    DatabaseSessionBackend,
    StoredSession,
    clear_expired_sessions,
)

__all__ = ["DatabaseSessionBackend", "StoredSession", "clear_expired_sessions"]
