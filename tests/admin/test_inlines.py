"""Inline rows on the parent's change form: tabular (an author's books) and stacked (a
book's chapters); adding, changing and deleting rows, max_num and min_num, and rows of
another parent posted by a forged form."""

from __future__ import annotations

import re
from typing import Any

import pytest
from admin_shop import (
    AUTHORS,
    BOOKS,
    AdmShopAuthor,
    AdmShopBook,
    AdmShopChapter,
    AdmShopStatus,
    Browser,
    Shop,
    form_fields,
)
from sqlalchemy import select

BOOK_SET = "adm_shop_book_set"
CHAPTER_SET = "adm_shop_chapter_set"


def books_of(shop: Shop, author: int) -> list[tuple[str, AdmShopStatus, bool]]:
    return shop.run(lambda s: [(b.title, b.status, b.in_stock) for b in s.scalars(
        select(AdmShopBook).where(AdmShopBook.author_id == author).order_by(AdmShopBook.id))])


def chapters_of(shop: Shop, book: int) -> list[tuple[int, str]]:
    return shop.run(lambda s: [(c.number, c.title) for c in s.scalars(
        select(AdmShopChapter).where(AdmShopChapter.book_id == book)
        .order_by(AdmShopChapter.number))])


def rows(data: dict[str, str], prefix: str) -> dict[int, dict[str, str]]:
    """The inline's rows of a form, by number: ``{n: {field: value}}``."""
    found: dict[int, dict[str, str]] = {}
    for key, value in data.items():
        match = re.fullmatch(rf"{prefix}-(\d+)-(\w+)", key)
        if match:
            found.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return found


def test_tabular_rows_are_changed_added_and_deleted(shop: Shop, browser: Browser) -> None:
    url = f"{AUTHORS}{shop.ids['ursula']}/change/"
    page = browser.get(url).text
    assert f'<fieldset class="module inline-group tabular" id="{BOOK_SET}-group"' in page
    data = form_fields(page)
    assert data[f"{BOOK_SET}-TOTAL"] == "3"  # two books and one blank row (extra = 1)
    assert rows(data, BOOK_SET)[0]["pk"] == str(shop.ids["earthsea"])
    assert rows(data, BOOK_SET)[2]["pk"] == ""
    data[f"{BOOK_SET}-0-title"] = "A Wizard of Earthsea (illustrated)"
    data[f"{BOOK_SET}-1-DELETE"] = "1"
    data[f"{BOOK_SET}-2-title"] = "The Lathe of Heaven"
    data[f"{BOOK_SET}-2-status"] = "live"
    response = browser.post(url, {**data, "_save": "1"})
    assert response.status_code == 303, response.text
    assert books_of(shop, shop.ids["ursula"]) == [
        ("A Wizard of Earthsea (illustrated)", AdmShopStatus.live, True),
        ("The Lathe of Heaven", AdmShopStatus.live, True)]
    assert shop.fetch(AdmShopBook, shop.ids["dispossessed"]) is None


def test_an_untouched_blank_row_adds_nothing(shop: Shop, browser: Browser) -> None:
    for url in (f"{AUTHORS}{shop.ids['ursula']}/change/", f"{BOOKS}{shop.ids['earthsea']}/change/"):
        data = form_fields(browser.get(url).text)
        response = browser.post(url, {**data, "_save": "1"})
        assert response.status_code == 303, response.text
    assert shop.count(AdmShopBook) == 4
    assert shop.count(AdmShopChapter) == 2


def test_stacked_rows_are_added_and_deleted(shop: Shop, browser: Browser) -> None:
    url = f"{BOOKS}{shop.ids['earthsea']}/change/"
    page = browser.get(url).text
    assert f'<fieldset class="module inline-group stacked" id="{CHAPTER_SET}-group"' in page
    assert "Adm shop chapter: 1. Warriors in the Mist" in page
    data = form_fields(page)
    data[f"{CHAPTER_SET}-0-DELETE"] = "1"
    data[f"{CHAPTER_SET}-1-title"] = "The Shadow (revised)"
    data[f"{CHAPTER_SET}-2-number"] = "3"
    data[f"{CHAPTER_SET}-2-title"] = "The Loosing of the Shadow"
    response = browser.post(url, {**data, "_continue": "1"})
    assert response.status_code == 303, response.text
    assert chapters_of(shop, shop.ids["earthsea"]) == [
        (2, "The Shadow (revised)"), (3, "The Loosing of the Shadow")]


