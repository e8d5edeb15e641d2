"""Integrity errors that escape a view: a 409 that names nothing of the database in
production, a warning in the log with the constraint's name (never the values),
and the database's message and statement in debug; on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from db_test_helpers import JSON, all_checked_in
from models_for_tests import TUniqueName
from sqlalchemy import CheckConstraint, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from heron import App, Request
from heron.db import Model, db
from heron.testing import AsyncTestClient

CONFLICT = "The change conflicts with data already stored."
LEAKS = ("INSERT", "t_unique_name", "taken", "UNIQUE", "unique", "duplicate", "Integrity",
         "psycopg", "sqlite", "ck_", "stock")


class TiItem(Model):
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"),)

    name: Mapped[str] = mapped_column(String(50))
    stock: Mapped[int] = mapped_column(default=0)


def add_views(app: App) -> App:
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

    @app.post("/sync/stock")
    def sync_stock(request: Request) -> dict[str, Any]:
        db.session.add(TiItem(name="mug", stock=int(request.query_params["stock"])))
        db.session.flush()
        return {"ok": True}

    @app.post("/async/stock")
    async def async_stock(request: Request) -> dict[str, Any]:
        db.async_session.add(TiItem(name="mug", stock=int(request.query_params["stock"])))
        await db.async_session.flush()
        return {"ok": True}

    return app


@pytest.fixture
def integrity_app(db_app: Callable[..., App]) -> Iterator[Callable[..., App]]:
    made: list[App] = []

    def factory(**settings: Any) -> App:
        app = db_app(csrf=False, **settings)
        TiItem.__table__.create(db.state(app).engine(), checkfirst=True)  # type: ignore[attr-defined]
        made.append(app)
        return add_views(app)

    yield factory
    for app in made:
        TiItem.__table__.drop(db.state(app).engine(), checkfirst=True)  # type: ignore[attr-defined]


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "heron.db" and r.levelno == logging.WARNING]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_duplicate_unique_value_is_a_409_that_says_nothing_of_the_database(
        integrity_app: Callable[..., App], backend: str, kind: str,
        caplog: pytest.LogCaptureFixture) -> None:
    app = integrity_app()
    caplog.set_level(logging.WARNING)
    async with AsyncTestClient(app) as client:
        assert (await client.post(f"/{kind}/unique?name=taken")).status_code == 200
        page = await client.post(f"/{kind}/unique?name=taken", headers={"accept": "text/html"})
        assert page.status_code == 409
        assert page.headers["content-type"].startswith("text/html")
        assert "<h1>409 Conflict</h1>" in page.text
        assert CONFLICT in page.text
        problem = await client.post(f"/{kind}/unique?name=taken", headers=JSON)
        assert problem.status_code == 409
        assert problem.headers["content-type"] == "application/problem+json"
        assert problem.json() == {"type": "about:blank", "title": "Conflict", "status": 409,
                                  "detail": CONFLICT}
        for response in (page, problem):
            for leak in LEAKS:
                assert leak not in response.text, leak
        assert all_checked_in(app)
        # The session was rolled back: the next request works.
        assert (await client.post(f"/{kind}/unique?name=free")).status_code == 200
    name = "uq_t_unique_name_name" if backend == "postgresql" else "t_unique_name.name"
    assert warnings_of(caplog) == [
        f"A unique constraint refused a change on POST /{kind}/unique: {name}"] * 2
    assert not any("taken" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_check_constraint_that_escapes_a_view_is_a_409(
        integrity_app: Callable[..., App], backend: str, kind: str,
        caplog: pytest.LogCaptureFixture) -> None:
    app = integrity_app()
    caplog.set_level(logging.WARNING)
    async with AsyncTestClient(app) as client:
        response = await client.post(f"/{kind}/stock?stock=-1", headers=JSON)
        assert response.status_code == 409
        assert response.json()["detail"] == CONFLICT
        assert (await client.post(f"/{kind}/stock?stock=3")).status_code == 200
    assert warnings_of(caplog) == [f"A check constraint refused a change on POST /{kind}/stock: "
                                   "ck_ti_item_stock_not_negative"]
    with db.context(app):
        assert db.session.scalar(select(func.count()).select_from(TiItem)) == 0  # not committed


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_debug_shows_the_database_message_and_the_statement(
        integrity_app: Callable[..., App], kind: str) -> None:
    app = integrity_app(debug=True)
    async with AsyncTestClient(app) as client:
        await client.post(f"/{kind}/unique?name=taken")
        page = await client.post(f"/{kind}/unique?name=taken", headers={"accept": "text/html"})
        assert page.status_code == 409
        assert "INSERT INTO t_unique_name" in page.text
        problem = (await client.post(f"/{kind}/unique?name=taken", headers=JSON)).json()
        assert problem["detail"].startswith(CONFLICT + " The database says: ")
        assert "INSERT INTO t_unique_name" in problem["detail"]
        assert "taken" not in problem["detail"]  # the statement, not its parameters
        assert all_checked_in(app)


async def test_a_handler_for_409_replaces_the_answer(integrity_app: Callable[..., App]) -> None:
    app = integrity_app()

    @app.on_error(409)
    def conflict(request: Request, exc: Exception) -> Any:
        return {"error": "taken"}, 409

    async with AsyncTestClient(app) as client:
        await client.post("/async/unique?name=taken")
        response = await client.post("/async/unique?name=taken")
        assert (response.status_code, response.json()) == (409, {"error": "taken"})


def test_outside_requests_the_error_is_raised_as_it_is(integrity_app: Callable[..., App]) -> None:
    app = integrity_app()
    with db.context(app):
        db.session.add(TiItem(name="mug", stock=-1))
        with pytest.raises(IntegrityError):
            db.session.flush()
