"""Caching: named caches on memory, Redis or nothing; per-view, per-router and site-wide
page caching; HTTP caching headers and conditional GET; template fragments; rate limits.

    from heron.cache import cache_page, rate_limit

    @app.get("/")
    @cache_page(60)
    def home(): ...

    value = app.cache.get_or_set("report", build_report, ttl=300)   # sync code
    value = await app.cache.aget_or_set("report", build_report)     # async code

``app.cache`` is the default cache (the ``cache_url`` setting), ``app.caches[name]``
the others (``caches``).  heron's own state that must outlive a request (server-side
sessions, login throttling) lives there too.  Values are JSON (or MessagePack), never
pickle.  See docs/cache.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron._lazy import lazy_exports

if TYPE_CHECKING:
    from heron.cache.base import CacheUnavailable, Store
    from heron.cache.caches import Caches, MemoryCache, NullCache, RedisCache, cache_from_url
    from heron.cache.client import DEFAULT_TTL, Cache
    from heron.cache.fragments import ainvalidate_fragment, fragment_key, invalidate_fragment
    from heron.cache.http import cache_control, condition, never_cache, patch_cache_control
    from heron.cache.pages import cache_page
    from heron.cache.ratelimit import RateLimited, rate_limit

__all__ = [
    "DEFAULT_TTL",
    "Cache",
    "CacheUnavailable",
    "Caches",
    "MemoryCache",
    "NullCache",
    "RateLimited",
    "RedisCache",
    "Store",
    "ainvalidate_fragment",
    "cache_control",
    "cache_from_url",
    "cache_page",
    "condition",
    "fragment_key",
    "invalidate_fragment",
    "never_cache",
    "patch_cache_control",
    "rate_limit",
]

# Loaded on first use: the package is imported by every app (its settings section
# and plugin), and most apps never call into it.
_EXPORTS = {
    "CacheUnavailable": "heron.cache.base", "Store": "heron.cache.base",
    "Caches": "heron.cache.caches", "MemoryCache": "heron.cache.caches",
    "NullCache": "heron.cache.caches", "RedisCache": "heron.cache.caches",
    "cache_from_url": "heron.cache.caches",
    "DEFAULT_TTL": "heron.cache.client", "Cache": "heron.cache.client",
    "ainvalidate_fragment": "heron.cache.fragments", "fragment_key": "heron.cache.fragments",
    "invalidate_fragment": "heron.cache.fragments",
    "cache_control": "heron.cache.http", "condition": "heron.cache.http",
    "never_cache": "heron.cache.http", "patch_cache_control": "heron.cache.http",
    "cache_page": "heron.cache.pages",
    "RateLimited": "heron.cache.ratelimit", "rate_limit": "heron.cache.ratelimit",
}

__getattr__ = lazy_exports(__name__, _EXPORTS)
