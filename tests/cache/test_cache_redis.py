"""RedisCache on a real redis-server (the ``redis_url`` fixture): the cache contract
through both entry points, what Redis holds, TTLs as Redis sees them, prefixes, and a
Redis that is down or silent -> CacheUnavailable."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis
from cache_contract import ENTRY_POINTS, CacheContract, Entry, entry

from heron.cache import CacheUnavailable, RedisCache
from heron.exceptions import ServiceUnavailable


@pytest.fixture
async def cache(redis_url: str) -> AsyncIterator[RedisCache]:
    cache = RedisCache(redis_url)
    yield cache
    await cache.aclose()


@pytest.fixture(params=ENTRY_POINTS)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(cache: RedisCache, mode: str) -> Entry:
    """The module's RedisCache through the sync or the async entry point."""
    return entry(cache, mode)


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    """A plain redis-py client on the same database, to look behind heron's back."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


class TestRedisCacheContract(CacheContract):
    pass  # ``cache`` is the module's fixture


# -- what Redis holds ------------------------------------------------------------------------


async def test_values_are_json_under_the_prefix_and_version(store: Entry,
                                                            raw: redis.Redis) -> None:
    await store.set("k", {"a": [1, None]})
    assert raw.keys("*") == [b"heron:1:k"]
    assert raw.get("heron:1:k") == b'{"a":[1,null]}'
    await store.incr("n", 41)
    assert raw.get("heron:1:n") == b"41"


async def test_a_custom_prefix_separates_apps(redis_url: str, raw: redis.Redis,
                                              mode: str) -> None:
    first, second = RedisCache(redis_url, prefix="one:"), RedisCache(redis_url, prefix="two:")
    try:
        one, two = entry(first, mode), entry(second, mode)
        await one.set("k", 1)
        await two.set("k", 2)
        assert (await one.get("k"), await two.get("k")) == (1, 2)
        assert sorted(raw.keys("*")) == [b"one:1:k", b"two:1:k"]
        assert await one.delete("k") is True
        assert await two.get("k") == 2
    finally:
        await first.aclose()
        await second.aclose()


async def test_the_url_database_index_is_used(redis_server: Any, redis_url: str,
                                              mode: str) -> None:
    other_db = redis_server.url_for(3)
    cache = RedisCache(other_db)
    raw3 = redis.Redis.from_url(other_db)
    raw0 = redis.Redis.from_url(redis_url)
    try:
        await entry(cache, mode).set("k", 1)
        assert raw3.get("heron:1:k") == b"1"
        assert raw0.get("heron:1:k") is None
    finally:
        await cache.aclose()
        raw3.close()
        raw0.close()


async def test_two_caches_on_one_redis_share_data(redis_url: str, mode: str) -> None:
    first, second = RedisCache(redis_url), RedisCache(redis_url)
    try:
        one, two = entry(first, mode), entry(second, mode)
        await one.set("k", {"from": "first"})
        assert await two.get("k") == {"from": "first"}
        assert await two.add("k", "x") is False
        assert await one.incr("n") == 1
        assert await two.incr("n") == 2
    finally:
        await first.aclose()
        await second.aclose()


async def test_sync_and_async_calls_share_data(cache: RedisCache) -> None:
    cache.set("k", "from sync")
    assert await cache.aget("k") == "from sync"
    await cache.aset("k", "from async")
    assert cache.get("k") == "from async"
    assert cache.incr("n") == 1
    assert await cache.aincr("n") == 2


# -- TTLs ------------------------------------------------------------------------------------------


async def test_set_ttl(store: Entry, raw: redis.Redis) -> None:
    await store.set("k", "v", ttl=100)
    assert 98 <= raw.ttl("heron:1:k") <= 100
    await store.set("default", "v")
    assert 298 <= raw.ttl("heron:1:default") <= 300  # default_ttl
    await store.set("forever", "v", ttl=None)
    assert raw.ttl("heron:1:forever") == -1


async def test_a_fractional_ttl_is_kept_in_milliseconds(store: Entry, raw: redis.Redis) -> None:
    await store.set("k", "v", ttl=1.5)
    assert 1400 <= raw.pttl("heron:1:k") <= 1500
    await store.set("tiny", "v", ttl=0.0001)  # at least a millisecond, never "no expiry"
    assert raw.pttl("heron:1:tiny") in (-2, 0, 1)  # -2: gone; never -1


async def test_set_again_without_ttl_drops_the_ttl(store: Entry, raw: redis.Redis) -> None:
    await store.set("k", "v", ttl=100)
    await store.set("k", "w", ttl=None)
    assert raw.ttl("heron:1:k") == -1


async def test_add_ttl(store: Entry, raw: redis.Redis) -> None:
    assert await store.add("k", "v", ttl=50) is True
    assert 48 <= raw.ttl("heron:1:k") <= 50
    assert await store.add("k", "w", ttl=500) is False
    assert raw.ttl("heron:1:k") <= 50
    assert await store.add("forever", "v", ttl=None) is True
    assert raw.ttl("heron:1:forever") == -1


async def test_replace_ttl(store: Entry, raw: redis.Redis) -> None:
    assert await store.replace("k", "v", ttl=50) is False
    assert raw.exists("heron:1:k") == 0
    await store.set("k", "v", ttl=None)
    assert await store.replace("k", "w", ttl=50) is True
    assert 48 <= raw.ttl("heron:1:k") <= 50


async def test_set_many_ttl(store: Entry, raw: redis.Redis) -> None:
    await store.set_many({"a": 1, "b": 2}, ttl=50)
    assert [48 <= raw.ttl(f"heron:1:{k}") <= 50 for k in "ab"] == [True, True]
    await store.set_many({"c": 3}, ttl=None)
    assert raw.ttl("heron:1:c") == -1


async def test_touch(store: Entry, raw: redis.Redis) -> None:
    await store.set("k", "v", ttl=10)
    assert await store.touch("k", 100) is True
    assert 98 <= raw.ttl("heron:1:k") <= 100
    assert await store.touch("k", None) is True
    assert raw.ttl("heron:1:k") == -1
    assert await store.touch("k") is True
    assert 298 <= raw.ttl("heron:1:k") <= 300
    assert await store.touch("missing", 100) is False
    assert await store.touch("missing", None) is False
    assert raw.exists("heron:1:missing") == 0


async def test_incr_keeps_the_first_windows_ttl(store: Entry, raw: redis.Redis) -> None:
    assert await store.incr("fails", ttl=100) == 1
    assert 98 <= raw.ttl("heron:1:fails") <= 100
    raw.expire("heron:1:fails", 40)  # as if 60 s of the window had passed
    assert await store.incr("fails", ttl=100) == 2
    assert await store.incr("fails", ttl=1000) == 3
    assert 38 <= raw.ttl("heron:1:fails") <= 40


async def test_incr_without_ttl_has_none(store: Entry, raw: redis.Redis) -> None:
    await store.incr("n")
    assert raw.ttl("heron:1:n") == -1


async def test_incr_ttl_only_applies_to_a_new_counter(store: Entry, raw: redis.Redis) -> None:
    """As MemoryCache: ``ttl`` applies when the key is created, not to an existing key."""
    await store.incr("n")
    assert await store.incr("n", ttl=10) == 2
    assert raw.ttl("heron:1:n") == -1
    await store.set("m", 5, ttl=None)
    assert await store.incr("m", ttl=10) == 6
    assert raw.ttl("heron:1:m") == -1


async def test_incr_on_a_value_with_a_ttl_keeps_it(store: Entry, raw: redis.Redis) -> None:
    await store.set("n", 1, ttl=100)
    assert await store.incr("n") == 2
    assert 98 <= raw.ttl("heron:1:n") <= 100


async def test_incr_after_the_window_starts_a_new_one(store: Entry, raw: redis.Redis) -> None:
    await store.incr("n", ttl=100)
    await store.incr("n", ttl=100)
    raw.pexpire("heron:1:n", 1)
    await asyncio.sleep(0.01)
    assert await store.get("n") is None
    assert await store.incr("n", ttl=100) == 1
    assert 98 <= raw.ttl("heron:1:n") <= 100


async def test_values_really_expire(store: Entry) -> None:
    await store.set("k", "v", ttl=1)
    await store.incr("n", ttl=1)
    assert await store.get("k") == "v"
    await asyncio.sleep(1.1)
    assert await store.get("k") is None
    assert await store.get("n") is None
    assert await store.add("k", "again", ttl=1) is True


async def test_incr_on_something_that_is_not_a_number_raises(store: Entry,
                                                             raw: redis.Redis) -> None:
    await store.set("k", {"a": 1}, ttl=None)
    with pytest.raises(ValueError, match="not an integer"):
        await store.incr("k")
    with pytest.raises(ValueError, match="not an integer"):
        await store.incr("k", ttl=10)  # the transaction's SET NX did not touch it
    assert await store.get("k") == {"a": 1}
    assert raw.ttl("heron:1:k") == -1
    assert await store.incr("n") == 1  # the connection is still good


async def test_incr_beyond_64_bits_raises(store: Entry) -> None:
    await store.set("n", 2**63 - 1)
    with pytest.raises(ValueError):
        await store.incr("n")
    assert await store.get("n") == 2**63 - 1


async def test_the_cache_reconnects_after_close(store: Entry) -> None:
    await store.set("k", 1)
    await store.close()
    assert await store.get("k") == 1


# -- unavailable --------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


OPERATIONS = {
    "get": lambda c: c.get("k"),
    "get_many": lambda c: c.get_many(["k"]),
    "set": lambda c: c.set("k", 1, ttl=10),
    "add": lambda c: c.add("k", 1, ttl=10),
    "set_many": lambda c: c.set_many({"k": 1}),
    "delete": lambda c: c.delete("k"),
    "touch": lambda c: c.touch("k"),
    "clear": lambda c: c.clear(),
    "incr": lambda c: c.incr("k", ttl=10),
    "incr without ttl": lambda c: c.incr("k"),
    "get_or_set": lambda c: c.get_or_set("k", 1),
}


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
async def test_a_closed_port_raises_cache_unavailable_fast(operation: Any, mode: str) -> None:
    cache = RedisCache(f"redis://:hunter2@127.0.0.1:{closed_port()}/0", errors="raise")
    started = time.monotonic()
    try:
        with pytest.raises(CacheUnavailable) as info:
            await operation(entry(cache, mode))
    finally:
        await cache.aclose()
    assert time.monotonic() - started < 4
    exc = info.value
    assert isinstance(exc, ServiceUnavailable)
    assert exc.status_code == 503
    assert exc.headers is not None
    assert "retry-after" in exc.headers
    assert "ConnectionError" in exc.message
    assert "hunter2" not in exc.message
    assert "hunter2" not in str(exc.detail)
    assert isinstance(exc.__cause__, redis.ConnectionError)


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
async def test_a_silent_server_times_out(operation: Any, mode: str) -> None:
    """A server that accepts connections and never answers: the timeout, not a hang."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        cache = RedisCache(f"redis://127.0.0.1:{port}/0", timeout=0.2, errors="raise")
        started = time.monotonic()
        try:
            with pytest.raises(CacheUnavailable) as info:
                await operation(entry(cache, mode))
        finally:
            await cache.aclose()
    assert time.monotonic() - started < 3
    assert "TimeoutError" in info.value.message


