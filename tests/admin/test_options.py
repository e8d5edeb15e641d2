"""Each ModelAdmin option as the pages show it: search, every kind of filter, sorting
(several columns, across a relation, by a callable), pagination and "show all", the
date drill-down, the counts, list_editable, list_display callables and links, and the
form options (readonly_fields, fieldsets, exclude, form, prepopulated_fields,
raw_id_fields, autocomplete_fields, save_as)."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest
from admin_shop import (
    AUTHORS,
    BOOKS,
    NOTES,
    PUBLISHERS,
    AdmShopAuthor,
    AdmShopBook,
    AdmShopPublisher,
    AdmShopReview,
    AdmShopStatus,
    Browser,
    Shop,
    flashes,
    form_fields,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from heron.admin.audit import entries_for
from heron.db import db


def titles_on(page: str) -> list[str]:
    """The books of a change list page, in order."""
    return [html.unescape(t) for t in
            re.findall(r'<th scope="row" class="field-title"><a [^>]+>([^<]+)</a>', page)]


def counts_on(page: str) -> str:
    """The pager's counts, as text."""
    found = re.search(r'<span class="counts">(.*?)</span>\s*(?:<ul|<a|</nav)', page, re.S)
    assert found is not None
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def query_of(href: str) -> dict[str, str]:
    """A link's query parameters (their order is not the page's business)."""
    return dict(parse_qsl(html.unescape(href).lstrip("?"), keep_blank_values=True))


def add_books(shop: Shop, count: int, **fields: Any) -> None:
    def work(session: Session) -> None:
        author = session.get(AdmShopAuthor, shop.ids["terry"])
        for n in range(count):
            values: dict[str, Any] = {"title": f"Extra {n:03}", "author": author,
                                      "price": Decimal("20")}
            values.update(fields)
            session.add(AdmShopBook(**values))

    shop.run(work)


# -- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("q", "expected"), [
    ("earth", ["A Wizard of Earthsea"]),
    ("EARTHSEA", ["A Wizard of Earthsea"]),
    ("ter", ["Guards! Guards!", "Mort"]),  # ^author__name: Terry's name starts with it
    ("rry", []),  # ...but does not start with this
    ("wizard earthsea", ["A Wizard of Earthsea"]),  # every word must match
    ("100%", []),
    ("o_d", []),  # LIKE's wildcards are plain characters
])
def test_the_search_box(shop: Shop, browser: Browser, q: str, expected: list[str]) -> None:
    page = browser.get(BOOKS, params={"q": q})
    assert page.status_code == 200
    assert titles_on(page.text) == expected
    assert f'value="{html.escape(q)}"' in page.text  # the box keeps what was typed


def test_the_search_is_kept_by_the_filters_and_the_sort(shop: Shop, browser: Browser) -> None:
    page = browser.get(BOOKS + "?q=ter").text
    assert 'href="?q=ter&amp;status=draft"' in page
    assert 'href="?q=ter&amp;o=1"' in page
    assert titles_on(browser.get(BOOKS + "?q=ter&status=draft").text) == ["Guards! Guards!"]


# -- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "expected"), [
    ("status=draft", ["Guards! Guards!", "The Dispossessed"]),  # choices (an enum)
    ("status=live", ["Mort", "A Wizard of Earthsea"]),
    ("in_stock=0", ["The Dispossessed"]),  # boolean
    ("in_stock=1", ["Guards! Guards!", "Mort", "A Wizard of Earthsea"]),
    ("published__isnull=1", ["Guards! Guards!"]),  # a nullable date
    ("published__isnull=0", ["Mort", "The Dispossessed", "A Wizard of Earthsea"]),
    ("author={terry}", ["Guards! Guards!", "Mort"]),  # a relation
    ("subtitle__empty=0", ["The Dispossessed"]),  # EmptyFieldListFilter
    ("subtitle__empty=1", ["Guards! Guards!", "Mort", "A Wizard of Earthsea"]),
    ("band=cheap", ["Mort", "A Wizard of Earthsea"]),  # a SimpleListFilter
    ("band=dear", ["Guards! Guards!", "The Dispossessed"]),
    ("status=draft&band=dear&author={ursula}", ["The Dispossessed"]),  # together
    ("status=live&in_stock=0", []),
])
def test_each_kind_of_filter(shop: Shop, browser: Browser, query: str,
                             expected: list[str]) -> None:
    page = browser.get(BOOKS + "?" + query.format(**shop.ids))
    assert page.status_code == 200
    assert titles_on(page.text) == expected
    assert "Clear all filters" in page.text
    if not expected:
        assert "No adm shop books match." in page.text


