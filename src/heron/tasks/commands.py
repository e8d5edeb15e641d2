"""``heron worker`` and ``heron tasks list|retry|cancel|purge``."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["tasks_group", "worker_command"]

APP_META_KEY = "heron.app"
logger = logging.getLogger("heron.tasks")


def _app() -> App:
    ctx = click.get_current_context()
    application: App | None = ctx.meta.get(APP_META_KEY)
    if application is None:
        raise click.UsageError("No app found: name it with --app, HERON_APP or app.py")
    return application


class HideArguments(logging.Filter):
    """Keeps jobs' arguments out of the worker's log: procrastinate writes each job as
    ``name[id](arg=value, ...)``, and arguments may hold secrets (a reset link)."""

    _CALL = re.compile(r"(\[\d+\])\(.*?\)(?=( |$|:))")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("procrastinate"):
            message = record.getMessage()
            hidden = self._CALL.sub(r"\1(...)", message).split(" - Result: ")[0]
            if hidden != message:
                record.msg, record.args = hidden, ()
        return True


@click.command("worker")
@click.option("--app", "app_spec", metavar="APP", expose_value=False,
              help="The app (module:attr), if not HERON_APP or app.py.")
@click.option("-q", "--queue", "queues", multiple=True, metavar="NAME",
              help="Run only this queue's jobs (repeat it for several; default: all).")
@click.option("-c", "--concurrency", type=click.IntRange(1, 1000), default=None,
              help="Jobs run at once (default: the tasks_concurrency setting).")
@click.option("--once", is_flag=True, help="Run the jobs that are ready, then stop.")
def worker_command(queues: tuple[str, ...], concurrency: int | None, once: bool) -> None:
    """Run the app's tasks (tasks_backend = "procrastinate").

    Stops on SIGTERM or Ctrl-C after the jobs it runs have finished (a second signal
    stops it at once).  It also queues again the jobs of workers that died mid-run.
    """
    application = _app()
    if application.settings.tasks_backend != "procrastinate":
        raise click.UsageError(
            f"tasks_backend is {application.settings.tasks_backend!r}: tasks run in the "
            "app's own process (local) or at once (immediate). heron worker runs them for "
            "tasks_backend = \"procrastinate\".")
    from heron.tasks.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(HideArguments())
    asyncio.run(run_worker(application, list(queues) or None,
                           concurrency or application.settings.tasks_concurrency, once))


@click.group("tasks")
@click.option("--app", "app_spec", metavar="APP", expose_value=False,
              help="The app (module:attr), if not HERON_APP or app.py.")
def tasks_group() -> None:
    """See and manage the app's jobs: list, retry, cancel, purge."""


def _backend() -> Any:
    from heron.tasks.backends import backend_for

    backend = backend_for(_app())
    close = getattr(backend, "close_sync", None)
    if close is not None:  # the PostgreSQL pool the command opened, closed when it ends
        click.get_current_context().call_on_close(close)
    return backend


@tasks_group.command("list")
@click.option("--status", type=click.Choice(["queued", "running", "succeeded", "failed",
                                             "cancelled"]), default=None)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def list_command(status: str | None, limit: int) -> None:
    """The most recent jobs, newest first."""
    from heron.tasks.results import TaskStatus

    results = _backend().list_results(None if status is None else TaskStatus(status), limit)
    if not results:
        click.echo("No jobs.")
        return
    for result in results:
        line = f"{result.id:>10}  {result.status.value:<9}  {result.task_name}  " \
               f"attempts={result.attempts}"
        if result.error:
            line += f"  error: {result.error}"
        click.echo(line)


@tasks_group.command("retry")
@click.argument("job_id")
def retry_command(job_id: str) -> None:
    """Queue a failed job again."""
    if not _backend().retry(job_id):
        click.echo(f"Job {job_id} is not a failed job; nothing queued.", err=True)
        sys.exit(1)
    click.echo(f"Job {job_id} queued again.")


@tasks_group.command("cancel")
@click.argument("job_id")
def cancel_command(job_id: str) -> None:
    """Cancel a job that has not finished (a running async job is interrupted)."""
    if not _backend().cancel(job_id):
        click.echo(f"Job {job_id} could not be cancelled (finished, or unknown).", err=True)
        sys.exit(1)
    click.echo(f"Job {job_id} cancelled.")


@tasks_group.command("purge")
@click.option("--older-than", "hours", type=click.FloatRange(min=0), default=24.0,
              show_default=True, help="Hours since the job finished.")
def purge_command(hours: float) -> None:
    """Forget finished jobs (succeeded, failed, cancelled) older than --older-than hours."""
    removed = _backend().purge(hours)
    click.echo(f"Removed {removed} finished job{'s' * (removed != 1)}.")
