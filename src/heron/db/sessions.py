"""Sessions in the database (``session_backend = "database"``).

The ``heron_session`` table comes with heron's own migrations: run
``heron db migrate``.  Expired rows are ignored at once and deleted by
``heron db clearsessions`` (run it from cron).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import DateTime, String, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from heron.db.database import db, translate_error
from heron.db.models import Model
from heron.sessions.backends import SessionBackend

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["DatabaseSessionBackend", "StoredSession", "clear_expired_sessions"]


class StoredSession(Model):
    """One row per session: its key, JSON data and expiry."""

    __tablename__ = "heron_session"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; heron stores UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@contextlib.asynccontextmanager
async def _store_errors() -> AsyncIterator[None]:
    # A database out of reach is a ServiceUnavailable here already, so that
    # heron fails only the requests that use the session (as with the cache).
    try:
        yield
    except Exception as exc:
        unavailable = translate_error(exc)
        if unavailable is None:
            raise
        raise unavailable from exc


class DatabaseSessionBackend(SessionBackend):
    """Server-side sessions in the app's default database, through its own
    short transactions (never the view's ``db.session``)."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.state = db.state(app)

    def _session(self) -> AsyncSession:
        return AsyncSession(self.state.async_engine(), expire_on_commit=False)

    async def load(self, cookie: str) -> dict[str, Any] | None:
        if not self.valid_key(cookie):
            return None
        async with _store_errors(), self._session() as session:
            row = await session.get(StoredSession, cookie)
        if row is None or _aware(row.expires_at) <= _now():
            return None
        try:
            data = orjson.loads(row.data)
        except orjson.JSONDecodeError:
            return None
        return data if isinstance(data, dict) else None

    async def save(self, key: str | None, data: dict[str, Any]) -> str:
        key = key or self.new_key()
        row = StoredSession(key=key, data=orjson.dumps(data).decode(),
                            expires_at=_now() + timedelta(seconds=self.max_age))
        async with _store_errors(), self._session() as session, session.begin():
            await session.merge(row)
        return key

    async def delete(self, key: str) -> None:
        async with _store_errors(), self._session() as session, session.begin():
            await session.execute(delete(StoredSession).where(StoredSession.key == key))


async def clear_expired_sessions(app: App) -> int:
    """Delete expired sessions; return how many."""
    state = db.state(app)
    async with AsyncSession(state.async_engine()) as session, session.begin():
        expired = await session.scalars(
            select(StoredSession.key).where(StoredSession.expires_at <= _now())
        )
        keys = list(expired)
        if keys:
            await session.execute(delete(StoredSession).where(StoredSession.key.in_(keys)))
    return len(keys)
