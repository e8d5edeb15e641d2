"""``db_clean``: real commits (async views, several connections), every table
emptied after each test."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from db_test_helpers import all_checked_in
from models_for_tests import TNote
from sqlalchemy import func, select

from heron import App
from heron.db import db

#: The databases the first test wrote to.
SEEN: set[str | None] = set()


async def test_async_views_commit_for_real(db_clean: None, async_client: Any, app: App) -> None:
    for n in range(3):
        response = await async_client.post(f"/async/notes?text=async {n}")
        assert response.status_code == 200
    assert (await async_client.get("/async/notes")).json() == ["async 0", "async 1", "async 2"]
    assert (await async_client.get("/notes")).json() == ["async 0", "async 1", "async 2"]
    # The test's own db.session sees the commits too.
    assert db.session.scalar(select(func.count()).select_from(TNote)) == 3
    SEEN.add(app.settings.database_url)


async def test_the_tables_were_emptied(db_clean: None, async_client: Any, app: App) -> None:
    assert app.settings.database_url in SEEN  # the first test ran on this database
    assert (await async_client.get("/async/notes")).json() == []
    response = await async_client.post("/async/notes?text=fresh")
    assert response.json() == {"id": 1}  # ids start again (PostgreSQL: RESTART IDENTITY)


async def test_concurrent_sync_and_async_writers(db_clean: None, async_client: Any,
                                                 app: App) -> None:
    requests = [async_client.post(f"/{'async/' if n % 2 else ''}notes?text=n{n}")
                for n in range(60)]
    responses = await asyncio.gather(*requests)
    assert {r.status_code for r in responses} == {200}
    assert len((await async_client.get("/notes")).json()) == 60
    assert all_checked_in(app)


async def test_the_test_itself_may_use_the_async_session(db_clean: None, async_client: Any,
                                                         app: App) -> None:
    await async_client.post("/async/notes?text=x")
    assert await db.async_session.scalar(select(func.count()).select_from(TNote)) == 1


@pytest.mark.parametrize("round_", [1, 2])
def test_sync_tests_work_too(db_clean: None, client: Any, round_: int) -> None:
    assert client.get("/notes").json() == []
    client.post(f"/async/notes?text=round {round_}")
    assert db.session.scalars(select(TNote.text)).all() == [f"round {round_}"]