async def test_after_a_failure_calls_fail_at_once_for_retry_after(mode: str) -> None:
    cache = RedisCache(f"redis://127.0.0.1:{closed_port()}/0", retry_after=0.3,
                       errors="raise")
    store = entry(cache, mode)
    try:
        with pytest.raises(CacheUnavailable) as info:
            await store.get("k")
        assert "ConnectionError" in info.value.message
        with pytest.raises(CacheUnavailable) as info:
            await store.get("k")
        assert "moments ago" in info.value.message
        assert info.value.__cause__ is None  # no connection was tried
        await asyncio.sleep(0.35)
        with pytest.raises(CacheUnavailable) as info:
            await store.get("k")
        assert "ConnectionError" in info.value.message  # tried again
    finally:
        await cache.aclose()


def test_the_default_timeout_is_five_seconds(redis_url: str) -> None:
    cache = RedisCache(redis_url)
    try:
        assert cache.store.timeout == 5.0  # type: ignore[attr-defined]
        assert cache.store.retry_after == 1.0  # type: ignore[attr-defined]
        kwargs = cache.store.sync_client().connection_pool.connection_kwargs  # type: ignore[attr-defined]
        assert kwargs["socket_timeout"] == 5.0
        assert kwargs["socket_connect_timeout"] == 5.0
    finally:
        cache.close()


