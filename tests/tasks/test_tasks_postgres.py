"""heron.tasks on a real PostgreSQL with real ``heron worker`` processes: jobs enqueued
from sync and async code, in transactions and requests, retried with their backoff,
timed out, requeued after a SIGKILL, finished on SIGTERM, serialized by a lock, fired by
cron, and managed with ``heron tasks``.  No mocks: the tasks live in ``pg_task_app`` and
write what they do to the table ``pg_task_log`` (timestamps from the database's clock).

Every wait is a short poll with a deadline; every worker is killed when its test ends.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pg_task_app as tasks
import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from heron import App, Request
from heron.db import db
from heron.db.migrations import Migrations
from heron.tasks import (
    TaskError,
    TaskResult,
    TaskStatus,
    aget_result,
    get_result,
    get_task,
    list_results,
)
from heron.testing import TestClient

HERE = Path(__file__).resolve().parent
T = TypeVar("T")
WRITE = text("INSERT INTO pg_task_log (tag, event) VALUES (:tag, 'written')")
TABLES = ("procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, "
          "procrastinate_workers, heron_task_result, pg_task_log")


# -- the database, the app, the workers ----------------------------------------------------


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def pg_url(postgres_server: Any) -> str:
    """A fresh database with the queue's tables (``heron db migrate``) and the log table."""
    url = str(postgres_server.create_database(f"heron_tasks_{uuid.uuid4().hex[:12]}"))
    app = tasks.make_app(url)
    Migrations(app).migrate()
    asyncio.run(db.state(app).dispose())
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        connection.execute(tasks.LOG_TABLE)
    return url


class Log:
    """Reads the queue's and the tasks' tables on a connection of its own."""

    def __init__(self, url: str) -> None:
        self.connection = psycopg.connect(libpq(url), autocommit=True)

    def rows(self, tag: str) -> list[tuple[str, int, datetime]]:
        """``(event, pid, at)`` of what the tasks wrote under ``tag``, in order."""
        return [(event, pid, at) for event, pid, at in self.connection.execute(
            "SELECT event, pid, at FROM pg_task_log WHERE tag = %s ORDER BY id", [tag])]

    def events(self, tag: str) -> list[str]:
        return [event for event, _, _ in self.rows(tag)]

    def tags(self, event: str) -> set[str]:
        return {row[0] for row in self.connection.execute(
            "SELECT tag FROM pg_task_log WHERE event = %s", [event])}

    def count(self, table: str) -> int:
        row = self.connection.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return int(row[0])

    def empty_tables(self) -> None:
        self.connection.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")


@pytest.fixture
def log(pg_url: str) -> Iterator[Log]:
    reader = Log(pg_url)
    try:
        yield reader
    finally:
        reader.empty_tables()  # the next test starts on an empty queue
        reader.connection.close()


async def close_app(app: App) -> None:
    """Close the queue's and the database's connections of ``app`` (on this loop)."""
    backend = app.extensions.get("heron.tasks.backend")
    if backend is not None:
        await backend.stop()
    await db.state(app).dispose()


@pytest.fixture
def pg_app(pg_url: str, log: Log) -> Iterator[App]:
    """The app of ``pg_task_app`` on the test database: the one the tasks enqueue to."""
    app = tasks.make_app(pg_url)
    try:
        yield app
    finally:
        asyncio.run(close_app(app))


def child_env(pg_url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("HERON_") and key not in ("PYTHONPATH", "PG_TASKS_PERIODIC")}
    env.update(PYTHONPATH=str(HERE), PYTHONDONTWRITEBYTECODE="1", **extra)
    env[tasks.URL_VARIABLE] = pg_url
    return env


class Worker:
    """One ``heron worker`` process, its output in a file."""

    def __init__(self, process: subprocess.Popen[bytes], output: Path) -> None:
        self.process = process
        self.output = output

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


class Workers:
    """Starts ``heron worker`` processes; :meth:`kill_all` ends every one of them."""

    def __init__(self, pg_url: str, folder: Path) -> None:
        self.pg_url = pg_url
        self.folder = folder
        self.started: list[Worker] = []

    def start(self, *args: str, periodic: bool = False) -> Worker:
        output = self.folder / f"worker-{len(self.started)}.log"
        env = child_env(self.pg_url, **({"PG_TASKS_PERIODIC": "1"} if periodic else {}))
        with output.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "heron", "--app", "pg_task_app:app", "worker", *args],
                cwd=HERE, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT)
        worker = Worker(process, output)
        self.started.append(worker)
        return worker

    def outputs(self) -> str:
        return "\n".join(f"--- worker {w.pid} (exit {w.process.poll()}):\n{w.text()[-3000:]}"
                         for w in self.started)

    def kill_all(self) -> None:
        for worker in self.started:
            worker.kill()


