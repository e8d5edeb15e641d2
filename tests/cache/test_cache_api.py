"""The Cache API on memory and on a real Redis, through both entry points: many keys at
once, touch, clear, versions, TTLs, serializers, get_or_set and its stampede protection,
stats, raw bytes, a store that is down, and cache_from_url's options and errors."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis
from cache_contract import ENTRY_POINTS, Entry, entry

from heron.cache import (
    DEFAULT_TTL,
    Cache,
    Caches,
    CacheUnavailable,
    MemoryCache,
    RedisCache,
    cache_from_url,
)
from heron.cache.memory import MemoryStore, NullStore
from heron.cache.redis import RedisStore
from heron.cache.serializers import JSONSerializer, MsgpackSerializer
from heron.exceptions import ImproperlyConfigured

BACKENDS = ("memory", "redis")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make(request: pytest.FixtureRequest, backend: str) -> AsyncIterator[Callable[..., Cache]]:
    """Caches of this test's backend (all on one store or one Redis database), closed after."""
    made: list[Cache] = []
    shared = MemoryStore()
    url = request.getfixturevalue("redis_url") if backend == "redis" else ""

    def factory(**options: Any) -> Cache:
        cache = RedisCache(url, **options) if backend == "redis" else Cache(shared, **options)
        made.append(cache)
        return cache

    yield factory
    for cache in made:
        await cache.aclose()


@pytest.fixture
def cache(make: Callable[..., Cache]) -> Cache:
    return make()


@pytest.fixture(params=ENTRY_POINTS)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(cache: Cache, mode: str) -> Entry:
    return entry(cache, mode)


def remaining(cache: Cache, key: str) -> float | None:
    """Seconds until ``key`` expires as its store sees it (None: never; -1: no such key)."""
    full = cache.make_key(key)
    if isinstance(cache.store, MemoryStore):
        value = cache.store._data.get(full)
        if value is None:
            return -1
        return None if value[1] is None else value[1] - time.monotonic()
    assert isinstance(cache.store, RedisStore)
    client = redis.Redis.from_url(cache.store.url)
    try:
        ms = client.pttl(full)
    finally:
        client.close()
    return {-1: None, -2: -1}.get(ms, ms / 1000)


def raw_keys(cache: Cache) -> set[str]:
    """Every key the store holds, whoever wrote it."""
    if isinstance(cache.store, MemoryStore):
        return set(cache.store._data)
    assert isinstance(cache.store, RedisStore)
    client = redis.Redis.from_url(cache.store.url)
    try:
        return {key.decode() for key in client.keys("*")}
    finally:
        client.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- many keys at once --------------------------------------------------------------------------


async def test_get_many(store: Entry) -> None:
    await store.set("a", 1)
    await store.set("b", None)
    await store.set("c", {"x": [1]})
    assert await store.get_many(["a", "b", "c", "missing"]) == {"a": 1, "b": None,
                                                                 "c": {"x": [1]}}
    assert await store.get_many(iter(["c", "a"])) == {"c": {"x": [1]}, "a": 1}
    assert await store.get_many([]) == {}
    assert await store.get_many(["missing"]) == {}


async def test_set_many(store: Entry) -> None:
    await store.set_many({"a": 1, "b": "two", "c": [3]})
    assert await store.get_many(["a", "b", "c"]) == {"a": 1, "b": "two", "c": [3]}
    await store.set_many({"a": "one"}, ttl=60)
    assert await store.get("a") == "one"
    await store.set_many({})
    await store.set_many({}, ttl=None)


async def test_set_many_refuses_a_bad_value_before_storing_any(store: Entry) -> None:
    with pytest.raises(TypeError):
        await store.set_many({"a": 1, "b": {1, 2}, "c": 3})
    assert await store.get_many(["a", "b", "c"]) == {}


async def test_set_many_with_ttls(store: Entry) -> None:
    await store.set_many({"a": 1, "b": 2}, ttl=100)
    assert all(98 <= remaining(store.cache, k) <= 100 for k in "ab")  # type: ignore[operator]
    await store.set_many({"a": 1, "b": 2}, ttl=None)
    assert [remaining(store.cache, k) for k in "ab"] == [None, None]
    await store.set_many({"a": 1})
    assert 298 <= remaining(store.cache, "a") <= 300  # type: ignore[operator]


async def test_delete_many(store: Entry) -> None:
    await store.set_many({"a": 1, "b": 2, "c": 3})
    assert await store.delete_many(["a", "b", "missing"]) == 2
    assert await store.get_many(["a", "b", "c"]) == {"c": 3}
    assert await store.delete_many(["a", "b"]) == 0
    assert await store.delete_many([]) == 0
    assert await store.delete_many(iter(["c"])) == 1


