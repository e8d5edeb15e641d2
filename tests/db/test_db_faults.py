"""Faults: a database out of reach, an exhausted pool, a dropped connection --
503s that say nothing about the database, details in the log, and never a hang.
(Integrity errors, 409s: test_db_integrity.py.)"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from db_test_helpers import JSON, all_checked_in, checked_out
from models_for_tests import TNote, TUniqueName
from sqlalchemy import func, select, text

from heron import App, Request
from heron.db import db
from heron.testing import AsyncTestClient

GENERIC_503 = "A service this page needs is unavailable; please try again shortly."


def add_views(app: App) -> App:
    @app.get("/sync/count")
    def sync_count() -> dict[str, int]:
        return {"count": db.session.scalar(select(func.count()).select_from(TNote)) or 0}

    @app.get("/async/count")
    async def async_count() -> dict[str, int]:
        count = await db.async_session.scalar(select(func.count()).select_from(TNote))
        return {"count": count or 0}

    @app.get("/plain")
    def plain() -> str:
        return "no database here"

    @app.post("/sync/unique")
    def sync_unique(request: Request) -> dict[str, Any]:
        db.session.add(TUniqueName(name=request.query_params["name"]))
        db.session.commit()
        return {"ok": True}

    @app.post("/async/unique")
    async def async_unique(request: Request) -> dict[str, Any]:
        db.async_session.add(TUniqueName(name=request.query_params["name"]))
        await db.async_session.commit()
        return {"ok": True}

    return app


def assert_generic_503(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    body = response.text
    assert GENERIC_503 in body
    for leak in ("psycopg", "sqlite", "refused", "127.0.0.1", "Operational", "QueuePool",
                 "db.sqlite3", "SELECT"):
        assert leak not in body


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections but never says a word (a hung server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


def unreachable_url(backend: str, tmp_path: Path) -> str:
    if backend == "postgresql":
        return f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where a folder should be")
    return f"sqlite:///{blocker / 'sub' / 'db.sqlite3'}"


# -- unreachable ------------------------------------------------------------------


async def test_an_unreachable_database_is_a_503_not_a_crash(
        make_app, backend: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = add_views(make_app(database_url=unreachable_url(backend, tmp_path),
                             database_connect_timeout=2))
    caplog.set_level(logging.ERROR, logger="heron.error")
    async with AsyncTestClient(app) as client:  # the app starts without its database
        assert (await client.get("/plain")).text == "no database here"
        for path in ("/sync/count", "/async/count", "/sync/count"):
            started = time.monotonic()
            for headers in (JSON, {"accept": "text/html"}):
                response = await client.get(path, headers=headers)
                assert_generic_503(response)
            assert time.monotonic() - started < 5
        problem = (await client.get("/async/count", headers=JSON)).json()
        assert problem["status"] == 503
        assert problem["title"] == "Service Unavailable"
        assert set(problem) <= {"type", "title", "status", "detail", "reference"}
    records = [r for r in caplog.records if r.name == "heron.error"]
    assert len(records) >= 6
    reason = "Connection refused" if backend == "postgresql" else "unable to open database"
    assert all("The database is unreachable" in r.getMessage() for r in records)
    assert any(reason in r.getMessage() for r in records)
    assert all(r.exc_info for r in records)  # the traceback is logged


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_server_that_never_answers_times_out(
        make_app, silent_port: int, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    app = add_views(make_app(
        database_url=f"postgresql://postgres@127.0.0.1:{silent_port}/nothing",
        database_connect_timeout=2))
    caplog.set_level(logging.ERROR, logger="heron.error")
    async with AsyncTestClient(app) as client:
        started = time.monotonic()
        response = await asyncio.wait_for(client.get(f"/{kind}/count"), 15)
        elapsed = time.monotonic() - started
    assert_generic_503(response)
    assert 1.5 < elapsed < 8
    assert any("unreachable" in r.getMessage() for r in caplog.records)


def test_the_cli_style_context_raises_the_error_itself(make_app, tmp_path: Path) -> None:
    """Outside requests nothing is translated: a script sees the real error."""
    app = make_app(database_url=unreachable_url("sqlite", tmp_path))
    from sqlalchemy.exc import OperationalError

    with db.context(app), pytest.raises(OperationalError):
        db.session.execute(text("SELECT 1"))


# -- a pool with no connection free --------------------------------------------------


@pytest.fixture
def small_pool_app(db_app) -> App:
    app = add_views(db_app(database_pool_size=1, database_max_overflow=0,
                           database_pool_timeout=0.5))
    gates: dict[str, Any] = {"held": asyncio.Event(), "release": asyncio.Event(),
                             "sync_held": threading.Event(), "sync_release": threading.Event()}
    app.state.gates = gates

    @app.get("/async/hold")
    async def async_hold() -> dict[str, int]:
        await db.async_session.execute(select(1))  # takes the pool's one connection
        gates["held"].set()
        await asyncio.wait_for(gates["release"].wait(), 10)
        return {"held": 1}

    @app.get("/sync/hold")
    def sync_hold() -> dict[str, int]:
        db.session.execute(select(1))
        gates["sync_held"].set()
        gates["sync_release"].wait(10)
        return {"held": 1}

    return app


async def test_an_exhausted_async_pool_is_a_503_after_the_pool_timeout(
        small_pool_app: App, caplog: pytest.LogCaptureFixture) -> None:
    app, gates = small_pool_app, small_pool_app.state.gates
    caplog.set_level(logging.ERROR, logger="heron.error")
    async with AsyncTestClient(app) as client:
        holder = asyncio.create_task(client.get("/async/hold"))
        await asyncio.wait_for(gates["held"].wait(), 5)
        assert checked_out(app)["async:None"] == 1
        started = time.monotonic()
        response = await client.get("/async/count", headers=JSON)
        elapsed = time.monotonic() - started
        assert_generic_503(response)
        assert 0.4 < elapsed < 3
        # The sync engine has its own pool: sync views still work.
        assert (await client.get("/sync/count")).status_code == 200
        gates["release"].set()
        assert (await holder).json() == {"held": 1}
        assert all_checked_in(app)
        assert (await client.get("/async/count")).json() == {"count": 0}  # it recovers
        assert all_checked_in(app)
    messages = [r.getMessage() for r in caplog.records if r.name == "heron.error"]
    assert len(messages) == 1
    assert "No database connection was free in time" in messages[0]


async def test_an_exhausted_sync_pool_is_a_503_after_the_pool_timeout(
        small_pool_app: App) -> None:
    app, gates = small_pool_app, small_pool_app.state.gates
    async with AsyncTestClient(app) as client:
        holder = asyncio.create_task(client.get("/sync/hold"))
        assert await asyncio.to_thread(gates["sync_held"].wait, 5)
        started = time.monotonic()
        response = await client.get("/sync/count")
        assert_generic_503(response)
        assert 0.4 < time.monotonic() - started < 3
        assert (await client.get("/async/count")).status_code == 200
        gates["sync_release"].set()
        assert (await holder).json() == {"held": 1}
        assert (await client.get("/sync/count")).json() == {"count": 0}
        assert all_checked_in(app)


# -- connections that die ------------------------------------------------------------


def terminate_backends(postgres_server: Any, url: str) -> None:
    name = url.rpartition("/")[2]
    postgres_server.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )


async def test_stale_pooled_connections_are_replaced(db_app, backend: str,
                                                     request: pytest.FixtureRequest) -> None:
    if backend != "postgresql":
        pytest.skip("a PostgreSQL server kills connections; SQLite files do not")
    app = add_views(db_app())
    server = request.getfixturevalue("postgres_server")
    async with AsyncTestClient(app) as client:
        for path in ("/sync/count", "/async/count"):
            assert (await client.get(path)).status_code == 200
        terminate_backends(server, app.settings.database_url)
        for path in ("/sync/count", "/async/count"):
            assert (await client.get(path)).status_code == 200  # pre-ping: a new one
        assert all_checked_in(app)


async def test_a_connection_lost_mid_request_is_a_503(
        db_app, backend: str, request: pytest.FixtureRequest,
        caplog: pytest.LogCaptureFixture) -> None:
    if backend != "postgresql":
        pytest.skip("a PostgreSQL server kills connections; SQLite files do not")
    app = add_views(db_app())
    server = request.getfixturevalue("postgres_server")
    caplog.set_level(logging.ERROR, logger="heron.error")

    @app.get("/async/slow")
    async def slow() -> dict[str, Any]:
        await db.async_session.execute(text("SELECT pg_sleep(20)"))
        return {"slept": True}

    async with AsyncTestClient(app) as client:
        started = time.monotonic()
        slow_request = asyncio.create_task(client.get("/async/slow"))
        await asyncio.sleep(0.5)
        await asyncio.to_thread(terminate_backends, server, app.settings.database_url)
        response = await asyncio.wait_for(slow_request, 10)
        assert_generic_503(response)
        assert time.monotonic() - started < 10
        assert (await client.get("/async/count")).status_code == 200
        assert all_checked_in(app)
    assert any("unreachable" in r.getMessage() for r in caplog.records)
