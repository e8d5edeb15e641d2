"""MemoryCache: the cache contract, expiry on a fake clock, LRU eviction; cache_from_url
and App.cache."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pytest
from cache_contract import ENTRY_POINTS, CacheContract, Entry, entry

import heron.cache.memory as memory_module
from heron import App
from heron.cache import (
    Cache,
    CacheUnavailable,
    MemoryCache,
    NullCache,
    RedisCache,
    Store,
    cache_from_url,
)
from heron.cache.memory import MemoryStore, NullStore
from heron.cache.redis import RedisStore
from heron.exceptions import HTTPException, ImproperlyConfigured, ServiceUnavailable


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


@pytest.fixture
def cache() -> MemoryCache:
    return MemoryCache()


@pytest.fixture(params=ENTRY_POINTS)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(cache: MemoryCache, mode: str) -> Entry:
    """The module's MemoryCache through the sync or the async entry point."""
    return entry(cache, mode)


@pytest.fixture
def make(mode: str) -> Callable[..., Entry]:
    """A MemoryCache with these options, through this test's entry point."""
    return lambda **options: entry(MemoryCache(**options), mode)


def stored(store: Entry) -> dict[str, tuple[bytes, float | None]]:
    return store.cache.store._data  # type: ignore[attr-defined,no-any-return]


class TestMemoryCacheContract(CacheContract):
    pass  # ``cache`` is the module's fixture


# -- expiry -------------------------------------------------------------------------------


async def test_set_with_ttl_expires(clock: Clock, store: Entry) -> None:
    await store.set("k", "v", ttl=10)
    clock.advance(9.9)
    assert await store.get("k") == "v"
    clock.advance(0.1)
    assert await store.get("k") is None
    assert "heron:1:k" not in stored(store)  # dropped when found expired


async def test_set_without_ttl_uses_the_default_ttl(clock: Clock, store: Entry) -> None:
    await store.set("k", "v")
    clock.advance(299)
    assert await store.get("k") == "v"
    clock.advance(1)
    assert await store.get("k") is None


async def test_set_with_ttl_none_never_expires(clock: Clock, store: Entry) -> None:
    await store.set("k", "v", ttl=None)
    clock.advance(10**9)
    assert await store.get("k") == "v"


async def test_a_cache_without_default_ttl_keeps_values(clock: Clock,
                                                        make: Callable[..., Entry]) -> None:
    store = make(default_ttl=None)
    await store.set("k", "v")
    clock.advance(10**9)
    assert await store.get("k") == "v"


async def test_set_again_replaces_the_ttl(clock: Clock, store: Entry) -> None:
    await store.set("k", "v", ttl=10)
    await store.set("k", "w", ttl=None)
    clock.advance(100)
    assert await store.get("k") == "w"
    await store.set("k", "x", ttl=5)
    clock.advance(6)
    assert await store.get("k") is None


async def test_add_succeeds_once_the_old_value_expired(clock: Clock, store: Entry) -> None:
    assert await store.add("k", "old", ttl=10) is True
    clock.advance(5)
    assert await store.add("k", "new", ttl=10) is False
    clock.advance(6)
    assert await store.add("k", "new", ttl=10) is True
    assert await store.get("k") == "new"


async def test_replace_fails_once_the_old_value_expired(clock: Clock, store: Entry) -> None:
    await store.set("k", "old", ttl=10)
    clock.advance(11)
    assert await store.replace("k", "new") is False
    assert await store.get("k") is None


async def test_delete_of_an_expired_key(clock: Clock, store: Entry) -> None:
    await store.set("k", "v", ttl=1)
    clock.advance(2)
    # Expired but not yet swept: nothing that could be read was removed.
    assert await store.delete("k") is False
    assert await store.get("k") is None
    assert "heron:1:k" not in stored(store)


async def test_touch_gives_a_new_ttl(clock: Clock, store: Entry) -> None:
    await store.set("k", "v", ttl=10)
    clock.advance(8)
    assert await store.touch("k", 10) is True
    clock.advance(8)
    assert await store.get("k") == "v"
    assert await store.touch("k", None) is True  # persist
    clock.advance(10**6)
    assert await store.get("k") == "v"
    assert await store.touch("k") is True  # the default ttl
    clock.advance(300)
    assert await store.get("k") is None
    assert await store.touch("k", 10) is False


async def test_incr_keeps_the_first_window(clock: Clock, store: Entry) -> None:
    assert await store.incr("fails", ttl=60) == 1
    clock.advance(40)
    assert await store.incr("fails", ttl=60) == 2  # does not push the window out
    clock.advance(15)
    assert await store.incr("fails", ttl=600) == 3
    clock.advance(6)  # 61 s after the first incr
    assert await store.get("fails") is None
    assert await store.incr("fails", ttl=60) == 1  # a new window
    clock.advance(59)
    assert await store.get("fails") == 1
    clock.advance(1)
    assert await store.get("fails") is None


