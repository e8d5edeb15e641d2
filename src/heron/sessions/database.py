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
from sqlalchemy import DateTime, String, Text, delete, update
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

    def _session(self) -> AsyncSession:
        # The app's current engines (test fixtures may repoint the database).
        return AsyncSession(db.state(self.app).async_engine(), expire_on_commit=False)

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

    async def save(self, key: str | None, data: dict[str, Any]) -> str | None:
        text = orjson.dumps(data).decode()
        expires_at = _now() + timedelta(seconds=self.max_age)
        async with _store_errors(), self._session() as session, session.begin():
            if key is None:
                key = self.new_key()
                session.add(StoredSession(key=key, data=text, expires_at=expires_at))
                return key
            # Only a session that still exists is updated: one ended meanwhile
            # (a logout in another request) must not come back.
            result = await session.execute(
                update(StoredSession).where(StoredSession.key == key)
                .values(data=text, expires_at=expires_at)
            )
        return key if result.rowcount else None  # type: ignore[attr-defined]

    async def delete(self, key: str) -> None:
        async with _store_errors(), self._session() as session, session.begin():
            await session.execute(delete(StoredSession).where(StoredSession.key == key))


async def clear_expired_sessions(app: App) -> int:
    """Delete expired sessions; return how many."""
    state = db.state(app)
    async with AsyncSession(state.async_engine()) as session, session.begin():
        # One statement: no key list to outgrow, no window in which a session
        # renewed meanwhile could be deleted.
        result = await session.execute(
            delete(StoredSession).where(StoredSession.expires_at <= _now())
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
