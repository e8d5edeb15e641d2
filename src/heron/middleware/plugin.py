"""heron's built-in middleware as a plug-in, switched on by settings: trusted proxy
headers, the access log and CORS around the app; compression and Server-Timing
(in debug) inside it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

from heron.exceptions import ImproperlyConfigured
from heron.plugins import Plugin
from heron.settings import settings_section

if TYPE_CHECKING:
    from heron.app import App, Middleware

__all__ = ["MiddlewarePlugin", "MiddlewareSettings"]


@settings_section
class MiddlewareSettings:
    """The built-in middleware's settings: trusted proxies, the access log, gzip and CORS."""

    #: Proxies whose X-Forwarded-*/Forwarded headers are believed (IPs or CIDRs; ``*`` = all).
    trusted_proxies: list[str] = dataclasses.field(default_factory=list)
    #: Log one line per request on the ``heron.access`` logger.
    access_log: bool = True
    #: Compress responses with gzip above ``gzip_min_size`` bytes (off by default:
    #: a front proxy usually does it, and compressing secrets invites BREACH).
    gzip: bool = False
    gzip_min_size: int = 500
    #: Origins allowed to call the API from a browser (CORS): exact origins
    #: (``https://app.example.com``) or ``*``.  Empty: no CORS headers at all.
    cors_allow_origins: list[str] = dataclasses.field(default_factory=list)
    #: Let those origins send cookies and read the answers (never with ``*``).
    cors_allow_credentials: bool = False
    #: Methods and request headers a cross-origin request may use.
    cors_allow_methods: list[str] = dataclasses.field(
        default_factory=lambda: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
    cors_allow_headers: list[str] = dataclasses.field(
        default_factory=lambda: ["accept", "accept-language", "content-language",
                                 "content-type", "authorization", "x-csrf-token"])
    #: Response headers scripts of those origins may read.
    cors_expose_headers: list[str] = dataclasses.field(default_factory=list)
    #: Seconds a browser may cache a preflight answer.
    cors_max_age: int = 600


class MiddlewarePlugin(Plugin):
    """The middleware the settings ask for, in a fixed order."""

    name = "heron.middleware"
    settings = MiddlewareSettings

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

    def deploy_checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        """Proxy headers believed from any address (heron.middleware.W001)."""
        everyone = [entry for entry in app.settings.trusted_proxies if _everyone(entry)]
        if not everyone:
            return []
        return [ImproperlyConfigured(
            f"trusted_proxies contains {everyone[0]!r}, so any client can send "
            "X-Forwarded-For/-Proto/-Host or Forwarded and be believed: it picks its own "
            "address (throttles, logs) and scheme. Name only your proxies: "
            "HERON_TRUSTED_PROXIES=127.0.0.1 (nginx on this machine) or their network, "
            "such as 10.0.0.0/8", id="heron.middleware.W001")]

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


def _everyone(entry: str) -> bool:
    """Whether a ``trusted_proxies`` entry matches every address (``*``, ``0.0.0.0/0``)."""
    import ipaddress

    entry = entry.strip()
    if entry == "*":
        return True
    try:
        return ipaddress.ip_network(entry, strict=False).prefixlen == 0
    except ValueError:
        return False  # not an address: the middleware fails on it at startup


plugin = MiddlewarePlugin
