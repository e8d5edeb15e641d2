"""The app and tasks of test_tasks_postgres.py: imported by the tests and by the real
``heron worker`` processes they start (``python -m heron --app pg_task_app:app worker``).

The worker builds ``app`` from ``PG_TASKS_DATABASE_URL``; the tests call
:func:`make_app` with the URL of their database.  Tasks write what they do to the table
``pg_task_log`` of that database (``at`` is the server's ``clock_timestamp()``: one clock
for every process), so that a test sees what ran, how often and when.
The periodic task exists only where ``PG_TASKS_PERIODIC=1`` (in one test's worker), so
that the other workers do not schedule it.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from sqlalchemy import text

from heron import App
from heron.db import db
from heron.tasks import task

URL_VARIABLE = "PG_TASKS_DATABASE_URL"
LOG_TABLE = """
CREATE TABLE pg_task_log (
    id bigserial PRIMARY KEY,
    tag text NOT NULL,
    event text NOT NULL,
    pid integer,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""
_INSERT = text("INSERT INTO pg_task_log (tag, event, pid) VALUES (:tag, :event, :pid)")


def make_app(database_url: str) -> App:
    return App(
        database_url=database_url,
        tasks_backend="procrastinate",
        tasks_stalled_after=3,  # a killed worker's job is queued again within seconds
        secret_key="pg task tests",
        allowed_hosts=["testserver"],
        access_log=False,
    )


def __getattr__(name: str) -> Any:
    if name == "app":  # the worker's app, made when `heron --app pg_task_app:app` asks
        made = globals()["app"] = make_app(os.environ[URL_VARIABLE])
        return made
    raise AttributeError(name)


def log(tag: str, event: str) -> None:
    """Record ``event`` (sync tasks: the run's own ``db.session``)."""
    db.session.execute(_INSERT, {"tag": tag, "event": event, "pid": os.getpid()})
    db.session.commit()


async def alog(tag: str, event: str) -> None:
    await db.async_session.execute(_INSERT, {"tag": tag, "event": event, "pid": os.getpid()})
    await db.async_session.commit()


@task(name="pgtest.add")
def add(a: int, b: int) -> dict[str, int]:
    log(f"add:{a}+{b}", "ran")
    return {"sum": a + b}


@task(name="pgtest.aadd")
async def aadd(a: int, b: int) -> int:
    await alog(f"aadd:{a}+{b}", "ran")
    return a + b


@task(name="pgtest.record")
def record(tag: str) -> str:
    log(tag, "ran")
    return tag


@task(name="pgtest.flaky", retries=2, backoff=0.2)
def flaky(tag: str) -> None:
    log(tag, "attempt")
    raise ValueError(f"flaky {tag} failed")


@task(name="pgtest.too_slow", timeout=0.5)
async def too_slow(tag: str) -> str:
    await alog(tag, "started")
    await asyncio.sleep(5)
    await alog(tag, "finished")
    return "too late"


@task(name="pgtest.slow")
async def slow(tag: str, seconds: float) -> str:
    await alog(tag, "started")
    await asyncio.sleep(seconds)
    await alog(tag, "finished")
    return f"slept {seconds}"


@task(name="pgtest.locked", lock="L")
def locked(tag: str) -> None:
    log(tag, "start")
    time.sleep(0.3)
    log(tag, "end")


@task(name="pgtest.fails_first")
def fails_first(tag: str) -> str:
    """Fails on its first run, succeeds on the next ones."""
    runs = db.session.execute(text("SELECT count(*) FROM pg_task_log WHERE tag = :tag"),
                              {"tag": tag}).scalar_one()
    log(tag, "attempt")
    if runs == 0:
        raise RuntimeError(f"first run of {tag}")
    return "second time lucky"


if os.environ.get("PG_TASKS_PERIODIC") == "1":

    @task(name="pgtest.tick", cron="* * * * * */1")
    def tick(timestamp: int) -> int:
        log("tick", str(timestamp))
        return timestamp
