"""Database work written once, run by a sync driver and an async driver.

A piece of work that has both a sync and an async entry point is written as a
generator of *steps*: it yields each thing to run and receives its result.

    def _first_steps(statement) -> Steps[Any]:
        found = (yield statement.limit(1)).scalars().first()
        ...
        return found

    run_steps_sync(_first_steps(statement), lambda: db.session)
    await run_steps_async(_first_steps(statement), lambda: db.async_session)

A step is one of:

- a SQL statement: the session's ``execute()`` result;
- a function of the session (:data:`COMMIT`, ``operator.methodcaller("get", Post, 1)``):
  its result (awaited with an ``AsyncSession``);
- :func:`in_thread` ``(func, *args)``: blocking work (hashing), run in heron's thread
  pool by the async driver and called directly by the sync one;
- a coroutine (the cache, say): awaited, or run through :func:`heron.run_async` in sync code.

The session is asked for (the ``session`` argument called) when the first step
needs it.  An exception raised by a step is raised inside the generator, where
the step was yielded.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from operator import methodcaller
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias, TypeVar

from sqlalchemy.sql.base import Executable

from heron.concurrency import run_async, run_in_threadpool

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

__all__ = ["COMMIT", "FLUSH", "Steps", "in_thread", "run_steps_async", "run_steps_sync"]

T = TypeVar("T")

#: A generator of steps that returns a ``T``.
Steps: TypeAlias = Generator[Any, Any, T]

COMMIT = methodcaller("commit")
FLUSH = methodcaller("flush")


class _InThread(NamedTuple):
    func: Callable[..., Any]
    args: tuple[Any, ...]


def in_thread(func: Callable[..., Any], *args: Any) -> _InThread:
    """The step ``func(*args)``, blocking work kept off the event loop in async code."""
    return _InThread(func, args)


def run_steps_sync(steps: Steps[T], session: Callable[[], Session]) -> T:
    """Run ``steps`` with a sync ``Session``; returns what the generator returns."""
    opened: Session | None = None
    sent: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = steps.send(sent) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        sent, error = None, None
        try:
            if isinstance(step, _InThread):
                sent = step.func(*step.args)
            elif inspect.iscoroutine(step):
                sent = run_async(step)
            else:
                if opened is None:
                    opened = session()
                sent = opened.execute(step) if isinstance(step, Executable) else step(opened)
        except BaseException as exc:
            error = exc


async def run_steps_async(steps: Steps[T], session: Callable[[], AsyncSession]) -> T:
    """Run ``steps`` with an ``AsyncSession``; returns what the generator returns."""
    opened: AsyncSession | None = None
    sent: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = steps.send(sent) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        sent, error = None, None
        try:
            if isinstance(step, _InThread):
                sent = await run_in_threadpool(step.func, *step.args)
            elif inspect.iscoroutine(step):
                sent = await step
            else:
                if opened is None:
                    opened = session()
                sent = opened.execute(step) if isinstance(step, Executable) else step(opened)
                if inspect.isawaitable(sent):
                    sent = await sent
        except BaseException as exc:
            error = exc

