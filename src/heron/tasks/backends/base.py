"""What every backend does, and the parts they share: running one attempt of a task
(with its timeout), and results kept in memory by the two in-process backends."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from heron.tasks.results import TaskResult, TaskStatus

if TYPE_CHECKING:
    from heron.app import App
    from heron.tasks.registry import Job, Task

__all__ = ["Backend", "MemoryResults", "describe_error", "run_attempt"]

logger = logging.getLogger("heron.tasks")


class Backend(ABC):
    """Runs an app's jobs and keeps their results."""

    #: Whether jobs outlive the process (``heron worker`` runs them).
    durable = False

    def __init__(self, app: App) -> None:
        self.app = app

    @abstractmethod
    def enqueue(self, task: Task[Any, Any], job: Job) -> TaskResult:
        """Queue (or run) ``job``; its result as it stands."""

    @abstractmethod
    async def aenqueue(self, task: Task[Any, Any], job: Job) -> TaskResult:
        """:meth:`enqueue` for async code."""

    @abstractmethod
    def get_result(self, job_id: str) -> TaskResult | None:
        """The job's result, or ``None`` for an unknown id."""

    @abstractmethod
    async def aget_result(self, job_id: str) -> TaskResult | None:
        """:meth:`get_result` for async code."""

    @abstractmethod
    def cancel(self, job_id: str) -> bool:
        """Cancel a job that has not finished; True when it was cancelled."""

    @abstractmethod
    async def acancel(self, job_id: str) -> bool:
        """:meth:`cancel` for async code."""

    @abstractmethod
    def list_results(self, status: TaskStatus | None = None, limit: int = 100
                     ) -> list[TaskResult]:
        """The most recent jobs first, optionally of one status."""

    @abstractmethod
    def retry(self, job_id: str) -> bool:
        """Queue a failed (or cancelled) job again; True when it was."""

    @abstractmethod
    def purge(self, older_than_hours: float) -> int:
        """Forget finished jobs older than that; how many were removed."""

    async def start(self) -> None:  # noqa: B027 (only the local backend runs anything)
        """Called when the app starts serving."""

    async def stop(self) -> None:  # noqa: B027
        """Called when the app stops: finish what runs."""


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "TimeoutError: the run took longer than its timeout"
    return f"{type(exc).__name__}: {exc}"


async def run_attempt(app: App, task: Task[Any, Any], kwargs: dict[str, Any]) -> Any:
    """One run of ``task`` on the event loop: an ``async def`` awaited, a ``def`` in
    heron's thread pool; past the task's timeout, ``TimeoutError``.

    Outside a request the run gets its own database context, as a request would:
    ``db.session`` works in it and is closed after it (what it did not commit is
    rolled back).  A ``def`` task that times out keeps running in its thread until it
    returns (Python cannot stop a thread); its result is dropped.
    """
    from heron._context import current_scope
    from heron.concurrency import run_in_threadpool
    from heron.db import db

    own_context = current_scope.get() is None
    if task.is_async:
        async def run_async() -> Any:
            if not own_context:
                return await task.func(**kwargs)
            async with db.async_context(app):
                return await task.func(**kwargs)

        call = run_async()
    else:
        def run_sync() -> Any:
            if not own_context:
                return task.func(**kwargs)
            with db.context(app):
                return task.func(**kwargs)

        call = run_in_threadpool(run_sync)
    timeout = task.options.timeout
    if timeout is None:
        return await call
    return await asyncio.wait_for(call, timeout)


class MemoryResults:
    """Results of this process's jobs, the most recent 10,000."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._results: OrderedDict[str, TaskResult] = OrderedDict()

    def add(self, result: TaskResult) -> TaskResult:
        self._results[result.id] = result
        while len(self._results) > self.limit:
            self._results.popitem(last=False)
        return result

    def get(self, job_id: str) -> TaskResult | None:
        return self._results.get(job_id)

    def finish(self, result: TaskResult, value: Any = None,
               error: BaseException | None = None) -> None:
        result.finished_at = datetime.now(UTC)
        if error is None:
            result.status, result.return_value, result.error = TaskStatus.SUCCEEDED, value, None
        else:
            result.status, result.error = TaskStatus.FAILED, describe_error(error)

    def recent(self, status: TaskStatus | None, limit: int) -> list[TaskResult]:
        found = [r for r in reversed(self._results.values())
                 if status is None or r.status is status]
        return found[:limit]

    def purge(self, older_than_hours: float) -> int:
        cutoff = datetime.now(UTC).timestamp() - older_than_hours * 3600
        old = [key for key, r in self._results.items()
               if r.finished and r.finished_at is not None and r.finished_at.timestamp() < cutoff]
        for key in old:
            del self._results[key]
        return len(old)
