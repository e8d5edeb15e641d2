"""Failure counting in a window, on the memory store and on a real Redis shared by two apps."""

from __future__ import annotations

import pytest
from auth_helpers import AuthAppFactory

from heron.auth.throttle import Throttle, Throttled
from heron.cache import Cache, MemoryCache, cache_from_url


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
        await first.aclose()
        await second.aclose()


async def test_take_counts_before_the_attempt_and_give_back_uncounts() -> None:
    throttle = Throttle(MemoryCache(), "login", limit=2, window=60)
    await throttle.take("ada")
    await throttle.take("ada")
    with pytest.raises(Throttled):
        await throttle.take("ada")  # a third attempt, whatever its outcome
    other = Throttle(MemoryCache(), "login", limit=2, window=60)
    await other.take("bob")
    await other.give_back("bob")  # it succeeded: it does not count
    assert await other.failures("bob") == 0


async def test_concurrent_wrong_logins_cannot_outrun_the_count(auth_site: AuthAppFactory,
                                                                ) -> None:
    # Checking the count before a (slow, threaded) password check and counting the
    # failure after it let every attempt sent at once through: 20 guesses, not 5.
    import asyncio
    from collections import Counter

    import httpx
    from auth_helpers import make_user

    from heron.testing import TestClient

    app = auth_site(login_throttle_limit=5, password_memory_cost=16 * 1024)
    await asyncio.to_thread(make_user, app, "alice")
    with TestClient(app) as client:
        token = client.get("/csrf").text
        cookies = dict(client.cookies)
    await app.startup()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 cookies=cookies) as client:
        async def guess(i: int) -> int:
            response = await client.post("/auth/login", data={
                "username": "alice", "password": f"wrong {i}", "csrf_token": token})
            return response.status_code

        codes = Counter(await asyncio.gather(*(guess(i) for i in range(20))))
    assert codes == {400: 5, 429: 15}