async def test_the_async_client_has_the_same_timeout(redis_url: str) -> None:
    cache = RedisCache(redis_url, timeout=0.7)
    try:
        client = cache.store.async_client()  # type: ignore[attr-defined]
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] == 0.7
        assert kwargs["socket_connect_timeout"] == 0.7
    finally:
        await cache.aclose()


def test_each_event_loop_closes_its_own_connections(redis_url: str) -> None:
    """A server may run an event loop per thread: aclose() on one loop must not drop
    another loop's client before that loop closes it."""
    import gc
    import threading
    import warnings

    cache = RedisCache(redis_url)
    clients: list[Any] = []
    both_used, errors = threading.Barrier(2), []

    async def use_then_close() -> None:
        await cache.aset("k", 1)
        clients.append(cache.store.async_client())  # type: ignore[attr-defined]
        both_used.wait(5)
        await cache.aclose()

    def worker() -> None:
        try:
            asyncio.run(use_then_close())
        except BaseException as exc:
            errors.append(exc)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        gc.collect()
    assert errors == []
    assert len(clients) == 2
    assert clients[0] is not clients[1]
    for client in clients:
        pool = client.connection_pool
        assert not any(c.is_connected for c in [*pool._available_connections,
                                                 *pool._in_use_connections])
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    cache.close()


def test_redis_options_reach_redis_py(redis_url: str) -> None:
    cache = RedisCache(redis_url, redis_options={"max_connections": 7})
    try:
        assert cache.store.sync_client().connection_pool.max_connections == 7  # type: ignore[attr-defined]
    finally:
        cache.close()


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
async def test_connections_the_server_dropped_are_retried(redis_url: str, operation: Any,
                                                         mode: str) -> None:
    """Redis closing pooled connections (a restart, its idle ``timeout``) is no error."""
    cache = RedisCache(redis_url, errors="raise")
    store = entry(cache, mode)
    raw = redis.Redis.from_url(redis_url)
    try:
        await asyncio.gather(*(store.set(f"warm{n}", n) for n in range(3)))  # pool 3 conns
        raw.client_kill_filter(_type="normal", skipme=True)
        await operation(store)
        assert await store.get("warm1") in (1, None)  # None: the operation was clear()
        assert cache.stats()["failures"] == 0
    finally:
        await cache.aclose()
        raw.close()


def test_missing_redis_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from heron.exceptions import MissingDependency

    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(MissingDependency, match="redis"):
        RedisCache("redis://127.0.0.1:1/0")
