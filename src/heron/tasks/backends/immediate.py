"""The ``immediate`` backend: a task runs at once, inside ``enqueue``, with its retries.

For tests (what a task did is done when ``enqueue`` returns) and for apps that declare
tasks before they run a queue.  Delays, run times and locks are ignored; retries
follow at once, without backoff.  A transaction that rolls back afterwards does not
undo a task that already ran.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from heron.tasks.backends.base import Backend, MemoryResults, logger, run_attempt
from heron.tasks.results import TaskResult, TaskStatus

if TYPE_CHECKING:
    from heron.tasks.registry import Job, Task

__all__ = ["ImmediateBackend"]


class ImmediateBackend(Backend):
    """Runs each job inside ``enqueue``."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.results = MemoryResults()

    def _new(self, job: Job) -> TaskResult:
        return self.results.add(TaskResult(uuid.uuid4().hex, job.task_name, TaskStatus.RUNNING,
                                           job.kwargs, queue=job.queue))

    def enqueue(self, task: Task[Any, Any], job: Job) -> TaskResult:
        if task.is_async and _on_event_loop():
            from heron.tasks.registry import TaskError

            raise TaskError(f"Task {task.name} is async and this code runs on the event loop: "
                            f"`await {task.name.rpartition('.')[2]}.aenqueue(...)`")
        runs = self._runs(task, job)
        next(runs)
        while True:
            try:
                outcome: tuple[Any, Exception | None] = (_run_sync(self.app, task, job.kwargs),
                                                         None)
            except Exception as exc:
                outcome = (None, exc)
            try:
                runs.send(outcome)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]

    async def aenqueue(self, task: Task[Any, Any], job: Job) -> TaskResult:
        runs = self._runs(task, job)
        next(runs)
        while True:
            try:
                outcome: tuple[Any, Exception | None] = (
                    await run_attempt(self.app, task, job.kwargs), None)
            except Exception as exc:
                outcome = (None, exc)
            try:
                runs.send(outcome)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]

    def _runs(self, task: Task[Any, Any], job: Job
              ) -> Generator[None, tuple[Any, Exception | None], TaskResult]:
        """The attempts of one job, written once: it receives each run's (value, error)
        from the sync or the async entry point, and ends with the job's result."""
        result = self._new(job)
        error: Exception | None = None
        for _ in range(task.options.retries + 1):
            result.attempts += 1
            value, error = yield
            if error is None:
                self.results.finish(result, value)
                return result
            # Not the arguments: they may hold secrets (a reset link).
            logger.warning("Task %s (job %s) failed, attempt %d", job.task_name, result.id,
                           result.attempts, exc_info=error)
        self.results.finish(result, error=error)
        return result

    def get_result(self, job_id: str) -> TaskResult | None:
        return self.results.get(job_id)

    async def aget_result(self, job_id: str) -> TaskResult | None:
        return self.results.get(job_id)

    def cancel(self, job_id: str) -> bool:
        return False  # every job has finished already

    async def acancel(self, job_id: str) -> bool:
        return False

    def list_results(self, status: TaskStatus | None = None, limit: int = 100
                     ) -> list[TaskResult]:
        return self.results.recent(status, limit)

    def retry(self, job_id: str) -> bool:
        from heron.tasks.registry import Job, get_task

        old = self.results.get(job_id)
        if old is None or old.status is not TaskStatus.FAILED:
            return False
        self.enqueue(get_task(old.task_name), Job(old.task_name, old.kwargs, old.queue, 0,
                                                  None, None))
        return True

    def purge(self, older_than_hours: float) -> int:
        return self.results.purge(older_than_hours)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_sync(app: Any, task: Task[Any, Any], kwargs: dict[str, Any]) -> Any:
    if not task.is_async:
        from heron._context import current_scope
        from heron.db import db

        if current_scope.get() is not None:  # in a request: run as the view's own code
            return task.func(**kwargs)
        with db.context(app):
            return task.func(**kwargs)
    from heron.concurrency import run_async

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(f"Task {task.name} is async: in async code, "
                           f"`await {task.name.rpartition('.')[2]}.aenqueue(...)`")
    try:
        return run_async(run_attempt(app, task, kwargs))  # a sync view: on the server's loop
    except RuntimeError as exc:
        if "run_async() works only" not in str(exc):
            raise
    return asyncio.run(run_attempt(app, task, kwargs))  # a script: no loop of its own
