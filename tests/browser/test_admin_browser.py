"""heron.admin in a real browser (issue 14): staff log in, search, filter, sort and
page through a change list, add a row after a validation error, edit inline rows
(added and removed by admin.js), run a bulk action and a delete through their
confirmation pages and read a row's history; a view-only user sees no button that
would change anything; the skip link is the first stop of the keyboard; and no page
breaks heron's default Content-Security-Policy.

The site (``admin_site/``: authors, books, chapters) is served by ``heron run`` in
production mode on a throwaway SQLite file that ``python -m admin_site.seed``
prepared.  The tests share it and run in file order: the first one counts the
seeded rows before the others add and delete some.

Each page is photographed at 1280x800 and 375 px wide (the change list in dark mode
too) into ``build/test-artifacts/admin/`` (``HERON_TEST_ARTIFACTS`` moves it), and at
each width the page must not scroll sideways: only the results table may.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_sites import DESKTOP, PHONE, REPORT_VIOLATIONS, serve_seeded

if TYPE_CHECKING:
    from app_server import AppServer  # tests/app_server.py
    from playwright.sync_api import ConsoleMessage, Locator, Page, Response

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
APP = "admin_site.app:app"
PASSWORD = "a sturdy passphrase 42"
BOOKS = "/admin/catalogue/adm_br_book/"
AUTHORS = "/admin/catalogue/adm_br_author/"
SHOTS = Path(os.environ.get("HERON_TEST_ARTIFACTS") or ROOT / "build" / "test-artifacts") \
    / "admin"
#: Reports each Content-Security-Policy violation to the test (an init script runs
#: outside the page's policy, so it breaks no rule itself).


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory,
         serve_app: Callable[..., AppServer]) -> AppServer:
    """The site, debug off, on a fresh database seeded by ``admin_site.seed``."""
    return serve_seeded(tmp_path_factory, serve_app, APP, "admin_site.seed",
                        test_password=PASSWORD)


@pytest.fixture
def violations(page: Page) -> list[str]:
    """Every Content-Security-Policy violation of ``page``, as the browser reports it."""
    found: list[str] = []
    page.expose_function("reportViolation", lambda text: found.append(text))
    page.add_init_script(REPORT_VIOLATIONS)
    return found


@pytest.fixture
def staff(page: Page, console: list[ConsoleMessage], violations: list[str],
          site: AppServer) -> Iterator[Page]:
    """``page`` logged in as the superuser; afterwards, no page broke the CSP."""
    page.set_viewport_size(DESKTOP)
    log_in(page, site, "admin")
    yield page
    assert_clean(console, violations)


# -- helpers ---------------------------------------------------------------------------


def log_in(page: Page, site: AppServer, username: str) -> None:
    page.goto(site.url + "/auth/login?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    click_and_wait(page, page.get_by_role("button", name="Log in", exact=True))
    assert page.url == site.url + "/admin/"


def click_and_wait(page: Page, target: Locator) -> Response:
    """Click ``target``; the response of the page it leads to."""
    with page.expect_navigation() as navigation:
        target.click()
    response = navigation.value
    assert response is not None
    return response


def goto(page: Page, url: str) -> Response:
    response = page.goto(url)
    assert response is not None
    return response


def posted_status(landed: Response) -> int:
    """The status of the POST that redirected to ``landed``."""
    post = landed.request.redirected_from
    assert post is not None
    assert post.method == "POST"
    answer = post.response()
    assert answer is not None
    return answer.status


def titles(page: Page) -> list[str]:
    """The first column of the change list's rows."""
    return page.locator("#result_list tbody th[scope=row]").all_inner_texts()


def message(page: Page) -> str:
    return page.locator(".messages").inner_text().strip()


