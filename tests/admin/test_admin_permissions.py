"""Who may do what in the admin, over HTTP: anonymous visitors, users who are not
staff, staff without permissions, view-only, add-only and change-only users, custom
permissions of actions, object-level permissions and inlines of models the user may
not change."""

from __future__ import annotations

import re
from typing import Any

import pytest
from admin_shop import (
    AUTHORS,
    BOOKS,
    NOTES,
    USERS,
    AdmShopAuthor,
    AdmShopBook,
    AdmShopNote,
    AdmShopStatus,
    Browser,
    Shop,
    form_fields,
)
from sqlalchemy import select

from heron.auth.models import Group, Permission
from heron.testing import TestClient


def model_urls(shop: Shop) -> list[str]:
    mort = shop.ids["mort"]
    return [BOOKS, BOOKS + "add/", f"{BOOKS}{mort}/change/", f"{BOOKS}{mort}/delete/",
            f"{BOOKS}{mort}/history/", BOOKS + "export/csv", BOOKS + "export/json",
            AUTHORS + "autocomplete/?term=a", USERS, f"{USERS}1/password/"]


def valid_book(shop: Shop) -> dict[str, str]:
    return {"title": "Small Gods", "slug": "", "status": "draft", "price": "1",
            "published": "", "subtitle": "", "author": str(shop.ids["terry"]),
            "adm_shop_chapter_set-TOTAL": "0", "_save": "1"}


def test_anonymous_visitors_are_sent_to_log_in(shop: Shop) -> None:
    with TestClient(shop.app) as client:
        for url in ["/admin/", *model_urls(shop)]:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.headers["location"].startswith("/auth/login?next=")
        token = client.get("/csrf").text
        response = client.post(f"{BOOKS}{shop.ids['guards']}/delete/",
                               data={"post": "yes", "csrf_token": token})
        assert response.status_code == 302
    assert shop.fetch(AdmShopBook, shop.ids["guards"]) is not None


def test_users_who_are_not_staff_are_refused(shop: Shop) -> None:
    shop.user("customer", staff=False, superuser=False,
              perms=["app.view_adm_shop_book", "app.change_adm_shop_book"])
    with shop.client("customer") as browser:
        for url in ["/admin/", *model_urls(shop)]:
            assert browser.get(url).status_code == 403, url
        response = browser.post(f"{BOOKS}{shop.ids['guards']}/change/", valid_book(shop))
        assert response.status_code == 403
    assert shop.fetch(AdmShopBook, shop.ids["guards"]).title == "Guards! Guards!"


def test_staff_without_permissions_see_nothing(shop: Shop) -> None:
    shop.user("clerk")
    with shop.client("clerk") as browser:
        index = browser.get("/admin/")
        assert index.status_code == 200
        assert "You do not have permission to view or edit anything." in index.text
        assert 'class="side-nav"' not in index.text or BOOKS not in index.text
        for url in model_urls(shop):
            assert browser.get(url).status_code == 403, url
        assert browser.post(BOOKS + "add/", valid_book(shop)).status_code == 403
        assert browser.post(BOOKS, {"action": "delete_selected", "_selected": "1",
                                    "post": "yes"}).status_code == 403
        assert browser.post(f"{BOOKS}{shop.ids['guards']}/delete/",
                            {"post": "yes"}).status_code == 403
    assert shop.count(AdmShopBook) == 4


