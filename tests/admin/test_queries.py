"""The number of SQL statements of a change list page does not grow with its rows: the
many-to-one columns (author__name) are loaded with the page, the filters' choices and the
counts are one query each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from admin_shop import (
    BOOKS,
    AdmShopAuthor,
    AdmShopBook,
    AdmShopPublisher,
    Browser,
    Shop,
    row_ids,
)
from sqlalchemy import event
from sqlalchemy.orm import Session

from heron.db import db


@contextmanager
def counting(shop: Shop) -> Iterator[list[str]]:
    """The statements the app's engines run in the block."""
    statements: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    state = db.state(shop.app)
    engines = [state.engine(), state.async_engine().sync_engine]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)


def add_books(shop: Shop, count: int) -> None:
    """``count`` books, each by an author of its own, with a publisher."""

    def work(session: Session) -> None:
        publisher = session.get(AdmShopPublisher, shop.ids["penguin"])
        for n in range(count):
            author = AdmShopAuthor(name=f"Author {n:02}", publisher=publisher)
            session.add(AdmShopBook(title=f"Book {n:02}", author=author, price=Decimal(n)))

    shop.run(work)


def statements_for(shop: Shop, browser: Browser, url: str) -> tuple[int, list[str]]:
    browser.get(url)  # warm: the first request of a client loads what is cached after
    with counting(shop) as statements:
        page = browser.get(url)
    assert page.status_code == 200, page.text[:300]
    return len(row_ids(page.text)), statements


@pytest.mark.parametrize("query", [
    "?all=",  # every row on one page
    "",  # the first page
    "?o=2,-1&all=",  # sorted by the author's name (a join), then the title
    "?author__isnull=0&all=",  # a filter on the relation
    "?q=book&status=draft&in_stock=1&band=cheap&all=",  # search and filters
    "?published__isnull=1&published__year=2020",
])
def test_a_page_s_queries_do_not_grow_with_its_rows(admin_app: Any, shop: Shop,
                                                    query: str) -> None:
    counts = {}
    for extra in (10, 50):
        add_books(shop, extra - (10 if extra == 50 else 0))  # 14 books, then 54
        with shop.client("admin") as browser:
            shown, statements = statements_for(shop, browser, BOOKS + query)
        counts[extra] = (shown, len(statements))
        assert "adm_shop_author" in "".join(statements)  # the names come with the page...
        by_author = [s for s in statements if s.lstrip().startswith("SELECT adm_shop_author.")]
        assert len(by_author) <= 1, by_author  # ...not a query per row (one: the filter's)
    (few_rows, few), (many_rows, many) = counts[10], counts[50]
    if "q=" not in query and "isnull=1" not in query:
        assert many_rows > few_rows
    assert few == many, counts
    assert many <= 8, counts


def test_the_full_count_is_one_query_less_when_off(shop: Shop) -> None:
    from admin_shop import AUTHORS

    add_books(shop, 10)
    with shop.client("admin") as browser:
        _, plain = statements_for(shop, browser, AUTHORS + "?q=author")
        _, books = statements_for(shop, browser, BOOKS + "?q=book")
        _, books_plain = statements_for(shop, browser, BOOKS)
    # The matches are counted by a count query, or on SQLite in the page's own query
    # (count(*) OVER ()) when its plan sorts every match anyway; the total by its own.
    assert len(counts_in(books)) == 2  # the matches and the total
    assert len(counts_in(books_plain)) == 1
    assert len(counts_in(plain)) == 1  # the matches only: show_full_result_count is off


def counts_in(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().lower().startswith("select count")
            or "count(*) over ()" in s.lower()]


def test_sqlite_counts_in_the_page_query_only_when_it_sorts_every_match(shop: Shop) -> None:
    # A search the sort's index cannot serve: one query reads the page and counts the
    # matches; the same page and count as the two-query way (and a page past the end
    # still shows the last page).
    from admin_shop import AUTHORS

    add_books(shop, 30)
    with shop.client("admin") as browser:
        _, searched = statements_for(shop, browser, AUTHORS + "?q=author")
        _, first = statements_for(shop, browser, AUTHORS)
        page = browser.get(AUTHORS + "?q=author&p=99")
        _, nothing = statements_for(shop, browser, AUTHORS + "?q=nobody-by-this-name")
    if shop.app.settings.database_url.startswith("sqlite"):
        assert any("count(*) over ()" in s.lower() for s in searched), searched
        assert not any(s.lstrip().lower().startswith("select count") for s in searched)
        # Nothing matches: the empty first page is the count, no second scan.
        assert len(counts_in(nothing)) == 1, nothing
    assert not any("over ()" in s.lower() for s in first)  # not narrowed: no window
    assert page.status_code == 200
