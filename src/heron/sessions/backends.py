"""Where sessions are kept: the pluggable backend interface and heron's backends."""

from __future__ import annotations

import re
import secrets
import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

if TYPE_CHECKING:
    from heron.app import App
    from heron.cache import Cache

__all__ = ["CacheSessionBackend", "CookieSessionBackend", "SessionBackend"]

_KEY = re.compile(r"[A-Za-z0-9_-]{20,80}")


class SessionBackend(ABC):
    """Stores session data; the cookie carries what ``save`` returned.

    A backend is made once per app with ``Backend(app)``.  Subclass it for a
    store of your own and name it in the ``session_backend`` setting as
    ``package.module:ClassName``.

    A *server-side* backend keeps the data and gives the client a random key;
    heron loads it before the view runs when the request carries a cookie.  A
    client-side backend (``server_side = False``) puts the data itself in the
    cookie and must implement :meth:`decode` and :meth:`encode`.
    """

    server_side: ClassVar[bool] = True

    def __init__(self, app: App) -> None:
        self.app = app
        self.max_age = app.settings.session_max_age

    @abstractmethod
    async def load(self, cookie: str) -> dict[str, Any] | None:
        """The data for a cookie value, or ``None`` when unknown, expired or invalid."""

    @abstractmethod
    async def save(self, key: str | None, data: dict[str, Any]) -> str | None:
        """Store ``data`` (under ``key``, or a new key when ``None``); return the cookie value.

        Server-side stores update an existing ``key`` only if it still exists and
        return ``None`` when it does not: the session was ended meanwhile (a
        logout in a concurrent request) and must not be brought back.
        """

    async def delete(self, key: str) -> None:  # noqa: B027 (optional for client-side stores)
        """Forget the data under ``key`` (flush, cycle_key)."""

    @staticmethod
    def new_key() -> str:
        """A fresh random session key (256 bits)."""
        return secrets.token_urlsafe(32)

    @staticmethod
    def valid_key(cookie: str) -> bool:
        """True when a cookie value is shaped like a key (checked before any lookup)."""
        return _KEY.fullmatch(cookie) is not None


class CookieSessionBackend(SessionBackend):
    """The default: the data lives in the cookie, signed (not encrypted) with itsdangerous.

    Anyone holding the cookie can read it, nobody without ``secret_key`` can
    change it.  Keep it small (browsers drop cookies above about 4 KB) and keep
    secrets out of it.  Expiry is enforced by the signature's timestamp.
    """

    server_side = False

    def __init__(self, app: App) -> None:
        super().__init__(app)
        from heron.signing import timed_serializer

        self.serializer = timed_serializer(app, "heron.sessions", _JSONSerializer)

    def decode(self, cookie: str) -> dict[str, Any] | None:
        from itsdangerous import BadData

        try:
            data = self.serializer.loads(cookie, max_age=self.max_age)
        except (BadData, ValueError, TypeError):
            return None
        return data if isinstance(data, dict) else None

    def encode(self, data: dict[str, Any]) -> str:
        encoded: str = self.serializer.dumps(data)
        return encoded

    async def load(self, cookie: str) -> dict[str, Any] | None:
        return self.decode(cookie)

    async def save(self, key: str | None, data: dict[str, Any]) -> str | None:
        return self.encode(data)


class CacheSessionBackend(SessionBackend):
    """Sessions in the cache store (``cache_url``): memory, or Redis across processes."""

    prefix = "session:"

    def __init__(self, app: App, cache: Cache | None = None) -> None:
        super().__init__(app)
        self._cache = cache

    @property
    def cache(self) -> Cache:
        """The cache holding sessions, strict: a store that is down answers 503 rather
        than passing for an empty session (or silently dropping a login)."""
        return (self._cache if self._cache is not None else self.app.cache).strict

    async def load(self, cookie: str) -> dict[str, Any] | None:
        if not self.valid_key(cookie):
            return None
        record = await self.cache.aget(self.prefix + cookie)
        if not isinstance(record, dict):
            return None
        expires = record.get("expires")
        if not isinstance(expires, int | float) or expires <= time.time():
            return None
        data = record.get("data")
        return data if isinstance(data, dict) else None

    async def save(self, key: str | None, data: dict[str, Any]) -> str | None:
        record = {"data": data, "expires": time.time() + self.max_age}
        if key is None:
            key = self.new_key()
            await self.cache.aset(self.prefix + key, record, ttl=self.max_age)
            return key
        stored = await self.cache.areplace(self.prefix + key, record, ttl=self.max_age)
        return key if stored else None

    async def delete(self, key: str) -> None:
        await self.cache.adelete(self.prefix + key)


class _JSONSerializer:
    """itsdangerous's serializer protocol over orjson (compact, and no pickle)."""

    @staticmethod
    def dumps(value: Any) -> str:
        return orjson.dumps(value).decode()

    @staticmethod
    def loads(value: str | bytes) -> Any:
        return orjson.loads(value)
