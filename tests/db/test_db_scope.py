"""``db.session`` / ``db.async_session``: made lazily, one per request, always given back.

Each test counts the connections the app's pools lend (``checkout`` events) and
checks that all of them came back (``pool.checkedout() == 0``) after every request.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from db_test_helpers import JSON, all_checked_in, checked_out, dispose
from models_for_tests import TNote
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from heron import App, Request
from heron.db import db
from heron.exceptions import HTTPException
from heron.testing import AsyncTestClient, TestClient


def note_count() -> int:
    return db.session.scalar(select(func.count()).select_from(TNote)) or 0


async def anote_count() -> int:
    return await db.async_session.scalar(select(func.count()).select_from(TNote)) or 0


def add_views(app: App) -> App:
    @app.get("/plain")
    def plain() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/aplain")
    async def aplain() -> dict[str, Any]:
        return {"ok": True}

    # -- sync --------------------------------------------------------------
    @app.get("/sync/shared")
    def sync_shared() -> dict[str, Any]:
        first = db.session
        count = note_count()  # a helper reaches the same session
        return {"same": first is db.session, "type": type(first).__name__, "count": count,
                "checked_out": sum(checked_out(app).values())}

    @app.post("/sync/notes")
    def sync_add(request: Request) -> dict[str, Any]:
        note = TNote(text=request.query_params.get("text", "x"))
        db.session.add(note)
        db.session.flush()  # the INSERT is sent: only the rollback can undo it
        outcome = request.query_params.get("then", "commit")
        if outcome == "raise":
            raise RuntimeError("the view failed after writing")
        if outcome == "404":
            db.get_or_404(TNote, 10_000)
        if outcome == "abort":
            raise HTTPException(409, "changed my mind")
        if outcome == "commit":
            db.session.commit()
        return {"id": note.id}  # outcome "leave": neither committed nor rolled back

    @app.get("/sync/count")
    def sync_count() -> dict[str, int]:
        return {"count": note_count()}

    @app.post("/sync/transaction")
    def sync_transaction(request: Request) -> dict[str, Any]:
        with db.transaction() as session:
            session.add(TNote(text="in a transaction"))
            session.flush()
            if request.query_params.get("fail"):
                raise HTTPException(422, "refused")
        return {"count": note_count()}

    # -- async -------------------------------------------------------------
    @app.get("/async/shared")
    async def async_shared() -> dict[str, Any]:
        first = db.async_session
        count = await anote_count()
        return {"same": first is db.async_session, "type": type(first).__name__,
                "count": count, "checked_out": sum(checked_out(app).values())}

    @app.post("/async/notes")
    async def async_add(request: Request) -> dict[str, Any]:
        note = TNote(text=request.query_params.get("text", "x"))
        db.async_session.add(note)
        await db.async_session.flush()
        outcome = request.query_params.get("then", "commit")
        if outcome == "raise":
            raise RuntimeError("the view failed after writing")
        if outcome == "404":
            await db.aget_or_404(TNote, 10_000)
        if outcome == "abort":
            raise HTTPException(409, "changed my mind")
        if outcome == "commit":
            await db.async_session.commit()
        return {"id": note.id}

    @app.get("/async/count")
    async def async_count() -> dict[str, int]:
        return {"count": await anote_count()}

    @app.post("/async/transaction")
    async def async_transaction(request: Request) -> dict[str, Any]:
        async with db.atransaction() as session:
            session.add(TNote(text="in a transaction"))
            await session.flush()
            if request.query_params.get("fail"):
                raise HTTPException(422, "refused")
        return {"count": await anote_count()}

    @app.get("/async/identity")
    async def identity() -> dict[str, Any]:
        session = db.async_session
        await session.execute(select(1))
        await asyncio.sleep(0.05)  # overlap with the other requests
        return {"id": id(session), "same": session is db.async_session}

    @app.get("/mixed")
    async def mixed() -> dict[str, Any]:
        """Both kinds in one async view: the sync one is made lazily too."""
        from heron.concurrency import run_in_threadpool

        count = await anote_count()
        sync_count = await run_in_threadpool(note_count)
        return {"async": count, "sync": sync_count}

    return app


class Checkouts:
    """Counts connections lent by the app's sync and async pools."""

    def __init__(self, app: App) -> None:
        state = db.state(app)
        self.counts: Counter[str] = Counter()
        event.listen(state.engine(), "checkout", self._count("sync"))
        event.listen(state.async_engine().sync_engine, "checkout", self._count("async"))

    def _count(self, kind: str) -> Any:
        def count(*args: Any) -> None:
            self.counts[kind] += 1

        return count

    def take(self) -> dict[str, int]:
        counts = dict(self.counts)
        self.counts.clear()
        return counts


