"""MemoryCache: the store contract, expiry on a fake clock, LRU eviction; cache_from_url."""

from __future__ import annotations

import types
from typing import Any

import pytest
from cache_contract import CacheContract

import heron.cache.memory as memory_module
from heron import App
from heron.cache import Cache, CacheUnavailable, cache_from_url
from heron.cache.memory import MemoryCache
from heron.exceptions import HTTPException, ServiceUnavailable


class Clock:
    """Stands in for the ``time`` module of heron.cache.memory."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(memory_module, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    return clock


class TestMemoryCacheContract(CacheContract):
    @pytest.fixture
    def store(self) -> MemoryCache:
        return MemoryCache()


# -- expiry -------------------------------------------------------------------------------


async def test_set_with_ttl_expires(clock: Clock) -> None:
    cache = MemoryCache()
    await cache.set("k", "v", ttl=10)
    clock.advance(9.9)
    assert await cache.get("k") == "v"
    clock.advance(0.1)
    assert await cache.get("k") is None
    assert "k" not in cache._data  # dropped when found expired


async def test_set_without_ttl_never_expires(clock: Clock) -> None:
    cache = MemoryCache()
    await cache.set("k", "v")
    clock.advance(10**9)
    assert await cache.get("k") == "v"


async def test_set_again_replaces_the_ttl(clock: Clock) -> None:
    cache = MemoryCache()
    await cache.set("k", "v", ttl=10)
    await cache.set("k", "w")
    clock.advance(100)
    assert await cache.get("k") == "w"
    await cache.set("k", "x", ttl=5)
    clock.advance(6)
    assert await cache.get("k") is None


async def test_add_succeeds_once_the_old_value_expired(clock: Clock) -> None:
    cache = MemoryCache()
    assert await cache.add("k", "old", ttl=10) is True
    clock.advance(5)
    assert await cache.add("k", "new", ttl=10) is False
    clock.advance(6)
    assert await cache.add("k", "new", ttl=10) is True
    assert await cache.get("k") == "new"


async def test_delete_of_an_expired_key(clock: Clock) -> None:
    cache = MemoryCache()
    await cache.set("k", "v", ttl=1)
    clock.advance(2)
    # Expired but not yet swept: it reports that something was removed.
    assert isinstance(await cache.delete("k"), bool)
    assert await cache.get("k") is None


async def test_incr_keeps_the_first_window(clock: Clock) -> None:
    cache = MemoryCache()
    assert await cache.incr("fails", ttl=60) == 1
    clock.advance(40)
    assert await cache.incr("fails", ttl=60) == 2  # does not push the window out
    clock.advance(15)
    assert await cache.incr("fails", ttl=600) == 3
    clock.advance(6)  # 61 s after the first incr
    assert await cache.get("fails") is None
    assert await cache.incr("fails", ttl=60) == 1  # a new window
    clock.advance(59)
    assert await cache.get("fails") == 1
    clock.advance(1)
    assert await cache.get("fails") is None


async def test_incr_ttl_only_applies_to_a_new_counter(clock: Clock) -> None:
    cache = MemoryCache()
    await cache.incr("n")
    await cache.incr("n", ttl=10)
    clock.advance(100)
    assert await cache.get("n") == 2
    await cache.set("m", 5)
    await cache.incr("m", ttl=10)
    clock.advance(100)
    assert await cache.get("m") == 6


async def test_incr_on_a_value_with_a_ttl_keeps_it(clock: Clock) -> None:
    cache = MemoryCache()
    await cache.set("n", 1, ttl=10)
    assert await cache.incr("n") == 2
    clock.advance(11)
    assert await cache.get("n") is None


# -- LRU ---------------------------------------------------------------------------------------


async def test_least_recently_used_keys_are_evicted() -> None:
    cache = MemoryCache(max_entries=3)
    for key in "abc":
        await cache.set(key, key)
    await cache.get("a")  # a is now the most recent
    await cache.set("d", "d")
    assert await cache.get("b") is None
    assert [await cache.get(k) for k in "acd"] == ["a", "c", "d"]
    assert len(cache._data) == 3


@pytest.mark.parametrize(
    "touch",
    [
        lambda c: c.get("a"),
        lambda c: c.set("a", "a2"),
        lambda c: c.add("a", "ignored"),
        lambda c: c.incr("a"),
    ],
    ids=["get", "set", "add (refused)", "incr"],
)
async def test_every_use_makes_a_key_recent(touch: Any) -> None:
    cache = MemoryCache(max_entries=2)
    await cache.set("a", 1)
    await cache.set("b", 2)
    await touch(cache)
    await cache.set("c", 3)
    assert await cache.get("b") is None
    assert await cache.get("a") is not None


async def test_add_and_incr_evict_too() -> None:
    cache = MemoryCache(max_entries=2)
    await cache.add("a", 1)
    await cache.incr("b")
    await cache.incr("c")
    assert len(cache._data) == 2
    assert await cache.get("a") is None


async def test_overwriting_does_not_evict() -> None:
    cache = MemoryCache(max_entries=2)
    await cache.set("a", 1)
    await cache.set("b", 2)
    for n in range(5):
        await cache.set("b", n)
    assert await cache.get("a") == 1


async def test_default_bound() -> None:
    assert MemoryCache().max_entries == 10_000


async def test_clear() -> None:
    cache = MemoryCache()
    await cache.set("a", 1)
    await cache.incr("b")
    await cache.clear()
    assert await cache.get("a") is None
    assert await cache.get("b") is None


async def test_values_are_stored_as_json() -> None:
    cache = MemoryCache()
    await cache.set("k", {"a": [1]})
    assert cache._data["k"][0] == b'{"a":[1]}'


async def test_incr_on_something_that_is_not_a_number_raises() -> None:
    cache = MemoryCache()
    await cache.set("k", {"a": 1})
    with pytest.raises(TypeError):
        await cache.incr("k")
    assert await cache.get("k") == {"a": 1}


async def test_two_memory_caches_are_separate() -> None:
    first, second = MemoryCache(), MemoryCache()
    await first.set("k", 1)
    assert await second.get("k") is None


# -- cache_from_url and App.cache -------------------------------------------------------------


@pytest.mark.parametrize("url", ["memory://", "memory://anything", "MEMORY://"])
def test_cache_from_url_memory(url: str) -> None:
    assert type(cache_from_url(url)) is MemoryCache


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "rediss://:pw@example.com:6380/2",
                                 "unix:///tmp/redis.sock", "REDIS://localhost"])
def test_cache_from_url_redis_connects_lazily(url: str) -> None:
    from heron.cache.redis import RedisCache

    cache = cache_from_url(url)
    assert type(cache) is RedisCache
    assert cache.url == url


@pytest.mark.parametrize("url", ["memcached://127.0.0.1:11211", "http://cache", "file:///tmp",
                                 "", "nonsense", "redis:/missing-slash"])
def test_cache_from_url_unknown_scheme(url: str) -> None:
    with pytest.raises(ValueError, match=r"memory://.*redis://") as info:
        cache_from_url(url)
    assert repr(url.partition("://")[0]) in str(info.value)


def test_an_unknown_cache_url_password_is_not_in_the_error() -> None:
    with pytest.raises(ValueError) as info:
        cache_from_url("memcached://user:hunter2@host:1")
    assert "hunter2" not in str(info.value)


def test_app_cache_follows_cache_url(make_app: Any) -> None:
    app: App = make_app()
    assert type(app.cache) is MemoryCache
    assert app.cache is app.cache
    assert make_app(cache_url="memory://").cache is not app.cache


def test_app_cache_with_a_bad_url_raises(make_app: Any) -> None:
    with pytest.raises(ValueError, match="memcached"):
        make_app(cache_url="memcached://x").cache  # noqa: B018


def test_cache_url_from_the_environment(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from heron.cache.redis import RedisCache

    monkeypatch.setenv("HERON_CACHE_URL", "redis://127.0.0.1:1/3")
    cache = make_app().cache
    assert isinstance(cache, RedisCache)
    assert cache.url.endswith("/3")


def test_the_app_cache_is_usable_in_views_and_dropped_at_shutdown(make_app: Any) -> None:
    from heron import Request
    from heron.testing import TestClient

    app: App = make_app()

    @app.get("/hit")
    async def hit(request: Request) -> dict[str, int]:
        return {"hits": await request.app.cache.incr("hits")}

    with TestClient(app) as client:
        assert [client.get("/hit").json()["hits"] for _ in range(3)] == [1, 2, 3]
        cache = app.cache
    assert app.cache is not cache  # closed and forgotten by shutdown


def test_cache_unavailable_is_a_503_with_retry_after() -> None:
    exc = CacheUnavailable("The Redis cache is unreachable (ConnectionError)")
    assert isinstance(exc, ServiceUnavailable)
    assert isinstance(exc, HTTPException)
    assert exc.status_code == 503
    assert exc.headers is not None
    assert exc.headers["retry-after"].isdigit()
    assert "Redis" not in str(exc.detail)
    assert exc.message == "The Redis cache is unreachable (ConnectionError)"


def test_cache_is_abstract() -> None:
    with pytest.raises(TypeError):
        Cache()  # type: ignore[abstract]