def test_rows_added_by_the_page_s_script(shop: Shop, browser: Browser) -> None:
    """The script clones the empty row and raises TOTAL: rows past the page's own."""
    url = f"{BOOKS}{shop.ids['mort']}/change/"
    page = browser.get(url).text
    assert f'name="{CHAPTER_SET}-__prefix__-title"' in page  # the row the script clones
    data = form_fields(page)
    assert data[f"{CHAPTER_SET}-TOTAL"] == "1"
    data.update({f"{CHAPTER_SET}-TOTAL": "3",
                 f"{CHAPTER_SET}-1-pk": "", f"{CHAPTER_SET}-1-number": "1",
                 f"{CHAPTER_SET}-1-title": "Death", f"{CHAPTER_SET}-2-pk": "",
                 f"{CHAPTER_SET}-2-number": "2", f"{CHAPTER_SET}-2-title": "Mort"})
    response = browser.post(url, {**data, "_save": "1"})
    assert response.status_code == 303, response.text
    assert chapters_of(shop, shop.ids["mort"]) == [(1, "Death"), (2, "Mort")]


def test_a_parent_is_added_with_its_rows(shop: Shop, browser: Browser) -> None:
    data = form_fields(browser.get(AUTHORS + "add/").text)
    data.update({"name": "Iain", "email": "iain@example.com", f"{BOOK_SET}-0-title": "Excession",
                 f"{BOOK_SET}-0-status": "live"})
    response = browser.post(AUTHORS + "add/", {**data, "_save": "1"})
    assert response.status_code == 303, response.text
    iain = shop.run(lambda s: s.scalars(select(AdmShopAuthor).where(
        AdmShopAuthor.name == "Iain")).one().id)
    assert books_of(shop, iain) == [("Excession", AdmShopStatus.live, True)]


def test_max_num_limits_the_rows(shop: Shop, browser: Browser) -> None:
    url = f"{BOOKS}{shop.ids['earthsea']}/change/"
    data = form_fields(browser.get(url).text)
    data.update({f"{CHAPTER_SET}-TOTAL": "4", f"{CHAPTER_SET}-2-number": "3",
                 f"{CHAPTER_SET}-2-title": "Three", f"{CHAPTER_SET}-3-pk": "",
                 f"{CHAPTER_SET}-3-number": "4", f"{CHAPTER_SET}-3-title": "Four"})
    response = browser.post(url, {**data, "_save": "1"})
    assert response.status_code == 422
    assert "Please submit at most 3 rows." in response.text
    assert shop.count(AdmShopChapter) == 2

    data.pop(f"{CHAPTER_SET}-3-title")  # three rows: allowed
    data[f"{CHAPTER_SET}-TOTAL"] = "3"
    assert browser.post(url, {**data, "_save": "1"}).status_code == 303
    full = browser.get(url).text  # no blank row and no "add another" at max_num
    assert form_fields(full)[f"{CHAPTER_SET}-TOTAL"] == "3"
    assert "+ Add another adm shop chapter" not in full


def test_min_num_requires_rows(shop: Shop, browser: Browser) -> None:
    url = f"{AUTHORS}{shop.ids['terry']}/change/"
    data = form_fields(browser.get(url).text)
    data[f"{BOOK_SET}-0-DELETE"] = "1"
    data[f"{BOOK_SET}-1-DELETE"] = "1"
    response = browser.post(url, {**data, "_save": "1"})
    assert response.status_code == 422
    assert "Please submit at least 1 rows." in response.text or \
        "Please submit at least 1 row." in response.text
    assert len(books_of(shop, shop.ids["terry"])) == 2
    refused = browser.post(AUTHORS + "add/", {"name": "Nobody", f"{BOOK_SET}-TOTAL": "0",
                                              "_save": "1"})
    assert refused.status_code == 422
    assert shop.count(AdmShopAuthor) == 2


