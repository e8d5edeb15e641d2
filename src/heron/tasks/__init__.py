"""Background tasks: ``@task`` functions run later, by a backend the settings choose.

    from heron.tasks import task

    @task(retries=3, backoff=2)
    def send_report(user_id: int) -> int: ...

    send_report.enqueue(user_id=7)              # sync code
    await send_report.aenqueue(user_id=7)       # async code

``tasks_backend`` picks where they run: ``immediate`` (the default: at once), ``local``
(in the app's process, in the background) or ``procrastinate`` (``heron worker``
processes, jobs in PostgreSQL, enqueued with the transaction).  See docs/tasks.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron._lazy import lazy_exports

if TYPE_CHECKING:
    from heron.tasks.api import (
        acancel,
        aget_result,
        cancel,
        current_app,
        get_result,
        list_results,
    )
    from heron.tasks.registry import Task, TaskError, get_task, registered_tasks, task
    from heron.tasks.results import TaskResult, TaskStatus

__all__ = [
    "Task",
    "TaskError",
    "TaskResult",
    "TaskStatus",
    "acancel",
    "aget_result",
    "cancel",
    "current_app",
    "get_result",
    "get_task",
    "list_results",
    "registered_tasks",
    "task",
]

_EXPORTS = {
    "Task": "heron.tasks.registry", "TaskError": "heron.tasks.registry",
    "get_task": "heron.tasks.registry", "registered_tasks": "heron.tasks.registry",
    "task": "heron.tasks.registry",
    "TaskResult": "heron.tasks.results", "TaskStatus": "heron.tasks.results",
    "acancel": "heron.tasks.api", "aget_result": "heron.tasks.api", "cancel": "heron.tasks.api",
    "current_app": "heron.tasks.api", "get_result": "heron.tasks.api",
    "list_results": "heron.tasks.api",
}

__getattr__ = lazy_exports(__name__, _EXPORTS)
