"""Reading and cancelling jobs by id, from sync or async code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron.tasks.backends import backend_for
from heron.tasks.registry import _app

if TYPE_CHECKING:
    from heron.app import App
    from heron.tasks.results import TaskResult, TaskStatus

__all__ = ["acancel", "aget_result", "cancel", "current_app", "get_result", "list_results"]


def current_app() -> App:
    """The app whose tasks run here: the request's, the task's, or the last app made with
    heron.tasks (a task finds its settings, cache and mailer through it).

    Raises:
        TaskError: no app with heron.tasks exists in this process.
    """
    return _app()


def get_result(job_id: str) -> TaskResult | None:
    """The job's :class:`TaskResult` (status, return value, error), or ``None``."""
    return backend_for(_app()).get_result(str(job_id))


async def aget_result(job_id: str) -> TaskResult | None:
    """:func:`get_result` for async code."""
    return await backend_for(_app()).aget_result(str(job_id))


def cancel(job_id: str) -> bool:
    """Cancel a job that has not finished; True when it was.  A running ``async def``
    task is interrupted (procrastinate); a ``def`` one finishes its run."""
    return backend_for(_app()).cancel(str(job_id))


async def acancel(job_id: str) -> bool:
    """:func:`cancel` for async code."""
    return await backend_for(_app()).acancel(str(job_id))


def list_results(status: TaskStatus | None = None, limit: int = 100) -> list[TaskResult]:
    """The most recent jobs, newest first, optionally of one status."""
    return backend_for(_app()).list_results(status, limit)
