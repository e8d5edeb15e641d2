"""heron.cache as a plug-in: ``app.cache``, the store ``cache_url`` names, closed
when the server stops."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from heron.exceptions import ImproperlyConfigured
from heron.plugins import Plugin
from heron.settings import settings_section

if TYPE_CHECKING:
    from heron.app import App
    from heron.cache.base import Cache

__all__ = ["CachePlugin", "CacheSettings"]

_SCHEMES = ("memory", "redis", "rediss", "unix")


@settings_section
class CacheSettings:
    """heron.cache's settings."""

    #: ``memory://`` (this process only) or ``redis://host:port/db``.
    cache_url: str = "memory://"
    #: Put before every key in a shared store (Redis), so apps sharing one Redis
    #: database never see each other's sessions or counters.
    cache_key_prefix: str = "heron:"


class CachePlugin(Plugin):
    """Gives every app ``app.cache`` (memory by default, Redis from ``cache_url``)."""

    name = "heron.cache"
    settings = CacheSettings

    def setup(self, app: App) -> None:
        def make() -> Cache:
            from heron.cache import cache_from_url

            return cache_from_url(app.settings.cache_url, app.settings.cache_key_prefix)

        app.provide("cache", make)

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        scheme = app.settings.cache_url.partition("://")[0]
        if scheme.lower() not in _SCHEMES:
            return [ImproperlyConfigured(
                f"cache_url {scheme!r}:// is not a cache store heron has; use memory:// or "
                "redis://host:port/db", id="heron.cache.E001")]
        return []

    async def on_shutdown(self, app: App) -> None:
        cache: Cache | None = app.__dict__.get("cache")
        if cache is not None:
            app.forget("cache")
            await cache.close()


plugin = CachePlugin
