"""The worked example: authors, books and tags (one-to-many, many-to-many), eager
loading with selectinload/joinedload and aggregates, from sync and async views."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from db_test_helpers import JSON, all_checked_in
from models_for_tests import TAuthor, TBook, TTag, t_book_tag
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from heron import App, Request
from heron.db import db
from heron.testing import AsyncTestClient

AUTHORS_WITH_BOOKS = select(TAuthor).options(
    selectinload(TAuthor.books).selectinload(TBook.tags)
).order_by(TAuthor.name)
BOOKS_WITH_AUTHOR = select(TBook).options(
    joinedload(TBook.author), selectinload(TBook.tags)
).order_by(TBook.title)
BOOKS_PER_AUTHOR = (
    select(TAuthor.name, func.count(TBook.id).label("books"))
    .outerjoin(TAuthor.books).group_by(TAuthor.id, TAuthor.name).order_by(TAuthor.name)
)
BOOKS_PER_TAG = (
    select(TTag.name, func.count(t_book_tag.c.book_id))
    .outerjoin(t_book_tag, t_book_tag.c.tag_id == TTag.id)
    .group_by(TTag.id, TTag.name).order_by(TTag.name)
)


def authors_json(authors: Any) -> list[dict[str, Any]]:
    return [{"name": a.name, "books": [{"title": b.title, "tags": [t.name for t in b.tags]}
                                       for b in a.books]} for a in authors]


def books_json(books: Any) -> list[dict[str, Any]]:
    return [{"title": b.title, "author": b.author.name, "tags": [t.name for t in b.tags]}
            for b in books]


def add_views(app: App) -> App:
    @app.get("/sync/authors")
    def sync_authors() -> list[dict[str, Any]]:
        return authors_json(db.session.scalars(AUTHORS_WITH_BOOKS))

    @app.get("/async/authors")
    async def async_authors() -> list[dict[str, Any]]:
        return authors_json(await db.async_session.scalars(AUTHORS_WITH_BOOKS))

    @app.get("/sync/books")
    def sync_books() -> list[dict[str, Any]]:
        return books_json(db.session.scalars(BOOKS_WITH_AUTHOR).unique())

    @app.get("/async/books")
    async def async_books() -> list[dict[str, Any]]:
        return books_json((await db.async_session.scalars(BOOKS_WITH_AUTHOR)).unique())

    @app.get("/sync/stats")
    def sync_stats() -> dict[str, Any]:
        return {"per_author": [list(row) for row in db.session.execute(BOOKS_PER_AUTHOR)],
                "per_tag": [list(row) for row in db.session.execute(BOOKS_PER_TAG)]}

    @app.get("/async/stats")
    async def async_stats() -> dict[str, Any]:
        session = db.async_session
        return {"per_author": [list(row) for row in await session.execute(BOOKS_PER_AUTHOR)],
                "per_tag": [list(row) for row in await session.execute(BOOKS_PER_TAG)]}

    @app.get("/sync/tags/{name}/books")
    def sync_tagged(name: str) -> list[str]:
        statement = select(TBook.title).join(TBook.tags).where(TTag.name == name)
        return list(db.session.scalars(statement.order_by(TBook.title)))

    @app.get("/async/tags/{name}/books")
    async def async_tagged(name: str) -> list[str]:
        statement = select(TBook.title).join(TBook.tags).where(TTag.name == name)
        return list(await db.async_session.scalars(statement.order_by(TBook.title)))

    @app.post("/sync/books")
    async def sync_add_book(request: Request) -> Any:
        data = await request.json()
        from heron.concurrency import run_in_threadpool

        return await run_in_threadpool(add_book, data)

    @app.post("/async/books")
    async def async_add_book(request: Request) -> Any:
        data = await request.json()
        session = db.async_session
        author = await session.scalar(select(TAuthor).where(TAuthor.name == data["author"]))
        if author is None:
            author = TAuthor(name=data["author"])
        tags = list(await session.scalars(select(TTag).where(TTag.name.in_(data["tags"]))))
        tags += [TTag(name=n) for n in sorted(set(data["tags"]) - {t.name for t in tags})]
        book = TBook(title=data["title"], author=author, tags=tags)
        session.add(book)
        await session.commit()
        return {"id": book.id, "author_id": author.id}

    @app.post("/sync/tags")
    def sync_add_tag(request: Request) -> Any:
        """Catching an IntegrityError and carrying on in the same session."""
        name = request.query_params["name"]
        db.session.add(TTag(name=name))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return {"created": False, "tags": db.session.scalar(select(func.count(TTag.id)))}
        return {"created": True, "tags": db.session.scalar(select(func.count(TTag.id)))}

    @app.delete("/async/books/{id:int}")
    async def async_delete_book(id: int) -> dict[str, int]:
        session = db.async_session
        await session.delete(await db.aget_or_404(TBook, id))
        await session.commit()
        links = await session.scalar(select(func.count()).select_from(t_book_tag))
        return {"links": links or 0}

    return app


def add_book(data: dict[str, Any]) -> dict[str, int]:
    session = db.session
    author = session.scalar(select(TAuthor).where(TAuthor.name == data["author"]))
    author = author or TAuthor(name=data["author"])
    tags = list(session.scalars(select(TTag).where(TTag.name.in_(data["tags"]))))
    tags += [TTag(name=n) for n in sorted(set(data["tags"]) - {t.name for t in tags})]
    book = TBook(title=data["title"], author=author, tags=tags, published=date(2020, 1, 2))
    session.add(book)
    session.commit()
    return {"id": book.id, "author_id": author.id}


@pytest.fixture
def app(db_app) -> App:
    return add_views(db_app(csrf=False))


def seed(app: App) -> None:
    with db.context(app), db.transaction() as session:
        python, sql, web = TTag(name="python"), TTag(name="sql"), TTag(name="web")
        session.add(TTag(name="unused"))
        ada = TAuthor(name="Ada", books=[
            TBook(title="Engines", tags=[python, sql], published=date(1843, 1, 1)),
            TBook(title="Notes", tags=[python]),
        ])
        grace = TAuthor(name="Grace", books=[TBook(title="Compilers", tags=[sql, web])])
        session.add_all([ada, grace, TAuthor(name="Linus")])


EXPECTED_AUTHORS = [
    {"name": "Ada", "books": [{"title": "Engines", "tags": ["python", "sql"]},
                              {"title": "Notes", "tags": ["python"]}]},
    {"name": "Grace", "books": [{"title": "Compilers", "tags": ["sql", "web"]}]},
    {"name": "Linus", "books": []},
]
EXPECTED_BOOKS = [
    {"title": "Compilers", "author": "Grace", "tags": ["sql", "web"]},
    {"title": "Engines", "author": "Ada", "tags": ["python", "sql"]},
    {"title": "Notes", "author": "Ada", "tags": ["python"]},
]
EXPECTED_STATS = {
    "per_author": [["Ada", 2], ["Grace", 1], ["Linus", 0]],
    "per_tag": [["python", 2], ["sql", 2], ["unused", 0], ["web", 1]],
}


class Statements:
    """Counts the SQL statements both engines of the app send."""

    def __init__(self, app: App) -> None:
        self.count = 0
        state = db.state(app)
        for engine in (state.engine(), state.async_engine().sync_engine):
            event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.count += 1

    def take(self) -> int:
        count, self.count = self.count, 0
        return count


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_eager_loading_reads_the_graph_in_a_fixed_number_of_queries(
        app: App, kind: str) -> None:
    seed(app)
    statements = Statements(app)
    async with AsyncTestClient(app) as client:
        assert (await client.get(f"/{kind}/authors")).json() == EXPECTED_AUTHORS
        assert statements.take() == 3  # authors, their books, the books' tags: no N+1
        assert (await client.get(f"/{kind}/books")).json() == EXPECTED_BOOKS
        assert statements.take() == 2  # books joined with authors, then tags
        for n in range(5):
            await client.post(f"/{kind}/books", json={"title": f"More {n}", "author": "Linus",
                                                      "tags": ["web"]})
        statements.take()
        authors = (await client.get(f"/{kind}/authors")).json()
        assert len(authors[2]["books"]) == 5
        assert statements.take() == 3  # still three with more rows
        assert all_checked_in(app)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_aggregates(app: App, kind: str) -> None:
    seed(app)
    async with AsyncTestClient(app) as client:
        assert (await client.get(f"/{kind}/stats")).json() == EXPECTED_STATS
        assert (await client.get(f"/{kind}/tags/sql/books")).json() == ["Compilers", "Engines"]
        assert (await client.get(f"/{kind}/tags/unused/books")).json() == []


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_writing_through_relationships(app: App, kind: str) -> None:
    seed(app)
    async with AsyncTestClient(app) as client:
        response = await client.post(f"/{kind}/books", json={
            "title": "Hopper", "author": "Grace", "tags": ["sql", "history"]})
        assert response.status_code == 200, response.text
        created = response.json()
        response = await client.post(f"/{kind}/books", json={
            "title": "Debut", "author": "Newcomer", "tags": []})
        assert response.json()["author_id"] != created["author_id"]
        stats = (await client.get(f"/{kind}/stats")).json()
        assert stats["per_author"] == [["Ada", 2], ["Grace", 2], ["Linus", 0], ["Newcomer", 1]]
        assert ["history", 1] in stats["per_tag"]
        assert ["sql", 3] in stats["per_tag"]
    with db.context(app):
        book = db.session.get(TBook, created["id"])
        assert book.author.name == "Grace"
        assert [t.name for t in book.tags] == ["history", "sql"]
        assert sorted(b.title for b in book.tags[1].books) == ["Compilers", "Engines", "Hopper"]


async def test_deleting_a_book_removes_its_tag_links_only(app: App) -> None:
    seed(app)
    with db.context(app):
        engines = db.session.scalar(select(TBook).where(TBook.title == "Engines"))
        book_id = engines.id
    async with AsyncTestClient(app) as client:
        assert (await client.delete(f"/async/books/{book_id}")).json() == {"links": 3}
        missing = await client.delete(f"/async/books/{book_id}", headers=JSON)
        assert missing.status_code == 404
        stats = (await client.get("/async/stats")).json()
        assert stats["per_author"][0] == ["Ada", 1]
        assert ["sql", 1] in stats["per_tag"]
        assert ["python", 1] in stats["per_tag"]


async def test_a_view_recovers_from_an_integrity_error(app: App) -> None:
    seed(app)
    async with AsyncTestClient(app) as client:
        assert (await client.post("/sync/tags?name=new")).json() == {"created": True, "tags": 5}
        assert (await client.post("/sync/tags?name=new")).json() == {"created": False,
                                                                    "tags": 5}
        assert all_checked_in(app)
