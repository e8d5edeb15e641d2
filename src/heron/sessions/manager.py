"""Opening ``request.session`` and saving it with the response."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heron.exceptions import ImproperlyConfigured
from heron.sessions.backends import CacheSessionBackend, CookieSessionBackend, SessionBackend
from heron.sessions.session import Session

if TYPE_CHECKING:
    from heron.app import App
    from heron.requests import HTTPConnection
    from heron.responses import Response

__all__ = ["SessionManager", "load_backend"]

_BUILTIN: dict[str, str] = {
    "cookie": "heron.sessions.backends:CookieSessionBackend",
    "cache": "heron.sessions.backends:CacheSessionBackend",
    "database": "heron.sessions.database:DatabaseSessionBackend",
}


def load_backend(app: App, name: str) -> SessionBackend:
    """The backend the ``session_backend`` setting names, made for ``app``.

    Raises:
        ImproperlyConfigured: for an unknown name or a class that is not a backend
            (heron.sessions.E001).
    """
    if name == "cookie":
        return CookieSessionBackend(app)
    if name == "cache":
        return CacheSessionBackend(app)
    from heron._discovery import import_string

    target = _BUILTIN.get(name, name)
    try:
        cls = import_string(target)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"session_backend {name!r} cannot be loaded ({exc}); use 'cookie', 'cache', "
            "'database' or 'package.module:Class'", id="heron.sessions.E001",
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, SessionBackend)):
        raise ImproperlyConfigured(f"session_backend {name!r} is not a SessionBackend subclass",
                                   id="heron.sessions.E004")
    return cls(app)


class SessionManager:
    """Reads the session cookie into a :class:`Session` and writes it back."""

    def __init__(self, app: App) -> None:
        settings = app.settings
        self.backend = load_backend(app, settings.session_backend)
        self.server_side = self.backend.server_side
        self.cookie_name = settings.session_cookie_name
        self.cookie_options: dict[str, Any] = {
            "max_age": None if settings.session_expire_at_browser_close
            else settings.session_max_age,
            "path": settings.session_cookie_path,
            "domain": settings.session_cookie_domain,
            "secure": settings.session_cookie_secure,
            "httponly": True,
            "samesite": settings.session_cookie_samesite.lower(),
        }

    def open(self, conn: HTTPConnection) -> Session:
        """The session of a request, read without awaiting.

        Cookie sessions are decoded here.  Server-side sessions are loaded by
        :meth:`load` before the view runs; a sync view may still reach the
        store through heron's thread-pool bridge.
        """
        cookie = conn.cookies.get(self.cookie_name)
        if not cookie:
            return Session()
        if isinstance(self.backend, CookieSessionBackend):
            data = self.backend.decode(cookie)
            return Session(invalid=True) if data is None else Session(data)
        from heron.concurrency import run_async

        try:
            return self._session(cookie, run_async(self.backend.load(cookie)))
        except RuntimeError:
            raise RuntimeError(
                "This server-side session was not loaded: in async code outside a view, "
                "call `await request.load_session()` first."
            ) from None

    async def load(self, conn: HTTPConnection) -> Session:
        cookie = conn.cookies.get(self.cookie_name)
        if not cookie:
            return Session()
        return self._session(cookie, await self.backend.load(cookie))

    def _session(self, cookie: str, data: dict[str, Any] | None) -> Session:
        if data is None:
            return Session(invalid=True)
        return Session(data, key=cookie if self.server_side else None)

    async def commit(self, conn: HTTPConnection, response: Response) -> None:
        """Save a session the view changed, and set or delete its cookie.

        The response of a request that read the session may show this visitor's
        data: it gets ``Vary: Cookie``, and ``Cache-Control: private`` (no shared
        cache keeps it) unless the view set a ``Cache-Control`` of its own.
        """
        session = conn._session
        if session is None:
            return
        headers = response.headers
        headers.add_vary("Cookie")
        raw = response.raw_headers  # header names are lower-case bytes here: a plain scan
        if not any(name == b"cache-control" for name, _ in raw):
            raw.append((b"cache-control", b"private"))
        backend = self.backend
        if session.key is not None and (session.flushed or session.cycled):
            await backend.delete(session.key)
            session.key = None
        if session.modified and not session:
            # An empty session is never stored: drop it and its cookie.
            if session.key is not None:
                await backend.delete(session.key)
            if self.cookie_name in conn.cookies:
                response.delete_cookie(self.cookie_name, path=self.cookie_options["path"],
                                       domain=self.cookie_options["domain"])
            return
        if session.invalid and not session.modified and self.server_side:
            # A stale or forged key: forget it rather than store an empty
            # session for it (one row per request would be an easy flood).
            response.delete_cookie(self.cookie_name, path=self.cookie_options["path"],
                                   domain=self.cookie_options["domain"])
            return
        if session.modified or session.invalid:
            value = await backend.save(session.key, session.to_dict())
            if value is None:  # ended by another request meanwhile: stay ended
                response.delete_cookie(self.cookie_name, path=self.cookie_options["path"],
                                       domain=self.cookie_options["domain"])
                return
            if len(value) > 4000:
                import logging

                logging.getLogger("heron.sessions").warning(
                    "The session cookie is %d bytes; browsers drop cookies above about 4 KB. "
                    "Store less in the session, or use a server-side session_backend.",
                    len(value),
                )
            response.set_cookie(self.cookie_name, value, **self.cookie_options)
