"""heron.db._steps: work written once as a generator of steps, run by a sync and an async driver."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from operator import methodcaller
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from heron.concurrency import run_in_threadpool
from heron.db._steps import COMMIT, Steps, in_thread, run_steps_async, run_steps_sync


@pytest.fixture
def sync_session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
async def async_session() -> Any:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with AsyncSession(engine) as session:
        yield session
    await engine.dispose()


async def _double(value: int) -> int:
    return value * 2


def _thread_name(value: int) -> tuple[int, str]:
    return value + 1, threading.current_thread().name


def _work(log: list[str]) -> Steps[tuple[int, int, tuple[int, str], bool]]:
    one = (yield select(1)).scalar_one()
    doubled = yield _double(one)
    threaded = yield in_thread(_thread_name, doubled)
    yield COMMIT
    in_transaction = yield methodcaller("in_transaction")
    log.append("done")
    return one, doubled, threaded, in_transaction


def test_the_sync_driver_runs_each_kind_of_step(sync_session: Session) -> None:
    log: list[str] = []

    async def main() -> Any:
        # Coroutine steps go through run_async: from heron's thread pool.
        return await run_in_threadpool(run_steps_sync, _work(log), lambda: sync_session)

    one, doubled, (three, thread), in_transaction = asyncio.run(main())
    assert (one, doubled, three, in_transaction, log) == (1, 2, 3, False, ["done"])
    assert thread.startswith("heron-sync")  # the view's own thread: called directly


async def test_the_async_driver_runs_each_kind_of_step(async_session: AsyncSession) -> None:
    log: list[str] = []
    one, doubled, (three, thread), in_transaction = await run_steps_async(
        _work(log), lambda: async_session)
    assert (one, doubled, three, in_transaction, log) == (1, 2, 3, False, ["done"])
    assert thread != threading.current_thread().name  # off the event loop


def _no_statement() -> Steps[str]:
    yield in_thread(str, 1)
    return "no session needed"


def test_the_session_is_asked_for_only_when_a_step_needs_it() -> None:
    def refuse() -> Any:
        raise AssertionError("no step needed the session")

    assert run_steps_sync(_no_statement(), refuse) == "no session needed"


async def test_the_async_session_is_asked_for_only_when_a_step_needs_it() -> None:
    def refuse() -> Any:
        raise AssertionError("no step needed the session")

    assert await run_steps_async(_no_statement(), refuse) == "no session needed"


def _failing() -> Steps[str]:
    try:
        yield text("SELECT * FROM no_such_table")
    except Exception as exc:
        return f"caught {type(exc).__name__}"
    return "not raised"


def _raises() -> Steps[None]:
    yield in_thread(int, "not a number")


def test_a_failing_step_raises_where_it_was_yielded(sync_session: Session) -> None:
    assert run_steps_sync(_failing(), lambda: sync_session) == "caught OperationalError"
    with pytest.raises(ValueError, match="not a number"):
        run_steps_sync(_raises(), lambda: sync_session)


async def test_a_failing_async_step_raises_where_it_was_yielded(
        async_session: AsyncSession) -> None:
    assert (await run_steps_async(_failing(), lambda: async_session)) == "caught OperationalError"
    with pytest.raises(ValueError, match="not a number"):
        await run_steps_async(_raises(), lambda: async_session)
