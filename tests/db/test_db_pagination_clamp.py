"""``db.paginate(..., clamp=True)``: a page past the last gives the last one, a page number
that is not one gives the first (issue 23), sync and async; without it, a 404."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from heron import App
from heron.db import Model, db
from heron.exceptions import HTTPException


class ClampedRow(Model):
    label: Mapped[str] = mapped_column(String(20))


@pytest.fixture
def app(tmp_path: Path) -> App:
    application = App(root=tmp_path, debug=True)
    db.create_all(application)
    with db.context(application), db.transaction() as session:
        session.add_all(ClampedRow(label=f"row {n}") for n in range(1, 24))
    return application


@pytest.mark.parametrize(("asked", "given"), [
    (1, 1), (3, 3), (4, 3), (9, 3), (10**30, 3), ("9", 3), ("nine", 1), (None, 1), (0, 1),
    (-4, 1), ("", 1),
])
def test_clamped_pages(app: App, asked: Any, given: int) -> None:
    statement = select(ClampedRow).order_by(ClampedRow.id)
    with db.context(app):
        page = db.paginate(statement, page=asked, per_page=10, clamp=True)
    assert page.page == given
    assert page.pages == 3
    assert page.items[0].label == f"row {(given - 1) * 10 + 1}"


def test_the_async_twin_clamps_too(app: App) -> None:
    async def last_page() -> Any:
        async with db.async_context(app):
            return await db.apaginate(select(ClampedRow).order_by(ClampedRow.id), page=50,
                                      per_page=10, clamp=True)

    page = asyncio.run(last_page())
    assert (page.page, len(page.items), page.has_next) == (3, 3, False)


def test_an_empty_result_is_page_one(app: App) -> None:
    with db.context(app):
        page = db.paginate(select(ClampedRow).where(ClampedRow.label == "none"), page=7,
                           clamp=True)
    assert (page.page, page.items, page.pages) == (1, [], 1)


def test_without_clamp_it_is_still_a_404(app: App) -> None:
    with db.context(app), pytest.raises(HTTPException) as error:
        db.paginate(select(ClampedRow).order_by(ClampedRow.id), page=9, per_page=10)
    assert error.value.status_code == 404