def test_the_chosen_filter_is_marked_and_can_be_cleared(shop: Shop, browser: Browser) -> None:
    ursula = str(shop.ids["ursula"])
    page = browser.get(BOOKS + f"?author={ursula}&q=a").text
    chosen = [(query_of(href), label) for href, label in re.findall(
        r'<li class="selected"><a href="([^"]*)" aria-current="true">([^<]+)<', page)]
    assert ({"author": ursula, "q": "a"}, "Ursula") in chosen
    assert ({"q": "a"}, "All") not in chosen  # the author filter's "All" is not chosen
    clear = re.search(r'<p class="clear-filters"><a href="([^"]*)">', page)
    assert clear is not None
    assert query_of(clear.group(1)) == {"q": "a"}  # the search stays
    assert "Clear all filters" not in browser.get(BOOKS).text


def test_the_date_filter_s_periods(shop: Shop, browser: Browser) -> None:
    today = dt.datetime.now(dt.UTC).date()
    add_books(shop, 1, title="Today", published=today)
    add_books(shop, 1, title="Three days ago", published=today - dt.timedelta(days=3))
    add_books(shop, 1, title="Last year", published=today.replace(year=today.year - 1))
    assert titles_on(browser.get(BOOKS + "?published=today").text) == ["Today"]
    assert titles_on(browser.get(BOOKS + "?published=past7").text) == [
        "Three days ago", "Today"]
    this_year = [t for t, d in [("Three days ago", today - dt.timedelta(days=3)),
                                ("Today", today)] if d.year == today.year]
    assert sorted(titles_on(browser.get(BOOKS + "?published=year").text)) == this_year


# -- sorting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("order", "expected"), [
    ("1", ["A Wizard of Earthsea", "Guards! Guards!", "Mort", "The Dispossessed"]),
    ("-1", ["The Dispossessed", "Mort", "Guards! Guards!", "A Wizard of Earthsea"]),
    # across the relation, then by title, descending
    ("2,-1", ["Mort", "Guards! Guards!", "The Dispossessed", "A Wizard of Earthsea"]),
    ("-2,1", ["A Wizard of Earthsea", "The Dispossessed", "Guards! Guards!", "Mort"]),
    ("5", ["A Wizard of Earthsea", "Mort", "The Dispossessed", "Guards! Guards!"]),  # price
    ("-7", ["Guards! Guards!", "The Dispossessed", "Mort", "A Wizard of Earthsea"]),  # callable
    ("6", ["A Wizard of Earthsea", "Mort", "The Dispossessed", "Guards! Guards!"]),  # nulls
])
def test_sorting_by_columns(shop: Shop, browser: Browser, order: str,
                            expected: list[str]) -> None:
    page = browser.get(BOOKS + "?o=" + order)
    assert page.status_code == 200
    shown = titles_on(page.text)
    if order == "6":  # where a NULL sorts depends on the database; the rest keeps its order
        shown = [t for t in shown if t != "Guards! Guards!"] + ["Guards! Guards!"]
    assert shown == expected


def test_the_headings_say_how_the_list_is_sorted(shop: Shop, browser: Browser) -> None:
    page = browser.get(BOOKS + "?o=2,-1").text
    author = re.search(r'<th scope="col" class="column-author__name sorted ascending" '
                       r'aria-sort="ascending">(.*?)</th>', page, re.S)
    title = re.search(r'<th scope="col" class="column-title sorted descending" '
                      r'aria-sort="descending">(.*?)</th>', page, re.S)
    assert author is not None
    assert title is not None
    assert 'title="Sorting priority">1<' in author.group(1)
    assert 'title="Sorting priority">2<' in title.group(1)
    assert 'href="?o=-2,-1"' in author.group(1).replace("%2C", ",")  # toggles, keeps 2nd
    assert 'href="?o=1,2"' in title.group(1).replace("%2C", ",")  # title first, ascending
    assert 'class="sort-remove" href="?o=-1"' in author.group(1)  # stop sorting by author


def test_a_column_without_ordering_does_not_sort(shop: Shop, browser: Browser) -> None:
    page = browser.get(AUTHORS).text
    heading = re.search(r'<th scope="col" class="column-book_count">(.*?)</th>', page, re.S)
    assert heading is not None
    assert "href" not in heading.group(1)
    assert heading.group(1).strip() == "Books"
    assert browser.get(AUTHORS + "?o=4").status_code == 400


