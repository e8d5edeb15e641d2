"""heron.tasks as a plug-in: its settings, checks, the local runner's start and stop, the
``heron worker`` and ``heron tasks`` commands, and the queue's tables (PostgreSQL)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heron.exceptions import ImproperlyConfigured
from heron.plugins import Plugin
from heron.settings import settings_section

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["TasksPlugin", "TasksSettings"]

HERE = Path(__file__).resolve().parent


@settings_section
class TasksSettings:
    """heron.tasks' settings (docs/tasks.md)."""

    #: Where tasks run: ``immediate`` (at once, inside ``enqueue``), ``local`` (in the
    #: app's process, in the background) or ``procrastinate`` (``heron worker`` processes,
    #: jobs in the app's PostgreSQL database; ``pip install "heron[tasks]"``).
    tasks_backend: str = "immediate"
    #: Modules that declare tasks, imported when the app is made (so that a worker
    #: knows every task); each component's ``tasks`` module is imported too.
    tasks_modules: list[str] = dataclasses.field(default_factory=list)
    #: How many jobs run at once: the local backend's workers, ``heron worker``'s default.
    tasks_concurrency: int = 4
    #: Connections of the queue's pool (procrastinate), per process.
    tasks_pool_size: int = 10
    #: Seconds without a heartbeat after which a worker counts as dead and ``heron worker``
    #: queues its running jobs again (they run once more).
    tasks_stalled_after: int = 30


class TasksPlugin(Plugin):
    """Runs the app's tasks on the backend ``tasks_backend`` names."""

    name = "heron.tasks"
    settings = TasksSettings

    def setup(self, app: App) -> None:
        from heron.tasks.registry import use_app

        use_app(app)

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        from heron.tasks.backends import BACKENDS

        settings = app.settings
        name = settings.tasks_backend
        if name not in BACKENDS:
            return [ImproperlyConfigured(
                f"tasks_backend {name!r} is not one heron has; use immediate, local or "
                "procrastinate", id="heron.tasks.E001")]
        if name != "procrastinate":
            return []
        from heron.exceptions import MissingDependency
        from heron.tasks.backends.postgres import conninfo
        from heron.tasks.registry import TaskError

        try:
            import procrastinate  # noqa: F401
        except ImportError:
            return [ImproperlyConfigured(str(MissingDependency("procrastinate", "tasks")),
                                         id="heron.tasks.E002")]
        try:
            conninfo(app)
        except TaskError as exc:
            return [ImproperlyConfigured(str(exc), id="heron.tasks.E003")]
        return []

    def commands(self, app: App) -> Iterable[Any]:
        from heron.tasks.commands import tasks_group, worker_command

        return [worker_command, tasks_group]

    def migration_branches(self, app: App) -> Iterable[Any]:
        if app.settings.tasks_backend != "procrastinate":
            return []
        from heron.db.migrations import Owner

        return [Owner("heron_tasks", "heron.tasks", HERE / "migrations", shipped=True)]

    async def on_startup(self, app: App) -> None:
        if app.settings.tasks_backend == "local":
            from heron.tasks.backends import backend_for

            await backend_for(app).start()

    async def on_shutdown(self, app: App) -> None:
        backend = app.extensions.get("heron.tasks.backend")
        if backend is not None:
            await backend.stop()


def import_task_modules(app: App) -> None:
    """Import ``tasks_modules`` and each component's ``tasks`` module, if it has one."""
    import importlib
    import importlib.util

    for module in app.settings.tasks_modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ImproperlyConfigured(f"tasks_modules lists {module!r}, which cannot be "
                                       f"imported: {exc}", id="heron.tasks.E004") from exc
    for component in app.components.values():
        name = f"{component.module.__name__}.tasks"
        try:
            found = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            found = None
        if found is not None:
            importlib.import_module(name)


plugin = TasksPlugin