@pytest.fixture
def workers(pg_url: str, pg_app: App, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(pg_url, tmp_path)
    try:
        yield started
    finally:
        started.kill_all()


@pytest.fixture
def worker(workers: Workers) -> Worker:
    """A worker running from the start of the test (for async tests: no Popen in them)."""
    return workers.start()


def wait_until(what: str, check: Callable[[], T], workers: Workers | None = None,
               timeout: float = 15.0) -> T:
    """Poll ``check`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Waited {timeout} s for {what}.\n"
                        f"{workers.outputs() if workers else ''}")
        time.sleep(0.05)


def wait_status(job_id: str, workers: Workers, status: TaskStatus | None = None,
                timeout: float = 15.0) -> TaskResult:
    """The job's result once it has finished (or reached ``status``)."""
    def reached() -> TaskResult | None:
        result = get_result(job_id)
        if result is None:
            return None
        done = result.finished if status is None else result.status is status
        return result if done else None

    return wait_until(f"job {job_id} to {'finish' if status is None else status.value}",
                      reached, workers, timeout)


async def await_finished(job_id: str, within: float = 15.0) -> TaskResult:
    deadline = time.monotonic() + within
    while True:
        result = await aget_result(job_id)
        if result is not None and result.finished:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"Waited {within} s for job {job_id} to finish: {result}")
        await asyncio.sleep(0.05)


# -- running, retrying, timing out ---------------------------------------------------------


def test_a_job_enqueued_from_sync_code_runs_in_a_worker(pg_app: App, workers: Workers,
                                                        log: Log) -> None:
    queued = tasks.add.enqueue(a=2, b=3)
    assert queued.id.isdigit()
    assert queued.status is TaskStatus.QUEUED
    assert get_result(queued.id).status is TaskStatus.QUEUED  # type: ignore[union-attr]

    worker = workers.start()
    done = wait_status(queued.id, workers)
    assert (done.status, done.return_value, done.attempts, done.error) == (
        TaskStatus.SUCCEEDED, {"sum": 5}, 1, None)
    assert done.task_name == "pgtest.add"
    assert done.kwargs == {"a": 2, "b": 3}
    assert done.finished_at is not None
    assert [(event, pid) for event, pid, _ in log.rows("add:2+3")] == [("ran", worker.pid)]
    assert [r.id for r in list_results(TaskStatus.SUCCEEDED)] == [queued.id]
    assert get_result("12345678") is None
    assert get_result("not a number") is None


async def test_a_job_enqueued_from_async_code_runs_in_a_worker(pg_app: App, worker: Worker,
                                                               log: Log) -> None:
    try:
        queued = await tasks.aadd.aenqueue(a=4, b=5)
        assert queued.id.isdigit()
        done = await await_finished(queued.id)
        assert (done.status, done.return_value, done.attempts) == (TaskStatus.SUCCEEDED, 9, 1)
        assert [(event, pid) for event, pid, _ in log.rows("aadd:4+5")] == [("ran", worker.pid)]
    finally:
        await close_app(pg_app)


def test_a_failing_task_is_retried_with_a_growing_backoff_then_fails(
        pg_app: App, worker: Worker, workers: Workers, log: Log) -> None:
    queued = tasks.flaky.enqueue(tag="flaky")  # retries=2, backoff=0.2
    done = wait_status(queued.id, workers)
    assert done.status is TaskStatus.FAILED
    assert done.attempts == 3
    assert done.error == "ValueError: flaky flaky failed"
    assert done.return_value is None

    runs = log.rows("flaky")
    assert [event for event, _, _ in runs] == ["attempt"] * 3
    first, second = ((b[2] - a[2]).total_seconds() for a, b in itertools.pairwise(runs))
    # 0.2 s, then 0.4 s: the worker is woken when a retry is due, not at its 5 s poll
    assert 0.2 <= first < second < 2.5, (first, second)
    assert second >= 0.4


def test_a_run_past_its_timeout_fails(pg_app: App, worker: Worker, workers: Workers,
                                      log: Log) -> None:
    queued = tasks.too_slow.enqueue(tag="too-slow")  # timeout=0.5, sleeps 5 s
    done = wait_status(queued.id, workers)
    assert done.status is TaskStatus.FAILED
    assert done.error is not None
    assert done.error.startswith("TimeoutError")
    assert done.attempts == 1
    (_, _, started_at), = log.rows("too-slow")  # it never reached "finished"
    assert done.finished_at is not None
    assert (done.finished_at - started_at).total_seconds() < 3