# -- pagination and counts ----------------------------------------------------------------------


def test_pages_and_show_all(shop: Shop, browser: Browser) -> None:
    add_books(shop, 25)  # 29 books, 20 a page
    first = browser.get(BOOKS).text
    assert len(titles_on(first)) == 20
    assert '<span class="this-page" aria-current="page">1</span>' in first
    assert '<a href="?p=2">2</a>' in first
    second = browser.get(BOOKS + "?p=2").text
    assert len(titles_on(second)) == 9
    assert not set(titles_on(first)) & set(titles_on(second))
    assert 'class="show-all" href="?all="' in first
    everything = browser.get(BOOKS + "?all=").text
    assert len(titles_on(everything)) == 29
    assert "Show all" not in everything
    assert 'class="paginator"' in everything
    # a page past the end (a link from before a delete) shows the last one
    assert titles_on(browser.get(BOOKS + "?p=7").text) == titles_on(second)
    # the filters are kept by the pager
    add_books(shop, 25, status=AdmShopStatus.live)
    live = browser.get(BOOKS + "?status=live").text
    assert '<a href="?status=live&amp;p=2">2</a>' in live


def test_show_all_is_not_offered_for_long_lists(shop: Shop, browser: Browser) -> None:
    add_books(shop, 100)  # 104 > list_max_show_all (100)
    page = browser.get(BOOKS).text
    assert "Show all" not in page
    assert len(titles_on(browser.get(BOOKS + "?all=").text)) == 100  # capped


def test_the_counts_with_and_without_the_full_count(shop: Shop, browser: Browser) -> None:
    plain = counts_on(browser.get(BOOKS).text)
    assert "4 adm shop books" in plain
    assert "in all" not in plain
    narrowed = counts_on(browser.get(BOOKS + "?status=draft").text)
    assert "2 adm shop books" in narrowed
    assert "of 4 in all" in narrowed
    assert "1 adm shop book " in counts_on(browser.get(BOOKS + "?q=mort").text) + " "
    # show_full_result_count = False: one query less, no total
    authors = counts_on(browser.get(AUTHORS + "?q=urs").text)
    assert "1 adm shop author" in authors
    assert "in all" not in authors


# -- the date drill-down ------------------------------------------------------------------------


def test_the_date_hierarchy_drills_down(shop: Shop, browser: Browser) -> None:
    def choices(page: str) -> list[tuple[dict[str, str], str]]:
        return [(query_of(href), label) for href, label in
                re.findall(r'class="date-choice" href="([^"]+)">(\w+)<', page)]

    top = browser.get(BOOKS).text
    assert choices(top) == [({"published__year": "2020"}, "2020"),
                            ({"published__year": "2021"}, "2021")]
    year = browser.get(BOOKS + "?published__year=2021").text
    assert titles_on(year) == ["Mort", "The Dispossessed"]
    assert choices(year) == [
        ({"published__year": "2021", "published__month": "1"}, "January"),
        ({"published__year": "2021", "published__month": "7"}, "July")]
    month = browser.get(BOOKS + "?published__year=2021&published__month=7").text
    assert titles_on(month) == ["The Dispossessed"]
    assert choices(month) == [
        ({"published__year": "2021", "published__month": "7", "published__day": "15"}, "15")]
    crumbs = re.search(r'<nav class="date-hierarchy" aria-label="Dates">(.*?)(?::|</nav>)',
                       month, re.S)
    assert crumbs is not None
    assert [(query_of(h), label) for h, label in re.findall(
        r'<a href="([^"]*)">([^<]+)</a>', crumbs.group(1))] == [
        ({}, "All dates"), ({"published__year": "2021"}, "2021"),
        ({"published__year": "2021", "published__month": "7"}, "July")]
    day = browser.get(BOOKS + "?published__year=2021&published__month=7&published__day=15")
    assert titles_on(day.text) == ["The Dispossessed"]
    assert choices(day.text) == []
    assert titles_on(browser.get(BOOKS + "?published__year=1999").text) == []
    # with the other filters
    assert titles_on(browser.get(BOOKS + "?published__year=2021&status=live").text) == ["Mort"]


# -- list_editable ------------------------------------------------------------------------------