async def test_incr_without_ttl_never_expires(clock: Clock, store: Entry) -> None:
    """A counter is not a cached value: no ``ttl`` means none, not the default ttl."""
    await store.incr("n")
    clock.advance(10**6)
    assert await store.get("n") == 1


async def test_incr_ttl_only_applies_to_a_new_counter(clock: Clock, store: Entry) -> None:
    await store.incr("n")
    await store.incr("n", ttl=10)
    clock.advance(100)
    assert await store.get("n") == 2
    await store.set("m", 5, ttl=None)
    await store.incr("m", ttl=10)
    clock.advance(100)
    assert await store.get("m") == 6


async def test_incr_on_a_value_with_a_ttl_keeps_it(clock: Clock, store: Entry) -> None:
    await store.set("n", 1, ttl=10)
    assert await store.incr("n") == 2
    clock.advance(11)
    assert await store.get("n") is None


# -- LRU ---------------------------------------------------------------------------------------


async def test_least_recently_used_keys_are_evicted(make: Callable[..., Entry]) -> None:
    store = make(max_entries=3)
    for key in "abc":
        await store.set(key, key)
    await store.get("a")  # a is now the most recent
    await store.set("d", "d")
    assert await store.get("b") is None
    assert [await store.get(k) for k in "acd"] == ["a", "c", "d"]
    assert len(stored(store)) == 3


@pytest.mark.parametrize(
    "use",
    [
        lambda c: c.get("a"),
        lambda c: c.get_many(["a"]),
        lambda c: c.has_key("a"),
        lambda c: c.set("a", "a2"),
        lambda c: c.add("a", "ignored"),
        lambda c: c.replace("a", "a3"),
        lambda c: c.incr("a"),
        lambda c: c.touch("a", 60),
    ],
    ids=["get", "get_many", "has_key", "set", "add (refused)", "replace", "incr", "touch"],
)
async def test_every_use_makes_a_key_recent(use: Any, make: Callable[..., Entry]) -> None:
    store = make(max_entries=2)
    await store.set("a", 1)
    await store.set("b", 2)
    await use(store)
    await store.set("c", 3)
    assert await store.get("b") is None
    assert await store.get("a") is not None


async def test_add_and_incr_evict_too(make: Callable[..., Entry]) -> None:
    store = make(max_entries=2)
    await store.add("a", 1)
    await store.incr("b")
    await store.incr("c")
    assert len(stored(store)) == 2
    assert await store.get("a") is None


async def test_set_many_evicts_too(make: Callable[..., Entry]) -> None:
    store = make(max_entries=2)
    await store.set_many({"a": 1, "b": 2, "c": 3})
    assert len(stored(store)) == 2
    assert await store.get_many(["a", "b", "c"]) == {"b": 2, "c": 3}


async def test_overwriting_does_not_evict(make: Callable[..., Entry]) -> None:
    store = make(max_entries=2)
    await store.set("a", 1)
    await store.set("b", 2)
    for n in range(5):
        await store.set("b", n)
    assert await store.get("a") == 1


def test_default_bound() -> None:
    assert MemoryCache().store.max_entries == 10_000  # type: ignore[attr-defined]
    assert MemoryCache(max_entries=5).store.max_entries == 5  # type: ignore[attr-defined]


@pytest.mark.parametrize("max_entries", [0, -1])
def test_max_entries_must_be_positive(max_entries: int) -> None:
    with pytest.raises(ValueError, match="max_entries"):
        MemoryCache(max_entries=max_entries)


async def test_clear(store: Entry) -> None:
    await store.set("a", 1)
    await store.incr("b")
    await store.clear()
    assert await store.get("a") is None
    assert await store.get("b") is None
    assert stored(store) == {}


async def test_clear_keeps_other_prefixes_in_the_same_store(mode: str) -> None:
    shared = MemoryStore()
    first = entry(Cache(shared, prefix="one:"), mode)
    second = entry(Cache(shared, prefix="two:"), mode)
    await first.set("k", 1)
    await second.set("k", 2)
    await first.clear()
    assert await first.get("k") is None
    assert await second.get("k") == 2
    assert list(shared._data) == ["two:1:k"]


async def test_values_are_stored_as_json(store: Entry) -> None:
    await store.set("k", {"a": [1]})
    assert stored(store)["heron:1:k"][0] == b'{"a":[1]}'
    await store.incr("n", 41)
    assert stored(store)["heron:1:n"][0] == b"41"


async def test_two_memory_caches_are_separate(mode: str) -> None:
    first, second = entry(MemoryCache(), mode), entry(MemoryCache(), mode)
    await first.set("k", 1)
    assert await second.get("k") is None


async def test_the_memory_store_is_thread_safe(store: Entry) -> None:
    """Sync views in many threads share one store (the sync entry runs in threads)."""
    import asyncio

    await asyncio.gather(*(store.set(f"k{n % 7}", n) for n in range(200)),
                         *(store.incr("n") for _ in range(200)))
    assert await store.get("n") == 200
    assert len(await store.get_many([f"k{n}" for n in range(7)])) == 7


