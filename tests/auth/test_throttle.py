"""Failure counting in a window, on the memory store and on a real Redis shared by two apps."""

from __future__ import annotations

import pytest

from heron.auth.throttle import Throttle, Throttled
from heron.cache import Cache, cache_from_url
from heron.cache.memory import MemoryCache


async def exercise(cache: Cache) -> None:
    throttle = Throttle(cache, "login", limit=3, window=60)
    assert await throttle.retry_after("ada") is None
    for expected in (1, 2, 3):
        assert await throttle.fail("ada") == expected
    with pytest.raises(Throttled) as raised:
        await throttle.check("ada")
    assert raised.value.status_code == 429
    assert 1 <= int(raised.value.headers["retry-after"]) <= 60
    await throttle.check("bob")  # other keys are not affected
    await throttle.reset("ada")
    await throttle.check("ada")
    assert await throttle.failures("ada") == 0


async def test_memory_store() -> None:
    await exercise(MemoryCache())


async def test_the_window_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    from heron.cache import memory

    now = [1000.0]
    monkeypatch.setattr(memory.time, "monotonic", lambda: now[0])
    monkeypatch.setattr("heron.auth.throttle.time.time", lambda: now[0])
    throttle = Throttle(MemoryCache(), "login", limit=2, window=30)
    await throttle.fail("ada")
    now[0] += 10
    await throttle.fail("ada")
    assert await throttle.retry_after("ada") == 20  # fixed window from the first failure
    now[0] += 21
    assert await throttle.retry_after("ada") is None


async def test_two_processes_share_the_count_on_redis(redis_url: str) -> None:
    # Two stores on one Redis stand for two app processes.
    first, second = cache_from_url(redis_url), cache_from_url(redis_url)
    try:
        await exercise(first)
        one = Throttle(first, "login", limit=2, window=60)
        two = Throttle(second, "login", limit=2, window=60)
        await one.fail("eve")
        await two.fail("eve")
        with pytest.raises(Throttled):
            await one.check("eve")
        with pytest.raises(Throttled):
            await two.check("eve")
    finally:
        await first.close()
        await second.close()