def test_list_editable_saves_the_rows(shop: Shop, browser: Browser) -> None:
    page = browser.get(BOOKS + "?status=draft").text
    data = form_fields(page, "changelist-form")
    assert data[f"row-{shop.ids['guards']}-price"] == "15.00"
    data[f"row-{shop.ids['guards']}-price"] = "14.25"
    data[f"row-{shop.ids['dispossessed']}-in_stock"] = "on"
    data.pop("action")
    response = browser.client.post(BOOKS + "?status=draft", data={
        **data, "_row": [str(shop.ids["guards"]), str(shop.ids["dispossessed"])],
        "_save": "1", "csrf_token": browser.token})
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith(BOOKS + "?status=draft")
    assert shop.fetch(AdmShopBook, shop.ids["guards"]).price == Decimal("14.25")
    assert shop.fetch(AdmShopBook, shop.ids["dispossessed"]).in_stock is True
    assert "2 adm shop books saved." in flashes(browser.get(BOOKS).text)
    with db.context(shop.app):
        changes = [e.changes for e in entries_for(db.session, AdmShopBook,
                                                  str(shop.ids["guards"]))]
    assert changes == [{"price": ["15.00", "14.25"]}]


def test_list_editable_errors_save_nothing(shop: Shop, browser: Browser) -> None:
    guards, mort = shop.ids["guards"], shop.ids["mort"]
    response = browser.client.post(BOOKS, data={
        "csrf_token": browser.token, "_save": "1", "_row": [str(guards), str(mort)],
        f"row-{guards}-price": "3.00", f"row-{guards}-in_stock": "on",
        f"row-{mort}-price": "lots", f"row-{mort}-in_stock": "on"})
    assert response.status_code == 422
    assert "Please correct the errors below." in response.text
    cell = re.search(rf'<td class="field-price editable">(<input[^>]*name="row-{mort}-price"'
                     r'.*?)</td>', response.text, re.S)
    assert cell is not None
    assert 'value="lots"' in cell.group(1)
    assert "errors" in cell.group(1)  # the message, in the row's cell
    assert shop.fetch(AdmShopBook, guards).price == Decimal("15.00")  # all or nothing


@pytest.mark.parametrize("row", ["999", "abc", str(10**30), ""])
def test_list_editable_refuses_unknown_rows(shop: Shop, browser: Browser, row: str) -> None:
    response = browser.post(BOOKS, {"_save": "1", "_row": row, f"row-{row}-price": "1"})
    assert response.status_code in (303, 404)
    assert shop.fetch(AdmShopBook, shop.ids["guards"]).price == Decimal("15.00")


def test_a_list_without_list_editable_cannot_be_saved(shop: Shop, browser: Browser) -> None:
    response = browser.post(AUTHORS, {"_save": "1", "_row": str(shop.ids["terry"]),
                                      f"row-{shop.ids['terry']}-name": "Pratchett"})
    assert response.status_code == 403
    assert shop.fetch(AdmShopAuthor, shop.ids["terry"]).name == "Terry"


# -- list_display --------------------------------------------------------------------------------


def test_list_display_callables_and_display(shop: Shop, browser: Browser) -> None:
    assert '<a href="?o=7">Cheap?</a>' in browser.get(BOOKS).text  # sorts by its ordering
    page = browser.get(BOOKS + "?o=1").text
    assert re.findall(r'<th scope="col" class="column-([\w_]+)', page) == [
        "title", "author__name", "status", "in_stock", "price", "published", "is_cheap"]
    cheap = re.findall(r'<td class="field-is_cheap">(.*?)</td>', page)
    assert [('aria-label="Yes"' in c) for c in cheap] == [True, False, True, False]
    assert re.findall(r'<td class="field-author__name">(\w+)</td>', page) == [
        "Ursula", "Terry", "Terry", "Ursula"]
    assert [s.lower() for s in re.findall(r'<td class="field-status">(\w+)</td>', page)] == [
        "live", "draft", "live", "draft"]
    assert '<td class="field-published">-</td>' in page  # the empty value
    authors = browser.get(AUTHORS).text
    assert re.findall(r'<td class="field-book_count">(\d+)</td>', authors) == ["2", "2"]


def test_list_display_links(shop: Shop, browser: Browser) -> None:
    page = browser.get(AUTHORS).text
    terry = shop.ids["terry"]
    assert (f'<th scope="row" class="field-email"><a href="{AUTHORS}{terry}/change/">'
            "terry@example.com</a></th>") in page
    assert '<td class="field-name">Terry</td>' in page  # not a link


# -- the form's options ---------------------------------------------------------------------------


