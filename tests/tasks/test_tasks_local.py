"""The ``local`` backend: jobs run in the app's process, on the server's event loop,
while the app serves (inside ``with TestClient(app):``): after the response, by
priority, delayed, retried with backoff, timed out, under locks, cancelled, with the
database transaction that enqueued them, on a cron schedule, and finished on shutdown.
Outside serving, a job runs at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, table, text

import heron.mail.tasks  # noqa: F401 (declares heron.mail.deliver before the tests)
from heron import App
from heron.db import db
from heron.tasks import (
    TaskResult,
    TaskStatus,
    cancel,
    get_result,
    get_task,
    list_results,
    task,
)
from heron.testing import TestClient, extract_csrf_token

AppFactory = Callable[..., App]
#: What the tasks did: (label, event, time.monotonic()).
RUNS: list[tuple[str, str, float]] = []
RELEASE = threading.Event()
FAILURES: dict[str, int] = {}
DEADLINE = 5.0


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from heron.tasks import registry

    monkeypatch.setattr(registry, "_TASKS", dict(registry._TASKS))
    RUNS.clear()
    FAILURES.clear()
    RELEASE.clear()
    yield
    RELEASE.set()  # a blocked task must not outlive its test


@pytest.fixture
def local_app(make_app: AppFactory) -> Callable[..., App]:
    def factory(**settings: Any) -> App:
        settings.setdefault("tasks_backend", "local")
        return make_app(**settings)

    return factory


def wait_for(job_id: str, *, timeout: float = DEADLINE,
             status: Callable[[TaskResult], bool] = lambda r: r.finished) -> TaskResult:
    """Poll the job's result until ``status`` holds (by default: finished)."""
    deadline = time.monotonic() + timeout
    while True:
        result = get_result(job_id)
        if result is not None and status(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} is still {result}")
        time.sleep(0.005)


def started(job_id: str) -> TaskResult:
    return wait_for(job_id, status=lambda r: r.status is not TaskStatus.QUEUED)


def labels(event: str = "start") -> list[str]:
    return [label for label, what, _ in RUNS if what == event]


def moments(label: str) -> dict[str, float]:
    return {what: when for name, what, when in RUNS if name == label}


# -- tasks of this module -------------------------------------------------------------------


@task(name="local.record")
def record(label: str) -> str:
    RUNS.append((label, "start", time.monotonic()))
    return label


@task(name="local.blocker")
def blocker(label: str = "blocker") -> str:
    """Runs until the test sets RELEASE."""
    RUNS.append((label, "start", time.monotonic()))
    assert RELEASE.wait(DEADLINE), "the test never released the blocker"
    RUNS.append((label, "end", time.monotonic()))
    return label


@task(name="local.nap")
async def nap(label: str, seconds: float) -> str:
    RUNS.append((label, "start", time.monotonic()))
    await asyncio.sleep(seconds)
    RUNS.append((label, "end", time.monotonic()))
    return label


@task(name="local.locked_nap", lock="the-lock")
async def locked_nap(label: str, seconds: float) -> str:
    return await nap.func(label, seconds)


@task(name="local.flaky", retries=2, backoff=0.1)
def flaky(label: str) -> str:
    RUNS.append((label, "start", time.monotonic()))
    if FAILURES.get(label, 0) > 0:
        FAILURES[label] -= 1
        raise ConnectionError(f"{label} is down")
    return "up"


@task(name="local.locked_flaky", lock="the-lock")
async def locked_flaky(label: str) -> str:
    RUNS.append((label, "start", time.monotonic()))
    if FAILURES.get(label, 0) > 0:
        FAILURES[label] -= 1
        raise ConnectionError(f"{label} is down")
    return label


@task(name="local.too_slow", timeout=0.1)
async def too_slow() -> None:
    RUNS.append(("too_slow", "start", time.monotonic()))
    await asyncio.sleep(DEADLINE)
    RUNS.append(("too_slow", "end", time.monotonic()))


@task(name="local.too_slow_retried", timeout=0.05, retries=1)
async def too_slow_retried() -> None:
    RUNS.append(("too_slow_retried", "start", time.monotonic()))
    await asyncio.sleep(DEADLINE)


