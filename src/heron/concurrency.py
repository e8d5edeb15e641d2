"""The one bridge between heron's async internals and users' sync code.

Sync views and hooks run in a bounded thread pool so that blocking calls (a
database query, a file read) never stall the event loop.  Code running in that
pool reaches async internals through :func:`run_async`.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

__all__ = ["is_async_callable", "iterate_in_threadpool", "run_async", "run_in_threadpool"]

P = ParamSpec("P")
T = TypeVar("T")

_executor: ThreadPoolExecutor | None = None
_loop_var: contextvars.ContextVar[asyncio.AbstractEventLoop] = contextvars.ContextVar("heron_loop")


def configure_threadpool(max_workers: int) -> None:
    """Size the pool that runs sync views (the ``thread_pool_size`` setting)."""
    global _executor
    if _executor is not None and _executor._max_workers == max_workers:
        return
    from concurrent.futures import ThreadPoolExecutor

    old, _executor = _executor, ThreadPoolExecutor(max_workers, thread_name_prefix="heron-sync")
    if old is not None:
        old.shutdown(wait=False)


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking callable in the thread pool and await its result.

    Context variables are copied into the worker thread, and the running loop
    is recorded there so that :func:`run_async` can reach it.
    """
    global _executor
    if _executor is None:
        configure_threadpool(40)
    import asyncio

    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    context.run(_loop_var.set, loop)
    call = functools.partial(context.run, func, *args, **kwargs)
    return await loop.run_in_executor(_executor, call)  # type: ignore[arg-type]


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """From sync code running in heron's thread pool, run a coroutine on the loop.

    Raises:
        RuntimeError: when called outside a thread started by :func:`run_in_threadpool`,
            or on the event loop's own thread (where waiting would deadlock).
    """
    import asyncio

    loop = _loop_var.get(None)
    if loop is None or _on_loop_thread():
        coroutine.close()
        raise RuntimeError(
            "run_async() works only in sync code that heron runs in its thread pool "
            "(a sync view or hook); in async code, await the coroutine instead."
        )
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result()


def _on_loop_thread() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


_STOP = object()


def _next_or_stop(iterator: Iterator[T]) -> T | object:
    try:
        return next(iterator)
    except StopIteration:
        return _STOP


async def iterate_in_threadpool(iterable: Iterable[T]) -> AsyncIterator[T]:
    """Iterate a blocking iterable without blocking the loop, one item per hop."""
    iterator = iter(iterable)
    while True:
        item = await run_in_threadpool(_next_or_stop, iterator)
        if item is _STOP:
            break
        yield item  # type: ignore[misc]


def is_async_callable(obj: Any) -> bool:
    """True for ``async def`` functions, partials of them and objects with one as ``__call__``."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj) or (
        callable(obj) and inspect.iscoroutinefunction(getattr(obj, "__call__", None))  # noqa: B004
    )
