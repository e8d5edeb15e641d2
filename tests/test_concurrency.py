"""The sync bridge: thread pool, run_async, iterate_in_threadpool, is_async_callable."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading

import pytest

from heron import App, Request, run_async, run_in_threadpool
from heron.concurrency import is_async_callable, iterate_in_threadpool
from heron.testing import TestClient

current_user: contextvars.ContextVar[str] = contextvars.ContextVar("current_user")


async def test_run_in_threadpool_runs_off_the_loop_thread() -> None:
    loop_thread = threading.get_ident()
    assert await run_in_threadpool(threading.get_ident) != loop_thread


async def test_run_in_threadpool_passes_arguments_and_returns() -> None:
    assert await run_in_threadpool(pow, 2, exp=5) == 32


async def test_run_in_threadpool_propagates_exceptions() -> None:
    def fail() -> None:
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        await run_in_threadpool(fail)


async def test_context_variables_reach_the_worker_thread() -> None:
    current_user.set("ada")
    assert await run_in_threadpool(current_user.get) == "ada"


async def test_run_async_reaches_the_loop_from_a_worker() -> None:
    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    assert await run_in_threadpool(lambda: run_async(double(21))) == 42


def test_run_async_outside_the_pool_is_a_clear_error() -> None:
    async def noop() -> None:
        return None

    with pytest.raises(RuntimeError, match="thread pool"):
        run_async(noop())


async def test_run_async_on_the_loop_thread_is_an_error_not_a_deadlock() -> None:
    async def noop() -> None:
        return None

    async def inner() -> None:
        run_async(noop())  # a sync call made from async code on the loop

    def worker() -> None:
        run_async(inner())

    with pytest.raises(RuntimeError, match="await"):
        await asyncio.wait_for(run_in_threadpool(worker), 10)


async def test_iterate_in_threadpool() -> None:
    threads: set[int] = set()

    def numbers() -> object:
        for i in range(3):
            threads.add(threading.get_ident())
            yield i

    assert [i async for i in iterate_in_threadpool(numbers())] == [0, 1, 2]
    assert threading.get_ident() not in threads


def test_is_async_callable() -> None:
    async def coro() -> None:
        return None

    class AsyncCall:
        async def __call__(self) -> None:
            return None

    def plain() -> None:
        return None

    assert is_async_callable(coro)
    assert is_async_callable(functools.partial(coro))
    assert is_async_callable(AsyncCall())
    assert not is_async_callable(plain)
    assert not is_async_callable(functools.partial(plain))


def test_sync_views_run_in_the_pool_and_can_await_through_the_bridge() -> None:
    app = App(debug=True, thread_pool_size=2)
    loop_threads: list[int] = []

    @app.before_request
    async def remember_loop(request: Request) -> None:
        loop_threads.append(threading.get_ident())

    @app.post("/")
    def view(request: Request) -> dict:
        body = run_async(request.body())
        return {"thread": threading.get_ident(), "body": body.decode()}

    with TestClient(app) as client:
        data = client.post("/", content=b"hello").json()
    assert data["body"] == "hello"
    assert data["thread"] != loop_threads[0]