async def test_the_null_cache_keeps_nothing(mode: str) -> None:
    store = entry(NullCache(), mode)
    await store.set("k", 1)
    assert await store.get("k", "default") == "default"
    assert await store.add("k", 1) is True
    assert await store.replace("k", 1) is False
    assert await store.has_key("k") is False
    assert await store.get_many(["k"]) == {}
    assert await store.delete("k") is False
    assert await store.touch("k") is False
    assert await store.get_or_set("k", lambda: 5) == 5
    assert await store.get_or_set("k", lambda: 6) == 6


# -- cache_from_url and App.cache -------------------------------------------------------------


@pytest.mark.parametrize("url", ["memory://", "memory://anything", "MEMORY://"])
def test_cache_from_url_memory(url: str) -> None:
    cache = cache_from_url(url)
    assert isinstance(cache, Cache)
    assert type(cache.store) is MemoryStore
    assert cache.prefix == "heron:"


def test_cache_from_url_null() -> None:
    assert type(cache_from_url("null://").store) is NullStore


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "rediss://:pw@example.com:6380/2",
                                 "unix:///tmp/redis.sock", "REDIS://localhost"])
def test_cache_from_url_redis_connects_lazily(url: str) -> None:
    cache = cache_from_url(url)
    assert type(cache.store) is RedisStore
    assert cache.store.url == url  # type: ignore[attr-defined]
    cache.store.sync_client()  # type: ignore[attr-defined]  # redis-py takes it, offline


@pytest.mark.parametrize("url", ["memcached://127.0.0.1:11211", "http://cache", "file:///tmp",
                                 "", "nonsense", "redis:/missing-slash", "memory:"])
def test_cache_from_url_unknown_scheme(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"memory://.*redis://") as info:
        cache_from_url(url)
    assert info.value.id == "heron.cache.E001"
    if "://" in url:
        assert repr(url.partition("://")[0]) in str(info.value)


@pytest.mark.parametrize("url", ["memcached://user:hunter2@host:1", "redis//:hunter2@host:1/0",
                                 ":hunter2@host:1/0", "redis:/:hunter2@host"])
def test_an_unknown_cache_url_password_is_not_in_the_error(url: str) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        cache_from_url(url)
    assert "hunter2" not in str(info.value)


def test_app_cache_follows_cache_url(make_app: Any) -> None:
    app: App = make_app()
    assert type(app.cache.store) is MemoryStore
    assert app.cache is app.cache
    assert app.caches["default"] is app.cache
    assert make_app(cache_url="memory://").cache is not app.cache


def test_app_cache_with_a_bad_url_raises(make_app: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="memcached"):
        make_app(cache_url="memcached://x").cache  # noqa: B018


def test_cache_url_from_the_environment(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_CACHE_URL", "redis://127.0.0.1:1/3")
    cache = make_app().cache
    assert isinstance(cache.store, RedisStore)
    assert cache.store.url.endswith("/3")


def test_the_app_cache_is_usable_in_views_and_dropped_at_shutdown(make_app: Any) -> None:
    from heron import Request
    from heron.testing import TestClient

    app: App = make_app()

    @app.get("/hit")
    async def hit(request: Request) -> dict[str, int]:
        return {"hits": await request.app.cache.aincr("hits")}

    @app.get("/sync-hit")
    def sync_hit(request: Request) -> dict[str, int]:
        return {"hits": request.app.cache.incr("hits")}

    with TestClient(app) as client:
        assert [client.get("/hit").json()["hits"] for _ in range(3)] == [1, 2, 3]
        assert client.get("/sync-hit").json()["hits"] == 4
        cache = app.cache
        assert app.caches["default"] is cache
    assert app.caches["default"] is cache  # closed (its connections), not forgotten


def test_after_shutdown_app_cache_is_still_the_default_cache(make_app: Any) -> None:
    from heron.testing import TestClient

    app: App = make_app()
    with TestClient(app):
        app.cache.set("k", 1)
    with TestClient(app):
        assert app.cache is app.caches["default"]
        assert app.cache.get("k") == 1  # a memory cache keeps its entries


def test_cache_unavailable_is_a_503_with_retry_after() -> None:
    exc = CacheUnavailable("The Redis cache is unreachable (ConnectionError)")
    assert isinstance(exc, ServiceUnavailable)
    assert isinstance(exc, HTTPException)
    assert exc.status_code == 503
    assert exc.headers is not None
    assert exc.headers["retry-after"].isdigit()
    assert "Redis" not in str(exc.detail)
    assert exc.message == "The Redis cache is unreachable (ConnectionError)"


def test_store_is_abstract() -> None:
    with pytest.raises(TypeError):
        Store()  # type: ignore[abstract]


def test_the_cache_classes() -> None:
    for cls in (MemoryCache, RedisCache, NullCache):
        assert issubclass(cls, Cache)
    assert repr(MemoryCache(name="pages")) == "<MemoryCache 'pages' on MemoryStore>"
