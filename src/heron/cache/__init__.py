"""Key-value cache stores: in-process memory (default) and Redis.

heron's own state that must outlive a request or be shared by processes
(server-side sessions, login throttling) lives in a cache store.  The
``cache_url`` setting picks it: ``memory://`` for one process, or
``redis://host:port/db`` when several processes or machines serve the app.

Every store has the same async interface (:class:`Cache`).  Values are stored
as JSON, so what you put in is what any process reads back, and a store
holding untrusted data can never run code on load.
"""

from __future__ import annotations

from heron.cache.base import Cache, CacheUnavailable

__all__ = ["Cache", "CacheUnavailable", "cache_from_url"]


def cache_from_url(url: str, prefix: str = "heron:") -> Cache:
    """The cache store that ``url`` names (``memory://`` or ``redis://...``).

    Raises:
        ValueError: for a scheme heron has no store for.
    """
    scheme = url.partition("://")[0].lower()
    if scheme == "memory":
        from heron.cache.memory import MemoryCache

        return MemoryCache()
    if scheme in ("redis", "rediss", "unix"):
        from heron.cache.redis import RedisCache

        return RedisCache(url, prefix=prefix)
    raise ValueError(f"No cache store for {url.partition('://')[0]!r} URLs; "
                     "use memory:// or redis://host:port/db")
