"""Where tasks run: the ``tasks_backend`` setting picks one per app.

- ``immediate`` (the default): at once, inside ``enqueue``; for tests, and for apps that
  declare tasks but do not run a queue yet.
- ``local``: in the app's own process, in the background, after the response; for
  ``heron run`` on SQLite.  Jobs live in memory: a restart loses those not run yet.
- ``procrastinate``: in ``heron worker`` processes, through procrastinate on the app's
  PostgreSQL database: jobs survive restarts and crashes, and join the transaction that
  enqueued them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron.tasks.backends.base import Backend

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["BACKENDS", "Backend", "backend_for"]

BACKENDS = ("immediate", "local", "procrastinate")
_KEY = "heron.tasks.backend"


def backend_for(app: App) -> Backend:
    """The app's backend, made on first use from ``tasks_backend``."""
    backend: Backend | None = app.extensions.get(_KEY)
    if backend is None:
        from heron.tasks.plugin import import_task_modules

        import_task_modules(app)  # so that the tasks of its components are known
        name = app.settings.tasks_backend
        if name == "immediate":
            from heron.tasks.backends.immediate import ImmediateBackend

            backend = ImmediateBackend(app)
        elif name == "local":
            from heron.tasks.backends.local import LocalBackend

            backend = LocalBackend(app)
        else:
            from heron.tasks.backends.postgres import ProcrastinateBackend

            backend = ProcrastinateBackend(app)
        app.extensions[_KEY] = backend
    return backend
