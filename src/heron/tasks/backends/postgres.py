"""The ``procrastinate`` backend: jobs in the app's PostgreSQL database, run by
``heron worker`` processes, through procrastinate (``pip install "heron[tasks]"``).

Why procrastinate (docs/tasks.md has the comparison): it keeps jobs in the database
the app already has, so a job enqueued in a transaction is written by that
transaction (nothing lost, nothing phantom) without a second system to run; workers
wake on LISTEN/NOTIFY in about 10 ms; locks, priorities, retries, scheduled and
periodic jobs, cancellation and several workers on several hosts are built in.  What
it does not do, heron adds: each run's return value or error (``heron_task_result``),
and retrying the jobs of a worker that died mid-run (``heron worker`` requeues the jobs
of workers whose heartbeat stopped).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from heron.exceptions import MissingDependency
from heron.tasks.backends.base import Backend, describe_error, logger, run_attempt
from heron.tasks.registry import TaskError, registered_tasks
from heron.tasks.results import TaskResult, TaskStatus

if TYPE_CHECKING:
    import procrastinate

    from heron.tasks.registry import Job, Task

__all__ = ["ProcrastinateBackend", "conninfo"]

T = TypeVar("T")

_STATUS = {"todo": TaskStatus.QUEUED, "doing": TaskStatus.RUNNING,
           "succeeded": TaskStatus.SUCCEEDED, "failed": TaskStatus.FAILED,
           "cancelled": TaskStatus.CANCELLED, "aborting": TaskStatus.RUNNING,
           "aborted": TaskStatus.CANCELLED}
_FINAL = ["succeeded", "failed", "cancelled", "aborted"]
_SELECT = """
SELECT j.id, j.task_name, j.status::text AS status, j.args, j.attempts, j.queue_name,
       r.return_value, r.error, r.finished_at
  FROM procrastinate_jobs j LEFT JOIN heron_task_result r ON r.job_id = j.id
"""
_RECORD = """
INSERT INTO heron_task_result (job_id, return_value, error, finished_at)
VALUES (%(job_id)s, %(return_value)s, %(error)s, now())
ON CONFLICT (job_id) DO UPDATE SET return_value = EXCLUDED.return_value,
    error = EXCLUDED.error, finished_at = EXCLUDED.finished_at