def test_a_view_only_user_sees_no_buttons_and_cannot_post(shop: Shop) -> None:
    shop.user("viewer", perms=["app.view_adm_shop_book", "app.view_adm_shop_chapter"])
    guards = shop.ids["guards"]
    with shop.client("viewer") as browser:
        index = browser.get("/admin/").text
        assert re.findall(r'<th scope="row"><a href="([^"]+)">', index) == [BOOKS]
        assert 'class="addlink"' not in index

        listing = browser.get(BOOKS).text
        assert "Add adm shop book" not in listing
        assert 'name="_row"' not in listing  # list_editable needs the change permission
        assert 'type="number"' not in listing
        assert re.findall(r'<option value="(\w+)">', listing) == ["count_them"]
        assert "Export CSV" in listing

        page = browser.get(f"{BOOKS}{guards}/change/")
        assert page.status_code == 200
        assert "<h1>View adm shop book</h1>" in page.text
        assert 'name="_save"' not in page.text
        assert 'class="deletelink"' not in page.text
        form = page.text.split('id="adm_shop_book_form"')[1].split("</form>")[0]
        assert re.findall(r'<input(?![^>]*type="hidden")[^>]*>|<select|<textarea', form) == []
        assert browser.get(f"{BOOKS}{guards}/history/").status_code == 200
        earthsea = browser.get(f"{BOOKS}{shop.ids['earthsea']}/change/")
        assert earthsea.status_code == 200  # its chapters, read-only
        assert '<div class="readonly-value">Warriors in the Mist</div>' in earthsea.text
        assert "adm_shop_chapter_set-0-title" not in earthsea.text
        assert "+ Add another" not in earthsea.text
        assert browser.get(BOOKS + "export/csv").status_code == 200

        assert browser.post(f"{BOOKS}{guards}/change/", valid_book(shop)).status_code == 403
        assert browser.get(BOOKS + "add/").status_code == 403
        assert browser.post(BOOKS + "add/", valid_book(shop)).status_code == 403
        assert browser.get(f"{BOOKS}{guards}/delete/").status_code == 403
        assert browser.post(f"{BOOKS}{guards}/delete/", {"post": "yes"}).status_code == 403
        assert browser.post(BOOKS, {"_save": "1", "_row": str(guards),
                                    f"row-{guards}-price": "1"}).status_code == 403
        for action in ("mark_live", "delete_selected"):
            response = browser.post(BOOKS, {"action": action, "_selected": str(guards),
                                            "post": "yes"})
            assert response.status_code == 400, action  # not offered: no such action
        assert browser.post(BOOKS, {"action": "count_them",
                                    "_selected": str(guards)}).text == "1 rows"
    book = shop.fetch(AdmShopBook, guards)
    assert (book.title, book.status, str(book.price)) == ("Guards! Guards!",
                                                          AdmShopStatus.draft, "15.00")
    assert shop.count(AdmShopBook) == 4


def test_an_add_only_user_adds_and_goes_back_to_the_index(shop: Shop) -> None:
    shop.user("adder", perms=["app.add_adm_shop_book"])
    with shop.client("adder") as browser:
        index = browser.get("/admin/").text
        # the index offers the add page, and no change list the user may not see
        assert f'href="{BOOKS}"' not in index
        assert f'href="{BOOKS}add/"' in index
        assert browser.get(BOOKS).status_code == 403
        assert browser.get(BOOKS + "add/").status_code == 200
        response = browser.post(BOOKS + "add/", valid_book(shop))
        assert response.status_code == 303, response.text
        assert response.headers["location"].endswith("/admin/")  # may not see the list
        assert browser.get(f"{BOOKS}{shop.ids['guards']}/change/").status_code == 403
        continued = browser.post(BOOKS + "add/", {**valid_book(shop), "_save": "",
                                                  "_continue": "1"})
        assert continued.status_code == 303
        assert browser.get(continued.headers["location"]).status_code == 403
    assert shop.count(AdmShopBook) == 6


def test_a_change_only_user_may_view_but_not_add_or_delete(shop: Shop) -> None:
    shop.user("editor", perms=["app.change_adm_shop_book"])
    guards = shop.ids["guards"]
    with shop.client("editor") as browser:
        listing = browser.get(BOOKS).text
        assert "Add adm shop book" not in listing
        assert 'name="_row"' in listing
        offered = re.findall(r'<option value="(\w+)">', listing)
        assert offered == ["mark_live", "count_them", "archive"]  # no delete, no publish
        page = browser.get(f"{BOOKS}{guards}/change/").text
        assert "<h1>Change adm shop book</h1>" in page
        assert 'class="deletelink"' not in page
        assert 'name="_addanother"' not in page
        assert 'name="_saveasnew"' not in page  # save as new adds a row
        data = form_fields(page)
        assert browser.post(f"{BOOKS}{guards}/change/",
                            {**data, "title": "Guards!", "_save": "1"}).status_code == 303
        assert browser.post(f"{BOOKS}{guards}/change/",
                            {**data, "_saveasnew": "1"}).status_code == 403
        assert browser.post(f"{BOOKS}{guards}/delete/", {"post": "yes"}).status_code == 403
        assert browser.post(BOOKS, {"action": "delete_selected", "_selected": str(guards),
                                    "post": "yes"}).status_code == 400
        assert browser.post(BOOKS, {"action": "adm_shop_publish",
                                    "_selected": str(guards)}).status_code == 400
    assert shop.fetch(AdmShopBook, guards).title == "Guards!"
    assert shop.count(AdmShopBook) == 4