@pytest.fixture
def app(db_app) -> App:
    return add_views(db_app())


# -- lazily made --------------------------------------------------------------


async def test_a_view_that_does_not_touch_the_database_opens_no_connection(app: App) -> None:
    checkouts = Checkouts(app)
    async with AsyncTestClient(app) as client:
        for path in ("/plain", "/aplain", "/nowhere"):
            await client.get(path)
        assert checkouts.take() == {}
        assert (await client.get("/sync/count")).json() == {"count": 0}
        assert checkouts.take() == {"sync": 1}
        assert (await client.get("/async/count")).json() == {"count": 0}
        assert checkouts.take() == {"async": 1}
        assert all_checked_in(app)


async def test_one_session_per_request_shared_by_its_code(app: App) -> None:
    checkouts = Checkouts(app)
    async with AsyncTestClient(app) as client:
        sync = (await client.get("/sync/shared")).json()
        assert sync == {"same": True, "type": "HeronSession", "count": 0, "checked_out": 1}
        assert checkouts.take() == {"sync": 1}
        result = (await client.get("/async/shared")).json()
        assert result == {"same": True, "type": "AsyncSession", "count": 0, "checked_out": 1}
        assert checkouts.take() == {"async": 1}
        assert all_checked_in(app)


async def test_concurrent_requests_get_their_own_sessions(app: App) -> None:
    async with AsyncTestClient(app) as client:
        responses = await asyncio.gather(*(client.get("/async/identity") for _ in range(5)))
        assert all(r.json()["same"] for r in responses)
        assert len({r.json()["id"] for r in responses}) == 5
        assert all_checked_in(app)


async def test_one_view_may_use_both_kinds(app: App) -> None:
    async with AsyncTestClient(app) as client:
        await client.post("/async/notes?text=a")
        assert (await client.get("/mixed")).json() == {"async": 1, "sync": 1}
        assert all_checked_in(app)


# -- closed at the end of every request ------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_commits_persist_and_connections_come_back(app: App, kind: str) -> None:
    async with AsyncTestClient(app) as client:
        for text in ("a", "b", "c"):
            response = await client.post(f"/{kind}/notes?text={text}")
            assert response.status_code == 200, response.text
            assert all_checked_in(app)
        assert (await client.get(f"/{kind}/count")).json() == {"count": 3}
        assert all_checked_in(app)


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(("then", "status"), [
    ("raise", 500), ("404", 404), ("abort", 409), ("leave", 200),
])
async def test_uncommitted_work_is_rolled_back(app: App, kind: str, then: str,
                                               status: int) -> None:
    async with AsyncTestClient(app) as client:
        assert (await client.post(f"/{kind}/notes?text=kept")).status_code == 200
        response = await client.post(f"/{kind}/notes?text=lost&then={then}", headers=JSON)
        assert response.status_code == status
        assert all_checked_in(app), checked_out(app)
        for reader in ("sync", "async"):
            assert (await client.get(f"/{reader}/count")).json() == {"count": 1}
    with db.context(app):
        assert db.session.scalars(select(TNote.text)).all() == ["kept"]


def test_sync_test_client_requests_give_connections_back(app: App) -> None:
    with TestClient(app) as client:
        assert client.post("/sync/notes").status_code == 200
        assert client.post("/async/notes").status_code == 200
        assert client.post("/sync/notes?then=raise").status_code == 500
        assert client.post("/async/notes?then=raise").status_code == 500
        assert client.get("/sync/count").json() == {"count": 2}
        assert client.get("/async/count").json() == {"count": 2}
        assert all_checked_in(app)


