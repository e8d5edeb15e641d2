"""What every heron cache store must do, whatever keeps the data.

A test module subclasses :class:`CacheContract` and defines a ``store`` fixture.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from heron.cache import Cache

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


class CacheContract:
    """Run against ``store``: a fresh, empty :class:`Cache`."""

    async def test_is_a_cache(self, store: Cache) -> None:
        assert isinstance(store, Cache)

    async def test_get_missing_gives_the_default(self, store: Cache) -> None:
        assert await store.get("missing") is None
        assert await store.get("missing", "fallback") == "fallback"
        assert await store.get("missing", default=0) == 0

    @pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:20] for v in VALUES])
    async def test_json_values_round_trip(self, store: Cache, value: Any) -> None:
        await store.set("k", value)
        got = await store.get("k", "default")
        assert got == value
        assert type(got) is type(value)

    async def test_none_is_a_value(self, store: Cache) -> None:
        await store.set("k", None)
        assert await store.get("k", "default") is None
        assert await store.add("k", 1) is False
        assert await store.delete("k") is True

    async def test_tuples_come_back_as_lists(self, store: Cache) -> None:
        await store.set("k", {"t": (1, 2)})
        assert await store.get("k") == {"t": [1, 2]}

    @pytest.mark.parametrize("value", [{1, 2}, object(), b"bytes", 2**64, {1: "int key"}],
                             ids=["set", "object", "bytes", "huge int", "int key"])
    async def test_values_that_are_not_json_are_refused(self, store: Cache, value: Any) -> None:
        with pytest.raises(TypeError):
            await store.set("k", value)
        with pytest.raises(TypeError):
            await store.add("k", value)
        assert await store.get("k") is None

    async def test_a_mutated_result_does_not_change_the_stored_value(self, store: Cache) -> None:
        await store.set("k", {"items": [1]})
        got = await store.get("k")
        got["items"].append(2)
        got["new"] = True
        assert await store.get("k") == {"items": [1]}

    async def test_mutating_the_stored_object_later_changes_nothing(self, store: Cache) -> None:
        value = {"items": [1]}
        await store.set("k", value)
        value["items"].append(2)
        assert await store.get("k") == {"items": [1]}

    async def test_set_overwrites(self, store: Cache) -> None:
        await store.set("k", 1)
        await store.set("k", {"two": 2})
        assert await store.get("k") == {"two": 2}

    async def test_keys_are_independent(self, store: Cache) -> None:
        await store.set("a", 1)
        await store.set("b", 2)
        assert (await store.get("a"), await store.get("b")) == (1, 2)

    @pytest.mark.parametrize("key", ["with space", "colon:s:here", "ünïcode", "a" * 300, ""])
    async def test_unusual_keys(self, store: Cache, key: str) -> None:
        await store.set(key, "v")
        assert await store.get(key) == "v"
        assert await store.delete(key) is True

    async def test_set_with_ttl_is_readable_before_expiry(self, store: Cache) -> None:
        await store.set("k", "v", ttl=60)
        assert await store.get("k") == "v"

    async def test_add(self, store: Cache) -> None:
        assert await store.add("k", "first") is True
        assert await store.add("k", "second") is False
        assert await store.get("k") == "first"
        assert await store.add("other", "x", ttl=60) is True
        assert await store.get("other") == "x"

    async def test_delete(self, store: Cache) -> None:
        await store.set("k", "v")
        assert await store.delete("k") is True
        assert await store.get("k") is None
        assert await store.delete("k") is False
        assert await store.delete("never") is False

    async def test_add_after_delete(self, store: Cache) -> None:
        await store.set("k", "v")
        await store.delete("k")
        assert await store.add("k", "again") is True

    async def test_incr(self, store: Cache) -> None:
        assert await store.incr("n") == 1
        assert await store.incr("n") == 2
        assert await store.incr("n", 10) == 12
        assert await store.incr("n", -20) == -8
        assert await store.get("n") == -8

    async def test_incr_with_a_delta_on_a_new_key(self, store: Cache) -> None:
        assert await store.incr("n", 5) == 5
        assert await store.incr("m", -3) == -3

    async def test_incr_on_a_value_that_was_set(self, store: Cache) -> None:
        await store.set("n", 41)
        assert await store.incr("n") == 42
        assert await store.get("n") == 42

    async def test_incr_with_ttl(self, store: Cache) -> None:
        assert await store.incr("n", ttl=60) == 1
        assert await store.incr("n", ttl=60) == 2
        assert await store.get("n") == 2

    async def test_incr_is_atomic_under_concurrency(self, store: Cache) -> None:
        results = await asyncio.gather(*(store.incr("n", ttl=60) for _ in range(50)))
        assert sorted(results) == list(range(1, 51))
        assert await store.get("n") == 50

    async def test_delete_then_incr_starts_over(self, store: Cache) -> None:
        await store.incr("n", 7)
        await store.delete("n")
        assert await store.incr("n") == 1

    async def test_close_is_safe(self, store: Cache) -> None:
        await store.set("k", 1)
        await store.close()