@task(name="local.count_notes")
def count_notes(body: str) -> int:
    RUNS.append((body, "start", time.monotonic()))
    found = db.session.scalar(text("SELECT count(*) FROM notes WHERE body = :b"), {"b": body})
    return int(found or 0)


def database_app(local_app: Callable[..., App], tmp_path: Path, **settings: Any) -> App:
    app = local_app(database_url=f"sqlite:///{tmp_path / 'local.sqlite3'}", **settings)
    with db.context(app):
        db.session.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        db.session.commit()
    return app


def insert(body: str) -> None:
    db.session.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})


# -- in the background ------------------------------------------------------------------------


def test_a_job_runs_after_the_response(local_app: Callable[..., App]) -> None:
    app = local_app()

    @app.post("/reports")
    def create() -> dict[str, Any]:
        queued = blocker.enqueue("report")
        return {"id": queued.id, "status": queued.status}

    @app.post("/async-reports")
    async def acreate() -> dict[str, Any]:
        queued = await nap.aenqueue("async report", 0.01)
        return {"id": queued.id, "status": queued.status}

    with TestClient(app) as client:
        answer = client.post("/reports").json()
        # The response came back while the job waits for RELEASE: it goes on.
        assert answer["status"] in ("queued", "running")
        running = started(answer["id"])
        assert (running.status, running.attempts) == (TaskStatus.RUNNING, 1)
        assert not running.finished
        RELEASE.set()
        done = wait_for(answer["id"])
        assert (done.status, done.return_value, done.attempts) == (
            TaskStatus.SUCCEEDED, "report", 1)
        assert done.finished_at is not None

        other = client.post("/async-reports").json()
        assert other["status"] == "queued"
        assert wait_for(other["id"]).return_value == "async report"
    assert labels() == ["report", "async report"]


def test_jobs_run_by_priority_then_in_order(local_app: Callable[..., App]) -> None:
    app = local_app(tasks_concurrency=1)
    with TestClient(app):
        busy = blocker.enqueue()
        started(busy.id)  # the only worker is busy: the next jobs wait in the queue
        ids = [record.using(priority=priority).enqueue(label).id
               for label, priority in [("low", 0), ("high", 5), ("low 2", 0), ("mid", 2),
                                       ("urgent", 9), ("negative", -1)]]
        assert all(get_result(i).status is TaskStatus.QUEUED for i in ids)  # type: ignore[union-attr]
        RELEASE.set()
        for job_id in ids:
            wait_for(job_id)
    assert labels() == ["blocker", "urgent", "high", "mid", "low", "low 2", "negative"]


def test_a_task_priority_is_its_default(local_app: Callable[..., App]) -> None:
    @task(name="local.important", priority=7)
    def important(label: str) -> None:
        RUNS.append((label, "start", time.monotonic()))

    app = local_app(tasks_concurrency=1)
    with TestClient(app):
        busy = blocker.enqueue()
        started(busy.id)
        last = record.enqueue("plain").id
        first = important.enqueue("important").id
        RELEASE.set()
        wait_for(last)
        wait_for(first)
    assert labels() == ["blocker", "important", "plain"]


def test_delay_and_run_at_hold_a_job_back(local_app: Callable[..., App]) -> None:
    app = local_app()
    with TestClient(app):
        begin = time.monotonic()
        delayed = record.using(delay=0.3).enqueue("delayed")
        timed = record.using(run_at=datetime.now(UTC) + timedelta(seconds=0.2)).enqueue("timed")
        past = record.using(run_at=datetime.now(UTC) - timedelta(hours=1)).enqueue("past")
        assert wait_for(past.id).status is TaskStatus.SUCCEEDED
        assert get_result(delayed.id).status is TaskStatus.QUEUED  # type: ignore[union-attr]
        assert wait_for(timed.id).status is TaskStatus.SUCCEEDED
        assert wait_for(delayed.id).status is TaskStatus.SUCCEEDED
    assert labels() == ["past", "timed", "delayed"]
    assert 0.15 <= moments("timed")["start"] - begin < 2
    assert 0.25 <= moments("delayed")["start"] - begin < 2