def test_readonly_fields_show_but_are_not_saved(shop: Shop, browser: Browser) -> None:
    url = f"{BOOKS}{shop.ids['mort']}/change/"
    page = browser.get(url).text
    assert ('<div class="form-row readonly field-title_length"><span class="label">Title length'
            '</span><div class="readonly-value">4</div></div>') in page
    assert 'name="title_length"' not in page
    data = form_fields(page)
    response = browser.post(url, {**data, "title_length": "99", "_save": "1"})
    assert response.status_code == 303
    add_page = browser.get(BOOKS + "add/").text
    assert 'field-title_length"><span class="label">Title length</span><div ' \
           'class="readonly-value">-</div>' in add_page


def test_fieldsets_group_the_form(shop: Shop, browser: Browser) -> None:
    page = browser.get(PUBLISHERS + "add/").text
    sets = re.findall(r'<fieldset class="module ([^"]*)">(.*?)</fieldset>', page, re.S)
    assert len(sets) == 2
    assert sets[0][0].strip() == ""
    assert 'name="name"' in sets[0][1]
    assert "<legend>" not in sets[0][1]
    assert sets[1][0] == "collapse"
    assert "<legend>Where</legend>" in sets[1][1]
    assert '<p class="description">Where the publisher works.</p>' in sets[1][1]
    assert "<details><summary>Show where</summary>" in sets[1][1]  # "collapse" folds it
    line = re.search(r'<div class="form-line multi">(.*?)</div>\s*</details>\s*</fieldset>',
                     page, re.S)
    assert line is not None
    assert 'name="country"' in line.group(1)  # one line holds both
    assert 'name="website"' in line.group(1)


def test_a_custom_form_s_validation_is_kept(shop: Shop, browser: Browser) -> None:
    refused = browser.post(PUBLISHERS + "add/", {"name": "Forbidden", "country": "",
                                                 "website": "", "_save": "1"})
    assert refused.status_code == 422
    row = re.search(r'<div class="form-row field-name has-errors">(.*?)</div></div>',
                    refused.text, re.S)
    assert row is not None
    assert "This name is reserved." in row.group(1)
    added = browser.post(PUBLISHERS + "add/", {"name": "Gollancz", "country": "UK",
                                               "website": "", "_save": "1"})
    assert added.status_code == 303
    assert shop.count(AdmShopPublisher) == 3


def test_exclude_leaves_a_field_off_the_form(shop: Shop, browser: Browser) -> None:
    shop.run(lambda s: setattr(s.get(AdmShopAuthor, shop.ids["terry"]), "internal_note",
                               "keep me"))
    url = f"{AUTHORS}{shop.ids['terry']}/change/"
    page = browser.get(url).text
    assert "internal_note" not in page
    assert "keep me" not in page
    data = form_fields(page)
    response = browser.post(url, {**data, "internal_note": "forged", "_save": "1"})
    assert response.status_code == 303
    assert shop.fetch(AdmShopAuthor, shop.ids["terry"]).internal_note == "keep me"


def test_prepopulated_fields_are_marked_for_the_script(shop: Shop, browser: Browser) -> None:
    page = browser.get(BOOKS + "add/").text
    slug = re.search(r'<input id="id_slug"[^>]*>', page)
    assert slug is not None
    assert 'data-prepopulate="title"' in slug.group(0)


def test_raw_id_fields_load_only_the_chosen_row(shop: Shop, browser: Browser) -> None:
    url = f"{AUTHORS}{shop.ids['ursula']}/change/"
    page = browser.get(url).text
    field = re.search(r'<div class="form-row field-publisher">(.*?)</div></div>', page, re.S)
    assert field is not None
    assert f'name="publisher" value="{shop.ids["penguin"]}"' in field.group(1)
    assert '<span class="raw-id-label">Penguin</span>' in field.group(1)
    assert "Orbit" not in page  # the other publishers are never read
    data = form_fields(page)
    response = browser.post(url, {**data, "publisher": str(shop.ids["orbit"]), "_save": "1"})
    assert response.status_code == 303
    assert shop.fetch(AdmShopAuthor, shop.ids["ursula"]).publisher_id == shop.ids["orbit"]
    for bad in ("9999", "abc", str(10**30)):
        refused = browser.post(url, {**data, "publisher": bad, "_save": "1"})
        assert refused.status_code == 422, bad
        assert 'class="form-row field-publisher has-errors"' in refused.text
    assert "Orbit" not in browser.get(f"{AUTHORS}{shop.ids['terry']}/change/").text