def shoot(page: Page, name: str) -> None:
    """Photograph the page at both widths; at each, the page must not scroll sideways
    (only the results table, inside its own box, may)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("mobile", PHONE)):
        page.set_viewport_size(size)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size['width']}px"
        page.screenshot(path=SHOTS / f"admin-{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def assert_clean(console: list[ConsoleMessage], violations: list[str]) -> None:
    assert violations == []
    assert [m.text for m in console if "Content Security Policy" in m.text] == []
    # Chromium reports each 4xx page as a failed load: the 422 and 403 are expected.
    errors = [m.text for m in console if m.type == "error"]
    assert [e for e in errors if not re.search(r"status of (403|422)\b", e)] == []


# -- staff -------------------------------------------------------------------------------


def test_search_filter_sort_and_paginate(staff: Page, site: AppServer) -> None:
    page = staff
    index = goto(page, site.url + "/admin/")
    policy = index.headers.get("content-security-policy", "")
    scripts = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "'self'" in scripts
    assert "unsafe-inline" not in scripts
    assert page.get_by_role("heading", level=1).inner_text() == "Site administration"

    click_and_wait(page, page.get_by_role("link", name="Books", exact=True).first)
    assert page.url == site.url + BOOKS
    assert len(titles(page)) == 20
    assert page.locator(".paginator .counts").inner_text().startswith("45 books")
    assert page.locator(".action-counter").inner_text() == "0 of 20 selected"
    shoot(page, "changelist")
    page.emulate_media(color_scheme="dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 22, 28)"
    shoot(page, "changelist-dark")
    page.emulate_media(color_scheme="light")

    # Search: a quoted phrase is one word; the box keeps the term.
    page.get_by_role("searchbox").fill('"Volume 1"')
    click_and_wait(page, page.get_by_role("button", name="Search"))
    assert titles(page) == [f"Volume {n}" for n in range(10, 20)]
    assert page.get_by_role("searchbox").input_value() == '"Volume 1"'
    assert page.locator(".paginator .counts").inner_text().startswith("10 books of 45 in all")
    click_and_wait(page, page.get_by_role("link", name="Clear", exact=True))

    # Filters: two at once, each link keeping the other.
    filters = page.locator("aside.filters")
    click_and_wait(page, filters.get_by_role("link", name="Published", exact=True))
    assert len(titles(page)) == 15
    click_and_wait(page, filters.locator("details", has_text="By In stock")
                   .get_by_role("link", name="No", exact=True))
    assert titles(page) == ["Volume 05", "Volume 17", "Volume 29", "Volume 41"]
    assert filters.locator("li.selected").all_inner_texts() == ["Published", "No", "All"]
    click_and_wait(page, filters.get_by_role("link", name="Clear all filters"))
    assert page.url in (site.url + BOOKS, site.url + BOOKS + "?")
    assert len(titles(page)) == 20

    # Sorting: a header toggles ascending, descending; aria-sort says which.
    published = page.locator("#result_list thead th.column-published")
    click_and_wait(page, published.get_by_role("link", name="Published", exact=True))
    assert published.get_attribute("aria-sort") == "ascending"
    assert titles(page)[0] == "Volume 01"  # 2021-01-01
    click_and_wait(page, published.get_by_role("link", name="Published", exact=True))
    assert published.get_attribute("aria-sort") == "descending"
    assert titles(page)[0] == "Volume 24"  # 2023-12-24

    # Pages: 20, 20, 5; the order is kept.
    paginator = page.get_by_role("navigation", name="Pages")
    click_and_wait(page, paginator.get_by_role("link", name="3", exact=True))
    assert len(titles(page)) == 5
    assert paginator.locator("[aria-current=page]").inner_text() == "3"
    assert published.get_attribute("aria-sort") == "descending"

    # The date hierarchy narrows to a year, then a month.
    goto(page, site.url + BOOKS)
    dates = page.get_by_role("navigation", name="Dates")
    click_and_wait(page, dates.get_by_role("link", name="2022"))
    assert len(titles(page)) == 15
    months = dates.locator("a.date-choice")
    assert months.count() == 4  # the months that have books
    click_and_wait(page, months.first)
    assert titles(page) == ["Volume 02", "Volume 14", "Volume 26", "Volume 38"]


def test_add_with_an_error_then_correct_it(staff: Page, site: AppServer) -> None:
    page = staff
    goto(page, site.url + BOOKS)
    click_and_wait(page, page.get_by_role("link", name="Add book"))
    assert page.get_by_role("heading", level=1).inner_text() == "Add book"
    page.get_by_label("Author").select_option(label="Octavia Reed")
    assert click_and_wait(page, page.get_by_role("button", name="Save", exact=True)).status \
        == 422
    assert page.get_by_role("alert").first.inner_text() == "Please correct the errors below."
    title = page.get_by_role("textbox", name="Title", exact=True)
    assert page.locator(".form-row.field-title.has-errors").count() == 1
    assert title.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Author").input_value() != ""  # kept
    shoot(page, "change-form-errors")

    # The slug is filled from the title as it is typed (admin.js).
    title.press_sequentially("The Quiet Harbour")
    assert page.get_by_label("Slug").input_value() == "the-quiet-harbour"
    page.get_by_label("Published").fill("2024-05-06")
    landed = click_and_wait(page, page.get_by_role("button", name="Save", exact=True))
    assert posted_status(landed) == 303
    assert landed.url == site.url + BOOKS
    assert message(page) == 'The book "The Quiet Harbour" was added.'
    assert "The Quiet Harbour" in titles(page)


def test_edit_with_inline_rows_added_and_removed(staff: Page, site: AppServer) -> None:
    page = staff
    goto(page, site.url + AUTHORS)
    click_and_wait(page, page.get_by_role("link", name="Italo Marsh"))
    assert page.get_by_role("heading", level=1).inner_text() == "Change author"
    group = page.locator(".inline-group.tabular")
    rows = group.locator("tr.inline-row:not(.empty-form)")
    total = group.locator("input.inline-total")
    assert rows.count() == 15
    assert total.input_value() == "15"

    # Two rows added by "+ Add another book"; the second removed again by its x.
    add = group.get_by_role("button", name="+ Add another book")
    add.click()
    new = rows.nth(15)
    assert new.get_by_label("Title").evaluate("input => input === document.activeElement")
    assert new.get_by_label("Title").get_attribute("name") == "adm_br_book_set-15-title"
    add.click()
    unwanted = rows.nth(16)
    assert rows.count() == 17
    assert total.input_value() == "17"
    new.get_by_label("Title").fill("Inline Addition")
    new.get_by_label("Status").select_option(label="Published")
    new.get_by_label("Published").fill("2024-02-03")
    unwanted.get_by_label("Title").fill("Changed my mind")
    unwanted.get_by_role("button", name="Remove this row").click()
    assert unwanted.is_hidden()
    assert add.evaluate("button => button === document.activeElement")
    # One stored row ticked for deletion.
    rows.filter(has=page.locator("input[value='Volume 03']")) \
        .get_by_role("checkbox", name="Delete this row").check()
    shoot(page, "change-form-inlines")

    landed = click_and_wait(page, page.get_by_role("button", name="Save", exact=True))
    assert posted_status(landed) == 303
    assert landed.url == site.url + AUTHORS
    assert message(page) == 'The author "Italo Marsh" was changed.'
    click_and_wait(page, page.get_by_role("link", name="Italo Marsh"))
    stored = [rows.nth(n).get_by_label("Title").input_value() for n in range(rows.count())]
    assert "Inline Addition" in stored
    assert "Volume 03" not in stored
    assert "Changed my mind" not in stored
    assert len(stored) == 15

    # The stacked inline of a book: chapters, one added.
    goto(page, site.url + BOOKS + "?q=%22Volume+02%22")
    click_and_wait(page, page.get_by_role("link", name="Volume 02"))
    chapters = page.locator(".inline-group.stacked")
    assert chapters.locator(".stacked-row:not(.empty-form)").count() == 2
    chapters.get_by_role("button", name="+ Add another chapter").click()
    added = chapters.locator(".stacked-row:not(.empty-form)").nth(2)
    added.get_by_label("Number").fill("3")
    added.get_by_label("Title").fill("Endings")
    shoot(page, "change-form-stacked")
    landed = click_and_wait(page, page.get_by_role("button", name="Save and continue editing"))
    assert posted_status(landed) == 303
    assert chapters.locator(".stacked-row:not(.empty-form) h3").all_inner_texts() == [
        "Chapter: 1. Beginnings", "Chapter: 2. Middles", "Chapter: 3. Endings"]


def test_bulk_action_with_its_confirmation(staff: Page, site: AppServer) -> None:
    page = staff
    goto(page, site.url + BOOKS + "?q=%22Volume+4%22")
    assert titles(page) == [f"Volume {n}" for n in range(40, 46)]
    counter = page.locator(".action-counter")
    page.get_by_role("checkbox", name="Select all rows on this page").check()
    assert counter.inner_text() == "6 of 6 selected"
    page.get_by_role("checkbox", name="Select all rows on this page").uncheck()
    assert counter.inner_text() == "0 of 6 selected"

    # Delete two rows: a confirmation page lists them first.
    page.get_by_role("checkbox", name="Select Volume 42").check()
    page.get_by_role("checkbox", name="Select Volume 43").check()
    assert counter.inner_text() == "2 of 6 selected"
    assert page.locator("#result_list tbody tr.selected").count() == 2
    page.get_by_label("Action").select_option(label="Delete selected rows")
    click_and_wait(page, page.get_by_role("button", name="Go"))
    assert page.get_by_role("heading", level=1).inner_text() == "Are you sure?"
    assert page.locator(".object-list li").all_inner_texts() == ["Volume 42", "Volume 43"]
    shoot(page, "action-confirmation")
    landed = click_and_wait(page, page.get_by_role("button", name="Yes, I'm sure"))
    assert posted_status(landed) == 303
    assert message(page) == "2 books deleted."
    assert titles(page) == ["Volume 40", "Volume 41", "Volume 44", "Volume 45"]

    # An action without confirmation runs at once.
    page.get_by_role("checkbox", name="Select Volume 45").check()
    page.get_by_label("Action").select_option(label="Mark the selected books published")
    landed = click_and_wait(page, page.get_by_role("button", name="Go"))
    assert posted_status(landed) == 303
    assert message(page) == "1 book done: Mark the selected books published."
    row = page.locator("#result_list tbody tr", has_text="Volume 45")
    assert row.locator("td.field-status").inner_text() == "Published"


def test_delete_with_its_confirmation_and_history(staff: Page, site: AppServer) -> None:
    page = staff
    # A change first, so that the history has something to show.
    goto(page, site.url + BOOKS + "?q=%22Volume+07%22")
    click_and_wait(page, page.get_by_role("link", name="Volume 07"))
    page.get_by_role("textbox", name="Title", exact=True).fill("Volume 07, revised")
    page.get_by_label("In stock").uncheck()
    landed = click_and_wait(page, page.get_by_role("button", name="Save and continue editing"))
    assert posted_status(landed) == 303
    click_and_wait(page, page.get_by_role("link", name="History"))
    assert page.get_by_role("heading", level=1).inner_text() == "History: Volume 07, revised"
    entry = page.locator("table.history tbody tr").first
    assert "Change" in entry.inner_text()
    assert entry.locator("del").first.inner_text() == "Volume 07"
    assert entry.locator("ins").first.inner_text() == "Volume 07, revised"
    assert entry.locator("td").nth(1).inner_text() == "admin"
    shoot(page, "history")

    # Delete a book with chapters: they are listed as going too.
    goto(page, site.url + BOOKS + "?q=%22Volume+01%22")
    click_and_wait(page, page.get_by_role("link", name="Volume 01"))
    click_and_wait(page, page.get_by_role("link", name="Delete", exact=True))
    assert page.get_by_role("heading", level=1).inner_text() == "Delete book"
    assert "Chapters (2): 1. Beginnings, 2. Middles" in \
        page.locator(".deleted-objects").inner_text()
    shoot(page, "delete-confirmation")
    landed = click_and_wait(page, page.get_by_role("button", name="Yes, I'm sure"))
    assert posted_status(landed) == 303
    assert landed.url == site.url + BOOKS
    assert message(page) == 'The book "Volume 01" was deleted.'
    assert "Volume 01" not in titles(page)
    goto(page, site.url + "/admin/")
    recent = page.locator(".recent-actions").inner_text()
    assert "Volume 01" in recent
    assert "Volume 07, revised" in recent
    shoot(page, "index")


# -- a user who may only look ----------------------------------------------------------


def test_a_view_only_user_sees_no_buttons(page: Page, console: list[ConsoleMessage],
                                          violations: list[str], site: AppServer) -> None:
    page.set_viewport_size(DESKTOP)
    log_in(page, site, "viewer")
    assert page.locator(".app-list").get_by_role("link", name="Add").count() == 0
    assert page.locator(".app-list th").all_inner_texts() == ["Authors", "Books"]

    goto(page, site.url + BOOKS)
    assert len(titles(page)) == 20
    assert page.get_by_role("link", name="Add book").count() == 0
    assert page.locator(".actions, input.action-select, #action-toggle").count() == 0

    click_and_wait(page, page.get_by_role("link", name="Volume 10"))
    assert page.get_by_role("heading", level=1).inner_text() == "View book"
    form = page.locator("main form")
    assert form.locator("input:not([type=hidden]), select, textarea").count() == 0
    assert form.get_by_role("button").count() == 0
    assert page.get_by_role("link", name="Delete").count() == 0
    assert page.get_by_role("link", name="History").count() == 1
    assert "Ursula Quill" in page.locator(".field-author .readonly-value").inner_text()
    assert page.locator(".inline-group .empty-inline").inner_text() == "None."  # no chapters
    shoot(page, "change-form-readonly")

    assert goto(page, site.url + BOOKS + "add/").status == 403
    assert_clean(console, violations)


# -- keyboard ----------------------------------------------------------------------------


def test_the_skip_link_is_the_first_tab_stop(staff: Page, site: AppServer) -> None:
    page = staff
    goto(page, site.url + BOOKS)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("link => link === document.activeElement")
    box = skip.bounding_box()
    assert box is not None  # shown while focused, inside the window
    assert box["x"] >= 0
    assert box["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
