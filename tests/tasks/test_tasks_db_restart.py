"""heron.tasks (``procrastinate``) survives its PostgreSQL restarting: the database is
stopped (fast shutdown) and started again on the same port and data directory under a
real ``heron worker``, which is not restarted.  Afterwards the test process's pool
enqueues again, the same worker runs the new jobs, beats its heartbeat and is woken by
NOTIFY again (not only by its 5 s poll); a job running through the outage ends
succeeded, run once, even when the outage outlasts ``tasks_stalled_after``.

The server is the test's own (not the session's ``postgres_server``): it is stopped and
started again.  Every wait is a poll with a deadline; the worker and the server are
stopped when the test ends.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pg_task_app as tasks
import psycopg
import pytest
from sqlalchemy.engine import make_url

from heron import App
from heron.db import db
from heron.db.migrations import Migrations
from heron.tasks import TaskStatus, get_result
from heron.testing.servers import PostgresServer, start_or_skip

HERE = Path(__file__).resolve().parent
T = TypeVar("T")
#: How long the database stays down (between the end of its shutdown and its start).
DOWN_FOR = 1.5
#: How long the worker may take to run a job enqueued after the restart: it reconnects
#: its LISTEN connection and its pool, and polls every 5 seconds anyway.
AFTER_RESTART = 20.0


class RestartablePostgres(PostgresServer):
    """A throwaway PostgreSQL that can be stopped and started again on the port and the
    data directory it had (``stop()`` removes them, and ``start()`` makes new ones;
    ``restart()`` keeps them)."""

    def __init__(self) -> None:
        super().__init__()
        self.restarts = 0

    def restart(self, down_for: float) -> float:
        """Fast shutdown (SIGINT: clients are disconnected), ``down_for`` seconds without
        a server, then the same cluster on the same port; the seconds it was away."""
        port, log = self.port, self._log_path
        started = time.monotonic()
        self._kill()
        assert not self.running
        self.restarts += 1
        log.rename(log.with_name(f"{log.name}.{self.restarts}"))  # _spawn truncates it
        time.sleep(down_for)
        self._port = port
        self._spawn()
        self._wait_ready(retry_on_port_clash=False)
        assert self.port == port
        return time.monotonic() - started


@pytest.fixture(scope="module")
def server() -> Iterator[RestartablePostgres]:
    server = start_or_skip(RestartablePostgres())  # no binary: skip, or fail under CI=true
    try:
        yield server
    finally:
        server.stop()


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def pg_url(server: RestartablePostgres) -> str:
    """A fresh database with the queue's tables and the tasks' log table."""
    url = str(server.create_database(f"heron_restart_{uuid.uuid4().hex[:12]}"))
    app = tasks.make_app(url)
    Migrations(app).migrate()
    asyncio.run(db.state(app).dispose())
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute(tasks.LOG_TABLE)
    return url


async def close_app(app: App) -> None:
    backend = app.extensions.get("heron.tasks.backend")
    if backend is not None:
        await backend.stop()
    await db.state(app).dispose()


@pytest.fixture
def pg_app(pg_url: str) -> Iterator[App]:
    """The app the test enqueues with (its sync pool lives across the restart)."""
    app = tasks.make_app(pg_url)
    try:
        yield app
    finally:
        asyncio.run(close_app(app))


class Worker:
    """One ``heron worker`` process, its output in a file."""

    def __init__(self, pg_url: str, output: Path) -> None:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("HERON_")
               and key not in ("PYTHONPATH", "PG_TASKS_PERIODIC")}
        env.update(PYTHONPATH=str(HERE), PYTHONDONTWRITEBYTECODE="1")
        env[tasks.URL_VARIABLE] = pg_url
        self.output = output
        with output.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "heron", "--app", "pg_task_app:app", "worker"],
                cwd=HERE, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def describe(self) -> str:
        return f"--- worker {self.pid} (exit {self.process.poll()}):\n{self.text()[-4000:]}"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


@pytest.fixture
def worker(pg_url: str, pg_app: App, tmp_path: Path) -> Iterator[Worker]:
    started = Worker(pg_url, tmp_path / "worker.log")
    try:
        yield started
    finally:
        started.kill()


class Database:
    """Reads the queue and the tasks' log on a new connection each time, so that it works
    whatever happened to the server (``None`` while it is down)."""

    def __init__(self, url: str) -> None:
        self.dsn = libpq(url)

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]] | None:
        try:
            with psycopg.connect(self.dsn, autocommit=True, connect_timeout=2) as connection:
                return connection.execute(sql, params).fetchall()
        except psycopg.OperationalError:
            return None

    def job(self, job_id: str) -> tuple[str, int] | None:
        """``(status, attempts)`` of the job."""
        rows = self.query("SELECT status::text, attempts FROM procrastinate_jobs "
                          "WHERE id = %s", int(job_id))
        return (str(rows[0][0]), int(rows[0][1])) if rows else None

    def events(self, tag: str) -> list[tuple[str, int]]:
        """``(event, pid)`` of what the tasks wrote under ``tag``, in order."""
        rows = self.query("SELECT event, pid FROM pg_task_log WHERE tag = %s ORDER BY id", tag)
        return [(str(event), int(pid)) for event, pid in rows or []]


def wait_until(what: str, check: Callable[[], T], worker: Worker, timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Waited {timeout} s for {what}.\n{worker.describe()}")
        time.sleep(0.05)


def final_status(database: Database, job_id: str) -> Callable[[], tuple[str, int] | None]:
    def check() -> tuple[str, int] | None:
        found = database.job(job_id)
        return found if found and found[0] not in ("todo", "doing") else None
    return check


def report(message: str) -> None:
    """Say what the test observed, in its output and in pytest's warnings summary."""
    print(message)
    warnings.warn(message, UserWarning, stacklevel=2)


