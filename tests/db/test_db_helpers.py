"""get_or_404 and friends, and pagination: 404s for what does not exist, never 500s."""

from __future__ import annotations

from typing import Any

import pytest
from db_test_helpers import JSON, all_checked_in
from models_for_tests import TCountry, TNote, TPair
from sqlalchemy import select

from heron import App, Request
from heron.db import MAX_PER_PAGE, Page, db
from heron.db.pagination import page_bounds
from heron.exceptions import HTTPException
from heron.testing import AsyncTestClient


def page_json(page: Page[Any]) -> dict[str, Any]:
    return {
        "items": [note.text for note in page.items], "page": page.page,
        "per_page": page.per_page, "total": page.total, "pages": page.pages,
        "has_next": page.has_next, "has_prev": page.has_prev,
        "next_num": page.next_num, "prev_num": page.prev_num,
        "iter_pages": list(page.iter_pages()), "len": len(page),
    }


def paging_args(request: Request) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for name in ("page", "per_page"):
        if name in request.query_params:
            args[name] = request.query_params[name]
    if "max" in request.query_params:
        args["max_per_page"] = int(request.query_params["max"])
    return args


def add_views(app: App) -> App:
    @app.get("/sync/notes/{id:int}")
    def sync_get(id: int) -> dict[str, Any]:
        return {"text": db.get_or_404(TNote, id).text}

    @app.get("/async/notes/{id:int}")
    async def async_get(id: int) -> dict[str, Any]:
        return {"text": (await db.aget_or_404(TNote, id)).text}

    @app.get("/sync/countries/{code}")
    def sync_country(code: str) -> dict[str, Any]:
        return {"name": db.get_or_404(TCountry, code, detail="No such country.").name}

    @app.get("/async/countries/{code}")
    async def async_country(code: str) -> dict[str, Any]:
        return {"name": (await db.aget_or_404(TCountry, code, detail="No such country.")).name}

    @app.get("/sync/pairs/{left:int}/{right:int}")
    def sync_pair(left: int, right: int) -> dict[str, Any]:
        return {"left": db.get_or_404(TPair, (left, right)).left}

    @app.get("/async/pairs/{left:int}/{right:int}")
    async def async_pair(left: int, right: int) -> dict[str, Any]:
        return {"left": (await db.aget_or_404(TPair, {"left": left, "right": right})).left}

    @app.get("/sync/first")
    def sync_first(request: Request) -> dict[str, Any]:
        text = request.query_params["text"]
        note = db.first_or_404(select(TNote).where(TNote.text.startswith(text))
                               .order_by(TNote.id.desc()))
        return {"id": note.id, "text": note.text}

    @app.get("/async/first")
    async def async_first(request: Request) -> dict[str, Any]:
        text = request.query_params["text"]
        note = await db.afirst_or_404(select(TNote).where(TNote.text.startswith(text))
                                      .order_by(TNote.id.desc()), detail="No note like that.")
        return {"id": note.id, "text": note.text}

    @app.get("/sync/page")
    def sync_page(request: Request) -> dict[str, Any]:
        return page_json(db.paginate(select(TNote).order_by(TNote.id), **paging_args(request)))

    @app.get("/async/page")
    async def async_page(request: Request) -> dict[str, Any]:
        page = await db.apaginate(select(TNote).order_by(TNote.id), **paging_args(request))
        return page_json(page)

    return app


@pytest.fixture
def app(db_app) -> App:
    return add_views(db_app())


def add_notes(app: App, count: int) -> None:
    with db.context(app), db.transaction() as session:
        session.add_all(TNote(text=f"note {n:03}") for n in range(1, count + 1))


