"""Caches made from URLs, and an app's named caches (``app.caches["pages"]``).

A URL names the store and carries the cache's options in its query::

    memory://?max_entries=5000
    redis://:secret@cache.internal:6379/0?timeout=0.5&max_connections=50
    rediss://cache.example.com:6380/1?ssl_ca_certs=/etc/ssl/ca.pem&serializer=msgpack
    null://

heron's options: ``prefix``, ``version``, ``default_ttl`` (seconds or ``none``),
``serializer`` (``json``, ``msgpack``), ``errors`` (``miss``, ``raise``),
``lock_timeout``; ``max_entries`` (memory); ``timeout`` and ``retry_after`` (Redis).
A Redis URL's other query options go to redis-py (``max_connections``,
``ssl_ca_certs``, ``ssl_cert_reqs``, ``health_check_interval``...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from heron.cache.base import Store
from heron.cache.client import Cache
from heron.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["Caches", "MemoryCache", "NullCache", "RedisCache", "cache_from_url"]

SCHEMES = ("memory", "redis", "rediss", "unix", "null")
_CACHE_OPTIONS = {"prefix": str, "version": int, "default_ttl": float, "serializer": str,
                  "errors": str, "lock_timeout": float}


class MemoryCache(Cache):
    """A cache in this process's memory: the fastest, seen by this process only.

    Args:
        max_entries: above this many keys, the least recently used are evicted.
        options: :class:`Cache` options (``prefix``, ``default_ttl``...).
    """

    def __init__(self, max_entries: int = 10_000, **options: Any) -> None:
        from heron.cache.memory import MemoryStore

        super().__init__(MemoryStore(max_entries), **options)


class RedisCache(Cache):
    """A cache on a Redis server, seen by every process and machine of the app.

    Args:
        url: ``redis://[:password@]host:port/db`` (``rediss://`` for TLS).
        timeout: seconds to wait for a connection or an answer.
        retry_after: seconds after a failure during which operations fail at once.
        redis_options: more keyword arguments for redis-py's clients.
        options: :class:`Cache` options (``prefix``, ``default_ttl``...).
    """

    def __init__(self, url: str, *, timeout: float = 5.0, retry_after: float = 1.0,
                 redis_options: Mapping[str, Any] | None = None, **options: Any) -> None:
        from heron.cache.redis import RedisStore

        super().__init__(RedisStore(url, timeout=timeout, retry_after=retry_after,
                                    **dict(redis_options or {})), **options)


class NullCache(Cache):
    """A cache that keeps nothing: every read misses (caching turned off)."""

    def __init__(self, **options: Any) -> None:
        from heron.cache.memory import NullStore

        super().__init__(NullStore(), **options)


def cache_from_url(url: str, prefix: str = "heron:", *, name: str = "default") -> Cache:
    """The cache ``url`` names, with the options in its query (see the module's docs).

    Raises:
        ImproperlyConfigured: an unknown scheme (heron.cache.E001) or a bad option
            (heron.cache.E002).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or "://" not in url:
        # Only the scheme is quoted: the rest of a mistyped URL may hold a password.
        given = repr(parts.scheme) if "://" in url else "a URL without a scheme://"
        raise ImproperlyConfigured(
            f"Cache {name!r}: {given} is not a cache store heron has; use "
            "memory://, redis://host:port/db, rediss:// or null://", id="heron.cache.E001")
    options: dict[str, Any] = {"name": name, "prefix": prefix}
    store_options: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in _CACHE_OPTIONS:
            options[key] = _option(name, key, value)
        else:
            store_options[key] = value
    store = _store(name, scheme, url, store_options)
    try:
        return Cache(store, **options)
    except ValueError as exc:
        raise _bad_option(name, str(exc)) from None


def _bad_option(name: str, problem: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Cache {name!r}: {problem}", id="heron.cache.E002")


def _option(name: str, key: str, value: str) -> Any:
    if key == "default_ttl" and value.lower() == "none":
        return None
    try:
        return _CACHE_OPTIONS[key](value)
    except ValueError:
        raise _bad_option(name, f"option {key}={value!r} is not a "
                                f"{_CACHE_OPTIONS[key].__name__}") from None


def _store(name: str, scheme: str, url: str, options: dict[str, str]) -> Store:
    def number(key: str, default: float) -> float:
        raw = options.pop(key, None)
        try:
            return default if raw is None else float(raw)
        except ValueError:
            raise _bad_option(name, f"option {key}={raw!r} is not a number") from None

    if scheme == "memory" or scheme == "null":
        from heron.cache.memory import MemoryStore, NullStore

        max_entries = number("max_entries", 10_000)
        if max_entries != int(max_entries):
            raise _bad_option(name, f"max_entries must be a whole number, not {max_entries}")
        if options:
            raise _bad_option(name, f"{scheme}:// has no option {sorted(options)[0]!r}")
        if scheme == "null":
            return NullStore()
        try:
            return MemoryStore(int(max_entries))
        except ValueError as exc:
            raise _bad_option(name, str(exc)) from None
    from heron.cache.redis import RedisStore

    timeout, retry_after = number("timeout", 5.0), number("retry_after", 1.0)
    if not timeout > 0 or not retry_after >= 0:
        raise _bad_option(name, "timeout must be a positive number of seconds and "
                                "retry_after a number of seconds (0 or more)")
    # What is left in the query is redis-py's to parse (max_connections...).  Not
    # urlunsplit: it would turn unix:///path into unix:/path, which redis-py refuses.
    redis_url = url.partition("?")[0] + (f"?{urlencode(options)}" if options else "")
    return RedisStore(redis_url, timeout=timeout, retry_after=retry_after)


class Caches(Mapping[str, Cache]):
    """An app's caches by name: ``default`` from ``cache_url``, the others from ``caches``.

    Each is made on first use, with the prefix ``<cache_key_prefix><name>:``;
    :meth:`aclose` closes the connections of those that were made.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self._made: dict[str, Cache] = {}

    def urls(self) -> dict[str, str]:
        """Every cache's URL by name."""
        settings = self.app.settings
        return {"default": settings.cache_url, **settings.caches}

    def prefix(self, name: str) -> str:
        """``<cache_key_prefix><name>:``: no cache's keys start with another's prefix, so
        that ``clear()`` of one never touches another on the same Redis database."""
        return f"{self.app.settings.cache_key_prefix}{name}:"

    def __getitem__(self, name: str) -> Cache:
        cache = self._made.get(name)
        if cache is None:
            urls = self.urls()
            if name not in urls:
                raise KeyError(f"No cache named {name!r}; the app has {sorted(urls)} "
                               "(add it to the caches setting)")
            cache = self._made[name] = cache_from_url(urls[name], self.prefix(name), name=name)
        return cache

    def __iter__(self) -> Iterator[str]:
        return iter(self.urls())

    def __len__(self) -> int:
        return len(self.urls())

    async def aclose(self) -> None:
        """Close the connections of the caches made so far (the app does at shutdown).

        The caches stay: a memory cache keeps its entries, and a Redis cache reconnects
        on next use, so ``app.cache`` is still ``app.caches["default"]`` after a restart
        of the server (or of a test client).
        """
        for cache in list(self._made.values()):
            await cache.aclose()