# -- enqueued with the transaction ---------------------------------------------------------


def test_a_job_enqueued_in_a_transaction_exists_only_if_it_commits(
        pg_app: App, worker: Worker, workers: Workers, log: Log) -> None:
    with db.context(pg_app):
        db.session.execute(WRITE, {"tag": "tx-rolled-back"})
        assert db.current_transaction() is db.session
        rolled_back = tasks.record.enqueue(tag="job-rolled-back")
        db.session.rollback()
    assert get_result(rolled_back.id) is None

    with db.context(pg_app):
        db.session.execute(WRITE, {"tag": "tx-committed"})
        committed = tasks.record.enqueue(tag="job-committed")
        assert get_result(committed.id) is None  # not committed: nobody else sees it
        db.session.commit()
    done = wait_status(committed.id, workers)
    assert (done.status, done.return_value) == (TaskStatus.SUCCEEDED, "job-committed")

    # a transaction that only read is not joined: the job stands whatever it does
    with db.context(pg_app):
        assert db.session.scalar(select(func.now())) is not None
        assert db.current_transaction() is None
        independent = tasks.record.enqueue(tag="job-read-only")
        db.session.rollback()
    assert wait_status(independent.id, workers).status is TaskStatus.SUCCEEDED

    assert log.tags("written") == {"tx-committed"}
    assert log.tags("ran") == {"job-committed", "job-read-only"}
    assert log.count("procrastinate_jobs") == 2


async def test_a_job_enqueued_in_an_async_transaction_exists_only_if_it_commits(
        pg_app: App, worker: Worker, log: Log) -> None:
    try:
        async with db.async_context(pg_app):
            await db.async_session.execute(WRITE, {"tag": "atx-rolled-back"})
            assert db.current_transaction() is db.async_session
            with pytest.raises(TaskError, match="aenqueue"):  # sync enqueue cannot join it
                tasks.record.enqueue(tag="job-sync-in-async")
            rolled_back = await tasks.record.aenqueue(tag="ajob-rolled-back")
            await db.async_session.rollback()
        assert await aget_result(rolled_back.id) is None

        async with db.async_context(pg_app):
            await db.async_session.execute(WRITE, {"tag": "atx-committed"})
            committed = await tasks.record.aenqueue(tag="ajob-committed")
            assert await aget_result(committed.id) is None
            await db.async_session.commit()
        done = await await_finished(committed.id)
        assert (done.status, done.return_value) == (TaskStatus.SUCCEEDED, "ajob-committed")

        assert log.tags("written") == {"atx-committed"}
        assert log.tags("ran") == {"ajob-committed"}
        assert log.count("procrastinate_jobs") == 1
    finally:
        await close_app(pg_app)


def test_a_job_enqueued_in_a_request_runs_only_if_the_request_commits(
        pg_app: App, worker: Worker, workers: Workers, log: Log) -> None:
    enqueued: dict[str, str] = {}

    @pg_app.post("/sync")
    def sync_view(request: Request) -> dict[str, str]:
        tag = request.query_params["tag"]
        db.session.execute(WRITE, {"tag": tag})
        enqueued[tag] = tasks.record.enqueue(tag=tag).id
        if "fail" in request.query_params:
            raise RuntimeError("the view failed after enqueueing")
        db.session.commit()
        return {"id": enqueued[tag]}

    @pg_app.post("/async")
    async def async_view(request: Request) -> dict[str, str]:
        tag = request.query_params["tag"]
        await db.async_session.execute(WRITE, {"tag": tag})
        enqueued[tag] = (await tasks.record.aenqueue(tag=tag)).id
        if "fail" in request.query_params:
            raise RuntimeError("the view failed after enqueueing")
        await db.async_session.commit()
        return {"id": enqueued[tag]}

    with TestClient(pg_app) as client:
        for path in ("/sync", "/async"):
            response = client.post(f"{path}?tag=req{path}")
            assert response.status_code == 200, response.text
            assert response.json() == {"id": enqueued[f"req{path}"]}
            assert client.post(f"{path}?tag=req{path}-fail&fail=1").status_code == 500

    for tag in ("req/sync", "req/async"):
        done = wait_status(enqueued[tag], workers)
        assert (done.status, done.return_value) == (TaskStatus.SUCCEEDED, tag)
    for tag in ("req/sync-fail", "req/async-fail"):
        assert get_result(enqueued[tag]) is None  # rolled back with the request
    assert log.tags("written") == log.tags("ran") == {"req/sync", "req/async"}
    assert log.count("procrastinate_jobs") == 2