# -- transactions -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_transaction_helpers_commit_or_roll_back(app: App, kind: str) -> None:
    async with AsyncTestClient(app) as client:
        response = await client.post(f"/{kind}/transaction")
        assert response.json() == {"count": 1}
        response = await client.post(f"/{kind}/transaction?fail=1", headers=JSON)
        assert response.status_code == 422
        assert (await client.get(f"/{kind}/count")).json() == {"count": 1}
        assert all_checked_in(app)


def write_then_fail() -> None:
    with db.transaction():
        db.session.add(TNote(text="rolled back"))
        db.session.flush()
        raise ZeroDivisionError


async def awrite_then_fail() -> None:
    async with db.atransaction():
        db.async_session.add(TNote(text="rolled back"))
        await db.async_session.flush()
        raise ZeroDivisionError


async def fail_in_async_context(app: App) -> None:
    async with db.async_context(app):
        db.async_session.add(TNote(text="failed"))
        await db.async_session.flush()
        raise KeyError("boom")


def test_transaction_in_a_script(app: App) -> None:
    with db.context(app):
        with db.transaction() as session:
            assert session is db.session
            session.add(TNote(text="committed"))
        with pytest.raises(ZeroDivisionError):
            write_then_fail()
        assert db.session.scalars(select(TNote.text)).all() == ["committed"]
    assert all_checked_in(app)
    dispose(app)


async def test_atransaction_in_a_script(app: App) -> None:
    async with db.async_context(app):
        async with db.atransaction() as session:
            assert session is db.async_session
            session.add(TNote(text="committed"))
        with pytest.raises(ZeroDivisionError):
            await awrite_then_fail()
        assert (await db.async_session.scalars(select(TNote.text))).all() == ["committed"]
    assert all_checked_in(app)
    await db.state(app).dispose()


# -- outside requests ---------------------------------------------------------------


def test_db_context_gives_a_session_and_closes_it(app: App) -> None:
    with db.context(app):
        session = db.session
        assert isinstance(session, Session)
        assert db.session is session
        session.add(TNote(text="from a script"))
        session.commit()
        assert note_count() == 1
        session.add(TNote(text="never committed"))
        session.flush()
        assert sum(checked_out(app).values()) == 1
    assert all_checked_in(app)
    with db.context(app):
        assert db.session is not session  # a new scope, a new session
        assert note_count() == 1
    dispose(app)


async def test_db_async_context_gives_both_sessions_and_closes_them(app: App) -> None:
    async with db.async_context(app):
        session = db.async_session
        assert isinstance(session, AsyncSession)
        session.add(TNote(text="async"))
        await session.commit()
        assert isinstance(db.session, Session)
        assert note_count() == 1
        session.add(TNote(text="never committed"))
        await session.flush()
    assert all_checked_in(app)
    with pytest.raises(KeyError):
        await fail_in_async_context(app)
    assert all_checked_in(app)
    async with db.async_context(app):
        assert await anote_count() == 1
    await db.state(app).dispose()


def test_contexts_do_not_leak_into_each_other(app: App) -> None:
    with db.context(app):
        outer = db.session
        with db.context(app):
            assert db.session is not outer
        assert db.session is outer
    dispose(app)


def test_db_session_outside_a_request_or_context_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match=r"db\.context\(app\)"):
        db.session  # noqa: B018
    with pytest.raises(RuntimeError, match=r"db\.context\(app\)"):
        db.async_session  # noqa: B018
    with pytest.raises(RuntimeError):
        db.state()


async def test_db_context_closes_async_sessions_too(app: App) -> None:
    """A sync ``db.context`` in async code (a fixture, a helper) may hand out
    ``db.async_session``: it is closed soon after the block, not leaked."""
    with db.context(app):
        assert await anote_count() == 0
        assert sum(checked_out(app).values()) == 1
    for _ in range(100):
        if all_checked_in(app):
            break
        await asyncio.sleep(0.01)
    assert all_checked_in(app)
    await db.state(app).dispose()
