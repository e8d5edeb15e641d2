"""``session_backend = "database"``: sessions in the ``heron_session`` table, made by
heron's shipped migration."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from db_test_helpers import JSON, all_checked_in, dispose
from sqlalchemy import inspect, text

from heron import App, Request
from heron.db import db
from heron.sessions.database import StoredSession, clear_expired_sessions
from heron.testing import AsyncTestClient
from heron.testing.database import prepare_schema

COOKIE = "heron_session"


def add_views(app: App) -> App:
    @app.post("/sync/set/{name}/{value}")
    def sync_set(request: Request, name: str, value: str) -> dict[str, Any]:
        request.session[name] = value
        return dict(request.session)

    @app.post("/async/set/{name}/{value}")
    async def async_set(request: Request, name: str, value: str) -> dict[str, Any]:
        (await request.load_session())[name] = value
        return dict(request.session)

    @app.get("/sync/get")
    def sync_get(request: Request) -> dict[str, Any]:
        return {"data": dict(request.session), "new": request.session.is_new}

    @app.get("/async/get")
    async def async_get(request: Request) -> dict[str, Any]:
        session = await request.load_session()
        return {"data": dict(session), "new": session.is_new}

    @app.post("/login/{user}")
    def login(request: Request, user: str) -> dict[str, Any]:
        request.session.cycle_key()
        request.session["user"] = user
        return dict(request.session)

    @app.post("/logout")
    async def logout(request: Request) -> dict[str, Any]:
        request.session.flush()
        return {}

    @app.get("/plain")
    def plain() -> str:
        return "no session used"

    return app


@pytest.fixture
def app(db_app) -> Iterator[App]:
    app = add_views(db_app(session_backend="database", csrf=False))
    prepare_schema(app)  # heron's migrations (heron_session), then the models' tables
    yield app
    with db.state(app).engine().begin() as connection:
        connection.execute(text("DELETE FROM heron_session"))


def rows(app: App) -> dict[str, tuple[dict[str, Any], datetime]]:
    import json

    with db.state(app).engine().connect() as connection:
        result = connection.execute(text("SELECT key, data, expires_at FROM heron_session"))
        return {key: (json.loads(data), expires if isinstance(expires, datetime)
                      else datetime.fromisoformat(expires))
                for key, data, expires in result}


def expire(app: App, key: str | None = None) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    with db.context(app), db.transaction() as session:
        for row in session.query(StoredSession):
            if key is None or row.key == key:
                row.expires_at = past


def test_the_table_comes_from_heron_s_migration(app: App) -> None:
    engine = db.state(app).engine()
    inspector = inspect(engine)
    assert inspector.has_table("heron_session")
    assert inspector.has_table("alembic_version")
    columns = {c["name"] for c in inspector.get_columns("heron_session")}
    assert columns == {"key", "data", "expires_at"}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    dispose(app)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_sessions_persist_across_requests(app: App, kind: str) -> None:
    async with AsyncTestClient(app) as client:
        first = await client.get(f"/{kind}/get")
        assert first.json() == {"data": {}, "new": True}
        assert COOKIE not in first.cookies  # an untouched session is not stored
        assert rows(app) == {}

        assert (await client.post(f"/{kind}/set/color/blue")).json() == {"color": "blue"}
        key = client.cookies[COOKIE]
        assert len(key) >= 32
        await client.post(f"/{kind}/set/size/large")
        assert client.cookies[COOKIE] == key  # the same session, updated in place
        got = await client.get(f"/{kind}/get")
        assert got.json() == {"data": {"color": "blue", "size": "large"}, "new": False}

        stored = rows(app)
        assert list(stored) == [key]
        data, expires = stored[key]
        assert data == {"color": "blue", "size": "large"}
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        max_age = app.settings.session_max_age
        assert abs(expires - (datetime.now(UTC) + timedelta(seconds=max_age))) < timedelta(
            minutes=1)

        other = AsyncTestClient(app)
        async with other:
            assert (await other.get(f"/{kind}/get")).json()["data"] == {}  # no cookie, no data
        assert all_checked_in(app)


async def test_expiry_is_enforced_by_the_server(app: App) -> None:
    async with AsyncTestClient(app) as client:
        await client.post("/sync/set/user/ada")
        key = client.cookies[COOKIE]
        client.cookies.clear()
        stale = {"cookie": f"{COOKIE}={key}"}  # the browser still sends it
        assert (await client.get("/sync/get", headers=stale)).json()["data"] == {"user": "ada"}
        expire(app, key)
        for kind in ("sync", "async"):
            response = await client.get(f"/{kind}/get", headers=stale)
            assert response.json() == {"data": {}, "new": True}
        assert key in rows(app)  # ignored now, deleted by clear_expired_sessions
        response = await client.post("/sync/set/user/grace", headers=stale)
        new_key = response.cookies[COOKIE]
        assert new_key != key  # a new session, not the expired one revived
        assert rows(app)[new_key][0] == {"user": "grace"}
        assert rows(app)[key][0] == {"user": "ada"}


async def test_cycle_key_moves_the_data_and_deletes_the_old_row(app: App) -> None:
    async with AsyncTestClient(app) as client:
        await client.post("/sync/set/cart/3")
        before = client.cookies[COOKIE]
        assert (await client.post("/login/ada")).json() == {"cart": "3", "user": "ada"}
        after = client.cookies[COOKIE]
        assert after != before
        assert list(rows(app)) == [after]
        assert rows(app)[after][0] == {"cart": "3", "user": "ada"}
        assert (await client.get("/async/get")).json()["data"] == {"cart": "3", "user": "ada"}


async def test_flush_deletes_the_row_and_the_cookie(app: App) -> None:
    async with AsyncTestClient(app) as client:
        await client.post("/login/ada")
        key = client.cookies[COOKIE]
        response = await client.post("/logout")
        assert COOKIE in response.headers["set-cookie"]
        assert "max-age=0" in response.headers["set-cookie"].lower()
        assert COOKIE not in client.cookies
        assert key not in rows(app)
        assert rows(app) == {}
        assert all_checked_in(app)


async def test_unknown_and_malformed_cookies_start_a_new_session(app: App) -> None:
    async with AsyncTestClient(app) as client:
        for cookie in ("x" * 43, "not a key; at all", "'; DROP TABLE heron_session; --", ""):
            client.cookies.set(COOKIE, cookie)
            assert (await client.get("/sync/get")).json() == {"data": {}, "new": True}
        assert inspect(db.state(app).engine()).has_table("heron_session")


async def test_clear_expired_sessions(app: App) -> None:
    async with AsyncTestClient(app) as client:
        keys = []
        for user in ("a", "b", "c"):
            client.cookies.clear()
            await client.post(f"/sync/set/user/{user}")
            keys.append(client.cookies[COOKIE])
        expire(app, keys[0])
        expire(app, keys[2])
        assert await clear_expired_sessions(app) == 2
        assert list(rows(app)) == [keys[1]]
        assert await clear_expired_sessions(app) == 0
        assert all_checked_in(app)


# -- the database out of reach ---------------------------------------------------------


@pytest.fixture
def down_app(make_app, tmp_path: Path) -> App:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return add_views(make_app(session_backend="database", csrf=False,
                              database_url=f"postgresql://postgres@127.0.0.1:{port}/x",
                              database_connect_timeout=2))


async def test_a_session_store_out_of_reach_fails_only_requests_that_use_it(
        down_app: App) -> None:
    async with AsyncTestClient(down_app) as client:
        client.cookies.set(COOKIE, "k" * 43)
        plain = await client.get("/plain")
        assert (plain.status_code, plain.text) == (200, "no session used")
        for path in ("/sync/get", "/async/get"):
            response = await client.get(path, headers=JSON)
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
        client.cookies.clear()
        response = await client.post("/sync/set/a/b", headers=JSON)  # saving fails too
        assert response.status_code == 503
