"""RedisCache on a real redis-server (the ``redis_url`` fixture): the store contract, TTLs
as Redis sees them, prefixes, and a Redis that is down or silent -> CacheUnavailable."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis
from cache_contract import CacheContract

from heron.cache import CacheUnavailable
from heron.cache.redis import RedisCache
from heron.exceptions import ServiceUnavailable


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisCache]:
    cache = RedisCache(redis_url)
    yield cache
    await cache.close()


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    """A plain redis-py client on the same database, to look behind heron's back."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


class TestRedisCacheContract(CacheContract):
    pass  # ``store`` is the module's fixture


# -- what Redis holds ------------------------------------------------------------------------


async def test_values_are_json_under_the_prefix(store: RedisCache, raw: redis.Redis) -> None:
    await store.set("k", {"a": [1, None]})
    assert raw.keys("*") == [b"heron:k"]
    assert raw.get("heron:k") == b'{"a":[1,null]}'


async def test_a_custom_prefix_separates_apps(redis_url: str, raw: redis.Redis) -> None:
    first, second = RedisCache(redis_url, prefix="one:"), RedisCache(redis_url, prefix="two:")
    try:
        await first.set("k", 1)
        await second.set("k", 2)
        assert (await first.get("k"), await second.get("k")) == (1, 2)
        assert sorted(raw.keys("*")) == [b"one:k", b"two:k"]
        assert await first.delete("k") is True
        assert await second.get("k") == 2
    finally:
        await first.close()
        await second.close()


async def test_the_url_database_index_is_used(redis_server: Any, redis_url: str) -> None:
    other_db = redis_server.url_for(3)
    cache = RedisCache(other_db)
    raw3 = redis.Redis.from_url(other_db)
    raw0 = redis.Redis.from_url(redis_url)
    try:
        await cache.set("k", 1)
        assert raw3.get("heron:k") == b"1"
        assert raw0.get("heron:k") is None
    finally:
        await cache.close()
        raw3.close()
        raw0.close()


async def test_two_stores_on_one_redis_share_data(redis_url: str) -> None:
    first, second = RedisCache(redis_url), RedisCache(redis_url)
    try:
        await first.set("k", {"from": "first"})
        assert await second.get("k") == {"from": "first"}
        assert await second.add("k", "x") is False
        assert await first.incr("n") == 1
        assert await second.incr("n") == 2
    finally:
        await first.close()
        await second.close()


# -- TTLs ------------------------------------------------------------------------------------------


async def test_set_ttl(store: RedisCache, raw: redis.Redis) -> None:
    await store.set("k", "v", ttl=100)
    assert 98 <= raw.ttl("heron:k") <= 100
    await store.set("forever", "v")
    assert raw.ttl("heron:forever") == -1


async def test_set_again_without_ttl_drops_the_ttl(store: RedisCache, raw: redis.Redis) -> None:
    await store.set("k", "v", ttl=100)
    await store.set("k", "w")
    assert raw.ttl("heron:k") == -1


async def test_add_ttl(store: RedisCache, raw: redis.Redis) -> None:
    assert await store.add("k", "v", ttl=50) is True
    assert 48 <= raw.ttl("heron:k") <= 50
    assert await store.add("k", "w", ttl=500) is False
    assert raw.ttl("heron:k") <= 50
    assert await store.add("forever", "v") is True
    assert raw.ttl("heron:forever") == -1


async def test_incr_keeps_the_first_windows_ttl(store: RedisCache, raw: redis.Redis) -> None:
    assert await store.incr("fails", ttl=100) == 1
    assert 98 <= raw.ttl("heron:fails") <= 100
    raw.expire("heron:fails", 40)  # as if 60 s of the window had passed
    assert await store.incr("fails", ttl=100) == 2
    assert await store.incr("fails", ttl=1000) == 3
    assert 38 <= raw.ttl("heron:fails") <= 40


async def test_incr_without_ttl_has_none(store: RedisCache, raw: redis.Redis) -> None:
    await store.incr("n")
    assert raw.ttl("heron:n") == -1