async def test_has_key(store: Entry) -> None:
    assert await store.has_key("k") is False
    await store.set("k", None)
    assert await store.has_key("k") is True
    await store.set("z", 0)
    assert await store.has_key("z") is True
    await store.delete("k")
    assert await store.has_key("k") is False


# -- touch ----------------------------------------------------------------------------------------


async def test_touch_sets_a_new_ttl(store: Entry) -> None:
    await store.set("k", "v", ttl=5)
    assert await store.touch("k", 100) is True
    assert 98 <= remaining(store.cache, "k") <= 100  # type: ignore[operator]
    assert await store.get("k") == "v"


async def test_touch_with_none_makes_a_key_persist(store: Entry) -> None:
    await store.set("k", "v", ttl=5)
    assert await store.touch("k", None) is True
    assert remaining(store.cache, "k") is None
    assert await store.get("k") == "v"


async def test_touch_can_shorten_a_ttl(store: Entry) -> None:
    await store.set("k", "v", ttl=None)
    assert await store.touch("k", 0.2) is True
    await asyncio.sleep(0.3)
    assert await store.get("k") is None


async def test_touch_without_ttl_uses_the_default(make: Callable[..., Cache], mode: str) -> None:
    store = entry(make(default_ttl=50), mode)
    await store.set("k", "v", ttl=None)
    assert await store.touch("k") is True
    assert 48 <= remaining(store.cache, "k") <= 50  # type: ignore[operator]


async def test_touch_a_missing_key(store: Entry) -> None:
    assert await store.touch("missing", 10) is False
    assert await store.touch("missing", None) is False
    assert await store.get("missing") is None


# -- clear ----------------------------------------------------------------------------------------


async def test_clear_removes_only_this_caches_prefix(make: Callable[..., Cache],
                                                     mode: str) -> None:
    mine, other = make(prefix="app1:"), make(prefix="app2:")
    store = entry(mine, mode)
    await store.set("a", 1)
    await store.set("b", 2, version=7)
    await store.incr("n")
    await entry(other, mode).set("a", "other")
    await store.clear()
    assert await store.get_many(["a", "n"]) == {}
    assert await store.get("b", version=7) is None
    assert await entry(other, mode).get("a") == "other"
    assert raw_keys(mine) == {"app2:1:a"}


@pytest.mark.parametrize("prefix", ["a*", "a?", "a[b]", "a\\"])
async def test_clear_with_glob_characters_in_the_prefix(make: Callable[..., Cache], mode: str,
                                                        prefix: str) -> None:
    """Redis's SCAN MATCH is a glob: the prefix is escaped, never a pattern."""
    mine = make(prefix=prefix)
    lookalikes = [make(prefix=p) for p in ("ab", "a", "b", "a]", "ac", "a*", "axb")
                  if not p.startswith(prefix)]
    for cache in lookalikes:
        cache.set("k", cache.prefix)
    mine.set("k", "mine")
    await entry(mine, mode).clear()
    assert mine.get("k") is None
    for cache in lookalikes:
        assert cache.get("k") == cache.prefix, cache.prefix


async def test_clear_of_many_keys(store: Entry) -> None:
    await store.set_many({f"k{n}": n for n in range(2500)}, ttl=None)
    await store.clear()
    assert raw_keys(store.cache) == set()


# -- versions -------------------------------------------------------------------------------------


async def test_versions_are_separate_keys(store: Entry) -> None:
    await store.set("k", "v1")
    await store.set("k", "v2", version=2)
    assert await store.get("k") == "v1"
    assert await store.get("k", version=2) == "v2"
    assert await store.get("k", version=3) is None
    assert await store.get_many(["k"], version=2) == {"k": "v2"}
    assert await store.has_key("k", version=3) is False
    assert await store.delete("k", version=2) is True
    assert await store.get("k") == "v1"
    assert raw_keys(store.cache) == {"heron:1:k"}


async def test_every_operation_takes_a_version(store: Entry) -> None:
    assert await store.add("k", 1, version=5) is True
    assert await store.replace("k", 2, version=5) is True
    assert await store.incr("k", version=5) == 3
    assert await store.touch("k", 60, version=5) is True
    await store.set_many({"m": 1}, version=5)
    await store.set_bytes("b", b"\x00", version=5)
    assert await store.get_bytes("b", version=5) == b"\x00"
    assert await store.get_or_set("g", 9, version=5) == 9
    assert raw_keys(store.cache) == {"heron:5:k", "heron:5:m", "heron:5:b", "heron:5:g"}
    assert await store.delete_many(["k", "m", "b", "g"], version=5) == 4


async def test_the_cache_version(make: Callable[..., Cache], mode: str) -> None:
    one, two = entry(make(), mode), entry(make(version=2), mode)
    await one.set("k", "old")
    assert await two.get("k") is None  # raising the version leaves old entries behind
    await two.set("k", "new")
    assert await one.get("k") == "old"
    assert await two.get("k", version=1) == "old"
    assert two.cache.make_key("k") == "heron:2:k"