def test_autocomplete_fields_load_only_the_chosen_row(shop: Shop, browser: Browser) -> None:
    page = browser.get(f"{BOOKS}{shop.ids['mort']}/change/").text
    field = re.search(r'<select id="id_author"[^>]*>(.*?)</select>', page, re.S)
    assert field is not None
    assert 'data-autocomplete="http://testserver/admin/app/adm_shop_author/autocomplete/"' \
        in page
    assert re.findall(r'<option value="(\d*)"', field.group(1)) == ["", str(shop.ids["terry"])]
    empty = browser.get(BOOKS + "add/").text
    options = re.search(r'<select id="id_author"[^>]*>(.*?)</select>', empty, re.S)
    assert options is not None
    assert re.findall(r'<option value="(\d*)"', options.group(1)) == [""]
    data = form_fields(page)
    response = browser.post(f"{BOOKS}{shop.ids['mort']}/change/",
                            {**data, "author": str(shop.ids["ursula"]), "_save": "1"})
    assert response.status_code == 303
    assert shop.fetch(AdmShopBook, shop.ids["mort"]).author_id == shop.ids["ursula"]


def test_list_editable_takes_a_row_sent_twice_once(shop: Shop, browser: Browser) -> None:
    guards = str(shop.ids["guards"])
    response = browser.client.post(BOOKS, data={
        "csrf_token": browser.token, "_save": "1", "_row": [guards, guards],
        f"row-{guards}-price": "3.00"})
    assert response.status_code == 303
    assert shop.fetch(AdmShopBook, shop.ids["guards"]).price == Decimal("3.00")
    assert "1 adm shop book saved." in flashes(browser.get(BOOKS).text)


# -- more options --------------------------------------------------------------------------------


def test_ordering_is_the_default_sort(shop: Shop, browser: Browser) -> None:
    page = browser.get(AUTHORS).text
    assert re.findall(r'<td class="field-name">(\w+)</td>', page) == ["Terry", "Ursula"]
    assert re.findall(r'<td class="field-name">(\w+)</td>',
                      browser.get(AUTHORS + "?o=-1").text) == ["Ursula", "Terry"]


def test_related_columns_and_the_empty_value(shop: Shop, browser: Browser) -> None:
    authors = browser.get(AUTHORS).text
    assert re.findall(r'<td class="field-publisher__name">([^<]*)</td>', authors) == [
        "-", "Penguin"]
    notes = browser.get(NOTES).text
    assert re.findall(r'<td class="field-due">([^<]*)</td>', notes) == ["(none)", "(none)"]


def test_search_help_text_and_actions_below_the_list(shop: Shop, browser: Browser) -> None:
    page = browser.get(NOTES).text
    assert '<p class="help">Search the titles.</p>' in page
    assert page.count('<div class="actions">') == 1
    assert page.index('<div class="actions">') > page.index('id="result_list"')
    assert "Search the titles." not in browser.get(BOOKS).text
    books = browser.get(BOOKS).text
    assert books.index('<div class="actions">') < books.index('id="result_list"')


def test_save_on_top_repeats_the_buttons(shop: Shop, browser: Browser) -> None:
    page = browser.get(f"{NOTES}{shop.ids['open_note']}/change/").text
    assert page.count('<div class="submit-row">') == 2
    assert browser.get(f"{BOOKS}{shop.ids['mort']}/change/").text.count(
        '<div class="submit-row">') == 1


def test_verbose_names(shop: Shop, browser: Browser) -> None:
    index = browser.get("/admin/").text
    assert f'<a href="{PUBLISHERS}">Publishing houses</a>' in index
    assert "<h1>Add publishing house</h1>" in browser.get(PUBLISHERS + "add/").text
    assert "<legend>Reader reviews</legend>" in browser.get(
        f"{BOOKS}{shop.ids['mort']}/change/").text


def test_an_inline_without_delete_or_extra_rows(shop: Shop, browser: Browser) -> None:
    url = f"{BOOKS}{shop.ids['mort']}/change/"
    page = browser.get(url).text
    group = page[page.index('id="adm_shop_review_set1-group"'):]
    group = group[:group.index("</fieldset>")]
    assert "DELETE" not in group
    assert "Delete?" not in group
    data = form_fields(page)
    assert data["adm_shop_review_set1-TOTAL"] == "1"  # the review, no blank row (extra = 0)
    data.update({"adm_shop_review_set1-0-text": "Still good.",
                 "adm_shop_review_set1-0-DELETE": "1", "_save": "1"})
    assert browser.post(url, data).status_code == 303
    assert shop.run(lambda s: [r.text for r in s.scalars(select(AdmShopReview))]) == [
        "Still good."]  # changed, and the forged DELETE did nothing
