"""The bookshop example (heron.admin), end to end on a throwaway SQLite file.

``db_clean`` applies the example's committed migrations (and heron's: users, the
audit log) once for the module and empties the tables after each test.  Staff log
in through the real login page and use the admin's pages over HTTP, as a browser
without JavaScript would.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import importlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from heron.db import db
from heron.testing import TestClient, extract_csrf_token

ROOT = Path(__file__).resolve().parents[2]
MODULE = "examples.bookshop.app"
PASSWORD = "correct horse battery"
BOOKS = "/admin/app/book/"


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('bookshop') / 'bookshop.sqlite3'}"


@pytest.fixture
def module(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh import of the app module (it reads its settings from the environment);
    the models and admin modules stay: a model is defined once per process."""
    monkeypatch.setenv("HERON_DATABASE_URL", database_url)
    monkeypatch.setenv("HERON_SECRET_KEY", "bookshop-test-secret")
    # The smallest argon2 costs: the tests log in often.
    monkeypatch.setenv("HERON_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("HERON_PASSWORD_MEMORY_COST", "8")
    monkeypatch.setenv("HERON_PASSWORD_PARALLELISM", "1")
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    loaded = importlib.import_module(MODULE)
    yield loaded
    asyncio.run(db.state(loaded.app).dispose())
    sys.modules.pop(MODULE, None)


@pytest.fixture
def app(module: Any) -> Any:
    return module.app


@pytest.fixture
def shop(app: Any, db_clean: None) -> dict[str, Any]:
    """Two authors, a category, three books (one with reviews) and the users."""
    from examples.bookshop.models import Author, Book, Category, Format, Review
    from heron.auth import Permission, create_user

    with db.transaction() as session:
        create_user(session, app, "ada", PASSWORD, is_staff=True, is_superuser=True)
        clerk = create_user(session, app, "clerk", PASSWORD, is_staff=True)
        view_book = session.scalars(select(Permission).where(
            Permission.codename == "view_book")).one()
        clerk.user_permissions.append(view_book)
        create_user(session, app, "reader", PASSWORD)
        le_guin = Author(name="Ursula K. Le Guin", country="US")
        lem = Author(name="Stanisław Lem", country="PL")
        fiction = Category(name="Fiction", slug="fiction")
        dispossessed = Book(
            title="The Dispossessed", slug="the-dispossessed", author=le_guin,
            category=fiction, price=Decimal("9.99"), stock=3,
            published_on=dt.date(1974, 5, 1), format=Format.PAPERBACK,
            reviews=[Review(reviewer="Sam", rating=5, text="An ambiguous utopia.")])
        earthsea = Book(title="A Wizard of Earthsea", slug="a-wizard-of-earthsea",
                        author=le_guin, category=fiction, price=Decimal("7.50"), stock=0,
                        published_on=dt.date(1968, 11, 1))
        solaris = Book(title="Solaris", slug="solaris", author=lem, price=Decimal("12.00"),
                       stock=10, published_on=dt.date(1961, 6, 1), in_print=False,
                       format=Format.HARDCOVER)
        session.add_all([dispossessed, earthsea, solaris])
        session.flush()
        return {"le_guin": le_guin.id, "lem": lem.id, "fiction": fiction.id,
                "dispossessed": dispossessed.id, "earthsea": earthsea.id,
                "solaris": solaris.id}


@contextmanager
def logged_in(app: Any, username: str) -> Iterator[TestClient]:
    """A client logged in as ``username`` through the login page."""
    with TestClient(app) as client:
        token = extract_csrf_token(client.get("/auth/login").text)
        response = client.post("/auth/login", data={
            "username": username, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 303, response.text
        yield client


@pytest.fixture
def staff(app: Any, shop: dict[str, Any]) -> Iterator[TestClient]:
    """A superuser (staff, every permission), logged in."""
    with logged_in(app, "ada") as client:
        yield client


def token_of(client: TestClient, path: str) -> str:
    return extract_csrf_token(client.get(path).text)


def titles(page: str) -> list[str]:
    """The titles in the change list's first column."""
    return re.findall(r'<th scope="row" class="field-title"><a [^>]*>([^<]*)</a>', page)


def book_form(client: TestClient, path: str, **values: str) -> dict[str, str]:
    """The book form's fields as a browser would send them, with ``values``."""
    data = {"csrf_token": token_of(client, path), "title": "The Lathe of Heaven",
            "slug": "the-lathe-of-heaven", "author": "", "category": "",
            "format": "paperback", "price": "8.00", "stock": "4", "in_print": "on",
            "published_on": "1971-01-01", "description": "", "review_set-TOTAL": "0",
            "_save": "1"}
    data.update(values)
    return data


def book(app: Any, key: int) -> Any:
    from examples.bookshop.models import Book

    with db.context(app):
        found = db.session.get(Book, key)
        db.session.expunge_all()
        return found


# -- the app ----------------------------------------------------------------------


def test_runs_in_production_mode_without_problems(app: Any) -> None:
    assert app.settings.debug is False
    assert app.check() == []


def test_the_public_pages(app: Any, shop: dict[str, Any]) -> None:
    with TestClient(app) as client:
        index = client.get("/")
        assert index.status_code == 200
        assert "The Dispossessed" in index.text
        assert "A Wizard of Earthsea" in index.text
        assert "Solaris" not in index.text  # out of print
        assert "€7.50</span> (out of stock)" in index.text
        page = client.get("/books/the-dispossessed")
        assert "An ambiguous utopia." in page.text
        assert "Sam, 5/5" in page.text
        assert client.get("/books/nothing").status_code == 404


# -- who gets in --------------------------------------------------------------------


def test_the_admin_is_for_staff_only(app: Any, shop: dict[str, Any]) -> None:
    with TestClient(app) as anonymous:
        page = anonymous.get("/admin/", follow_redirects=False)
        assert page.status_code == 302
        assert page.headers["location"] == "/auth/login?next=/admin/"
    with logged_in(app, "reader") as reader:
        assert reader.get("/admin/").status_code == 403
        assert reader.get(BOOKS).status_code == 403


def test_the_index_lists_the_models_by_component(staff: TestClient) -> None:
    page = staff.get("/admin/")
    assert page.status_code == 200
    assert "<title>Site administration | Bookshop administration</title>" in page.text
    for name, path in [("Authors", "app/author/"), ("Books", "app/book/"),
                       ("Categories", "app/category/"), ("Users", "auth/user/"),
                       ("Groups", "auth/group/")]:
        assert f'<a href="/admin/{path}">{name}</a>' in page.text


def test_a_clerk_with_the_view_permission_only_reads(app: Any,
                                                     shop: dict[str, Any]) -> None:
    with logged_in(app, "clerk") as clerk:
        index = clerk.get("/admin/").text
        assert '<a href="/admin/app/book/">Books</a>' in index
        assert "/admin/app/author/" not in index  # no permission on authors
        assert clerk.get("/admin/app/author/").status_code == 403
        listing = clerk.get(BOOKS)
        assert listing.status_code == 200
        assert "/admin/app/book/add/" not in listing.text
        assert 'value="delete_selected"' not in listing.text  # no delete permission
        path = f"{BOOKS}{shop['dispossessed']}/change/"
        form = clerk.get(path)
        assert "<h1>View book</h1>" in form.text
        assert 'name="title"' not in form.text  # read-only: values, no inputs
        refused = clerk.post(path, data=book_form(clerk, path))
        assert refused.status_code == 403
        assert clerk.get(f"{BOOKS}add/").status_code == 403
        assert clerk.get(f"{BOOKS}{shop['dispossessed']}/delete/").status_code == 403


# -- the change list -----------------------------------------------------------------


def test_the_change_list_sorts_searches_and_filters(staff: TestClient,
                                                    shop: dict[str, Any]) -> None:
    page = staff.get(BOOKS)
    assert page.status_code == 200
    assert titles(page.text) == ["A Wizard of Earthsea", "Solaris", "The Dispossessed"]
    assert "<td class=\"field-shown_price\">€9.99</td>" in page.text
    assert titles(staff.get(BOOKS + "?o=-5").text) == [  # by price, highest first
        "Solaris", "The Dispossessed", "A Wizard of Earthsea"]
    assert titles(staff.get(BOOKS + "?q=earthsea").text) == ["A Wizard of Earthsea"]
    assert titles(staff.get(BOOKS + "?q=stan").text) == ["Solaris"]  # ^author__name
    assert titles(staff.get(BOOKS + "?q=lem").text) == []  # starts with, not contains
    assert titles(staff.get(BOOKS + "?q=solaris+dispossessed").text) == []  # every word
    assert titles(staff.get(BOOKS + "?in_print=0").text) == ["Solaris"]
    assert titles(staff.get(BOOKS + "?format=HARDCOVER").text) == ["Solaris"]  # by name
    assert titles(staff.get(f"{BOOKS}?category={shop['fiction']}").text) == [
        "A Wizard of Earthsea", "The Dispossessed"]
    assert titles(staff.get(BOOKS + "?category__isnull=1").text) == ["Solaris"]
    assert titles(staff.get(BOOKS + "?stock=out").text) == ["A Wizard of Earthsea"]
    assert titles(staff.get(BOOKS + "?stock=low").text) == ["The Dispossessed"]
    assert titles(staff.get(BOOKS + "?published_on__year=1974").text) == ["The Dispossessed"]
    filtered = staff.get(BOOKS + "?in_print=1")
    assert "2 books" in filtered.text
    assert "of 3 in all" in filtered.text


def test_a_bad_parameter_is_a_400_page(staff: TestClient) -> None:
    for query in ("?nonsense=1", "?in_print=maybe", "?stock=many", "?o=99", "?format=hardcover",
                  "?published_on__month=13&published_on__year=1974"):
        page = staff.get(BOOKS + query)
        assert page.status_code == 400, query
        assert "<title>Bad request | Bookshop administration</title>" in page.text


def test_stock_is_edited_in_the_list(app: Any, staff: TestClient,
                                     shop: dict[str, Any]) -> None:
    # A browser sends every row of the page.
    data: dict[str, Any] = {"csrf_token": token_of(staff, BOOKS), "_save": "1",
                            "_row": [str(shop[name]) for name in
                                     ("dispossessed", "earthsea", "solaris")]}
    for name in ("dispossessed", "earthsea", "solaris"):
        found = book(app, shop[name])
        data[f"row-{found.id}-stock"] = str(found.stock)
        if found.in_print:
            data[f"row-{found.id}-in_print"] = "on"
    key = shop["earthsea"]
    data[f"row-{key}-stock"] = "12"
    saved = staff.post(BOOKS, data=data)
    assert saved.status_code == 303
    assert book(app, key).stock == 12
    data[f"row-{key}-stock"] = "lots"
    refused = staff.post(BOOKS, data=data)
    assert refused.status_code == 422
    assert book(app, key).stock == 12


# -- the change form ----------------------------------------------------------------


def test_add_a_book_with_a_review(app: Any, staff: TestClient, shop: dict[str, Any]) -> None:
    from examples.bookshop.models import Book

    path = f"{BOOKS}add/"
    data = book_form(staff, path, author=str(shop["le_guin"]), **{
        "review_set-TOTAL": "1", "review_set-0-pk": "", "review_set-0-reviewer": "Kim",
        "review_set-0-rating": "4", "review_set-0-text": "Dreams that change the world."})
    added = staff.post(path, data=data)
    assert added.status_code == 303, added.text
    assert added.headers["location"].endswith(BOOKS)
    with db.context(app):
        new = db.session.scalars(select(Book).where(Book.slug == "the-lathe-of-heaven")).one()
        assert new.price == Decimal("8.00")
        assert new.author.name == "Ursula K. Le Guin"
        assert [(r.reviewer, r.rating) for r in new.reviews] == [("Kim", 4)]
        key = new.id
    listing = staff.get(BOOKS)
    assert "The book &#34;The Lathe of Heaven&#34; was added." in listing.text
    public = staff.get("/books/the-lathe-of-heaven")
    assert "Dreams that change the world." in public.text
    history = staff.get(f"{BOOKS}{key}/history/")
    assert history.status_code == 200
    assert "<td>ada</td>" in history.text
    assert "<td>Add<br>" in history.text
    assert "Added 1 review" in history.text  # the inline row, noted on the book's entry


def test_the_book_form_refuses_bad_values(app: Any, staff: TestClient,
                                          shop: dict[str, Any]) -> None:
    from examples.bookshop.models import Book

    path = f"{BOOKS}add/"
    for values in ({"price": "-1"}, {"author": ""}, {"slug": "the-dispossessed"},
                   {"review_set-TOTAL": "1", "review_set-0-reviewer": "Kim",
                    "review_set-0-rating": "9"}):
        data = book_form(staff, path, **{"author": str(shop["le_guin"]), **values})
        refused = staff.post(path, data=data)
        assert refused.status_code == 422, values
        assert "Please correct" in refused.text or 'class="errors"' in refused.text
    with db.context(app):
        assert db.session.scalar(select(func.count()).select_from(Book)) == 3


def test_change_a_book_records_the_diff(app: Any, staff: TestClient,
                                        shop: dict[str, Any]) -> None:
    from examples.bookshop.models import Book
    from heron.admin.audit import entries_for

    key = shop["dispossessed"]
    path = f"{BOOKS}{key}/change/"
    page = staff.get(path)
    assert page.status_code == 200
    assert "<h1>Change book</h1>" in page.text
    assert 'href="/books/the-dispossessed">View on site</a>' in page.text  # our override
    assert 'name="review_set-0-reviewer" type="text" required maxlength="80" value="Sam"' \
        in page.text
    data = book_form(staff, path, title="The Dispossessed", slug="the-dispossessed",
                     author=str(shop["le_guin"]), category=str(shop["fiction"]),
                     price="11.00", stock="3", published_on="1974-05-01", **{
                         "review_set-TOTAL": "1", "review_set-0-pk": "1",
                         "review_set-0-reviewer": "Sam", "review_set-0-rating": "5",
                         "review_set-0-text": "An ambiguous utopia."})
    data["review_set-0-pk"] = re.search(r'name="review_set-0-pk" value="(\d+)"',
                                        page.text).group(1)
    saved = staff.post(path, data=data)
    assert saved.status_code == 303, saved.text
    assert book(app, key).price == Decimal("11.00")
    with db.context(app):
        entry = entries_for(db.session, Book, key)[0]
        assert entry.action == "change"
        assert entry.user_repr == "ada"
        assert entry.changes["price"] == ["9.99", "11.00"]
    history = staff.get(f"{BOOKS}{key}/history/").text
    assert "Price" in history or "price" in history


# -- actions, deleting, exporting -----------------------------------------------------


def test_mark_out_of_print_runs_on_the_ticked_rows(app: Any, staff: TestClient,
                                                   shop: dict[str, Any]) -> None:
    data = {"csrf_token": token_of(staff, BOOKS), "action": "mark_out_of_print",
            "_selected": [str(shop["dispossessed"]), str(shop["earthsea"])]}
    done = staff.post(BOOKS, data=data)
    assert done.status_code == 303
    assert not book(app, shop["dispossessed"]).in_print
    assert not book(app, shop["earthsea"]).in_print
    assert "2 books done: Mark as out of print." in staff.get(BOOKS).text


def test_the_discount_asks_first(app: Any, staff: TestClient, shop: dict[str, Any]) -> None:
    data = {"csrf_token": token_of(staff, BOOKS), "action": "discount_ten_percent",
            "_selected": [str(shop["solaris"])]}
    asked = staff.post(BOOKS, data=data)
    assert asked.status_code == 200
    assert "Solaris" in asked.text
    assert 'name="post" value="yes"' in asked.text
    assert book(app, shop["solaris"]).price == Decimal("12.00")
    done = staff.post(BOOKS, data={**data, "post": "yes"})
    assert done.status_code == 303
    assert book(app, shop["solaris"]).price == Decimal("10.80")


def test_an_author_with_books_cannot_be_deleted(app: Any, staff: TestClient,
                                                shop: dict[str, Any]) -> None:
    path = f"/admin/app/author/{shop['lem']}/delete/"
    page = staff.get(path)
    assert page.status_code == 200
    assert "Solaris" in page.text  # the book that blocks it
    blocked = staff.post(path, data={"csrf_token": token_of(staff, path), "post": "yes"})
    assert blocked.status_code == 409
    assert book(app, shop["solaris"]) is not None


def test_deleting_a_book_takes_its_reviews(app: Any, staff: TestClient,
                                           shop: dict[str, Any]) -> None:
    from examples.bookshop.models import Review

    path = f"{BOOKS}{shop['dispossessed']}/delete/"
    page = staff.get(path)
    assert "Sam (5/5)" in page.text  # listed among what goes with it
    done = staff.post(path, data={"csrf_token": token_of(staff, path), "post": "yes"})
    assert done.status_code == 303
    assert book(app, shop["dispossessed"]) is None
    with db.context(app):
        assert db.session.scalar(select(func.count()).select_from(Review)) == 0


def test_export_the_filtered_list_as_csv(staff: TestClient) -> None:
    response = staff.get(BOOKS + "export/csv?in_print=1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="book.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["id", "title", "author__name", "format", "price", "stock", "in_print"]
    assert sorted(row[1] for row in rows[1:]) == ["A Wizard of Earthsea", "The Dispossessed"]
    assert staff.get(BOOKS + "export/xml").status_code == 404


def test_the_author_search_box_of_the_book_form(staff: TestClient) -> None:
    found = staff.get("/admin/app/author/autocomplete/?term=ursula").json()
    assert [row["text"] for row in found["results"]] == ["Ursula K. Le Guin"]


# -- the migrations ------------------------------------------------------------------


def test_the_migrations_build_the_tables_the_models_describe(tmp_path: Path) -> None:
    """The committed migrations alone make the schema, and they match the models."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env["HERON_DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    env["PYTHONPATH"] = str(ROOT)
    for command in ("migrate", "check"):
        result = subprocess.run(
            [sys.executable, "-m", "heron", "db", "--app", f"{MODULE}:app", command],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