async def test_incr_version_moves_the_value(store: Entry) -> None:
    await store.set("k", {"v": 1})
    assert await store.incr_version("k") == 2
    assert await store.get("k") is None
    assert await store.get("k", version=2) == {"v": 1}
    assert await store.incr_version("k", version=2) == 3
    assert await store.incr_version("k", 10, version=3) == 13
    assert await store.incr_version("k", -12, version=13) == 1
    assert await store.get("k") == {"v": 1}
    assert raw_keys(store.cache) == {"heron:1:k"}


async def test_incr_version_of_a_missing_key(store: Entry) -> None:
    with pytest.raises(ValueError, match="holds nothing"):
        await store.incr_version("missing")
    assert raw_keys(store.cache) == set()


# -- time to live ---------------------------------------------------------------------------------


async def test_the_default_ttl(make: Callable[..., Cache], mode: str) -> None:
    assert make().default_ttl == 300
    store = entry(make(default_ttl=60), mode)
    await store.set("set", 1)
    await store.add("add", 1)
    await store.set("forever", 1, ttl=None)
    await store.set("explicit", 1, ttl=DEFAULT_TTL)
    await store.set("own", 1, ttl=10)
    for key in ("set", "add", "explicit"):
        assert 58 <= remaining(store.cache, key) <= 60, key  # type: ignore[operator]
    assert remaining(store.cache, "forever") is None
    assert 8 <= remaining(store.cache, "own") <= 10  # type: ignore[operator]


async def test_a_cache_without_default_ttl(make: Callable[..., Cache], mode: str) -> None:
    store = entry(make(default_ttl=None), mode)
    await store.set("k", 1)
    await store.set_bytes("b", b"x")
    await store.get_or_set("g", 1)
    assert [remaining(store.cache, k) for k in ("k", "b", "g")] == [None, None, None]


async def test_counters_take_no_default_ttl(store: Entry) -> None:
    await store.incr("n")
    assert remaining(store.cache, "n") is None


async def test_short_ttls_expire(store: Entry) -> None:
    await store.set("k", "v", ttl=0.2)
    await store.set_bytes("b", b"v", ttl=0.2)
    await store.get_or_set("g", "v", ttl=0.2)
    await asyncio.sleep(0.3)
    assert await store.get_many(["k", "g"]) == {}
    assert await store.get_bytes("b") is None


def test_bad_cache_options() -> None:
    for options in ({"default_ttl": 0}, {"default_ttl": -5}, {"lock_timeout": 0},
                    {"errors": "ignore"}):
        with pytest.raises(ValueError):
            MemoryCache(**options)
    assert repr(DEFAULT_TTL) == "DEFAULT_TTL"


# -- serializers ----------------------------------------------------------------------------------


MSGPACK_VALUES: list[Any] = [
    "text", "héron ✓", "", 0, 7, -1, -12, 48, 2**62, -(2**63), 2**63 - 1, 1.25, -0.5,
    True, False, None, [], [1, "two", [3.5, None]], {}, {"n": {"deep": [1, {"x": "y"}]}},
    b"", b"\x00\xffbytes", {"blob": b"\x01\x02", "list": [b"a"]}, {1: "int key"},
]


@pytest.mark.parametrize("value", MSGPACK_VALUES, ids=[repr(v)[:20] for v in MSGPACK_VALUES])
async def test_msgpack_values_round_trip(make: Callable[..., Cache], mode: str,
                                         value: Any) -> None:
    store = entry(make(serializer="msgpack"), mode)
    await store.set("k", value)
    got = await store.get("k", "default")
    assert got == value
    assert type(got) is type(value)
    await store.set_many({"m": value})
    assert await store.get_many(["m"]) == {"m": value}


async def test_msgpack_tuples_come_back_as_lists(make: Callable[..., Cache], mode: str) -> None:
    store = entry(make(serializer="msgpack"), mode)
    await store.set("k", {"t": (1, 2)})
    assert await store.get("k") == {"t": [1, 2]}


async def test_msgpack_integers_and_counters_agree(make: Callable[..., Cache], mode: str) -> None:
    store = entry(make(serializer="msgpack"), mode)
    await store.set("n", 41)
    assert await store.incr("n") == 42
    assert await store.get("n") == 42
    assert await store.incr("new", -5) == -5
    assert await store.get("new") == -5
    assert await store.decr("new", 5) == -10
    assert await store.get("new") == -10
    await store.set("text", "42")  # a string of digits stays a string
    assert await store.get("text") == "42"
    await store.set("b", b"42")
    assert await store.get("b") == b"42"
    with pytest.raises(ValueError):
        await store.incr("text")


