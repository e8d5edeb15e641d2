"""The Redis cache store: shared by every process and machine of the app.

Each operation is written once, as a generator of the Redis calls it makes; a sync
client (``redis.Redis``) runs it for sync callers and an asyncio client for async
ones, both on the same URL and options.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from heron.cache.base import CacheUnavailable, Store
from heron.exceptions import MissingDependency

if TYPE_CHECKING:
    import asyncio

    import redis
    import redis.asyncio

__all__ = ["RedisStore"]

# Deletes a lock only if it still holds this process's token (never another's).
_UNLOCK = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
           "return redis.call('del', KEYS[1]) else return 0 end")
_GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "*?[]\\"})


class _Call(NamedTuple):
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class _Pipeline(NamedTuple):
    calls: list[_Call]
    transaction: bool


def _call(method: str, *args: Any, **kwargs: Any) -> _Call:
    return _Call(method, args, kwargs)


_Steps = Generator[_Call | _Pipeline, Any, Any]


def _ms(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, round(ttl * 1000))


class RedisStore(Store):
    """A store on a Redis server, through redis-py (``pip install "heron[redis]"``).

    Args:
        url: ``redis://[:password@]host:port/db``, ``rediss://`` for TLS (its query
            may carry redis-py's own options: ``ssl_ca_certs``, ``max_connections``...).
        timeout: seconds to wait for a connection or an answer.
        retry_after: after a failure, seconds during which operations fail at once
            instead of waiting on a server that is down; then the next one tries again.
        options: more keyword arguments for redis-py's clients.
    """

    shared = True

    def __init__(self, url: str, *, timeout: float = 5.0, retry_after: float = 1.0,
                 **options: Any) -> None:
        try:
            import redis  # noqa: F401 (checked now: a missing package fails at startup)
        except ImportError:
            raise MissingDependency("redis", "redis") from None
        self.url = url
        self.timeout = timeout
        self.retry_after = retry_after
        self.options = options
        self._sync: redis.Redis | None = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
            weakref.WeakKeyDictionary())
        self._down_until = 0.0

    # -- the clients ------------------------------------------------------------------------

    def _client_options(self, retry: Any) -> dict[str, Any]:
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        return {"socket_timeout": self.timeout, "socket_connect_timeout": self.timeout,
                # A pooled connection the server dropped (restart, idle timeout) is
                # retried once on a fresh one; timeouts are not, so waits never double.
                "retry": retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
                **self.options}

    def sync_client(self) -> redis.Redis:
        """The redis-py client sync callers use (made on first use)."""
        if self._sync is None:
            import redis
            from redis.retry import Retry

            self._sync = redis.Redis.from_url(self.url, **self._client_options(Retry))
        return self._sync

    def async_client(self) -> redis.asyncio.Redis:
        """The redis-py asyncio client async callers on this event loop use (made on first
        use): its connections belong to one loop, and a process may run several (a
        server with a loop per thread, or tests)."""
        import asyncio

        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            import redis.asyncio
            from redis.asyncio.retry import Retry

            client = self._async[loop] = redis.asyncio.Redis.from_url(
                self.url, **self._client_options(Retry))
        return client

    # -- running an operation ---------------------------------------------------------------

    def _check_up(self) -> None:
        if self._down_until and time.monotonic() < self._down_until:
            raise CacheUnavailable("The Redis cache is unreachable (it failed moments ago)")

    def _unavailable(self, exc: Exception) -> CacheUnavailable:
        self._down_until = time.monotonic() + self.retry_after
        # The URL may hold a password: name only the kind of failure.
        return CacheUnavailable(f"The Redis cache is unreachable ({type(exc).__name__})")

    def _run(self, steps: _Steps) -> Any:
        import redis.exceptions

        self._check_up()
        client = self.sync_client()
        sent: Any = None
        error: redis.exceptions.ResponseError | None = None
        try:
            while True:
                step = steps.send(sent) if error is None else steps.throw(error)
                sent, error = None, None
                try:
                    if isinstance(step, _Pipeline):
                        pipe = client.pipeline(transaction=step.transaction)
                        for call in step.calls:
                            getattr(pipe, call.method)(*call.args, **call.kwargs)
                        sent = pipe.execute()
                    else:
                        sent = getattr(client, step.method)(*step.args, **step.kwargs)
                except redis.exceptions.ResponseError as exc:
                    error = exc  # the operation's to handle, where it made the call
        except StopIteration as done:
            return done.value
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise self._unavailable(exc) from exc

    async def _arun(self, steps: _Steps) -> Any:
        import redis.exceptions

        self._check_up()
        client = self.async_client()
        sent: Any = None
        error: redis.exceptions.ResponseError | None = None
        try:
            while True:
                step = steps.send(sent) if error is None else steps.throw(error)
                sent, error = None, None
                try:
                    if isinstance(step, _Pipeline):
                        pipe = client.pipeline(transaction=step.transaction)
                        for call in step.calls:
                            getattr(pipe, call.method)(*call.args, **call.kwargs)
                        sent = await pipe.execute()
                    else:
                        sent = await getattr(client, step.method)(*step.args, **step.kwargs)
                except redis.exceptions.ResponseError as exc:
                    error = exc  # the operation's to handle, where it made the call
        except StopIteration as done:
            return done.value
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise self._unavailable(exc) from exc

    # -- the operations, each written once ----------------------------------------------------

    def _get(self, key: str) -> _Steps:
        return (yield _call("get", key))

    def _get_many(self, keys: Sequence[str]) -> _Steps:
        return list((yield _call("mget", list(keys)))) if keys else []

    def _set(self, key: str, value: bytes, ttl: float | None, only: str | None) -> _Steps:
        stored = yield _call("set", key, value, px=_ms(ttl), nx=only == "absent",
                             xx=only == "present")
        return bool(stored)

    def _set_many(self, items: dict[str, bytes], ttl: float | None) -> _Steps:
        if not items:
            return None
        if ttl is None:
            yield _call("mset", items)
        else:
            yield _Pipeline([_call("set", k, v, px=_ms(ttl)) for k, v in items.items()],
                            transaction=True)
        return None

    def _delete(self, keys: Sequence[str]) -> _Steps:
        return int((yield _call("delete", *keys))) if keys else 0

    def _incr(self, key: str, delta: int, ttl: float | None) -> _Steps:
        import redis.exceptions

        calls = [_call("incrby", key, delta)]
        if ttl is not None:
            # Only a new counter starts its window (SET NX, not EXPIRE NX: that
            # needs Redis 7 and would also time out a counter made without ttl).
            calls.insert(0, _call("set", key, 0, px=_ms(ttl), nx=True))
        try:
            results = yield _Pipeline(calls, transaction=True)
        except redis.exceptions.ResponseError:
            raise ValueError(f"The value under {key!r} is not an integer") from None
        return int(results[-1])

    def _touch(self, key: str, ttl: float | None) -> _Steps:
        if ttl is None:
            found = yield _call("exists", key)
            if found:
                yield _call("persist", key)
            return bool(found)
        return bool((yield _call("pexpire", key, _ms(ttl))))

    def _clear(self, prefix: str) -> _Steps:
        # SCAN, not KEYS or FLUSHDB: the database may be shared, and may be large.
        cursor = 0
        while True:
            cursor, keys = yield _call("scan", cursor, match=prefix.translate(_GLOB_SPECIAL) + "*",
                                       count=1000)
            if keys:
                yield _call("unlink", *keys)
            if not cursor:
                return None

    def _unlock(self, key: str, token: bytes) -> _Steps:
        yield _call("eval", _UNLOCK, 1, key, token)
        return None

    # -- entry points -------------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        return self._run(self._get(key))  # type: ignore[no-any-return]

    async def aget(self, key: str) -> bytes | None:
        return await self._arun(self._get(key))  # type: ignore[no-any-return]

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return self._run(self._get_many(keys))  # type: ignore[no-any-return]

    async def aget_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return await self._arun(self._get_many(keys))  # type: ignore[no-any-return]

    def set(self, key: str, value: bytes, ttl: float | None, only: str | None = None) -> bool:
        return self._run(self._set(key, value, ttl, only))  # type: ignore[no-any-return]

    async def aset(self, key: str, value: bytes, ttl: float | None,
                   only: str | None = None) -> bool:
        return await self._arun(self._set(key, value, ttl, only))  # type: ignore[no-any-return]

    def set_many(self, items: dict[str, bytes], ttl: float | None) -> None:
        self._run(self._set_many(items, ttl))

    async def aset_many(self, items: dict[str, bytes], ttl: float | None) -> None:
        await self._arun(self._set_many(items, ttl))

    def delete(self, keys: Sequence[str]) -> int:
        return self._run(self._delete(keys))  # type: ignore[no-any-return]

    async def adelete(self, keys: Sequence[str]) -> int:
        return await self._arun(self._delete(keys))  # type: ignore[no-any-return]

    def incr(self, key: str, delta: int, ttl: float | None) -> int:
        return self._run(self._incr(key, delta, ttl))  # type: ignore[no-any-return]

    async def aincr(self, key: str, delta: int, ttl: float | None) -> int:
        return await self._arun(self._incr(key, delta, ttl))  # type: ignore[no-any-return]

    def touch(self, key: str, ttl: float | None) -> bool:
        return self._run(self._touch(key, ttl))  # type: ignore[no-any-return]

    async def atouch(self, key: str, ttl: float | None) -> bool:
        return await self._arun(self._touch(key, ttl))  # type: ignore[no-any-return]

    def clear(self, prefix: str) -> None:
        self._run(self._clear(prefix))

    async def aclear(self, prefix: str) -> None:
        await self._arun(self._clear(prefix))

    def unlock(self, key: str, token: bytes) -> None:
        self._run(self._unlock(key, token))

    async def aunlock(self, key: str, token: bytes) -> None:
        await self._arun(self._unlock(key, token))

    def close(self) -> None:
        client, self._sync = self._sync, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        self.close()
        import asyncio

        # This loop's client is closed; another loop's may only be closed on that loop,
        # so it is kept for that loop's own aclose() (dropped with its loop otherwise).
        client = self._async.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
