"""Tasks: functions declared with ``@task`` and run later, by name, by a backend.

A :class:`Task` knows its function and its options; ``enqueue`` checks the arguments
against the function's signature and that they are JSON (what a queue in a database
holds), then hands a :class:`Job` to the app's backend.  The check happens where the
task is enqueued, so a mistake is an error in the request that made it, not a failure
in a worker later.
"""

from __future__ import annotations

import inspect
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from heron.concurrency import is_async_callable

if TYPE_CHECKING:
    from heron.app import App
    from heron.tasks.results import TaskResult

__all__ = ["Job", "Task", "TaskError", "get_task", "registered_tasks", "task"]

P = ParamSpec("P")
R = TypeVar("R")
_TASKS: dict[str, Task[Any, Any]] = {}


class TaskError(Exception):
    """A task cannot be enqueued as asked: an unknown name, arguments that do not fit its
    function or are not JSON, or a backend that is not configured."""


@dataclass(frozen=True)
class Job:
    """One run of a task, as a backend receives it."""

    task_name: str
    kwargs: dict[str, Any]
    queue: str
    priority: int
    run_at: datetime | None
    lock: str | None


@dataclass(frozen=True)
class Options:
    """A task's options; :meth:`Task.using` changes them for one enqueue."""

    queue: str = "default"
    priority: int = 0
    retries: int = 0
    backoff: float = 0.0
    timeout: float | None = None
    lock: str | None = None
    delay: float | None = None
    run_at: datetime | None = None
    cron: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Task(Generic[P, R]):
    """A function that can run in the background: ``send_report.enqueue(user_id=1)``.

    Calling the task itself (``send_report(user_id=1)``) runs the function at once,
    here, as a plain call.
    """

    def __init__(self, func: Callable[P, R], name: str, options: Options) -> None:
        self.func = func
        self.name = name
        self.options = options
        self.is_async = is_async_callable(func)
        self.signature = inspect.signature(func)
        self.__doc__ = func.__doc__
        self.__wrapped__ = func

    def __repr__(self) -> str:
        return f"<Task {self.name}>"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.func(*args, **kwargs)

    def using(self, *, queue: str | None = None, priority: int | None = None,
              delay: float | timedelta | None = None, run_at: datetime | None = None,
              lock: str | None = None) -> Task[P, R]:
        """This task with other options for one enqueue: ``task.using(delay=60).enqueue()``.

        Args:
            queue: the queue it goes to (workers choose the queues they run).
            priority: higher runs first among jobs ready at the same time.
            delay: seconds (or a timedelta) to wait before it may run.
            run_at: the time it may run (naive means UTC).
            lock: jobs with the same lock never run at the same time.
        """
        if delay is not None and run_at is not None:
            raise TaskError("using(): give delay= or run_at=, not both")
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else delay
        if seconds is not None and seconds < 0:
            raise TaskError(f"using(): delay must be 0 or more seconds, not {seconds}")
        changed = replace(
            self.options,
            queue=self.options.queue if queue is None else queue,
            priority=self.options.priority if priority is None else priority,
            delay=seconds, run_at=run_at,
            lock=self.options.lock if lock is None else lock)
        return Task(self.func, self.name, changed)

    # -- enqueueing -------------------------------------------------------------------------

    def job(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Job:
        """The job these arguments make, checked.

        Raises:
            TaskError: they do not fit the function, or are not JSON.
        """
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TaskError(f"Task {self.name}: {exc}") from None
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        for name, parameter in self.signature.parameters.items():
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                arguments.update(arguments.pop(name, {}))
            elif parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                raise TaskError(f"Task {self.name}: *{name} is not supported; a task takes "
                                "named arguments (they are stored as JSON)")
        try:
            # What the queue stores: JSON, exactly (no datetimes, sets or objects).
            arguments = json.loads(json.dumps(arguments))
        except (TypeError, ValueError) as exc:
            raise TaskError(f"Task {self.name}: its arguments must be JSON ({exc}); pass ids "
                            "and plain values, not objects") from None
        options = self.options
        run_at = options.run_at
        if run_at is not None and run_at.tzinfo is None:
            run_at = run_at.replace(tzinfo=UTC)
        if options.delay:
            run_at = datetime.now(UTC) + timedelta(seconds=options.delay)
        return Job(self.name, arguments, options.queue, options.priority, run_at, options.lock)

    def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> TaskResult:
        """Run the task later with these arguments; returns its :class:`TaskResult`.

        Inside a database transaction (``db.session`` with changes, or
        ``db.transaction()``), a backend that can (the PostgreSQL one, the local one)
        enqueues it with the transaction: if it rolls back, the task never runs.

        Raises:
            TaskError: bad arguments, or no app with heron.tasks to run it.
        """
        from heron.tasks.backends import backend_for

        job = self.job(args, kwargs)
        return backend_for(_app()).enqueue(self, job)

    async def aenqueue(self, *args: P.args, **kwargs: P.kwargs) -> TaskResult:
        """:meth:`enqueue` for async code."""
        from heron.tasks.backends import backend_for

        job = self.job(args, kwargs)
        return await backend_for(_app()).aenqueue(self, job)


@overload
def task(func: Callable[P, R], /) -> Task[P, R]: ...


@overload
def task(*, name: str | None = None, queue: str = "default", priority: int = 0,
         retries: int = 0, backoff: float = 0.0, timeout: float | None = None,
         lock: str | None = None, cron: str | None = None
         ) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(func: Any = None, /, *, name: str | None = None, queue: str = "default",
         priority: int = 0, retries: int = 0, backoff: float = 0.0,
         timeout: float | None = None, lock: str | None = None,
         cron: str | None = None) -> Any:
    """Declare a task: ``@task`` or ``@task(queue="mail", retries=3, backoff=2)``.

    Args:
        name: its name in the queue (default: ``module.function``); keep it when you
            move the function, or jobs already queued will not find it.
        queue: the queue its jobs go to.
        priority: higher runs first among jobs ready at the same time.
        retries: how many times a failed run is tried again.
        backoff: seconds before the first retry, doubled for each next one
            (``backoff=2``: 2, 4, 8 s...); 0 retries at once.
        timeout: seconds a run may take; past it, the run fails (and is retried).
        lock: runs of the task never overlap with another job holding this lock.
        cron: run it on this schedule (``"*/5 * * * *"``, a sixth field for seconds);
            it then takes no argument but ``timestamp`` (the scheduled time, in seconds).
    """

    def declare(function: Callable[..., Any]) -> Task[Any, Any]:
        if retries < 0 or backoff < 0 or (timeout is not None and timeout <= 0):
            raise TaskError(f"@task on {function.__qualname__}: retries and backoff must be 0 or "
                            "more, and timeout a positive number of seconds")
        task_name = name or f"{function.__module__}.{function.__qualname__}"
        if "<" in task_name:
            raise TaskError(f"@task on {task_name}: declare tasks at the top level of a module "
                            "(a worker imports them by name)")
        if cron is not None:
            _check_cron(task_name, cron, function)
        declared = Task(function, task_name, Options(queue, priority, retries, backoff,
                                                     timeout, lock, cron=cron))
        existing = _TASKS.get(task_name)
        if existing is not None and (existing.func.__module__, existing.func.__qualname__) != (
                function.__module__, function.__qualname__):
            raise TaskError(f"Two tasks are named {task_name!r}; give one another name=")
        _TASKS[task_name] = declared
        return declared

    return declare(func) if func is not None else declare


def _check_cron(name: str, cron: str, function: Callable[..., Any]) -> None:
    fields = cron.split()
    if len(fields) not in (5, 6):
        raise TaskError(f"@task({name}): cron {cron!r} must have 5 fields (minute hour day "
                        "month weekday), or 6 with seconds last")
    try:
        from croniter import croniter
    except ImportError:
        pass  # checked when it is scheduled (the local backend needs croniter then)
    else:
        if not croniter.is_valid(cron):
            raise TaskError(f"@task({name}): cron {cron!r} is not a valid schedule")
    parameters = inspect.signature(function).parameters
    if "timestamp" not in parameters and not any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        raise TaskError(f"@task({name}, cron=...): a periodic task takes a `timestamp` "
                        "argument (the time it was scheduled for, in seconds)")


def get_task(name: str) -> Task[Any, Any]:
    """The task declared under ``name``.

    Raises:
        TaskError: no task has that name (is its module imported?).
    """
    found = _TASKS.get(name)
    if found is None:
        raise TaskError(f"No task is named {name!r}; the tasks known are {sorted(_TASKS)} "
                        "(is the module that declares it imported? list it in tasks_modules)")
    return found


def registered_tasks() -> dict[str, Task[Any, Any]]:
    """Every task declared so far, by name."""
    return dict(_TASKS)


_LAST_APP: weakref.ref[App] | None = None


def use_app(app: App) -> None:
    """Make ``app`` the one whose backend runs tasks enqueued outside a request (its
    plugin does this when the app is made; only the last one is kept, weakly)."""
    global _LAST_APP
    _LAST_APP = weakref.ref(app)


def _app() -> App:
    from heron._context import current_scope

    scope = current_scope.get()
    if scope is not None and scope.get("app") is not None:
        app: App = scope["app"]
        if app.plugin("heron.tasks") is not None:
            return app
    last = None if _LAST_APP is None else _LAST_APP()
    if last is None:
        raise TaskError("No app with heron.tasks is running here: make the App first (its "
                        "tasks_backend setting decides where tasks run)")
    return last