async def test_msgpack_int_subclasses_come_back_as_ints(make: Callable[..., Cache],
                                                        mode: str) -> None:
    import enum

    class Code(enum.IntEnum):
        DASH = 45  # b"-"
        TWO = 50  # b"2"
        BIG = 300

    store = entry(make(serializer="msgpack"), mode)
    for code in Code:
        await store.set("k", code)
        assert await store.get("k") == code.value
        await store.set("k", [code])
        assert await store.get("k") == [code.value]


@pytest.mark.parametrize("value", [{1, 2}, object(), 2**64, -(2**63) - 1],
                         ids=["set", "object", "huge int", "huge negative int"])
async def test_msgpack_refuses_what_it_cannot_hold(make: Callable[..., Cache], mode: str,
                                                   value: Any) -> None:
    store = entry(make(serializer="msgpack"), mode)
    with pytest.raises(TypeError, match=r"MessagePack|64 bits"):
        await store.set("k", value)
    assert raw_keys(store.cache) == set()


async def test_json_is_the_default_and_stores_text(store: Entry) -> None:
    assert isinstance(store.cache.serializer, JSONSerializer)
    await store.set("k", {"a": "é"})
    assert await store.get_bytes("k") == '{"a":"é"}'.encode()


@pytest.mark.parametrize("value", [{1, 2}, object(), b"bytes", 2**64, {1: "int key"},
                                   float("nan") if False else complex(1, 2)],
                         ids=["set", "object", "bytes", "huge int", "int key", "complex"])
async def test_json_refuses_values_that_are_not_json(store: Entry, value: Any) -> None:
    await store.set("k", "before")
    for operation in (lambda: store.set("k", value), lambda: store.add("new", value),
                      lambda: store.replace("k", value),
                      lambda: store.set_many({"k": value, "new": 1}),
                      lambda: store.get_or_set("new", value),
                      lambda: store.get_or_set("new", lambda: value)):
        with pytest.raises(TypeError, match="must be JSON"):
            await operation()
    assert await store.get("k") == "before"
    assert raw_keys(store.cache) == {"heron:1:k"}


def test_a_serializer_object_may_be_given() -> None:
    serializer = MsgpackSerializer()
    assert MemoryCache(serializer=serializer).serializer is serializer


# -- get_or_set -----------------------------------------------------------------------------------


async def test_get_or_set_with_a_value(store: Entry) -> None:
    assert await store.get_or_set("k", {"v": 1}) == {"v": 1}
    assert await store.get_or_set("k", {"v": 2}) == {"v": 1}
    assert await store.get("k") == {"v": 1}


async def test_get_or_set_with_a_loader(store: Entry) -> None:
    calls: list[int] = []

    def loader() -> list[int]:
        calls.append(1)
        return [len(calls)]

    assert await store.get_or_set("k", loader) == [1]
    assert await store.get_or_set("k", loader) == [1]
    assert calls == [1]
    assert await store.get("k") == [1]


async def test_get_or_set_keeps_a_stored_none(store: Entry) -> None:
    await store.set("k", None)
    assert await store.get_or_set("k", lambda: "loaded") is None


async def test_get_or_set_ttl(store: Entry) -> None:
    await store.get_or_set("k", 1, ttl=50)
    assert 48 <= remaining(store.cache, "k") <= 50  # type: ignore[operator]
    await store.get_or_set("forever", 1, ttl=None)
    assert remaining(store.cache, "forever") is None
    await store.get_or_set("default", 1)
    assert 298 <= remaining(store.cache, "default") <= 300  # type: ignore[operator]


async def test_a_failing_loader_stores_nothing_and_keeps_no_lock(store: Entry) -> None:
    def loader() -> Any:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await store.get_or_set("k", loader)
    assert raw_keys(store.cache) == set()  # no value, no lock left behind
    assert await store.get_or_set("k", lambda: "second try") == "second try"


async def test_aget_or_set_with_an_async_loader(cache: Cache) -> None:
    calls: list[int] = []

    async def loader() -> str:
        calls.append(1)
        await asyncio.sleep(0)
        return "loaded"

    assert await cache.aget_or_set("k", loader) == "loaded"
    assert await cache.aget_or_set("k", loader) == "loaded"
    assert calls == [1]
    assert cache.get("k") == "loaded"


async def test_aget_or_set_with_a_sync_loader_runs_it_in_a_thread(cache: Cache) -> None:
    threads: list[threading.Thread] = []

    def loader() -> str:
        threads.append(threading.current_thread())
        return "loaded"

    assert await cache.aget_or_set("k", loader) == "loaded"
    assert len(threads) == 1
    assert threads[0] is not threading.current_thread()
    assert await cache.aget("k") == "loaded"


async def test_aget_or_set_with_an_async_callable_object(cache: Cache) -> None:
    class Loader:
        async def __call__(self) -> str:
            return "loaded"

    assert await cache.aget_or_set("k", Loader()) == "loaded"