def test_retries_wait_their_backoff(local_app: Callable[..., App],
                                    caplog: pytest.LogCaptureFixture) -> None:
    app = local_app()
    FAILURES["smtp"] = 2
    FAILURES["dead"] = 99
    with TestClient(app):
        result = flaky.enqueue("smtp")
        dead = flaky.enqueue("dead")
        seen = wait_for(result.id, status=lambda r: r.attempts >= 1
                        and r.status is not TaskStatus.RUNNING)
        if seen.attempts == 1:  # failed once, waiting for its retry
            assert (seen.status, seen.error) == (TaskStatus.QUEUED, None)
        done = wait_for(result.id)
        failed = wait_for(dead.id)
    assert (done.status, done.attempts, done.return_value, done.error) == (
        TaskStatus.SUCCEEDED, 3, "up", None)
    assert (failed.status, failed.attempts) == (TaskStatus.FAILED, 3)
    assert failed.error == "ConnectionError: dead is down"
    times = [when for label, _, when in RUNS if label == "smtp"]
    gaps = [later - earlier for earlier, later in pairwise(times)]
    assert len(gaps) == 2
    assert 0.09 <= gaps[0] < 1  # backoff
    assert 0.19 <= gaps[1] < 1  # backoff * 2
    logged = [r for r in caplog.records if r.message == f"Task local.flaky (job {dead.id}) "
              "failed, attempt 3"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None  # the traceback, not the arguments
    assert not any("'dead'" in r.message for r in caplog.records)


def test_a_run_past_its_timeout_fails(local_app: Callable[..., App]) -> None:
    app = local_app()
    with TestClient(app):
        begin = time.monotonic()
        slow = too_slow.enqueue()
        retried = too_slow_retried.enqueue()
        failed = wait_for(slow.id)
        failed_twice = wait_for(retried.id)
    assert time.monotonic() - begin < 2
    assert (failed.status, failed.attempts) == (TaskStatus.FAILED, 1)
    assert failed.error == "TimeoutError: the run took longer than its timeout"
    assert (failed_twice.status, failed_twice.attempts) == (TaskStatus.FAILED, 2)
    assert labels("end") == []  # interrupted


def test_jobs_with_one_lock_never_overlap(local_app: Callable[..., App]) -> None:
    app = local_app(tasks_concurrency=4)
    with TestClient(app):
        jobs = [locked_nap.enqueue(f"locked {n}", 0.1) for n in range(3)]
        jobs.append(nap.using(lock="the-lock").enqueue("locked by using", 0.1))
        jobs.append(nap.using(lock="another").enqueue("free", 0.1))
        for job in jobs:
            assert wait_for(job.id).status is TaskStatus.SUCCEEDED
    locked = sorted((moments(label)["start"], moments(label)["end"])
                    for label in [*(f"locked {n}" for n in range(3)), "locked by using"])
    for (_, end), (start, _) in pairwise(locked):
        assert start >= end  # one after the other
    free = moments("free")
    # Another lock: it ran alongside them.
    assert any(start < free["end"] and free["start"] < end for start, end in locked)


def test_a_retried_job_keeps_its_lock(local_app: Callable[..., App]) -> None:
    from heron.tasks.backends import backend_for

    app = local_app(tasks_concurrency=2)
    FAILURES["flaky"] = 1
    with TestClient(app):
        failed = wait_for(locked_flaky.enqueue("flaky").id)
        assert failed.status is TaskStatus.FAILED
        holder = locked_nap.enqueue("holder", 0.2)
        started(holder.id)
        assert backend_for(app).retry(failed.id) is True
        done = wait_for(failed.id)
        wait_for(holder.id)
    assert (done.status, done.attempts, done.error) == (TaskStatus.SUCCEEDED, 1, None)
    retried = [when for label, _, when in RUNS if label == "flaky"][-1]
    assert retried >= moments("holder")["end"]  # it waited for the lock


def test_a_queued_job_can_be_cancelled(local_app: Callable[..., App]) -> None:
    app = local_app(tasks_concurrency=1)
    with TestClient(app):
        delayed = record.using(delay=0.2).enqueue("delayed")
        assert cancel(delayed.id) is True
        cancelled = get_result(delayed.id)
        assert cancelled is not None
        assert cancelled.status is TaskStatus.CANCELLED
        assert cancelled.finished_at is not None
        assert cancel(delayed.id) is False  # once

        busy = blocker.enqueue()
        started(busy.id)
        waiting = record.enqueue("waiting")  # in the queue behind the blocker
        assert cancel(waiting.id) is True
        assert cancel(busy.id) is False  # a running job finishes its run
        RELEASE.set()
        assert wait_for(busy.id).status is TaskStatus.SUCCEEDED
        later = record.using(delay=0.3).enqueue("later")
        assert wait_for(later.id).status is TaskStatus.SUCCEEDED
        assert cancel(later.id) is False  # finished
        assert cancel("no-such-job") is False
    assert labels() == ["blocker", "later"]  # neither cancelled job ran
    assert get_result(waiting.id).status is TaskStatus.CANCELLED  # type: ignore[union-attr]
    assert [r.id for r in list_results(TaskStatus.CANCELLED)] == [waiting.id, delayed.id]


# -- with the database transaction ------------------------------------------------------------


def test_a_job_enqueued_in_a_transaction_runs_when_it_commits(
        local_app: Callable[..., App], tmp_path: Path) -> None:
    app = database_app(local_app, tmp_path)

    @app.post("/commit")
    def commit() -> dict[str, Any]:
        insert("committed")
        queued = count_notes.enqueue("committed")
        db.session.commit()
        return {"id": queued.id}

    @app.post("/atomic")
    def atomic() -> dict[str, Any]:
        with db.transaction():
            insert("atomic")
            queued = count_notes.enqueue("atomic")
        return {"id": queued.id}

    @app.post("/async")
    async def async_commit() -> dict[str, Any]:
        async with db.atransaction() as session:
            await session.execute(text("INSERT INTO notes (body) VALUES ('async')"))
            queued = await count_notes.aenqueue("async")
        return {"id": queued.id}

    @app.post("/cancelled")
    def cancelled() -> dict[str, Any]:
        insert("cancelled")
        queued = count_notes.enqueue("cancelled")
        assert cancel(queued.id) is True  # before the commit
        db.session.commit()
        return {"id": queued.id}

    with TestClient(app) as client:
        for path, body in [("/commit", "committed"), ("/atomic", "atomic"),
                           ("/async", "async")]:
            done = wait_for(client.post(path).json()["id"])
            # It ran after the commit: it sees the row written with it.
            assert (done.status, done.return_value) == (TaskStatus.SUCCEEDED, 1), body
        dropped = client.post("/cancelled").json()["id"]
        assert get_result(dropped).status is TaskStatus.CANCELLED  # type: ignore[union-attr]
        assert wait_for(count_notes.enqueue("after").id).return_value == 0
    assert labels() == ["committed", "atomic", "async", "after"]


def test_a_job_enqueued_in_a_transaction_that_rolls_back_never_runs(
        local_app: Callable[..., App], tmp_path: Path) -> None:
    app = database_app(local_app, tmp_path)

    @app.post("/rollback")
    def rollback() -> dict[str, Any]:
        insert("rolled back")
        queued = count_notes.enqueue("rolled back")
        db.session.rollback()
        return {"id": queued.id, "status": get_result(queued.id).status}  # type: ignore[union-attr]

    @app.post("/atomic")
    def atomic() -> dict[str, Any]:
        queued: list[TaskResult] = []
        try:
            with db.transaction():
                insert("atomic")
                queued.append(count_notes.enqueue("atomic"))
                raise LookupError("changed my mind")
        except LookupError:
            pass
        return {"id": queued[0].id}

    @app.post("/async")
    async def async_rollback() -> dict[str, Any]:
        session = db.async_session
        await session.execute(text("INSERT INTO notes (body) VALUES ('async')"))
        queued = await count_notes.aenqueue("async")
        await session.rollback()
        return {"id": queued.id}

    with TestClient(app) as client:
        answer = client.post("/rollback").json()
        assert answer["status"] == "cancelled"
        ids = [answer["id"], client.post("/atomic").json()["id"],
               client.post("/async").json()["id"]]
        for job_id in ids:
            result = get_result(job_id)
            assert result is not None
            assert (result.status, result.error) == (
                TaskStatus.CANCELLED, "its transaction rolled back")
            assert result.finished_at is not None
        after = count_notes.enqueue("after")  # no transaction: queued at once
        assert wait_for(after.id).status is TaskStatus.SUCCEEDED
    assert labels() == ["after"]


def test_a_job_of_a_request_that_never_commits_is_dropped(
        local_app: Callable[..., App], tmp_path: Path) -> None:
    app = database_app(local_app, tmp_path)

    @app.post("/forgot")
    def forgot() -> dict[str, Any]:
        insert("forgotten")
        return {"id": count_notes.enqueue("forgotten").id}  # the request ends: rolled back

    @app.post("/error")
    def error() -> dict[str, Any]:
        insert("error")
        count_notes.enqueue("error")
        raise RuntimeError("the view failed")

    with TestClient(app) as client:
        forgotten = client.post("/forgot").json()["id"]
        assert client.post("/error").status_code == 500
        for result in list_results():
            assert (result.status, result.error) == (
                TaskStatus.CANCELLED, "its transaction rolled back"), result
        assert forgotten in [r.id for r in list_results()]
        assert len(list_results()) == 2
    assert RUNS == []


def test_a_savepoint_does_not_decide_for_the_transaction(
        local_app: Callable[..., App], tmp_path: Path) -> None:
    app = database_app(local_app, tmp_path)

    @app.post("/savepoint/{outcome}")
    def savepoint(outcome: str) -> dict[str, Any]:
        insert(outcome)
        queued = count_notes.enqueue(outcome)
        with db.session.begin_nested():  # released: the transaction is not committed yet
            insert("inner")
        try:
            with db.session.begin_nested():
                insert("undone")
                raise LookupError
        except LookupError:
            pass  # a savepoint rolled back: the transaction goes on
        status = get_result(queued.id).status  # type: ignore[union-attr]
        if outcome == "commit":
            db.session.commit()
        else:
            db.session.rollback()
        return {"id": queued.id, "before": status}

    with TestClient(app) as client:
        rolled_back = client.post("/savepoint/rollback").json()
        committed = client.post("/savepoint/commit").json()
        assert rolled_back["before"] == committed["before"] == "queued"
        assert wait_for(committed["id"]).return_value == 1
        result = get_result(rolled_back["id"])
        assert result is not None
        assert result.status is TaskStatus.CANCELLED
    assert labels() == ["commit"]


def test_a_transaction_that_only_read_does_not_hold_a_job(
        local_app: Callable[..., App], tmp_path: Path) -> None:
    app = database_app(local_app, tmp_path)

    @app.post("/read")
    def read() -> dict[str, Any]:
        # A select() reads; text() might write, so it would count as a write.
        db.session.execute(select(func.count()).select_from(table("notes"))).scalar()
        assert db.session.in_transaction()
        queued = count_notes.enqueue("read")
        # Still in the request, in the same transaction: the job runs all the same.
        done = wait_for(queued.id)
        return {"status": done.status, "in_transaction": db.session.in_transaction()}

    with TestClient(app) as client:
        assert client.post("/read").json() == {"status": "succeeded", "in_transaction": True}


# -- periodic tasks -----------------------------------------------------------------------------


def test_a_periodic_task_fires_on_its_schedule(local_app: Callable[..., App]) -> None:
    ticks: list[int] = []

    @task(name="local.every_second", cron="* * * * * */1")
    def every_second(timestamp: int) -> int:
        ticks.append(timestamp)
        return timestamp

    app = local_app()
    begin = time.monotonic()
    with TestClient(app):
        while len(ticks) < 2:
            assert time.monotonic() - begin < 3.5, f"ticks: {ticks}"
            time.sleep(0.01)
        fired = [r for r in list_results() if r.task_name == "local.every_second"]
        assert fired
        assert fired[-1].kwargs == {"timestamp": ticks[0]}
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 2  # its schedule does not hold up the shutdown
    assert ticks[1] - ticks[0] == 1
    assert abs(ticks[0] - time.time()) < 5
    count = len(ticks)
    time.sleep(0.05)
    assert len(ticks) == count  # stopped with the app


# -- stopping and not serving -----------------------------------------------------------------


def test_a_running_job_finishes_when_the_app_stops(local_app: Callable[..., App]) -> None:
    app = local_app()
    with TestClient(app):
        running = nap.enqueue("running", 0.3)
        waiting = record.using(delay=60).enqueue("waiting")
        started(running.id)
    done = get_result(running.id)
    assert done is not None
    assert (done.status, done.return_value) == (TaskStatus.SUCCEEDED, "running")
    assert labels("end") == ["running"]
    lost = get_result(waiting.id)
    assert lost is not None
    assert lost.status is TaskStatus.CANCELLED  # in memory: lost when the app stops, and said
    assert lost.error is not None
    assert "the app stopped before it ran" in lost.error
    assert labels() == ["running"]


def test_outside_serving_a_job_runs_at_once(local_app: Callable[..., App]) -> None:
    app = local_app()
    result = record.enqueue("script")
    assert (result.status, result.return_value) == (TaskStatus.SUCCEEDED, "script")
    assert get_result(result.id) == result
    assert record.using(delay=60).enqueue("not delayed").status is TaskStatus.SUCCEEDED
    FAILURES["script"] = 1
    retried = flaky.enqueue("script")
    assert (retried.status, retried.attempts) == (TaskStatus.SUCCEEDED, 2)
    assert nap.enqueue("async", 0).status is TaskStatus.SUCCEEDED  # a loop of its own
    assert asyncio.run(nap.aenqueue("awaited", 0)).status is TaskStatus.SUCCEEDED

    @app.get("/")
    async def view() -> dict[str, Any]:
        done = await nap.aenqueue("in a view", 0)
        return {"status": done.status, "value": done.return_value}

    client = TestClient(app)  # no startup: the app does not serve its tasks
    try:
        assert client.get("/").json() == {"status": "succeeded", "value": "in a view"}
    finally:
        client.close()

    with TestClient(app):
        assert record.using(delay=60).enqueue("served").status is TaskStatus.QUEUED
    assert record.enqueue("stopped").status is TaskStatus.SUCCEEDED  # not serving again
    assert labels() == ["script", "not delayed", "script", "script", "async", "awaited",
                        "in a view", "stopped"]


# -- the password reset mail ----------------------------------------------------------------


def test_the_reset_mail_goes_through_the_local_backend(
        make_app: AppFactory, tmp_path: Path, smtp_server: Any) -> None:
    from heron.auth import create_user
    from heron.testing.database import prepare_schema

    app = make_app(
        components=["heron.auth"], tasks_backend="local",
        database_url=f"sqlite:///{tmp_path / 'auth.sqlite3'}",
        default_from_email="Shop <shop@example.com>", password_time_cost=1,
        password_memory_cost=8 * 1024, password_parallelism=1, **smtp_server.mail_settings())
    prepare_schema(app)
    with db.context(app):
        create_user(db.session, app, "ada", "a sturdy passphrase 42", email="ada@example.com")
        db.session.commit()

    with TestClient(app) as client:
        token = extract_csrf_token(client.get("/auth/password/reset").text)
        answer = client.post("/auth/password/reset",
                             data={"csrf_token": token, "email": "ada@example.com"})
        assert answer.status_code == 303
        (received,) = smtp_server.wait_for(1)
        (job,) = list_results()
        done = wait_for(job.id)
    assert (done.task_name, done.queue, done.status, done.return_value) == (
        "heron.mail.deliver", "mail", TaskStatus.SUCCEEDED, 1)
    assert get_task("heron.mail.deliver").options.retries == 3
    assert received.recipients == ("ada@example.com",)
    assert received.sender == "shop@example.com"
    assert received.subject == "Reset your password on testserver"
    assert received.text is not None
    assert "http://testserver/auth/password/reset/" in received.text
