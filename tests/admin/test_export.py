"""The change list as CSV and JSON downloads: the filtered, searched and sorted rows,
typed values, formulas a spreadsheet would run quoted, and the formats an admin offers."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from admin_shop import AUTHORS, BOOKS, PUBLISHERS, AdmShopAuthor, AdmShopBook, Browser, Shop
from sqlalchemy.orm import Session


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv_of_the_filtered_list(shop: Shop, browser: Browser) -> None:
    response = browser.get(BOOKS + "export/csv?status=draft")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="adm_shop_book.csv"'
    assert response.headers["cache-control"] == "no-store"
    table = rows_of(response.text)
    assert table[0] == ["id", "title", "slug", "status", "in_stock", "price", "published",
                        "subtitle", "author_id"]
    assert table[1:] == [
        [str(shop.ids["guards"]), "Guards! Guards!", "", "draft", "True", "15.00", "", "",
         str(shop.ids["terry"])],
        [str(shop.ids["dispossessed"]), "The Dispossessed", "", "draft", "False", "12.00",
         "2021-07-15", "An ambiguous utopia", str(shop.ids["ursula"])]]


def test_json_of_the_searched_and_sorted_list(shop: Shop, browser: Browser) -> None:
    response = browser.get(BOOKS + "export/json", params={"q": "ter", "o": "1"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    items = json.loads(response.text)
    assert [i["title"] for i in items] == ["Guards! Guards!", "Mort"]
    assert items[1] == {"id": shop.ids["mort"], "title": "Mort", "slug": "", "status": "live",
                        "in_stock": True, "price": "9.99", "published": "2021-01-10",
                        "subtitle": "", "author_id": shop.ids["terry"]}
    assert json.loads(browser.get(BOOKS + "export/json?q=nothing+like+it").text) == []


def test_the_change_list_links_to_its_own_export(shop: Shop, browser: Browser) -> None:
    page = browser.get(BOOKS + "?status=draft").text
    assert f'href="{BOOKS}export/csv?status=draft"' in page
    assert f'href="{BOOKS}export/json?status=draft"' in page


@pytest.mark.parametrize(("title", "cell"), [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
    ("+SUM(A1:A9)", "'+SUM(A1:A9)"),
    ("-2+3", "'-2+3"),
    ("@cmd", "'@cmd"),
    ("\tTab", "'\tTab"),
    ("\rReturn", "'\rReturn"),
    ("-12.5", "-12.5"),  # a number stays a number
    ("Plain, with \"quotes\"\nand a line", "Plain, with \"quotes\"\nand a line"),
    ("Ünïcödé ☃", "Ünïcödé ☃"),
])
def test_formulas_are_quoted_in_csv(shop: Shop, browser: Browser, title: str,
                                    cell: str) -> None:
    def add(session: Session) -> int:
        book = AdmShopBook(title=title, author=session.get(AdmShopAuthor, shop.ids["terry"]))
        session.add(book)
        session.flush()
        return book.id

    book = shop.run(add)
    table = rows_of(browser.get(BOOKS + "export/csv").text)
    row = next(r for r in table[1:] if r[0] == str(book))
    assert row[1] == cell
    items = json.loads(browser.get(BOOKS + "export/json").text)
    assert next(i for i in items if i["id"] == book)["title"] == title  # JSON: as it is


def test_export_fields_with_paths_and_callables(shop: Shop, browser: Browser) -> None:
    table = rows_of(browser.get(AUTHORS + "export/csv").text)
    assert table == [["name", "email", "publisher__name", "book_count"],
                     ["Terry", "terry@example.com", "", "2"],
                     ["Ursula", "ursula@example.com", "Penguin", "2"]]


def test_a_long_list_is_streamed_whole(shop: Shop, browser: Browser) -> None:
    def many(session: Session) -> None:
        author = session.get(AdmShopAuthor, shop.ids["terry"])
        session.add_all([AdmShopBook(title=f"Book {n}", author=author, price=Decimal(n))
                         for n in range(1200)])

    shop.run(many)
    assert len(rows_of(browser.get(BOOKS + "export/csv").text)) == 1 + 1204
    assert len(json.loads(browser.get(BOOKS + "export/json").text)) == 1204


def test_only_the_admin_s_formats_are_served(shop: Shop, browser: Browser) -> None:
    assert browser.get(PUBLISHERS + "export/csv").status_code == 200
    assert browser.get(PUBLISHERS + "export/json").status_code == 404
    page = browser.get(PUBLISHERS).text
    assert "Export CSV" in page
    assert "Export JSON" not in page
    for fmt in ("xml", "CSV", "csv.exe", "%2e%2e", "%00"):
        assert browser.get(BOOKS + "export/" + fmt).status_code in (400, 404), fmt


def test_export_needs_the_view_permission(shop: Shop) -> None:
    shop.user("clerk", perms=["app.view_adm_shop_author"])
    with shop.client("clerk") as browser:
        assert browser.get(BOOKS + "export/csv").status_code == 403
        assert browser.get(AUTHORS + "export/csv").status_code == 200