# -- the tests -------------------------------------------------------------------------


def enqueue_after_restart(tag: str) -> str:
    """Enqueue from the test process's pool, whose connection died with the server: a
    connection used less than ``_FRESH`` (5 s) before is lent without a ping, so the first
    enqueue may fail once; it is reported (not hidden) and retried once."""
    try:
        return tasks.record.enqueue(tag=tag).id
    except Exception as exc:
        report(f"the first enqueue after the restart raised {type(exc).__name__} "
               f"({exc.__cause__!r}); retried once")
    return tasks.record.enqueue(tag=tag).id


def heartbeat_age(database: Database) -> float | None:
    rows = database.query("SELECT extract(epoch FROM now() - last_heartbeat)::float8 "
                          "FROM procrastinate_workers")
    return float(rows[0][0]) if rows and len(rows) == 1 else None


def test_a_worker_runs_jobs_enqueued_after_the_database_restarted(
        server: RestartablePostgres, pg_url: str, pg_app: App, worker: Worker) -> None:
    database = Database(pg_url)
    before = tasks.record.enqueue(tag="before-restart")
    assert wait_until("the first job", final_status(database, before.id), worker,
                      15) == ("succeeded", 1)
    assert get_result(before.id).status is TaskStatus.SUCCEEDED  # type: ignore[union-attr]

    down = server.restart(DOWN_FOR)
    restarted_at = time.monotonic()
    after = enqueue_after_restart("after-restart")
    status = wait_until("the job enqueued after the restart",
                        final_status(database, after), worker, AFTER_RESTART)
    ran_after = time.monotonic() - restarted_at
    assert worker.alive, worker.describe()  # the same process, never restarted
    assert status == ("succeeded", 1), worker.describe()
    assert database.events("before-restart") == [("ran", worker.pid)]
    assert database.events("after-restart") == [("ran", worker.pid)]
    done = get_result(after)
    assert done is not None
    assert (done.status, done.return_value) == (TaskStatus.SUCCEEDED, "after-restart")

    # The worker is whole again, not only polling: its heartbeat beats (else, past
    # tasks_stalled_after, its running jobs would be taken for a dead worker's and run
    # again) and NOTIFY wakes it (else every job waits for the 5 s poll).
    stalled_after = pg_app.settings.tasks_stalled_after  # 3 s; a beat every 1 s

    def beating() -> bool:
        age = heartbeat_age(database)
        return age is not None and age < stalled_after

    wait_until("the worker's heartbeat to beat again", beating, worker, 10)
    time.sleep(stalled_after)
    assert beating(), (heartbeat_age(database), worker.describe())  # and again since

    latencies: list[float] = []

    def three_woken_jobs() -> bool:
        enqueued = time.monotonic()
        job = tasks.record.enqueue(tag=f"probe-{len(latencies)}")
        wait_until("a probe job", final_status(database, job.id), worker, 10)
        latencies.append(time.monotonic() - enqueued)
        return len(latencies) >= 3 and max(latencies[-3:]) < 0.5

    wait_until("three jobs in a row to run within 0.5 s (woken by NOTIFY, not the poll)",
               three_woken_jobs, worker, 15)
    print(f"\ndown {down:.2f} s; the job enqueued after the restart ran {ran_after:.2f} s "
          f"after it; then jobs ran in {', '.join(f'{s:.3f}' for s in latencies)} s")
    assert worker.alive, worker.describe()
    assert "queued again" not in worker.text()


@pytest.mark.parametrize(("down_for", "seconds"), [
    (DOWN_FOR, 3),
    # away longer than tasks_stalled_after (3): the worker's heartbeat is late when the
    # database comes back, yet the worker is alive and still running the job
    (4.0, 8),
], ids=["brief-outage", "outage-past-stalled-after"])
def test_a_job_running_while_the_database_restarts_ends(
        server: RestartablePostgres, pg_url: str, pg_app: App, worker: Worker,
        down_for: float, seconds: int) -> None:
    database = Database(pg_url)
    running = tasks.slow.enqueue(tag="through-restart", seconds=seconds)
    wait_until("the job to start",
               lambda: database.events("through-restart") == [("started", worker.pid)],
               worker, 15)
    started_at = time.monotonic()

    down = server.restart(down_for)

    status = wait_until("the job to end", final_status(database, running.id), worker,
                        AFTER_RESTART)
    ended_after = time.monotonic() - started_at
    events = database.events("through-restart")
    time.sleep(1.5)  # a requeued copy would start within this
    print(f"\ndown {down:.2f} s; the job ended {ended_after:.2f} s after it started: "
          f"{status}; its log: {events}")
    assert worker.alive, worker.describe()
    # It ends as it would have without the restart: succeeded, run once, by its worker.
    assert status == ("succeeded", 1), worker.describe()
    assert database.events("through-restart") == [
        ("started", worker.pid), ("finished", worker.pid)], worker.describe()
    done = get_result(running.id)
    assert done is not None
    assert (done.status, done.return_value, done.error) == (
        TaskStatus.SUCCEEDED, f"slept {seconds}", None)
    assert "queued again" not in worker.text(), worker.describe()