async def test_incr_ttl_only_applies_to_a_new_counter(store: RedisCache,
                                                      raw: redis.Redis) -> None:
    """As MemoryCache: ``ttl`` applies when the key is created, not to an existing key."""
    await store.incr("n")
    assert await store.incr("n", ttl=10) == 2
    assert raw.ttl("heron:n") == -1
    await store.set("m", 5)
    assert await store.incr("m", ttl=10) == 6
    assert raw.ttl("heron:m") == -1


async def test_incr_on_a_value_with_a_ttl_keeps_it(store: RedisCache, raw: redis.Redis) -> None:
    await store.set("n", 1, ttl=100)
    assert await store.incr("n") == 2
    assert 98 <= raw.ttl("heron:n") <= 100


async def test_incr_after_the_window_starts_a_new_one(store: RedisCache,
                                                      raw: redis.Redis) -> None:
    await store.incr("n", ttl=100)
    await store.incr("n", ttl=100)
    raw.pexpire("heron:n", 1)
    await asyncio.sleep(0.01)
    assert await store.get("n") is None
    assert await store.incr("n", ttl=100) == 1
    assert 98 <= raw.ttl("heron:n") <= 100


async def test_values_really_expire(store: RedisCache) -> None:
    await store.set("k", "v", ttl=1)
    await store.incr("n", ttl=1)
    assert await store.get("k") == "v"
    await asyncio.sleep(1.1)
    assert await store.get("k") is None
    assert await store.get("n") is None
    assert await store.add("k", "again", ttl=1) is True


async def test_incr_on_something_that_is_not_a_number_raises(store: RedisCache) -> None:
    await store.set("k", {"a": 1})
    with pytest.raises(redis.ResponseError):
        await store.incr("k")
    assert await store.get("k") == {"a": 1}


async def test_the_store_reconnects_after_close(store: RedisCache) -> None:
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
    "set": lambda c: c.set("k", 1, ttl=10),
    "add": lambda c: c.add("k", 1, ttl=10),
    "delete": lambda c: c.delete("k"),
    "incr": lambda c: c.incr("k", ttl=10),
    "incr without ttl": lambda c: c.incr("k"),
}


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
async def test_a_closed_port_raises_cache_unavailable_fast(operation: Any) -> None:
    cache = RedisCache(f"redis://:hunter2@127.0.0.1:{closed_port()}/0")
    started = time.monotonic()
    try:
        with pytest.raises(CacheUnavailable) as info:
            await operation(cache)
    finally:
        await cache.close()
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
async def test_a_silent_server_times_out(operation: Any) -> None:
    """A server that accepts connections and never answers: the timeout, not a hang."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        cache = RedisCache(f"redis://127.0.0.1:{port}/0", timeout=0.2)
        started = time.monotonic()
        try:
            with pytest.raises(CacheUnavailable) as info:
                await operation(cache)
        finally:
            await cache.close()
    assert time.monotonic() - started < 3
    assert "TimeoutError" in info.value.message


async def test_the_default_timeout_is_five_seconds(redis_url: str) -> None:
    cache = RedisCache(redis_url)
    try:
        kwargs = cache._client.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] == 5.0
        assert kwargs["socket_connect_timeout"] == 5.0
    finally:
        await cache.close()


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
async def test_connections_the_server_dropped_are_retried(redis_url: str,
                                                         operation: Any) -> None:
    """Redis closing pooled connections (a restart, its idle ``timeout``) is no error."""
    cache = RedisCache(redis_url)
    raw = redis.Redis.from_url(redis_url)
    try:
        await asyncio.gather(*(cache.set(f"warm{n}", n) for n in range(3)))  # pool 3 conns
        raw.client_kill_filter(_type="normal", skipme=True)
        await operation(cache)
        assert await cache.get("warm1") == 1
    finally:
        await cache.close()
        raw.close()


def test_missing_redis_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from heron.exceptions import MissingDependency

    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(MissingDependency, match="redis"):
        RedisCache("redis://127.0.0.1:1/0")
