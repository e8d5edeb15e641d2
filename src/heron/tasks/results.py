"""What became of a job: :class:`TaskResult`, read by id from the backend that ran it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["TaskResult", "TaskStatus"]


class TaskStatus(StrEnum):
    """Where a job is."""

    #: Waiting to run (or for its next attempt, or for its time).
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    #: Failed, with no retry left.
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED)


@dataclass
class TaskResult:
    """A job's state: ``status``, and once it finished ``return_value`` or ``error``.

    ``id`` is what :func:`heron.tasks.get_result` takes.  A result is a snapshot: read it
    again for news.
    """

    id: str
    task_name: str
    status: TaskStatus
    kwargs: dict[str, Any]
    attempts: int = 0
    return_value: Any = None
    #: The last failure: the exception's type and message (no traceback: it is logged).
    error: str | None = None
    queue: str = "default"
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status.finished
