"""What every heron cache must do, whatever keeps the data, through both entry points.

A test module subclasses :class:`CacheContract` and defines a ``cache`` fixture (a fresh,
empty :class:`~heron.cache.Cache`).  Each test then runs twice, on the ``store`` fixture:
an :class:`Entry` calling the cache's async methods (``store.get`` is ``cache.aget``),
then one calling its sync methods in a worker thread (``store.get`` runs ``cache.get``),
so the sync and the async implementation of every operation pass the same tests.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from heron.cache import Cache

ENTRY_POINTS = ("async", "sync")

VALUES: list[Any] = [
    "text",
    "héron ✓",
    "",
    0,
    -12,
    2**62,
    1.25,
    True,
    False,
    [],
    [1, "two", [3.5, None]],
    {},
    {"nested": {"deep": [1, {"x": "y"}]}, "n": None},
]


class Entry:
    """One entry point of ``cache``, awaited the same way whichever it is.

    ``await entry.get("k")`` is ``await cache.aget("k")`` in ``"async"`` mode and
    ``cache.get("k")`` run in a worker thread (``asyncio.to_thread``) in ``"sync"`` mode.
    """

    def __init__(self, cache: Cache, mode: str) -> None:
        if mode not in ENTRY_POINTS:
            raise ValueError(f"mode is one of {ENTRY_POINTS}, not {mode!r}")
        self.cache = cache
        self.mode = mode

    def __repr__(self) -> str:
        return f"<Entry {self.mode} {self.cache!r}>"

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        if name.startswith("_"):
            raise AttributeError(name)
        if self.mode == "async":
            method: Callable[..., Awaitable[Any]] = getattr(self.cache, "a" + name)
            return method
        sync_method = getattr(self.cache, name)

        @functools.wraps(sync_method)
        async def in_a_thread(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(sync_method, *args, **kwargs)

        return in_a_thread


def entry(cache: Cache, mode: str) -> Entry:
    """``cache`` seen through its sync or async entry point (see :class:`Entry`)."""
    return Entry(cache, mode)


class CacheContract:
    """Run against ``store``: a fresh, empty cache (the module's ``cache`` fixture)
    through each entry point."""

    @pytest.fixture(params=ENTRY_POINTS)
    def store(self, request: pytest.FixtureRequest, cache: Cache) -> Entry:
        return entry(cache, request.param)

    async def test_is_a_cache(self, store: Entry) -> None:
        assert isinstance(store.cache, Cache)

    async def test_both_entry_points_exist(self, store: Entry) -> None:
        for name in ("get", "set", "add", "replace", "delete", "get_many", "set_many",
                     "delete_many", "has_key", "incr", "decr", "touch", "clear",
                     "get_or_set", "incr_version", "get_bytes", "set_bytes", "close"):
            sync, asynchronous = getattr(store.cache, name), getattr(store.cache, "a" + name)
            assert not asyncio.iscoroutinefunction(sync), name
            assert asyncio.iscoroutinefunction(asynchronous), name

    async def test_get_missing_gives_the_default(self, store: Entry) -> None:
        assert await store.get("missing") is None
        assert await store.get("missing", "fallback") == "fallback"
        assert await store.get("missing", default=0) == 0

    @pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:20] for v in VALUES])
    async def test_json_values_round_trip(self, store: Entry, value: Any) -> None:
        await store.set("k", value)
        got = await store.get("k", "default")
        assert got == value
        assert type(got) is type(value)

    async def test_none_is_a_value(self, store: Entry) -> None:
        await store.set("k", None)
        assert await store.get("k", "default") is None
        assert await store.has_key("k") is True
        assert await store.add("k", 1) is False
        assert await store.delete("k") is True

    async def test_tuples_come_back_as_lists(self, store: Entry) -> None:
        await store.set("k", {"t": (1, 2)})
        assert await store.get("k") == {"t": [1, 2]}

    @pytest.mark.parametrize("value", [{1, 2}, object(), b"bytes", 2**64, {1: "int key"}],
                             ids=["set", "object", "bytes", "huge int", "int key"])
    async def test_values_that_are_not_json_are_refused(self, store: Entry, value: Any) -> None:
        with pytest.raises(TypeError):
            await store.set("k", value)
        with pytest.raises(TypeError):
            await store.add("k", value)
        with pytest.raises(TypeError):
            await store.set_many({"k": value})
        assert await store.get("k") is None

    async def test_a_mutated_result_does_not_change_the_stored_value(self, store: Entry) -> None:
        await store.set("k", {"items": [1]})
        got = await store.get("k")
        got["items"].append(2)
        got["new"] = True
        assert await store.get("k") == {"items": [1]}

    async def test_mutating_the_stored_object_later_changes_nothing(self, store: Entry) -> None:
        value = {"items": [1]}
        await store.set("k", value)
        value["items"].append(2)
        assert await store.get("k") == {"items": [1]}

    async def test_set_overwrites(self, store: Entry) -> None:
        await store.set("k", 1)
        await store.set("k", {"two": 2})
        assert await store.get("k") == {"two": 2}

    async def test_keys_are_independent(self, store: Entry) -> None:
        await store.set("a", 1)
        await store.set("b", 2)
        assert (await store.get("a"), await store.get("b")) == (1, 2)

    @pytest.mark.parametrize("key", ["with space", "colon:s:here", "ünïcode", "a" * 300, "",
                                     "glob*?[x]\\"])
    async def test_unusual_keys(self, store: Entry, key: str) -> None:
        await store.set(key, "v")
        assert await store.get(key) == "v"
        assert await store.get_many([key]) == {key: "v"}
        assert await store.delete(key) is True

    async def test_keys_must_be_strings(self, store: Entry) -> None:
        with pytest.raises(TypeError):
            await store.set(1, "v")
        with pytest.raises(TypeError):
            await store.get(b"k")

    async def test_set_with_ttl_is_readable_before_expiry(self, store: Entry) -> None:
        await store.set("k", "v", ttl=60)
        assert await store.get("k") == "v"

    @pytest.mark.parametrize("ttl", [0, -1, True])
    async def test_a_ttl_that_is_not_positive_is_refused(self, store: Entry, ttl: Any) -> None:
        with pytest.raises(ValueError, match="ttl"):
            await store.set("k", "v", ttl=ttl)
        with pytest.raises(ValueError, match="ttl"):
            await store.incr("n", ttl=ttl)
        assert await store.get("k") is None
        assert await store.get("n") is None

    async def test_add(self, store: Entry) -> None:
        assert await store.add("k", "first") is True
        assert await store.add("k", "second") is False
        assert await store.get("k") == "first"
        assert await store.add("other", "x", ttl=60) is True
        assert await store.get("other") == "x"

    async def test_replace(self, store: Entry) -> None:
        assert await store.replace("k", "first") is False
        assert await store.get("k") is None
        await store.set("k", "v")
        assert await store.replace("k", "w", ttl=60) is True
        assert await store.get("k") == "w"

    async def test_delete(self, store: Entry) -> None:
        await store.set("k", "v")
        assert await store.delete("k") is True
        assert await store.get("k") is None
        assert await store.delete("k") is False
        assert await store.delete("never") is False

    async def test_add_after_delete(self, store: Entry) -> None:
        await store.set("k", "v")
        await store.delete("k")
        assert await store.add("k", "again") is True

    async def test_incr(self, store: Entry) -> None:
        assert await store.incr("n") == 1
        assert await store.incr("n") == 2
        assert await store.incr("n", 10) == 12
        assert await store.incr("n", -20) == -8
        assert await store.get("n") == -8

    async def test_decr(self, store: Entry) -> None:
        assert await store.decr("n") == -1
        assert await store.decr("n", 4) == -5
        assert await store.incr("n", 6) == 1
        assert await store.get("n") == 1

    async def test_incr_with_a_delta_on_a_new_key(self, store: Entry) -> None:
        assert await store.incr("n", 5) == 5
        assert await store.incr("m", -3) == -3

    async def test_incr_on_a_value_that_was_set(self, store: Entry) -> None:
        await store.set("n", 41)
        assert await store.incr("n") == 42
        assert await store.get("n") == 42

    async def test_incr_with_ttl(self, store: Entry) -> None:
        assert await store.incr("n", ttl=60) == 1
        assert await store.incr("n", ttl=60) == 2
        assert await store.get("n") == 2

    @pytest.mark.parametrize("value", [{"a": 1}, "text", 1.5, True, None])
    async def test_incr_on_something_that_is_not_an_integer_raises(self, store: Entry,
                                                                   value: Any) -> None:
        await store.set("k", value)
        with pytest.raises(ValueError, match="not an integer"):
            await store.incr("k")
        with pytest.raises(ValueError, match="not an integer"):
            await store.incr("k", ttl=60)
        assert await store.get("k", "default") == value

    async def test_incr_is_atomic_under_concurrency(self, store: Entry) -> None:
        results = await asyncio.gather(*(store.incr("n", ttl=60) for _ in range(50)))
        assert sorted(results) == list(range(1, 51))
        assert await store.get("n") == 50

    async def test_delete_then_incr_starts_over(self, store: Entry) -> None:
        await store.incr("n", 7)
        await store.delete("n")
        assert await store.incr("n") == 1

    async def test_close_is_safe(self, store: Entry) -> None:
        await store.set("k", 1)
        await store.close()
        await store.close()