def test_get_or_set_refuses_an_async_loader(cache: Cache) -> None:
    import functools

    async def loader() -> str:
        return "never"

    class Loader:
        async def __call__(self) -> str:
            return "never"

    for bad in (loader, functools.partial(loader), Loader()):
        with pytest.raises(TypeError, match="aget_or_set"):
            cache.get_or_set("k", bad)
    assert cache.get("k") is None


async def test_twenty_threads_run_the_loader_once(cache: Cache) -> None:
    calls: list[int] = []
    results: list[Any] = []
    barrier = threading.Barrier(20)

    def loader() -> dict[str, int]:
        calls.append(1)
        time.sleep(0.3)
        return {"n": len(calls)}

    def worker() -> None:
        barrier.wait()
        results.append(cache.get_or_set("report", loader))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert len(calls) == 1
    assert results == [{"n": 1}] * 20


async def test_twenty_tasks_run_the_loader_once(cache: Cache) -> None:
    calls: list[int] = []

    async def loader() -> dict[str, int]:
        calls.append(1)
        await asyncio.sleep(0.3)
        return {"n": len(calls)}

    results = await asyncio.gather(*(cache.aget_or_set("report", loader) for _ in range(20)))
    assert len(calls) == 1
    assert results == [{"n": 1}] * 20


async def test_twenty_tasks_with_a_sync_loader_run_it_once(cache: Cache) -> None:
    calls: list[int] = []

    def loader() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 5

    results = await asyncio.gather(*(cache.aget_or_set("report", loader) for _ in range(20)))
    assert calls == [1]
    assert results == [5] * 20


