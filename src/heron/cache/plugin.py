"""heron.cache as a plug-in: ``app.caches`` and ``app.cache``, page caching, HTTP caching
headers, rate limits and the ``{% cache %}`` template tag, and its settings."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from heron.exceptions import ImproperlyConfigured, MissingDependency
from heron.plugins import Handler, Plugin, ResponseHook
from heron.settings import settings_section

if TYPE_CHECKING:
    from heron.app import App
    from heron.cache.caches import Caches
    from heron.cache.client import Cache
    from heron.requests import Request
    from heron.responses import Response
    from heron.routing import Route

__all__ = ["CachePlugin", "CacheSettings"]

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@settings_section
class CacheSettings:
    """heron.cache's settings (docs/cache.md)."""

    #: The default cache: ``memory://`` (this process only), ``redis://host:port/db``,
    #: ``rediss://`` (TLS) or ``null://``, with options in the query (docs/cache.md).
    cache_url: str = "memory://"
    #: More caches by name (``{"pages": "redis://..."}``; JSON in the environment).
    caches: dict[str, str] = dataclasses.field(default_factory=dict)
    #: Put before every key in a shared store (Redis), so apps sharing one Redis
    #: database never see each other's sessions or counters.
    cache_key_prefix: str = "heron:"
    #: Cache every GET route's pages for this many seconds (0: off); a view opts out
    #: with ``@never_cache`` or sets its own time with ``@cache_page``.
    cache_site_seconds: int = 0
    #: The named cache holding pages (``@cache_page`` and the site-wide cache).
    cache_pages: str = "default"
    #: The named cache holding template fragments (``{% cache %}``).
    cache_fragments: str = "default"
    #: Give GET responses a weak ETag from their body and answer 304 when it matches.
    cache_etags: bool = False
    #: Send ``X-Heron-Cache: hit|miss|bypass`` on cached routes; ``None`` follows ``debug``.
    cache_debug_header: bool | None = None
    #: The named cache holding rate-limit counters (Redis to share them across processes).
    rate_limit_cache: str = "default"
    #: When the counters' cache is down: let requests through (True) or answer 503.
    rate_limit_fail_open: bool = True


class CachePlugin(Plugin):
    """Gives every app ``app.caches`` and ``app.cache``, and applies heron.cache's
    decorators (and the site-wide settings) to each route at startup."""

    name = "heron.cache"
    settings = CacheSettings

    def setup(self, app: App) -> None:
        def make_caches() -> Caches:
            from heron.cache.caches import Caches

            return Caches(app)

        app.provide("caches", make_caches)
        app.provide("cache", lambda: app.caches["default"])

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        settings = app.settings
        urls = {"default": settings.cache_url, **settings.caches}
        problems: list[ImproperlyConfigured] = []
        for name, url in urls.items():
            if not _NAME.fullmatch(name):
                problems.append(ImproperlyConfigured(
                    f"The cache name {name!r} is not a name: use letters, digits, '_' and "
                    "'-' (it becomes part of every key)", id="heron.cache.E007"))
                continue
            if url == "memory://":
                continue  # the default: nothing to check, nothing to load at startup
            from heron.cache.caches import cache_from_url

            try:
                cache_from_url(url, name=name)  # connects to nothing
            except ImproperlyConfigured as exc:
                problems.append(exc)
            except MissingDependency as exc:
                problems.append(ImproperlyConfigured(f"Cache {name!r}: {exc}",
                                                     id="heron.cache.E005"))
        for setting in ("cache_pages", "cache_fragments", "rate_limit_cache"):
            if getattr(settings, setting) not in urls:
                problems.append(_unknown_cache(setting, getattr(settings, setting), urls))
        if settings.cache_site_seconds < 0:
            problems.append(ImproperlyConfigured(
                f"cache_site_seconds must be 0 (off) or a number of seconds, not "
                f"{settings.cache_site_seconds}", id="heron.cache.E006"))
        return problems

    def wrap_route(self, app: App, route: Route, handler: Handler) -> Handler:
        from heron.cache.policies import route_policies

        policies, settings = route_policies(route), app.settings
        if not policies and not (
                (settings.cache_etags or settings.cache_site_seconds) and "GET" in route.methods):
            return handler  # nothing applies: the wrapper's modules are not even loaded
        from heron.cache.wrapper import wrap

        return wrap(app, route, handler, policies)

    def response_hooks(self, app: App) -> Iterable[ResponseHook]:
        from heron.cache.policies import route_policies

        if not app.settings.cache_site_seconds and not any(
                "page" in route_policies(route) for route in app.compiled_routes()):
            return []  # no route caches pages: requests pay nothing
        from heron.cache.pages import SCOPE_KEY, STATUS_KEY

        debug_header = app.settings.cache_debug_header
        if debug_header is None:
            debug_header = app.settings.debug

        async def store_page(request: Request, response: Response,
                             routers: Any) -> Response:
            # After the other batteries' hooks: a cookie the session set, or the
            # private it made the page, is seen here and keeps the page out.
            scope = request.scope
            found = scope.pop(SCOPE_KEY, None)
            if found is not None:
                page_cache, base = found
                await page_cache.store(request, response, base)
            if debug_header and STATUS_KEY in scope:
                response.headers["x-heron-cache"] = scope[STATUS_KEY]
            return response

        return [store_page]

    def template_extensions(self, app: App) -> Iterable[Any]:
        from heron.cache.fragments import FragmentCacheExtension

        return [type("FragmentCache", (FragmentCacheExtension,), {"app": app})]

    async def on_shutdown(self, app: App) -> None:
        caches: Caches | None = app.__dict__.get("caches")
        if caches is not None:
            await caches.aclose()


def _unknown_cache(where: str, name: str, names: Iterable[str]) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"{where} names the cache {name!r}, which the app does not have; it has "
        f"{sorted(names)} (add it to the caches setting)", id="heron.cache.E004")


def named_cache(app: App, name: str | None, setting: str, where: str) -> Cache:
    """The cache ``name`` (or the one ``setting`` names), for a decorator at startup.

    Raises:
        ImproperlyConfigured: the app has no such cache (heron.cache.E004).
    """
    chosen: str = name or getattr(app.settings, setting)
    caches: Caches = app.caches
    try:
        return caches[chosen]
    except KeyError:
        raise _unknown_cache(where, chosen, app.caches) from None


plugin = CachePlugin