def test_a_row_of_another_parent_is_refused(shop: Shop, browser: Browser) -> None:
    """A forged pk in Ursula's form names Terry's book: an error, never a change of it."""
    url = f"{AUTHORS}{shop.ids['ursula']}/change/"
    data = form_fields(browser.get(url).text)
    data.update({f"{BOOK_SET}-2-pk": str(shop.ids["mort"]), f"{BOOK_SET}-2-title": "Stolen",
                 f"{BOOK_SET}-2-status": "draft"})
    response = browser.post(url, {**data, "_save": "1"})
    assert response.status_code == 422
    assert "was changed or deleted by someone else" in response.text
    mort = shop.fetch(AdmShopBook, shop.ids["mort"])
    assert (mort.title, mort.author_id) == ("Mort", shop.ids["terry"])
    data[f"{BOOK_SET}-2-DELETE"] = "1"  # nor deleted through it
    assert browser.post(url, {**data, "_save": "1"}).status_code == 422
    assert shop.fetch(AdmShopBook, shop.ids["mort"]) is not None


@pytest.mark.parametrize("pk", ["abc", "999", str(10**30), "1,2", "%00"])
def test_a_forged_row_key_is_an_error(shop: Shop, browser: Browser, pk: str) -> None:
    url = f"{BOOKS}{shop.ids['earthsea']}/change/"
    data = form_fields(browser.get(url).text)
    data[f"{CHAPTER_SET}-0-pk"] = pk
    data[f"{CHAPTER_SET}-0-title"] = "Forged"
    response = browser.post(url, {**data, "_save": "1"})
    assert response.status_code == 422
    assert chapters_of(shop, shop.ids["earthsea"]) == [
        (1, "Warriors in the Mist"), (2, "The Shadow")]


@pytest.mark.parametrize("total", ["abc", "-5", "", str(10**30), "5000"])
def test_an_odd_total_is_harmless(shop: Shop, browser: Browser, total: str) -> None:
    url = f"{BOOKS}{shop.ids['earthsea']}/change/"
    data = form_fields(browser.get(url).text)
    data[f"{CHAPTER_SET}-TOTAL"] = total
    data[f"{CHAPTER_SET}-1-title"] = "The Shadow (2)"
    response = browser.post(url, {**data, "_save": "1"})
    assert response.status_code in (303, 422)
    titles = [t for _, t in chapters_of(shop, shop.ids["earthsea"])]
    assert len(titles) == 2  # never a row made up from nothing, never one lost


def test_errors_of_a_row_are_shown_on_it(shop: Shop, browser: Browser) -> None:
    url = f"{AUTHORS}{shop.ids['ursula']}/change/"
    data = form_fields(browser.get(url).text)
    data[f"{BOOK_SET}-0-title"] = ""  # required
    data[f"{BOOK_SET}-2-title"] = "New"
    data[f"{BOOK_SET}-2-status"] = "bogus"
    response = browser.post(url, {**data, "_save": "1"})
    assert response.status_code == 422
    bad_rows = re.findall(r'<tr class="inline-row has-errors">(.*?)</tr>', response.text, re.S)
    assert len(bad_rows) == 2
    assert 'value="New"' in bad_rows[1]  # what was typed is kept
    assert books_of(shop, shop.ids["ursula"])[0][0] == "A Wizard of Earthsea"
    assert shop.count(AdmShopBook) == 4


def test_a_delete_box_on_a_new_row_is_ignored(shop: Shop, browser: Browser) -> None:
    url = f"{AUTHORS}{shop.ids['ursula']}/change/"
    data: dict[str, Any] = form_fields(browser.get(url).text)
    data.update({f"{BOOK_SET}-2-title": "Kept", f"{BOOK_SET}-2-DELETE": "1"})
    assert browser.post(url, {**data, "_save": "1"}).status_code == 303
    assert shop.count(AdmShopBook) == 4  # a new row ticked for deletion is not added


def test_save_as_new_copies_the_rows(shop: Shop, browser: Browser) -> None:
    url = f"{BOOKS}{shop.ids['earthsea']}/change/"
    data = form_fields(browser.get(url).text)
    data.update({"title": "Earthsea (copy)", f"{CHAPTER_SET}-1-DELETE": "1",
                 "_saveasnew": "1"})
    response = browser.post(url, data)
    assert response.status_code == 303, response.text
    copy = shop.run(lambda s: s.scalars(select(AdmShopBook.id).where(
        AdmShopBook.title == "Earthsea (copy)")).one())
    assert chapters_of(shop, copy) == [(1, "Warriors in the Mist")]  # the ticked one is not
    assert chapters_of(shop, shop.ids["earthsea"]) == [
        (1, "Warriors in the Mist"), (2, "The Shadow")]  # the original keeps its own