# -- workers that die, stop, share a lock, keep time ------------------------------------


def test_the_job_of_a_killed_worker_runs_again_on_another(pg_app: App, workers: Workers,
                                                          log: Log) -> None:
    first = workers.start()
    queued = tasks.slow.enqueue(tag="killed", seconds=3)
    wait_until("the job to start", lambda: log.events("killed") == ["started"], workers)
    first.kill()  # SIGKILL: no time to finish, or to say anything
    assert get_result(queued.id).status is TaskStatus.RUNNING  # type: ignore[union-attr]

    second = workers.start()
    done = wait_status(queued.id, workers, timeout=15)  # tasks_stalled_after=3
    assert (done.status, done.attempts, done.return_value) == (
        TaskStatus.SUCCEEDED, 2, "slept 3")
    assert [(event, pid) for event, pid, _ in log.rows("killed")] == [
        ("started", first.pid), ("started", second.pid), ("finished", second.pid)]
    assert "stopped answering; queued again" in second.text()


def test_sigterm_lets_the_running_job_finish_then_exits_0(pg_app: App, workers: Workers,
                                                          log: Log) -> None:
    worker = workers.start()
    running = tasks.slow.enqueue(tag="graceful", seconds=1.5)
    wait_until("the job to start", lambda: log.events("graceful") == ["started"], workers)
    worker.process.send_signal(signal.SIGTERM)
    wait_until("the worker to stop taking jobs", lambda: "Stop requested" in worker.text(),
               workers)
    later = tasks.record.enqueue(tag="after-sigterm")
    assert worker.process.poll() is None  # still running its job

    assert worker.process.wait(15) == 0, workers.outputs()
    done = get_result(running.id)
    assert done is not None
    assert (done.status, done.return_value) == (TaskStatus.SUCCEEDED, "slept 1.5")
    assert [(event, pid) for event, pid, _ in log.rows("graceful")] == [
        ("started", worker.pid), ("finished", worker.pid)]
    assert get_result(later.id).status is TaskStatus.QUEUED  # type: ignore[union-attr]
    assert log.events("after-sigterm") == []


def test_jobs_holding_one_lock_never_overlap(pg_app: App, workers: Workers, log: Log) -> None:
    locked = [tasks.locked.enqueue(tag=f"L{i}") for i in range(4)]  # @task(lock="L")
    other = [tasks.locked.using(lock="M").enqueue(tag=f"M{i}") for i in range(2)]
    started = time.monotonic()
    workers.start("-c", "2")
    workers.start("-c", "2")
    for job in locked + other:
        assert wait_status(job.id, workers).status is TaskStatus.SUCCEEDED
    # each release wakes the workers: 4 runs of 0.3 s, not one per 5 s poll
    assert time.monotonic() - started < 10

    def spans(prefix: str, count: int) -> list[tuple[datetime, datetime]]:
        found = []
        for i in range(count):
            (start, _, began), (end, _, ended) = log.rows(f"{prefix}{i}")
            assert (start, end) == ("start", "end")
            found.append((began, ended))
        return sorted(found)

    l_spans, m_spans = spans("L", 4), spans("M", 2)
    for (_, previous_end), (next_start, _) in itertools.pairwise(l_spans):
        assert next_start >= previous_end
    for (_, previous_end), (next_start, _) in itertools.pairwise(m_spans):
        assert next_start >= previous_end
    # another lock does not wait for L
    assert any(m_start < l_end and l_start < m_end
               for m_start, m_end in m_spans for l_start, l_end in l_spans)


def test_a_periodic_task_runs_every_second(pg_app: App, workers: Workers, log: Log) -> None:
    workers.start(periodic=True)  # @task(cron="* * * * * */1") exists in this worker only
    def two_ticks() -> list[tuple[str, int, datetime]] | None:
        rows = log.rows("tick")
        return rows if len(rows) >= 2 else None

    started = time.monotonic()
    ticks = wait_until("two ticks", two_ticks, workers, timeout=10)
    assert time.monotonic() - started < 8
    stamps = [int(event) for event, _, _ in ticks]
    assert stamps == sorted(set(stamps))  # one run per scheduled second
    now = datetime.now(UTC).timestamp()
    assert all(now - 15 < stamp <= now + 1 for stamp in stamps)
    runs = [r for r in list_results() if r.task_name == "pgtest.tick" and r.finished]
    assert runs
    assert all(r.status is TaskStatus.SUCCEEDED for r in runs)
    assert {r.return_value for r in runs} <= set(stamps)