# -- get_or_404 / first_or_404 ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_get_or_404(app: App, kind: str) -> None:
    add_notes(app, 2)
    with db.context(app), db.transaction() as session:
        session.add(TCountry(code="fr", name="France"))
    async with AsyncTestClient(app) as client:
        assert (await client.get(f"/{kind}/notes/2")).json() == {"text": "note 002"}
        assert (await client.get(f"/{kind}/countries/fr")).json() == {"name": "France"}

        missing = await client.get(f"/{kind}/notes/99", headers=JSON)
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json() == {"type": "about:blank", "title": "Not Found", "status": 404,
                                  "detail": "There is no TNote 99."}
        missing = await client.get(f"/{kind}/countries/zz", headers=JSON)
        assert missing.json()["detail"] == "No such country."

        page = await client.get(f"/{kind}/notes/99", headers={"accept": "text/html"})
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "There is no TNote 99." in page.text
        assert all_checked_in(app)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_an_id_the_column_cannot_hold_is_a_404(app: App, kind: str, backend: str) -> None:
    """Not a 500 from the driver: SQLite's integers stop at 2**63 - 1, PostgreSQL's
    integer at 2**31 - 1 (heron's default id is a bigint there)."""
    big = 2**31 + 7  # beyond a 4-byte integer: the default id holds it
    with db.context(app), db.transaction() as session:
        session.add(TNote(id=big, text="big"))
    async with AsyncTestClient(app) as client:
        assert (await client.get(f"/{kind}/notes/{big}")).json() == {"text": "big"}
        for ident in (2**63, 2**64, 10**30, 10**4000):
            missing = await client.get(f"/{kind}/notes/{ident}", headers=JSON)
            assert missing.status_code == 404, missing.text
        assert missing.json()["detail"] == f"There is no TNote 1{'0' * 36}...."  # shortened
        missing = await client.get(f"/{kind}/notes/{2**63}", headers=JSON)
        assert missing.json()["detail"] == f"There is no TNote {2**63}."
        # TPair's key is two plain integers: 4 bytes on PostgreSQL, 8 on SQLite.
        for left in (2**31, 2**63):
            missing = await client.get(f"/{kind}/pairs/{left}/1", headers=JSON)
            assert missing.status_code == 404, missing.text
        assert all_checked_in(app)
    if backend == "sqlite":
        with db.context(app), db.transaction() as session:
            session.add(TPair(left=2**31, right=1))
        async with AsyncTestClient(app) as client:
            assert (await client.get(f"/{kind}/pairs/{2**31}/1")).json() == {"left": 2**31}


async def test_out_of_range_ids_below_zero_and_in_every_form(app: App) -> None:
    with db.context(app):
        for ident in (-(2**63) - 1, (2**63,), {"id": 2**63}):
            with pytest.raises(HTTPException) as info:
                db.get_or_404(TNote, ident)
            assert info.value.status_code == 404
        with pytest.raises(HTTPException):
            db.get_or_404(TPair, (1, -(2**63) - 1))
    async with db.async_context(app):
        with pytest.raises(HTTPException) as info:
            await db.aget_or_404(TNote, -(2**63) - 1)
        assert info.value.status_code == 404


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_first_or_404(app: App, kind: str) -> None:
    add_notes(app, 12)
    async with AsyncTestClient(app) as client:
        found = await client.get(f"/{kind}/first?text=note 00")
        assert found.json() == {"id": 9, "text": "note 009"}  # ordered, first row only
        missing = await client.get(f"/{kind}/first?text=nothing", headers=JSON)
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        detail = "Nothing matches." if kind == "sync" else "No note like that."
        assert missing.json()["detail"] == detail
        assert all_checked_in(app)


# -- pagination through views -------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_pages_of_results(app: App, kind: str) -> None:
    add_notes(app, 45)
    async with AsyncTestClient(app) as client:
        first = (await client.get(f"/{kind}/page?per_page=10")).json()
        assert first == {
            "items": [f"note {n:03}" for n in range(1, 11)], "page": 1, "per_page": 10,
            "total": 45, "pages": 5, "has_next": True, "has_prev": False,
            "next_num": 2, "prev_num": None, "iter_pages": [1, 2, 3, 4, 5], "len": 10,
        }
        middle = (await client.get(f"/{kind}/page?page=3&per_page=10")).json()
        assert middle["items"][0] == "note 021"
        assert (middle["has_next"], middle["has_prev"]) == (True, True)
        assert (middle["next_num"], middle["prev_num"]) == (4, 2)
        last = (await client.get(f"/{kind}/page?page=5&per_page=10")).json()
        assert last["items"] == [f"note {n:03}" for n in range(41, 46)]
        assert (last["has_next"], last["next_num"], last["prev_num"]) == (False, None, 4)
        default = (await client.get(f"/{kind}/page")).json()
        assert (default["per_page"], default["pages"], len(default["items"])) == (20, 3, 20)
        assert all_checked_in(app)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_per_page_is_capped(app: App, kind: str) -> None:
    add_notes(app, 130)
    async with AsyncTestClient(app) as client:
        capped = (await client.get(f"/{kind}/page?per_page=100000")).json()
        assert capped["per_page"] == MAX_PER_PAGE == 100
        assert len(capped["items"]) == 100
        assert capped["pages"] == 2
        huge = (await client.get(f"/{kind}/page?per_page={10**30}")).json()
        assert huge["per_page"] == 100
        own_cap = (await client.get(f"/{kind}/page?per_page=50&max=7")).json()
        assert (own_cap["per_page"], len(own_cap["items"]), own_cap["pages"]) == (7, 7, 19)
        assert own_cap["iter_pages"] == [1, 2, 3, None, 18, 19]


