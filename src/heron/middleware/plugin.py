"""heron's built-in middleware as a plug-in, switched on by settings: trusted proxy
headers, the access log and CORS around the app; compression and Server-Timing
(in debug) inside it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from heron.exceptions import ImproperlyConfigured
from heron.plugins import Plugin

if TYPE_CHECKING:
    from heron.app import App, Middleware

__all__ = ["MiddlewarePlugin"]


class MiddlewarePlugin(Plugin):
    """The middleware the settings ask for, in a fixed order."""

    name = "heron.middleware"

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        if not app.settings.cors_allow_origins:
            return []
        from heron.middleware.cors import CORSMiddleware

        try:
            CORSMiddleware(app, allow_origins=app.settings.cors_allow_origins,
                           allow_credentials=app.settings.cors_allow_credentials)
        except ImproperlyConfigured as exc:
            return [exc]
        return []

    def middleware(self, app: App) -> Iterable[Middleware]:
        from heron.app import Middleware

        settings = app.settings
        entries: list[Middleware] = []
        if settings.trusted_proxies:
            from heron.middleware.proxy import ProxyHeadersMiddleware

            entries.append(Middleware(ProxyHeadersMiddleware,
                                      {"trusted": settings.trusted_proxies}))
        if settings.access_log:
            from heron.middleware.accesslog import AccessLogMiddleware

            entries.append(Middleware(AccessLogMiddleware))
        if settings.cors_allow_origins:
            from heron.middleware.cors import CORSMiddleware

            entries.append(Middleware(CORSMiddleware, {
                "allow_origins": settings.cors_allow_origins,
                "allow_credentials": settings.cors_allow_credentials,
                "allow_methods": settings.cors_allow_methods,
                "allow_headers": settings.cors_allow_headers,
                "expose_headers": settings.cors_expose_headers,
                "max_age": settings.cors_max_age,
            }))
        if settings.gzip:
            from heron.middleware.gzip import GZipMiddleware

            entries.append(Middleware(GZipMiddleware, {"minimum_size": settings.gzip_min_size},
                                      inner=True))
        if settings.debug:
            from heron.middleware.timing import ServerTimingMiddleware

            entries.append(Middleware(ServerTimingMiddleware, inner=True))
        return entries


plugin = MiddlewarePlugin
