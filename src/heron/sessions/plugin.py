"""heron.sessions as a plug-in: ``app.sessions``, server-side sessions read before
views, and changed sessions saved with the response."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from heron.exceptions import ImproperlyConfigured, ServiceUnavailable
from heron.plugins import REFUSED_KEY, Plugin, RequestHook, ResponseHook
from heron.settings import settings_section

if TYPE_CHECKING:
    from heron.app import App
    from heron.requests import HTTPConnection, Request
    from heron.responses import Response
    from heron.routing import Router
    from heron.sessions.manager import SessionManager
    from heron.sessions.session import Session

__all__ = ["SessionSettings", "SessionsPlugin", "manager"]


def manager(app: App) -> SessionManager:
    """The app's :class:`SessionManager` (``app.sessions``)."""
    sessions: SessionManager = app.sessions
    return sessions


@settings_section
class SessionSettings:
    """heron.sessions' settings (docs/sessions.md)."""

    #: ``cookie`` (signed, default), ``cache`` (the cache store: memory or
    #: Redis), ``database``, or ``package.module:Class`` of your own backend.
    session_backend: str = "cookie"
    session_cookie_name: str = "heron_session"
    session_cookie_domain: str | None = None
    session_cookie_path: str = "/"
    #: ``None``: Secure when the request came over HTTPS.
    session_cookie_secure: bool | None = None
    session_cookie_samesite: str = "lax"
    #: Seconds a session lives after it was last saved (two weeks).
    session_max_age: int = 14 * 24 * 3600
    #: Send the cookie without Max-Age, so the browser drops it when closed.
    session_expire_at_browser_close: bool = False


class SessionsPlugin(Plugin):
    """``request.session`` for every app, with the backend ``session_backend`` names."""

    name = "heron.sessions"
    settings = SessionSettings

    def setup(self, app: App) -> None:
        def make() -> SessionManager:
            from heron.sessions.manager import SessionManager

            return SessionManager(app)

        app.provide("sessions", make)

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        settings = app.settings
        problems = []
        if settings.session_cookie_samesite.lower() not in ("lax", "strict", "none"):
            problems.append(ImproperlyConfigured(
                f"session_cookie_samesite is {settings.session_cookie_samesite!r}; use "
                "'lax', 'strict' or 'none'", id="heron.sessions.E002"))
        if settings.session_max_age <= 0:
            problems.append(ImproperlyConfigured(
                "session_max_age must be a positive number of seconds",
                id="heron.sessions.E003"))
        if settings.session_backend != "cookie":
            try:
                manager(app)  # loads the backend
            except ImproperlyConfigured as exc:
                problems.append(exc)
        return problems

    def deploy_checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        """The session cookie without ``Secure`` in production (heron.sessions.W001).

        The CSRF secret and the logged-in user live in the session, so this cookie
        is the one that matters."""
        secure = app.settings.session_cookie_secure
        if secure is True:
            return []
        when = ("never marked Secure" if secure is False else
                "marked Secure only on requests the app sees as HTTPS (never behind a proxy "
                "that terminates TLS, unless it is in trusted_proxies)")
        return [ImproperlyConfigured(
            f"session_cookie_secure is {secure}: the session cookie is {when}, so a browser "
            "may send it over plain HTTP, where it can be stolen. Set "
            "HERON_SESSION_COOKIE_SECURE=1 on an HTTPS site", id="heron.sessions.W001")]

    def request_attributes(self, app: App) -> dict[str, Any]:
        """``request.session`` and ``await request.load_session()``."""

        def open_session(conn: HTTPConnection) -> Session:
            preloaded: Session | None = conn.scope.get("heron.session")
            if preloaded is None and "heron.session.error" in conn.scope:
                raise conn.scope["heron.session.error"]
            return preloaded if preloaded is not None else manager(app).open(conn)

        async def load_session(conn: HTTPConnection) -> Session:
            preloaded: Session | None = conn.scope.get("heron.session")
            return preloaded if preloaded is not None else await manager(app).load(conn)

        return {"session": open_session, "load_session": load_session}

    def request_hooks(self, app: App) -> Iterable[RequestHook]:
        if app.settings.session_backend == "cookie":
            return ()  # decoded on first use, without awaiting
        sessions = manager(app)
        cookie_name = app.settings.session_cookie_name

        async def preload_session(conn: HTTPConnection) -> None:
            # Server-side sessions are read before the view, so that the sync
            # ``request.session`` finds them; the view may still never touch it.
            if cookie_name in conn.cookies:
                try:
                    conn.scope["heron.session"] = await sessions.load(conn)
                except ServiceUnavailable as exc:
                    # Only requests that use the session fail (503) while the store is down.
                    conn.scope["heron.session.error"] = exc

        return [preload_session]

    def response_hooks(self, app: App) -> Iterable[ResponseHook]:
        async def save_session(request: Request, response: Response,
                               routers: Sequence[Router]) -> Response:
            if request._session is None or response.status_code >= 500 \
                    or request.scope.get(REFUSED_KEY):
                return response  # untouched, or a failed or refused request: no change
            # A store that is down (503) or data JSON cannot hold (500) raises:
            # the app turns it into its error page.
            await manager(app).commit(request, response)
            return response

        return [save_session]


plugin = SessionsPlugin
