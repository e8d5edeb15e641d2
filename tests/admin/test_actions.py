"""Actions on ticked rows: delete_selected with its confirmation page, "all rows that
match" (select_across), custom actions (one that answers itself, one that asks first,
one that needs a custom permission), and forged or refused actions."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from admin_shop import (
    BOOKS,
    PUBLISHERS,
    AdmShopAuthor,
    AdmShopBook,
    AdmShopStatus,
    Browser,
    Shop,
    flashes,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from heron.admin.audit import LogEntry
from heron.db import db


def act(browser: Browser, action: str, selected: list[Any], url: str = BOOKS,
        **extra: str) -> Any:
    return browser.client.post(url, data={"csrf_token": browser.token, "action": action,
                                          "_selected": [str(s) for s in selected], **extra})


def statuses(shop: Shop) -> dict[str, AdmShopStatus]:
    return shop.run(lambda s: {b.title: b.status for b in s.scalars(select(AdmShopBook))})


def test_the_actions_offered(shop: Shop, browser: Browser) -> None:
    page = browser.get(BOOKS).text
    offered = re.findall(r'<option value="(\w+)">([^<]+)</option>', page.split(
        'name="action"')[1].split("</select>")[0])
    assert offered == [("delete_selected", "Delete selected rows"),
                       ("mark_live", "Mark selected books live"), ("count_them", "Count them"),
                       ("archive", "Archive (out of stock)"),
                       ("adm_shop_publish", "Give a discount")]
    assert 'name="_selected"' not in browser.get(PUBLISHERS).text  # actions = None


def test_delete_selected_asks_first(shop: Shop, browser: Browser) -> None:
    ids = [shop.ids["guards"], shop.ids["dispossessed"]]
    page = act(browser, "delete_selected", ids)
    assert page.status_code == 200
    assert "Are you sure?" in page.text
    assert "Delete selected rows: 2 adm shop books." in page.text
    assert re.findall(r'<ul class="object-list">\s*<li>([^<]+)</li>\s*<li>([^<]+)</li>',
                      page.text) == [("Guards! Guards!", "The Dispossessed")]
    assert 'name="post" value="yes"' in page.text
    assert re.findall(r'name="_selected" value="(\d+)"', page.text) == [str(i) for i in ids]
    assert shop.count(AdmShopBook) == 4  # nothing deleted yet

    done = act(browser, "delete_selected", ids, post="yes")
    assert done.status_code == 303
    assert shop.count(AdmShopBook) == 2
    assert "2 adm shop books deleted." in flashes(browser.get(BOOKS).text)
    with db.context(shop.app):
        deleted = db.session.scalars(select(LogEntry.object_repr).where(
            LogEntry.action == "delete")).all()
    assert sorted(deleted) == ["Guards! Guards!", "The Dispossessed"]


def test_delete_selected_lists_what_goes_with_the_rows(shop: Shop, browser: Browser) -> None:
    page = act(browser, "delete_selected", [shop.ids["earthsea"]])
    assert "These related rows will be deleted too" in page.text
    assert "1. Warriors in the Mist" in page.text


def test_delete_selected_is_blocked_by_rows_that_depend_on_them(shop: Shop,
                                                                browser: Browser) -> None:
    page = act(browser, "delete_selected", [shop.ids["mort"], shop.ids["guards"]])
    assert page.status_code == 200
    assert "This cannot be deleted" in page.text
    assert 'name="post"' not in page.text
    forced = act(browser, "delete_selected", [shop.ids["mort"], shop.ids["guards"]],
                 post="yes")
    assert forced.status_code == 403
    assert shop.count(AdmShopBook) == 4  # neither of them


def test_a_custom_action(shop: Shop, browser: Browser) -> None:
    response = act(browser, "mark_live", [shop.ids["guards"], shop.ids["dispossessed"]])
    assert response.status_code == 303
    assert set(statuses(shop).values()) == {AdmShopStatus.live}
    assert "2 adm shop books done: Mark selected books live." in flashes(
        browser.get(response.headers["location"]).text)


def test_an_action_may_answer_itself(shop: Shop, browser: Browser) -> None:
    response = act(browser, "count_them", [shop.ids["guards"], shop.ids["mort"]])
    assert response.status_code == 200
    assert response.text == "2 rows"


def test_an_action_with_confirm_asks_first(shop: Shop, browser: Browser) -> None:
    page = act(browser, "archive", [shop.ids["mort"]])
    assert page.status_code == 200
    assert "Archive (out of stock): 1 adm shop book." in page.text
    assert "These related rows will be deleted too" not in page.text
    assert shop.fetch(AdmShopBook, shop.ids["mort"]).in_stock is True
    assert act(browser, "archive", [shop.ids["mort"]], post="yes").status_code == 303
    assert shop.fetch(AdmShopBook, shop.ids["mort"]).in_stock is False


def test_select_across_acts_on_every_matching_row(shop: Shop, browser: Browser) -> None:
    def more(session: Session) -> None:
        author = session.get(AdmShopAuthor, shop.ids["terry"])
        session.add_all([AdmShopBook(title=f"Draft {n}", author=author, price=Decimal(1))
                         for n in range(30)])

    shop.run(more)  # 32 drafts: two pages
    page = browser.get(BOOKS + "?status=draft").text
    assert "All 32 adm shop books that match" in page
    response = browser.client.post(BOOKS + "?status=draft", data={
        "csrf_token": browser.token, "action": "mark_live", "select_across": "1",
        "_selected": str(shop.ids["guards"])})
    assert response.status_code == 303
    assert response.headers["location"].endswith(BOOKS + "?status=draft")
    assert set(statuses(shop).values()) == {AdmShopStatus.live}

    # with a search: only what it finds (each word anywhere in the title)
    shop.run(lambda s: s.execute(AdmShopBook.__table__.update().values(status="draft")))
    browser.client.post(BOOKS + "?q=Draft+1", data={
        "csrf_token": browser.token, "action": "mark_live", "select_across": "1"})
    live = sorted(t for t, s in statuses(shop).items() if s is AdmShopStatus.live)
    assert live == sorted(f"Draft {n}" for n in range(30) if "1" in str(n))


def test_select_across_confirmation_keeps_the_filter(shop: Shop, browser: Browser) -> None:
    page = browser.client.post(BOOKS + "?status=draft", data={
        "csrf_token": browser.token, "action": "delete_selected", "select_across": "1"})
    assert page.status_code == 200
    assert "2 adm shop books" in page.text
    assert 'name="select_across" value="1"' in page.text
    done = browser.client.post(BOOKS + "?status=draft", data={
        "csrf_token": browser.token, "action": "delete_selected", "select_across": "1",
        "post": "yes"})
    assert done.status_code == 303
    assert sorted(statuses(shop)) == ["A Wizard of Earthsea", "Mort"]


def test_no_rows_ticked_changes_nothing(shop: Shop, browser: Browser) -> None:
    response = act(browser, "mark_live", [])
    assert response.status_code == 303
    assert AdmShopStatus.draft in statuses(shop).values()
    assert any("nothing was changed" in m for m in flashes(browser.get(BOOKS).text))


@pytest.mark.parametrize("action", ["no_such_action", "delete_model", "save_model",
                                    "__init__", "has_change_permission", "get_queryset",
                                    "title_length", "", "mark_live\x00"])
def test_a_forged_action_name_is_a_400(shop: Shop, browser: Browser, action: str) -> None:
    response = act(browser, action, [shop.ids["guards"]])
    assert response.status_code == 400 if action else response.status_code in (400, 303)
    assert statuses(shop)["Guards! Guards!"] is AdmShopStatus.draft
    assert shop.count(AdmShopBook) == 4


@pytest.mark.parametrize("selected", ["999", "abc", str(10**30), "1,2"])
def test_a_forged_row_is_refused(shop: Shop, browser: Browser, selected: str) -> None:
    response = act(browser, "mark_live", [shop.ids["guards"], selected])
    assert response.status_code == 404
    assert statuses(shop)["Guards! Guards!"] is AdmShopStatus.draft  # all or nothing


def test_actions_need_the_csrf_token(shop: Shop, browser: Browser) -> None:
    response = browser.client.post(BOOKS, data={"action": "mark_live",
                                                "_selected": str(shop.ids["guards"])})
    assert response.status_code == 403
    assert statuses(shop)["Guards! Guards!"] is AdmShopStatus.draft


def test_a_row_ticked_twice_is_acted_on_once(shop: Shop, browser: Browser) -> None:
    guards = shop.ids["guards"]
    response = act(browser, "delete_selected", [guards, guards], post="yes")
    assert response.status_code == 303
    assert "1 adm shop book deleted." in flashes(browser.get(BOOKS).text)
    assert shop.count(AdmShopBook) == 3