# -- enqueue's checks, the commands, the check ---------------------------------------------


def test_bad_input_fails_at_enqueue_and_writes_nothing(pg_app: App, log: Log) -> None:
    with pytest.raises(TaskError, match="nope"):
        get_task("nope")
    assert get_task("pgtest.add") is tasks.add
    with pytest.raises(TaskError, match="JSON"):
        tasks.record.enqueue(tag=object())  # type: ignore[arg-type]
    with pytest.raises(TaskError, match="JSON"):
        tasks.record.enqueue(tag=datetime.now(UTC))  # type: ignore[arg-type]
    with pytest.raises(TaskError, match="missing"):
        tasks.add.enqueue(a=1)  # type: ignore[call-arg]
    with pytest.raises(TaskError, match="unexpected"):
        tasks.add.enqueue(a=1, b=2, c=3)  # type: ignore[call-arg]
    with pytest.raises(TaskError, match="missing"):
        asyncio.run(tasks.aadd.aenqueue(b=2))  # type: ignore[call-arg]
    with pytest.raises(TaskError, match="delay"):
        tasks.record.using(delay=-1).enqueue(tag="x")
    with db.context(pg_app):  # inside a transaction too: nothing joins it
        db.session.execute(WRITE, {"tag": "bad-input"})
        with pytest.raises(TaskError, match="JSON"):
            tasks.record.enqueue(tag={1, 2})  # type: ignore[arg-type]
        db.session.commit()
    assert log.count("procrastinate_jobs") == 0
    assert log.count("heron_task_result") == 0


def heron(pg_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "heron", "--app", "pg_task_app:app", *args], cwd=HERE,
        env=child_env(pg_url), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=60)


def test_the_tasks_commands_manage_the_real_queue(pg_app: App, worker: Worker,
                                                  workers: Workers, log: Log) -> None:
    url = workers.pg_url
    failing = tasks.fails_first.enqueue(tag="cmd-retry")
    delayed = tasks.record.using(delay=60).enqueue(tag="cmd-delayed")
    kept = tasks.record.using(delay=60).enqueue(tag="cmd-kept")
    assert wait_status(failing.id, workers).status is TaskStatus.FAILED

    listed = heron(url, "tasks", "list")
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert set(lines) == {failing.id, delayed.id, kept.id}
    assert "failed" in lines[failing.id]
    assert "pgtest.fails_first" in lines[failing.id]
    assert "error: RuntimeError: first run of cmd-retry" in lines[failing.id]
    assert "queued" in lines[delayed.id]
    only_failed = heron(url, "tasks", "list", "--status", "failed")
    assert [line.split()[0] for line in only_failed.stdout.splitlines()] == [failing.id]

    cancelled = heron(url, "tasks", "cancel", delayed.id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"Job {delayed.id} cancelled." in cancelled.stdout
    assert get_result(delayed.id).status is TaskStatus.CANCELLED  # type: ignore[union-attr]
    assert heron(url, "tasks", "cancel", delayed.id).returncode == 1  # finished already

    retried = heron(url, "tasks", "retry", failing.id)
    assert retried.returncode == 0, retried.stderr
    done = wait_status(failing.id, workers, TaskStatus.SUCCEEDED)
    assert (done.return_value, done.error) == ("second time lucky", None)
    assert log.events("cmd-retry") == ["attempt", "attempt"]  # it ran once more
    assert heron(url, "tasks", "retry", failing.id).returncode == 1  # not a failed job

    purged = heron(url, "tasks", "purge", "--older-than", "0")
    assert purged.returncode == 0, purged.stderr
    assert "Removed 2 finished jobs." in purged.stdout
    assert get_result(failing.id) is None
    assert get_result(delayed.id) is None
    assert get_result(kept.id).status is TaskStatus.QUEUED  # type: ignore[union-attr]
    assert log.count("heron_task_result") == 0
    assert log.events("cmd-delayed") == []


def test_check_finds_procrastinate_on_sqlite(tmp_path: Path) -> None:
    app = App(database_url=f"sqlite:///{tmp_path / 'app.sqlite3'}",
              tasks_backend="procrastinate", secret_key="check", allowed_hosts=["testserver"])
    problems = [p for p in app.check() if p.id.startswith("heron.tasks")]
    assert [p.id for p in problems] == ["heron.tasks.E003"]
    assert "PostgreSQL" in str(problems[0])
    assert "local" in str(problems[0])


def test_check_accepts_procrastinate_on_postgresql(pg_app: App) -> None:
    assert [p.id for p in pg_app.check() if p.id.startswith("heron.tasks")] == []