BAD_PAGES = [
    "page=abc", "page=0", "page=-1", "page=2.5", "page=", "page=1e3", "page=4",
    "page=1000000", f"page={10**20}", f"page={2**60}&per_page=8", "per_page=abc",
    "per_page=0", "per_page=-5",
]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_pages_that_cannot_exist_are_404(app: App, kind: str) -> None:
    add_notes(app, 25)  # 3 pages of 10
    async with AsyncTestClient(app) as client:
        statuses = {}
        for query in BAD_PAGES:
            if "per_page" not in query:
                query += "&per_page=10"
            response = await client.get(f"/{kind}/page?{query}", headers=JSON)
            statuses[query] = response.status_code
            assert response.headers["content-type"] == "application/problem+json"
            assert "SELECT" not in response.text
        assert set(statuses.values()) == {404}, statuses
        assert all_checked_in(app)
        assert (await client.get(f"/{kind}/page?page=3&per_page=10")).status_code == 200


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_an_empty_table_has_one_empty_page(app: App, kind: str) -> None:
    async with AsyncTestClient(app) as client:
        empty = await client.get(f"/{kind}/page")
        assert empty.status_code == 200
        assert empty.json() == {
            "items": [], "page": 1, "per_page": 20, "total": 0, "pages": 1,
            "has_next": False, "has_prev": False, "next_num": None, "prev_num": None,
            "iter_pages": [1], "len": 0,
        }
        assert (await client.get(f"/{kind}/page?page=2")).status_code == 404


def test_paginate_counts_filtered_and_ordered_statements(app: App) -> None:
    add_notes(app, 30)
    with db.context(app):
        statement = select(TNote).where(TNote.text.like("note 01%")).order_by(TNote.text.desc())
        page = db.paginate(statement, page=1, per_page=4)
        assert page.total == 10
        assert page.pages == 3
        assert [n.text for n in page] == ["note 019", "note 018", "note 017", "note 016"]
        texts = db.paginate(select(TNote.text).order_by(TNote.id), page="2", per_page="5")
        assert texts.items == [f"note {n:03}" for n in range(6, 11)]


# -- Page and page_bounds alone ----------------------------------------------------------


def test_page_numbers() -> None:
    page = Page(items=list(range(10)), page=10, per_page=10, total=200)
    assert page.pages == 20
    assert list(page.iter_pages()) == [1, 2, None, 8, 9, 10, 11, 12, None, 19, 20]
    assert list(page.iter_pages(edge=1, around=0)) == [1, None, 10, None, 20]
    first = Page(items=[1], page=1, per_page=10, total=200)
    assert list(first.iter_pages()) == [1, 2, 3, None, 19, 20]
    assert (first.has_prev, first.prev_num, first.next_num) == (False, None, 2)
    assert list(Page(items=[1], page=3, per_page=10, total=50).iter_pages()) == [1, 2, 3, 4, 5]
    assert Page(items=[], page=1, per_page=10, total=0).pages == 1
    assert Page(items=[1], page=1, per_page=10, total=10).pages == 1
    assert Page(items=[1], page=1, per_page=10, total=11).pages == 2
    assert list(Page(items=["a", "b"], page=1, per_page=2, total=2)) == ["a", "b"]


@pytest.mark.parametrize(("page", "per_page", "maximum", "expected"), [
    (1, 20, None, (1, 20)),
    ("3", "15", None, (3, 15)),
    (" 2 ", "10", None, (2, 10)),
    (1, 101, None, (1, 100)),
    (1, 500, 250, (1, 250)),
    (1, 30, 10, (1, 10)),
    (2**60, 8, None, (2**60, 8)),  # the last offset a database takes
])
def test_page_bounds(page: Any, per_page: Any, maximum: int | None,
                     expected: tuple[int, int]) -> None:
    assert page_bounds(page, per_page, maximum) == expected


@pytest.mark.parametrize(("page", "per_page"), [
    (None, 20), ("x", 20), (0, 20), (-3, 20), ("1.0", 20), (1, None), (1, 0), (1, "many"),
    (2**60 + 2, 8), (10**20, 1),
])
def test_page_bounds_refuse_with_404(page: Any, per_page: Any) -> None:
    with pytest.raises(HTTPException) as info:
        page_bounds(page, per_page, None)
    assert info.value.status_code == 404



def test_iter_pages_is_constant_work_for_huge_page_counts() -> None:
    from heron.db import Page

    page = Page(items=[1], page=10_000_000, per_page=1, total=20_000_000)
    assert list(page.iter_pages()) == [1, 2, None, 9_999_998, 9_999_999, 10_000_000,
                                       10_000_001, 10_000_002, None, 19_999_999, 20_000_000]