def test_aget_or_set_from_several_event_loops(cache: Cache, backend: str) -> None:
    """A server may run an event loop per thread: their tasks share the cache."""
    calls: list[int] = []
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    async def loader() -> int:
        calls.append(1)
        await asyncio.sleep(0.3)
        return 7

    async def tasks() -> list[Any]:
        got = await asyncio.gather(*(cache.aget_or_set("k", loader) for _ in range(3)))
        await cache.aclose()  # this loop's connections
        return got

    def worker() -> None:
        barrier.wait()
        try:
            results.extend(asyncio.run(tasks()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert errors == []
    assert results == [7] * 9
    # Each loop has its own task locks; the Redis lock spans them all.
    assert len(calls) == (1 if backend == "redis" else len(calls))
    assert 1 <= len(calls) <= 3
    assert cache._locks._tasks == {}


async def test_different_keys_load_in_parallel(cache: Cache) -> None:
    async def loader() -> int:
        await asyncio.sleep(0.3)
        return 1

    started = time.monotonic()
    await asyncio.gather(*(cache.aget_or_set(f"k{n}", loader) for n in range(10)))
    assert time.monotonic() - started < 2


async def test_the_lock_is_released_after_the_stampede(cache: Cache) -> None:
    await asyncio.gather(*(cache.aget_or_set("k", 1) for _ in range(5)))
    assert cache._locks._tasks == {}
    await asyncio.to_thread(cache.get_or_set, "j", 1)
    assert cache._locks._threads == {}
    assert raw_keys(cache) == {"heron:1:k", "heron:1:j"}


# -- get_or_set across caches of one Redis (as across processes) ---------------------------------


@pytest.fixture
async def two_redis_caches(redis_url: str) -> AsyncIterator[tuple[Cache, Cache]]:
    """Two caches on one Redis with separate local locks: two processes, as far as the
    stampede protection can tell."""
    first, second = RedisCache(redis_url, lock_timeout=1), RedisCache(redis_url, lock_timeout=1)
    yield first, second
    await first.aclose()
    await second.aclose()


def test_a_filler_holds_the_redis_lock(two_redis_caches: tuple[Cache, Cache],
                                       redis_url: str) -> None:
    first, _ = two_redis_caches
    seen: list[Any] = []

    def loader() -> str:
        client = redis.Redis.from_url(redis_url)
        seen.append(client.get("heron:lock:1:k"))
        seen.append(client.pttl("heron:lock:1:k"))
        client.close()
        return "v"

    assert first.get_or_set("k", loader) == "v"
    token, ttl = seen
    assert isinstance(token, bytes)
    assert len(token) == 16
    assert 0 < ttl <= 1000  # the lock dies with lock_timeout
    assert raw_keys(first) == {"heron:1:k"}  # released


async def test_a_waiter_takes_the_fillers_value(two_redis_caches: tuple[Cache, Cache]) -> None:
    first, second = two_redis_caches
    calls: list[str] = []

    async def slow() -> str:
        calls.append("first")
        await asyncio.sleep(0.4)
        return "from first"

    async def fast() -> str:
        calls.append("second")
        return "from second"

    async def second_later() -> Any:
        await asyncio.sleep(0.1)
        return await second.aget_or_set("k", fast)

    results = await asyncio.gather(first.aget_or_set("k", slow), second_later())
    assert results == ["from first", "from first"]
    assert calls == ["first"]


def test_a_waiter_loads_itself_when_the_lock_outlives_lock_timeout(
        two_redis_caches: tuple[Cache, Cache], redis_url: str) -> None:
    first, _ = two_redis_caches
    client = redis.Redis.from_url(redis_url)
    try:
        client.set("heron:lock:1:k", b"a filler that died", px=60_000)
        started = time.monotonic()
        assert first.get_or_set("k", lambda: "loaded") == "loaded"
        assert 0.9 <= time.monotonic() - started < 5  # waited lock_timeout, never hung
        assert client.get("heron:lock:1:k") == b"a filler that died"  # not its lock to delete
    finally:
        client.close()


# -- stats ----------------------------------------------------------------------------------------


async def test_stats_count_hits_and_misses(store: Entry) -> None:
    assert store.cache.stats() == {"hits": 0, "misses": 0, "failures": 0}
    await store.get("k")
    await store.set("k", 1)
    await store.get("k")
    await store.get("k")
    await store.has_key("nope")
    await store.get_many(["k", "x", "y"])
    await store.get_bytes("k")
    await store.get_bytes("nope")
    assert store.cache.stats() == {"hits": 4, "misses": 5, "failures": 0}
    await store.get_or_set("g", 1)  # a miss, then a fill
    await store.get_or_set("g", 1)  # a hit
    assert store.cache.stats() == {"hits": 5, "misses": 6, "failures": 0}


# -- raw bytes ------------------------------------------------------------------------------------


async def test_get_bytes_and_set_bytes(store: Entry) -> None:
    data = bytes(range(256)) * 4
    await store.set_bytes("page", data)
    assert await store.get_bytes("page") == data
    await store.set_bytes("view", memoryview(b"mv"), ttl=60)
    assert await store.get_bytes("view") == b"mv"
    await store.set_bytes("ba", bytearray(b"ba"), ttl=None)
    got = await store.get_bytes("ba")
    assert got == b"ba"
    assert type(got) is bytes
    assert await store.get_bytes("missing") is None
    assert 298 <= remaining(store.cache, "page") <= 300  # type: ignore[operator]
    assert remaining(store.cache, "ba") is None


async def test_bytes_and_values_are_one_key_space(store: Entry) -> None:
    await store.set("k", [1])
    assert await store.get_bytes("k") == b"[1]"
    await store.set_bytes("k", b'{"a":2}')
    assert await store.get("k") == {"a": 2}
    assert await store.delete("k") is True


# -- a store that is down -------------------------------------------------------------------------


@pytest.fixture
async def down() -> AsyncIterator[Cache]:
    cache = RedisCache(f"redis://:hunter2@127.0.0.1:{closed_port()}/0", retry_after=0.05)
    yield cache
    await cache.aclose()


MISSES = {
    "get": (lambda c: c.get("k", "default"), "default"),
    "get without default": (lambda c: c.get("k"), None),
    "get_many": (lambda c: c.get_many(["a", "b"]), {}),
    "has_key": (lambda c: c.has_key("k"), False),
    "get_bytes": (lambda c: c.get_bytes("k"), None),
    "set": (lambda c: c.set("k", 1), None),
    "add": (lambda c: c.add("k", 1), False),
    "replace": (lambda c: c.replace("k", 1), False),
    "set_many": (lambda c: c.set_many({"a": 1}), None),
    "set_bytes": (lambda c: c.set_bytes("k", b"x"), None),
    "delete": (lambda c: c.delete("k"), False),
    "delete_many": (lambda c: c.delete_many(["a", "b"]), 0),
    "touch": (lambda c: c.touch("k", 10), False),
    "clear": (lambda c: c.clear(), None),
    "get_or_set value": (lambda c: c.get_or_set("k", "loaded"), "loaded"),
    "get_or_set loader": (lambda c: c.get_or_set("k", lambda: "loaded"), "loaded"),
}


@pytest.mark.parametrize(("operation", "expected"), MISSES.values(), ids=MISSES.keys())
async def test_a_store_that_is_down_is_a_miss(down: Cache, mode: str, operation: Any,
                                              expected: Any) -> None:
    started = time.monotonic()
    assert await operation(entry(down, mode)) == expected
    assert time.monotonic() - started < 3
    assert down.stats()["failures"] >= 1


@pytest.mark.parametrize(("operation", "expected"), MISSES.values(), ids=MISSES.keys())
async def test_strict_raises_when_the_store_is_down(down: Cache, mode: str, operation: Any,
                                                    expected: Any) -> None:
    with pytest.raises(CacheUnavailable) as info:
        await operation(entry(down.strict, mode))
    assert "hunter2" not in info.value.message
    assert down.strict.stats()["failures"] == 1


@pytest.mark.parametrize("operation", [lambda c: c.incr("n"), lambda c: c.incr("n", ttl=10),
                                       lambda c: c.decr("n"), lambda c: c.incr_version("k")],
                         ids=["incr", "incr with ttl", "decr", "incr_version"])
async def test_counters_raise_even_in_miss_mode(down: Cache, mode: str,
                                                operation: Any) -> None:
    assert down.errors == "miss"
    with pytest.raises(CacheUnavailable):
        await operation(entry(down, mode))


async def test_failures_are_counted_and_logged_once(down: Cache, mode: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    store = entry(down, mode)
    with caplog.at_level(logging.WARNING, logger="heron.cache"):
        for _ in range(5):
            assert await store.get("k", 0) == 0
            await store.set("k", 1)
            await asyncio.sleep(0.06)  # past retry_after: each call tries Redis again
    assert down.stats() == {"hits": 0, "misses": 0, "failures": 10}
    warnings = [r for r in caplog.records if r.name == "heron.cache"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "'default'" in warnings[0].getMessage()
    assert "unavailable" in warnings[0].getMessage()
    assert "hunter2" not in caplog.text


async def test_the_first_failure_is_logged_whenever_it_happens(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even on a machine up for less than the 30 s between warnings (time.monotonic()
    counts from boot on Linux)."""
    import heron.cache.client as client_module

    monkeypatch.setattr(client_module.time, "monotonic", lambda: 5.0)
    cache = RedisCache(f"redis://127.0.0.1:{closed_port()}/0")
    with caplog.at_level(logging.WARNING, logger="heron.cache"):
        assert cache.get("k", 0) == 0
    assert len([r for r in caplog.records if r.name == "heron.cache"]) == 1


def test_strict_is_the_same_cache_raising() -> None:
    cache = MemoryCache(prefix="p:", version=3, default_ttl=7, serializer="msgpack",
                        lock_timeout=2)
    strict = cache.strict
    assert strict is cache.strict
    assert strict.errors == "raise"
    assert cache.errors == "miss"
    assert strict.store is cache.store
    assert (strict.prefix, strict.version, strict.default_ttl, strict.lock_timeout) == (
        "p:", 3, 7, 2)
    assert strict.serializer is cache.serializer
    assert strict.strict is strict
    strict.set("k", 1)
    assert cache.get("k") == 1


def test_a_strict_cache_from_the_start() -> None:
    cache = RedisCache(f"redis://127.0.0.1:{closed_port()}/0", errors="raise")
    assert cache.strict is cache
    with pytest.raises(CacheUnavailable):
        cache.get("k")


# -- cache_from_url -------------------------------------------------------------------------------


def test_cache_from_url_defaults() -> None:
    cache = cache_from_url("memory://")
    assert (cache.name, cache.prefix, cache.version, cache.default_ttl, cache.errors,
            cache.lock_timeout) == ("default", "heron:", 1, 300, "miss", 10.0)
    assert isinstance(cache.serializer, JSONSerializer)
    assert cache.store.max_entries == 10_000  # type: ignore[attr-defined]


def test_cache_from_url_options() -> None:
    cache = cache_from_url("memory://?max_entries=50&prefix=site:&version=4&default_ttl=12.5"
                           "&serializer=msgpack&errors=raise&lock_timeout=3", "ignored:",
                           name="pages")
    assert (cache.name, cache.prefix, cache.version, cache.default_ttl, cache.errors,
            cache.lock_timeout) == ("pages", "site:", 4, 12.5, "raise", 3.0)
    assert isinstance(cache.serializer, MsgpackSerializer)
    assert cache.store.max_entries == 50  # type: ignore[attr-defined]
    assert cache.make_key("k") == "site:4:k"


@pytest.mark.parametrize("value", ["none", "None", "NONE"])
def test_cache_from_url_default_ttl_none(value: str) -> None:
    assert cache_from_url(f"memory://?default_ttl={value}").default_ttl is None


def test_cache_from_url_prefix_argument() -> None:
    assert cache_from_url("memory://", "mine:").prefix == "mine:"


def test_cache_from_url_null() -> None:
    cache = cache_from_url("null://?default_ttl=5")
    assert isinstance(cache.store, NullStore)
    assert cache.default_ttl == 5


def test_cache_from_url_redis_options() -> None:
    cache = cache_from_url("redis://:hunter2@127.0.0.1:6399/2?timeout=0.5&retry_after=3"
                           "&max_connections=9&prefix=x:&serializer=msgpack")
    store = cache.store
    assert isinstance(store, RedisStore)
    assert (store.timeout, store.retry_after) == (0.5, 3.0)
    assert cache.prefix == "x:"
    assert isinstance(cache.serializer, MsgpackSerializer)
    assert store.url == "redis://:hunter2@127.0.0.1:6399/2?max_connections=9"
    pool = store.sync_client().connection_pool
    assert pool.max_connections == 9
    assert pool.connection_kwargs["socket_timeout"] == 0.5
    assert pool.connection_kwargs["db"] == 2
    assert pool.connection_kwargs["password"] == "hunter2"


def test_cache_from_url_rediss() -> None:
    cache = cache_from_url("rediss://cache.example.com:6380/1?ssl_cert_reqs=none&timeout=2")
    store = cache.store
    assert isinstance(store, RedisStore)
    assert store.timeout == 2
    assert store.url == "rediss://cache.example.com:6380/1?ssl_cert_reqs=none"
    assert store.sync_client().connection_pool.connection_class.__name__ == "SSLConnection"


async def test_cache_from_url_works_against_redis(redis_url: str, mode: str) -> None:
    cache = cache_from_url(f"{redis_url}?timeout=2&max_connections=4&serializer=msgpack"
                           "&prefix=u:")
    try:
        store = entry(cache, mode)
        await store.set("k", b"bytes")
        assert await store.get("k") == b"bytes"
        assert raw_keys(cache) == {"u:1:k"}
    finally:
        await cache.aclose()


E001 = ["memcached://cache:11211", "http://cache", "file:///tmp", "", "nonsense",
        "redis:/one-slash", "memory:"]
E002 = ["memory://?max_entries=x", "memory://?max_entries=0", "memory://?foo=1",
        "null://?max_connections=3", "memory://?version=two", "memory://?default_ttl=soon",
        "memory://?default_ttl=0", "memory://?default_ttl=-1", "memory://?lock_timeout=0",
        "memory://?errors=ignore", "redis://h:1/0?timeout=slow", "redis://h:1/0?retry_after=x",
        "redis://h:1/0?lock_timeout=x"]
E003 = ["memory://?serializer=pickle", "redis://h:1/0?serializer=yaml"]


@pytest.mark.parametrize(("url", "error_id"),
                         [(u, "heron.cache.E001") for u in E001]
                         + [(u, "heron.cache.E002") for u in E002]
                         + [(u, "heron.cache.E003") for u in E003])
def test_cache_from_url_errors(url: str, error_id: str) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        cache_from_url(url, name="pages")
    assert info.value.id == error_id
    if error_id != "heron.cache.E003":
        assert "'pages'" in info.value.message


def test_e003_refuses_pickle_by_name() -> None:
    with pytest.raises(ImproperlyConfigured, match="pickle is never offered"):
        cache_from_url("memory://?serializer=pickle")


def _with_password(url: str) -> str:
    """``url`` with ``user:hunter2@`` in its authority (or before it, if it has none)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}user:hunter2@{rest}" if sep else f"user:hunter2@{url}"


@pytest.mark.parametrize("url", [_with_password(u) for u in E001 + E002 + E003]
                         + ["redis//:hunter2@host:1/0", ":hunter2@host", "hunter2",
                            "redis:hunter2@host", "redis://:hunter2@h:1/0?password=hunter2&x=1"
                            "&timeout=no"])
def test_a_password_is_never_in_an_error(url: str) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        cache_from_url(url)
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in info.value.message


# -- an app's caches ------------------------------------------------------------------------------


def test_an_apps_named_caches(make_app: Any) -> None:
    app = make_app(cache_key_prefix="site:",
                   caches={"pages": "memory://?max_entries=5", "sessions": "null://"})
    caches: Caches = app.caches
    assert sorted(caches) == ["default", "pages", "sessions"]
    assert len(caches) == 3
    assert caches["default"] is app.cache
    assert app.cache.prefix == "site:default:"
    assert caches["pages"].prefix == "site:pages:"
    assert caches["pages"].name == "pages"
    assert caches["pages"] is caches["pages"]
    assert caches["pages"].store.max_entries == 5  # type: ignore[attr-defined]
    assert isinstance(caches["sessions"].store, NullStore)
    with pytest.raises(KeyError, match=r"'nope'.*default"):
        caches["nope"]


async def test_named_caches_on_one_redis_are_separate(make_app: Any, redis_url: str) -> None:
    app = make_app(cache_url=redis_url, caches={"pages": redis_url})
    try:
        await app.cache.aset("k", "default")
        await app.caches["pages"].aset("k", "pages")
        assert await app.cache.aget("k") == "default"
        assert await app.caches["pages"].aget("k") == "pages"
        assert raw_keys(app.cache) == {"heron:default:1:k", "heron:pages:1:k"}
        await app.cache.aclear()  # only its own keys
        assert raw_keys(app.cache) == {"heron:pages:1:k"}
    finally:
        await app.caches.aclose()
