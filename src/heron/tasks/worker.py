"""``heron worker``: procrastinate's worker on the app's tasks, and the requeueing of the
jobs of workers that died mid-run."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import procrastinate

    from heron.app import App

__all__ = ["run_worker"]

logger = logging.getLogger("heron.tasks")


async def run_worker(app: App, queues: list[str] | None, concurrency: int,
                     once: bool = False) -> None:
    """Run the app's jobs until SIGTERM (or, with ``once``, until none is ready)."""
    from heron.tasks.backends import backend_for
    from heron.tasks.backends.postgres import ProcrastinateBackend

    backend = backend_for(app)
    assert isinstance(backend, ProcrastinateBackend)
    stalled_after = app.settings.tasks_stalled_after
    papp = backend.procrastinate_app(_connector(backend.conninfo, concurrency + 4))
    own: set[int] = set()  # this worker's id in procrastinate_workers, once known

    async def note_own_id(call_next: Any, context: Any, worker: Any) -> Any:
        if worker.worker_id is not None:
            own.add(worker.worker_id)
        return await call_next()

    async with papp.open_async():
        logger.info("heron worker: %d task(s), queues %s, %d at a time", len(papp.tasks),
                    ", ".join(queues) if queues else "all", concurrency)
        await requeue_stalled(papp, stalled_after)
        recovery = asyncio.create_task(_requeue_forever(papp, stalled_after, own))
        try:
            # queues=None means every queue (procrastinate's annotation leaves it out).
            await papp.run_worker_async(
                queues=queues,  # type: ignore[arg-type]
                concurrency=concurrency, wait=not once,
                # A dead worker is one whose heartbeat is stalled_after seconds old: beat
                # three times in that span, so that a live one is never taken for dead.
                update_heartbeat_interval=max(1.0, stalled_after / 3),
                stalled_worker_timeout=stalled_after,
                worker_middleware=[note_own_id])
        finally:
            recovery.cancel()
    await backend.stop()


async def requeue_stalled(papp: procrastinate.App, stalled_after: float,
                          own: Collection[int] = ()) -> int:
    """Queue again the running jobs of workers whose heartbeat stopped (killed, lost);
    how many.  procrastinate leaves them running forever otherwise.

    The jobs of the workers in ``own`` (this process's) are left alone: this worker is
    running them, even if its heartbeat is late (the database was away for a while).
    """
    from heron.tasks.backends.postgres import wake_workers

    stalled = [job for job in await papp.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=stalled_after) if job.worker_id not in own]
    for job in stalled:
        logger.warning("Job %s (%s) was running on a worker that stopped answering; "
                       "queued again", job.id, job.task_name)
        await papp.job_manager.retry_job(job)
        await wake_workers(papp.connector, job.queue, job.id)
    return len(stalled)


async def _requeue_forever(papp: procrastinate.App, stalled_after: float,
                           own: Collection[int]) -> None:
    while True:
        await asyncio.sleep(max(1.0, stalled_after / 3))
        try:
            await requeue_stalled(papp, stalled_after, own)
        except Exception:  # the database is down: try again next time
            logger.exception("Looking for the jobs of dead workers failed")


# The database restarting must not leave the worker half alive.  Its pool pings every
# connection before lending it (not only those idle past postgres._FRESH, as the
# enqueueing side does): a dead connection would fail whatever drew it, the heartbeat
# (which then ends for good, unnoticed: procrastinate's watch over its side tasks ends
# when its periodic deferrer, with no periodic task, returns at once; past
# tasks_stalled_after the worker's running jobs are taken for a dead worker's and run
# again), the fetch of a job (the worker crashes), the result's record (a success
# recorded as a failure) or the job's end (left running).  And its LISTEN connection
# reconnects until the database is back: procrastinate tries once, at once, and its
# listener ends for good if that fails (the worker then only polls, every 5 s).


def _connector(conninfo: str, max_size: int) -> Any:
    import procrastinate
    import psycopg_pool
    from procrastinate.exceptions import ConnectorException

    def pool(**options: Any) -> Any:
        options["check"] = psycopg_pool.AsyncConnectionPool.check_connection
        return psycopg_pool.AsyncConnectionPool(**options)

    class WorkerConnector(procrastinate.PsycopgConnector):
        async def listen_notify(self, on_notification: Any, channels: Any) -> None:
            quiet_until = 0.0
            while True:
                try:
                    await super().listen_notify(on_notification, channels)
                except ConnectorException:
                    if time.monotonic() > quiet_until:  # once an outage, not every second
                        logger.warning("Lost the connection that listens for new jobs; "
                                       "reconnecting (jobs are polled every 5 s meanwhile)",
                                       exc_info=True)
                    quiet_until = time.monotonic() + 60
                    await asyncio.sleep(1)

    return WorkerConnector(conninfo=conninfo, min_size=1, max_size=max_size, pool_factory=pool)