def test_a_custom_permission_offers_its_action(shop: Shop) -> None:
    shop.user("publisher", perms=["app.change_adm_shop_book", "app.publish_adm_shop_book"])
    with shop.client("publisher") as browser:
        assert "adm_shop_publish" in browser.get(BOOKS).text
        response = browser.post(BOOKS, {"action": "adm_shop_publish",
                                        "_selected": str(shop.ids["guards"])})
        assert response.status_code == 303
    assert shop.fetch(AdmShopBook, shop.ids["guards"]).subtitle == "published"


def test_permissions_through_a_group(shop: Shop) -> None:
    user_id = shop.user("member")

    def join(session: Any) -> None:
        from heron.auth import get_user_model

        view = session.scalars(select(Permission).where(
            Permission.codename == "view_adm_shop_author")).one()
        user = session.get(get_user_model(shop.app), user_id)
        user.groups.append(Group(name="Readers", permissions=[view]))

    shop.run(join)
    with shop.client("member") as browser:
        assert browser.get(AUTHORS).status_code == 200
        assert browser.get(BOOKS).status_code == 403
        assert re.findall(r'<th scope="row"><a href="([^"]+)">',
                          browser.get("/admin/").text) == [AUTHORS]


def test_an_object_level_override_makes_a_row_read_only(shop: Shop, browser: Browser) -> None:
    locked, open_note = shop.ids["locked_note"], shop.ids["open_note"]
    page = browser.get(f"{NOTES}{locked}/change/")
    assert page.status_code == 200
    assert "<h1>View adm shop note</h1>" in page.text
    assert 'name="_save"' not in page.text
    assert 'class="deletelink"' not in page.text
    response = browser.post(f"{NOTES}{locked}/change/", {"title": "Unlocked?", "_save": "1"})
    assert response.status_code == 403
    assert browser.get(f"{NOTES}{locked}/delete/").status_code == 403
    assert browser.post(f"{NOTES}{locked}/delete/", {"post": "yes"}).status_code == 403
    assert shop.fetch(AdmShopNote, locked).title == "Locked note"
    # the other row is not locked
    assert "<h1>Change adm shop note</h1>" in browser.get(f"{NOTES}{open_note}/change/").text
    assert browser.post(f"{NOTES}{open_note}/change/",
                        {"title": "Still open", "_save": "1"}).status_code == 303
    # deleting both at once is refused because of the locked one
    both = [str(open_note), str(locked)]
    page = browser.post(NOTES, {"action": "delete_selected", "_selected": both})
    assert "do not have permission to delete: adm shop notes" in page.text
    refused = browser.post(NOTES, {"action": "delete_selected", "post": "yes",
                                   "_selected": both})
    assert refused.status_code == 403
    assert shop.count(AdmShopNote) == 2


@pytest.mark.parametrize("book_perms", [[], ["app.view_adm_shop_book"]])
def test_inlines_follow_the_inline_model_s_permissions(shop: Shop,
                                                      book_perms: list[str]) -> None:
    """A user who may change authors but not books never changes books through them."""
    shop.user("agent", perms=["app.change_adm_shop_author", *book_perms])
    url = f"{AUTHORS}{shop.ids['terry']}/change/"
    with shop.client("agent") as browser:
        page = browser.get(url).text
        if not book_perms:
            assert "adm_shop_book_set" not in page  # not even shown
        else:
            assert "Mort" in page
            assert 'name="adm_shop_book_set-0-title"' not in page  # shown read-only
        data = form_fields(page)
        data.update({"name": "Terry P.", "adm_shop_book_set-TOTAL": "3",
                     "adm_shop_book_set-0-pk": str(shop.ids["guards"]),
                     "adm_shop_book_set-0-title": "Renamed",
                     "adm_shop_book_set-0-status": "live",
                     "adm_shop_book_set-1-pk": str(shop.ids["mort"]),
                     "adm_shop_book_set-1-DELETE": "1",
                     "adm_shop_book_set-2-pk": "", "adm_shop_book_set-2-title": "Added",
                     "_save": "1"})
        response = browser.post(url, data)
        assert response.status_code in (303, 403, 422)
    assert shop.run(lambda s: sorted(s.scalars(select(AdmShopBook.title).where(
        AdmShopBook.author_id == shop.ids["terry"])))) == ["Guards! Guards!", "Mort"]
    if response.status_code == 303:
        assert shop.fetch(AdmShopAuthor, shop.ids["terry"]).name == "Terry P."