"""


def conninfo(app: Any) -> str:
    """The libpq URL of the app's default database (what procrastinate connects to).

    Raises:
        TaskError: the database is not PostgreSQL.
    """
    from sqlalchemy.engine import make_url

    from heron.db import db

    url = make_url(db.state(app).urls[None])
    if url.get_backend_name() != "postgresql":
        raise TaskError(f"tasks_backend 'procrastinate' keeps jobs in PostgreSQL, and "
                        f"database_url is {url.get_backend_name()}; use 'local' on SQLite")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateBackend(Backend):
    """Jobs in PostgreSQL, through procrastinate."""

    durable = True

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        try:
            import procrastinate  # noqa: F401 (a missing package fails at once)
        except ImportError:
            raise MissingDependency("procrastinate", "tasks") from None
        self.conninfo = conninfo(app)
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop,
                                               procrastinate.App] = weakref.WeakKeyDictionary()
        self._sync: procrastinate.App | None = None
        self._opening: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())
        self._sync_pool: Any = None
        self._sync_lock = threading.Lock()

    # -- procrastinate apps ---------------------------------------------------------------

    def procrastinate_app(self, connector: Any) -> procrastinate.App:
        """A procrastinate App on ``connector`` knowing every task declared so far."""
        import procrastinate

        papp = procrastinate.App(connector=connector)
        for task in registered_tasks().values():
            self._register(papp, task)
        return papp

    def _register(self, papp: procrastinate.App, task: Task[Any, Any]) -> None:
        if task.name in papp.tasks:
            return
        backend = self

        async def run(context: Any, /, **kwargs: Any) -> Any:
            job = context.job
            try:
                value = await run_attempt(backend.app, task, kwargs)
            except Exception as exc:
                await backend._record(context, job.id, None, describe_error(exc))
                if job.attempts < options.retries:  # wake the workers when it is due
                    _wake_workers_after(context, retry_delay(options.backoff, job.attempts))
                elif job.lock:
                    _wake_workers_after(context, 0)
                raise
            await backend._record(context, job.id, _json(value), None)
            if job.lock:  # the next job holding the lock may start
                _wake_workers_after(context, 0)
            return value

        run.__name__ = run.__qualname__ = task.name
        options = task.options
        ptask = papp.task(name=task.name, queue=options.queue, priority=options.priority,
                          lock=options.lock, pass_context=True,
                          retry=retry_strategy(options.retries, options.backoff)
                          if options.retries
                          else False)(run)
        if options.cron:
            papp.periodic(cron=options.cron)(ptask)  # type: ignore[arg-type]

    @staticmethod
    async def _record(context: Any, job_id: int, value: str | None, error: str | None) -> None:
        await context.app.connector.execute_query_async(
            _RECORD, job_id=job_id, return_value=value, error=error)

    async def async_app(self) -> procrastinate.App:
        """The procrastinate App of this event loop, opened (its pool belongs to the loop)."""
        import procrastinate

        loop = asyncio.get_running_loop()
        papp = self._async.get(loop)
        if papp is None:
            # One opening per loop: requests arriving together all wait for it.
            opening = self._opening.setdefault(loop, asyncio.Lock())
            async with opening:
                papp = self._async.get(loop)
                if papp is None:
                    papp = self.procrastinate_app(procrastinate.PsycopgConnector(
                        conninfo=self.conninfo, min_size=1,
                        max_size=self.app.settings.tasks_pool_size, pool_factory=async_pool))
                    await papp.open_async()
                    self._async[loop] = papp
        return papp

    def sync_app(self) -> procrastinate.App:
        """The procrastinate App of sync code (a thread-safe pool), opened."""
        import procrastinate

        with self._sync_lock:
            if self._sync is None:
                import psycopg_pool

                papp = self.procrastinate_app(procrastinate.SyncPsycopgConnector(
                    conninfo=self.conninfo))
                pool = psycopg_pool.ConnectionPool(
                    self.conninfo, min_size=1, max_size=self.app.settings.tasks_pool_size,
                    open=False, check=_check_sync, reset=_note_return_sync)
                pool.open(wait=True)
                papp.open(pool)  # our pool: procrastinate leaves it to us to close
                self._sync, self._sync_pool = papp, pool
            return self._sync

    def _deferrer(self, papp: procrastinate.App, task: Task[Any, Any], job: Job,
                  connection: Any = None) -> Any:
        self._register(papp, task)
        options: dict[str, Any] = {"queue": job.queue, "priority": job.priority,
                                   "lock": job.lock, "schedule_at": job.run_at}
        if connection is not None:
            options["connection"] = connection
        return papp.tasks[task.name].configure(**options)

    # -- enqueueing -----------------------------------------------------------------------

    def enqueue(self, task: Task[Any, Any], job: Job) -> TaskResult:
        from sqlalchemy.orm import Session

        from heron.db import db

        session = db.current_transaction()
        if session is not None and not isinstance(session, Session):
            raise TaskError("This request's transaction is an async session: enqueue with "
                            "`await task.aenqueue(...)` so that the job joins it")
        connection = None
        if session is not None:  # written by the transaction: gone if it rolls back
            connection = session.connection().connection.driver_connection
        papp = self.sync_app()
        try:
            job_id = self._deferrer(papp, task, job, connection).defer(**job.kwargs)
        except _connection_errors() as exc:
            if connection is not None or not _lost_connection(exc):
                raise
            # A pooled connection the database dropped (a restart) since its last use:
            # the pool has discarded it; once more, on a fresh one.
            job_id = self._deferrer(papp, task, job).defer(**job.kwargs)
        return self._queued(job_id, job)

    async def aenqueue(self, task: Task[Any, Any], job: Job) -> TaskResult:
        from sqlalchemy.ext.asyncio import AsyncSession

        from heron.db import db

        session = db.current_transaction()
        if session is not None and not isinstance(session, AsyncSession):
            raise TaskError("This request's transaction is a sync session: enqueue with "
                            "`task.enqueue(...)` in the sync code that holds it")
        connection = None
        if session is not None:
            raw = await (await session.connection()).get_raw_connection()
            connection = raw.driver_connection
        papp = await self.async_app()
        try:
            job_id = await self._deferrer(papp, task, job, connection).defer_async(**job.kwargs)
        except _connection_errors() as exc:
            if connection is not None or not _lost_connection(exc):
                raise
            job_id = await self._deferrer(papp, task, job).defer_async(**job.kwargs)  # see enqueue
        return self._queued(job_id, job)

    @staticmethod
    def _queued(job_id: int, job: Job) -> TaskResult:
        return TaskResult(str(job_id), job.task_name, TaskStatus.QUEUED, job.kwargs,
                          queue=job.queue)

    # -- reading and managing ---------------------------------------------------------------

    def get_result(self, job_id: str) -> TaskResult | None:
        if not job_id.isdigit():
            return None
        rows = _once_more(lambda: self.sync_app().connector.execute_query_all(
            _SELECT + " WHERE j.id = %(id)s", id=int(job_id)))
        return _result(rows[0]) if rows else None

    async def aget_result(self, job_id: str) -> TaskResult | None:
        if not job_id.isdigit():
            return None
        papp = await self.async_app()
        query = _SELECT + " WHERE j.id = %(id)s"
        try:
            rows = await papp.connector.execute_query_all_async(query, id=int(job_id))
        except _connection_errors() as exc:
            if not _lost_connection(exc):
                raise
            rows = await papp.connector.execute_query_all_async(query, id=int(job_id))
        return _result(rows[0]) if rows else None

    def list_results(self, status: TaskStatus | None = None, limit: int = 100
                     ) -> list[TaskResult]:
        statuses = [name for name, mapped in _STATUS.items() if status in (None, mapped)]
        rows = _once_more(lambda: self.sync_app().connector.execute_query_all(
            _SELECT + " WHERE j.status::text = ANY(%(statuses)s) ORDER BY j.id DESC"
                      " LIMIT %(limit)s", statuses=statuses, limit=limit))
        return [_result(row) for row in rows]

    def cancel(self, job_id: str) -> bool:
        if not job_id.isdigit():
            return False
        return bool(_once_more(
            lambda: self.sync_app().job_manager.cancel_job_by_id(int(job_id), abort=True)))

    async def acancel(self, job_id: str) -> bool:
        if not job_id.isdigit():
            return False
        papp = await self.async_app()
        return bool(await papp.job_manager.cancel_job_by_id_async(int(job_id), abort=True))

    def retry(self, job_id: str) -> bool:
        found = self.get_result(job_id)
        if found is None or found.status is not TaskStatus.FAILED:
            return False
        papp = self.sync_app()
        papp.job_manager.retry_job_by_id(int(job_id), retry_at=datetime.now(UTC))
        papp.connector.execute_query(_NOTIFY, **wake_arguments(found.queue, int(job_id)))
        return True

    def purge(self, older_than_hours: float) -> int:
        connector = self.sync_app().connector
        rows = connector.execute_query_all(
            """
            WITH latest AS (
                -- when it finished: a 'scheduled' event holds the time it was to run,
                -- in the future for a delayed job that was cancelled
                SELECT j.id, max(e.at) AS at FROM procrastinate_jobs j
                  JOIN procrastinate_events e ON e.job_id = j.id
                 WHERE j.status::text = ANY(%(statuses)s)
                   AND e.type::text = ANY(%(statuses)s) GROUP BY j.id),
            gone AS (
                DELETE FROM procrastinate_jobs WHERE id IN (
                    SELECT id FROM latest WHERE at < now() - make_interval(secs => %(seconds)s))
                RETURNING id)
            SELECT id FROM gone
            """, statuses=_FINAL, seconds=older_than_hours * 3600)
        connector.execute_query(
            "DELETE FROM heron_task_result r WHERE NOT EXISTS "
            "(SELECT 1 FROM procrastinate_jobs j WHERE j.id = r.job_id)")
        return len(rows)

    async def stop(self) -> None:
        papps, self._async = list(self._async.values()), weakref.WeakKeyDictionary()
        for papp in papps:
            try:
                await papp.close_async()
            except Exception:  # closing must not hide why the app stops
                logger.exception("Closing the task queue's connections failed")
        await asyncio.to_thread(self.close_sync)

    def close_sync(self) -> None:
        """Close the pool of sync code (reopened on next use)."""
        with self._sync_lock:
            pool, self._sync, self._sync_pool = self._sync_pool, None, None
        if pool is not None:
            pool.close()


# The pools ping a connection before lending it only when it has been idle a while: the
# ping (psycopg_pool's check) is a round trip that doubled the cost of an enqueue, and a
# connection used moments ago is alive.  One idle past this is pinged, and replaced if
# the database restarted meanwhile.
_FRESH = 5.0
_RETURNED: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def async_pool(**options: Any) -> Any:
    """procrastinate's async pool, with :data:`_FRESH`'s check (its ``pool_factory``)."""
    import psycopg_pool

    options.update(check=_check_async, reset=_note_return_async)
    return psycopg_pool.AsyncConnectionPool(**options)


async def _check_async(connection: Any) -> None:
    if time.monotonic() - _RETURNED.get(connection, 0.0) > _FRESH:
        import psycopg_pool

        await psycopg_pool.AsyncConnectionPool.check_connection(connection)


async def _note_return_async(connection: Any) -> None:
    _RETURNED[connection] = time.monotonic()


def _check_sync(connection: Any) -> None:
    if time.monotonic() - _RETURNED.get(connection, 0.0) > _FRESH:
        import psycopg_pool

        psycopg_pool.ConnectionPool.check_connection(connection)


def _note_return_sync(connection: Any) -> None:
    _RETURNED[connection] = time.monotonic()


def _once_more(call: Callable[[], T]) -> T:
    """``call()``, and once more when the pooled connection it took had been dropped by
    the database (a restart): the pool discards such a connection, the next is fresh.
    Only for what is safe to run twice (reads, cancelling)."""
    try:
        return call()
    except _connection_errors() as exc:
        if not _lost_connection(exc):
            raise
        return call()


def _connection_errors() -> type[Exception]:
    from procrastinate.exceptions import ConnectorException

    return ConnectorException


def _lost_connection(exc: BaseException) -> bool:
    """The error says the connection was gone before the statement ran (not a refusal
    of the statement itself, which must not be sent twice)."""
    import psycopg

    cause = exc.__cause__
    return isinstance(cause, psycopg.OperationalError) and not isinstance(
        cause, psycopg.errors.QueryCanceled)


def _json(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return json.dumps(repr(value))  # kept readable, though it was no JSON


def _result(row: dict[str, Any]) -> TaskResult:
    value = row["return_value"]
    return TaskResult(str(row["id"]), row["task_name"], _STATUS[row["status"]],
                      row["args"] or {}, attempts=row["attempts"],
                      return_value=None if value is None else json.loads(value),
                      error=row["error"], queue=row["queue_name"],
                      finished_at=row["finished_at"])


def _retry_class() -> Any:
    from procrastinate.retry import BaseRetryStrategy, RetryDecision

    class HeronRetry(BaseRetryStrategy):
        """``retries`` more runs after a failure, ``backoff * 2**n`` seconds apart."""

        def __init__(self, retries: int, backoff: float) -> None:
            self.retries = retries
            self.backoff = backoff

        def get_retry_decision(self, *, exception: BaseException, job: Any) -> Any:
            if job.attempts >= self.retries:
                return None
            return RetryDecision(retry_at=datetime.now(UTC) + timedelta(
                seconds=retry_delay(self.backoff, job.attempts)))

    return HeronRetry


def retry_delay(backoff: float, attempts: int) -> float:
    """Seconds before the next run of a job that failed ``attempts`` times."""
    return backoff * float(2 ** attempts)


_NOTIFY = ("SELECT pg_notify('procrastinate_queue_v1#' || %(queue)s, %(payload)s), "
           "pg_notify('procrastinate_any_queue_v1', %(payload)s)")
_WAKERS: set[asyncio.Task[None]] = set()


def wake_arguments(queue: str, job_id: int | None) -> dict[str, Any]:
    """The arguments of ``_NOTIFY``: the notice of a job insert, which wakes the workers."""
    return {"queue": queue, "payload": json.dumps({"type": "job_inserted", "job_id": job_id})}


async def wake_workers(connector: Any, queue: str, job_id: int | None) -> None:
    """Tell the workers of ``queue`` that a job became ready.

    procrastinate's workers look for jobs when one is inserted (a NOTIFY) and otherwise
    only every 5 seconds: a job made ready by an update (a retry that is due, a lock
    released, a dead worker's job queued again) would wait for that poll.
    """
    await connector.execute_query_async(_NOTIFY, **wake_arguments(queue, job_id))


def _wake_workers_after(context: Any, delay: float) -> None:
    """:func:`wake_workers` ``delay`` seconds after this run's outcome is saved (when
    procrastinate's task that runs the job ends).  If the notice is lost, the poll
    still finds the job."""
    connector, queue, job_id = context.app.connector, context.job.queue, context.job.id
    loop = asyncio.get_running_loop()

    async def wake() -> None:
        try:
            await wake_workers(connector, queue, job_id)
        except Exception:  # the worker is stopping, or the database is away: it polls
            logger.debug("Could not wake the workers for job %s", job_id, exc_info=True)

    def start() -> None:
        waker = loop.create_task(wake())
        _WAKERS.add(waker)
        waker.add_done_callback(_WAKERS.discard)

    running = asyncio.current_task()
    if running is None:  # pragma: no cover (procrastinate runs jobs in tasks)
        return
    running.add_done_callback(lambda _: loop.call_later(delay, start))


def retry_strategy(retries: int, backoff: float) -> Any:
    """procrastinate's retry strategy for ``@task(retries=, backoff=)``."""
    return _retry_class()(retries, backoff)
