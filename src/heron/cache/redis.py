"""The Redis cache store: shared by every process and machine of the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from heron.cache.base import Cache, CacheUnavailable, check_ttl
from heron.exceptions import MissingDependency

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisCache"]


class RedisCache(Cache):
    """A cache store on a Redis server, through redis-py's asyncio client.

    Args:
        url: ``redis://[:password@]host:port/db`` (``rediss://`` for TLS).
        prefix: put before every key, so apps can share one Redis database.
        timeout: seconds to wait for a connection or an answer before
            :class:`CacheUnavailable` is raised.
    """

    def __init__(self, url: str, prefix: str = "heron:", timeout: float = 5.0) -> None:
        try:
            import redis.asyncio
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError:
            raise MissingDependency("redis", "redis") from None
        self.url = url
        self.prefix = prefix
        self._client: Redis = redis.asyncio.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout,
            # A pooled connection the server dropped (restart, idle timeout) is
            # retried once on a fresh one; timeouts are not, so waits never double.
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)),
        )

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        import redis.exceptions

        try:
            return await getattr(self._client, method)(*args, **kwargs)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            # The URL may hold a password: name only the kind of failure.
            raise CacheUnavailable(
                f"The Redis cache is unreachable ({type(exc).__name__})"
            ) from exc

    async def get(self, key: str, default: Any = None) -> Any:
        value = await self._call("get", self.prefix + key)
        return default if value is None else orjson.loads(value)

    async def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        check_ttl(ttl)
        await self._call("set", self.prefix + key, orjson.dumps(value), ex=ttl or None)

    async def add(self, key: str, value: Any, ttl: int | None = None) -> bool:
        check_ttl(ttl)
        stored = await self._call("set", self.prefix + key, orjson.dumps(value),
                                  ex=ttl or None, nx=True)
        return bool(stored)

    async def replace(self, key: str, value: Any, ttl: int | None = None) -> bool:
        check_ttl(ttl)
        stored = await self._call("set", self.prefix + key, orjson.dumps(value),
                                  ex=ttl or None, xx=True)
        return bool(stored)

    async def delete(self, key: str) -> bool:
        return bool(await self._call("delete", self.prefix + key))

    async def incr(self, key: str, delta: int = 1, ttl: int | None = None) -> int:
        check_ttl(ttl)
        import redis.exceptions

        full = self.prefix + key
        pipe = self._client.pipeline(transaction=True)
        if ttl:
            # Only a new counter starts its window (SET NX, not EXPIRE NX: that
            # needs Redis 7 and would also time out a counter made without ttl).
            pipe.set(full, 0, ex=ttl, nx=True)
        pipe.incrby(full, delta)
        try:
            results = await pipe.execute()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise CacheUnavailable(
                f"The Redis cache is unreachable ({type(exc).__name__})"
            ) from exc
        return int(results[-1])

    async def close(self) -> None:
        await self._client.aclose()
