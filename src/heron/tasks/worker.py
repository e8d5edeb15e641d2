"""``heron worker``: procrastinate's worker on the app's tasks, and the requeueing of the
jobs of workers that died mid-run."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import procrastinate

    from heron.app import App

__all__ = ["run_worker"]

logger = logging.getLogger("heron.tasks")


async def run_worker(app: App, queues: list[str] | None, concurrency: int,
                     once: bool = False) -> None:
    """Run the app's jobs until SIGTERM (or, with ``once``, until none is ready)."""
    import procrastinate

    from heron.tasks.backends import backend_for
    from heron.tasks.backends.postgres import ProcrastinateBackend, async_pool

    backend = backend_for(app)
    assert isinstance(backend, ProcrastinateBackend)
    stalled_after = app.settings.tasks_stalled_after
    papp = backend.procrastinate_app(procrastinate.PsycopgConnector(
        conninfo=backend.conninfo, min_size=1, max_size=concurrency + 4,
        pool_factory=async_pool))
    async with papp.open_async():
        logger.info("heron worker: %d task(s), queues %s, %d at a time", len(papp.tasks),
                    ", ".join(queues) if queues else "all", concurrency)
        await requeue_stalled(papp, stalled_after)
        recovery = asyncio.create_task(_requeue_forever(papp, stalled_after))
        try:
            # queues=None means every queue (procrastinate's annotation leaves it out).
            await papp.run_worker_async(
                queues=queues,  # type: ignore[arg-type]
                concurrency=concurrency, wait=not once,
                # A dead worker is one whose heartbeat is stalled_after seconds old: beat
                # three times in that span, so that a live one is never taken for dead.
                update_heartbeat_interval=max(1.0, stalled_after / 3),
                stalled_worker_timeout=stalled_after)
        finally:
            recovery.cancel()
    await backend.stop()


async def requeue_stalled(papp: procrastinate.App, stalled_after: float) -> int:
    """Queue again the running jobs of workers whose heartbeat stopped (killed, lost);
    how many.  procrastinate leaves them running forever otherwise."""
    from heron.tasks.backends.postgres import wake_workers

    stalled = list(await papp.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=stalled_after))
    for job in stalled:
        logger.warning("Job %s (%s) was running on a worker that stopped answering; "
                       "queued again", job.id, job.task_name)
        await papp.job_manager.retry_job(job)
        await wake_workers(papp.connector, job.queue, job.id)
    return len(stalled)


async def _requeue_forever(papp: procrastinate.App, stalled_after: float) -> None:
    while True:
        await asyncio.sleep(max(1.0, stalled_after / 3))
        try:
            await requeue_stalled(papp, stalled_after)
        except Exception:  # the database is down: try again next time
            logger.exception("Looking for the jobs of dead workers failed")
