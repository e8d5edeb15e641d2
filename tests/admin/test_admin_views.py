"""heron.admin's pages over HTTP, as a logged-in superuser: the index, adding and
changing rows with each save button, deleting, the history, heron.auth's users and
groups, the ``admin_url`` setting, CSRF, and bad input (always a 4xx, never a 500)."""

from __future__ import annotations

import html
import re
import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from admin_shop import (
    AUTHORS,
    BOOKS,
    GROUPS,
    NOTES,
    PUBLISHERS,
    USERS,
    AdminAppFactory,
    AdmShopAuthor,
    AdmShopBook,
    AdmShopChapter,
    AdmShopStatus,
    Browser,
    Shop,
    flashes,
    form_fields,
    log_in,
    make_shop,
)
from sqlalchemy import select

from heron.admin.audit import LogEntry, entries_for
from heron.auth import get_user_model
from heron.auth.models import Group, Permission
from heron.db import db
from heron.testing import TestClient


def book_form(author: int, **fields: str) -> dict[str, str]:
    """A valid add form of a book (without inline rows)."""
    data = {"title": "Small Gods", "slug": "small-gods", "status": "live", "in_stock": "on",
            "price": "7.50", "published": "1992-05-01", "subtitle": "", "author": str(author),
            "adm_shop_chapter_set-TOTAL": "0"}
    data.update(fields)
    return data


# -- the index -----------------------------------------------------------------------------


def test_the_index_lists_models_grouped_by_component(shop: Shop, browser: Browser) -> None:
    page = browser.get("/admin/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    sections = re.findall(r'<h2 id="component-(\w+)">', page.text)
    assert sections == ["app", "auth"]
    app_part = page.text[page.text.index('id="component-app"'):page.text.index(
        'id="component-auth"')]
    names = re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', app_part)
    assert names == sorted(names, key=str.lower)
    assert "Adm shop books" in names
    assert "Adm shop authors" in names
    assert f'href="{BOOKS}add/"' in page.text
    assert f'href="{USERS}"' in page.text
    assert f'href="{GROUPS}"' in page.text
    assert "None yet." in page.text  # no recent actions


def test_the_index_lists_the_user_s_recent_actions(shop: Shop, browser: Browser) -> None:
    author = shop.ids["terry"]
    assert browser.post(BOOKS + "add/", book_form(author, _save="1")).status_code == 303
    book = shop.run(lambda s: s.scalar(select(AdmShopBook.id).where(
        AdmShopBook.title == "Small Gods")))
    assert browser.post(f"{BOOKS}{book}/delete/", {"post": "yes"}).status_code == 303
    page = browser.get("/admin/").text
    recent = page[page.index('id="recent-actions"'):]
    kinds = re.findall(r'<li class="action-(\w+)">', recent)
    assert kinds == ["delete", "add"]  # newest first
    deletion = re.search(r'<li class="action-delete">(.*?)</li>', recent, re.S)
    assert deletion is not None
    assert "Small Gods" in deletion.group(1)
    assert "href" not in deletion.group(1)  # a deleted row is named, not linked

    shop.user("bob", superuser=True)
    with shop.client("bob") as other:
        assert "None yet." in other.get("/admin/").text  # each user sees their own


# -- adding and changing ---------------------------------------------------------------------


def test_the_add_form_shows_errors_next_to_the_fields(shop: Shop, browser: Browser) -> None:
    page = browser.post(BOOKS + "add/", book_form(shop.ids["terry"], title="", price="cheap",
                                                  _save="1"))
    assert page.status_code == 422
    assert "Please correct the errors below." in page.text
    title_row = re.search(r'<div class="form-row field-title has-errors">(.*?)</div></div>',
                          page.text, re.S)
    assert title_row is not None
    assert "required" in title_row.group(1).lower()
    price_row = re.search(r'<div class="form-row field-price has-errors">(.*?)</div></div>',
                          page.text, re.S)
    assert price_row is not None
    assert 'value="cheap"' in price_row.group(1)  # what was typed is kept
    assert 'class="form-row field-slug has-errors"' not in page.text
    assert shop.count(AdmShopBook) == 4


@pytest.mark.parametrize(("button", "target"), [
    ("_save", "list"), ("_addanother", "add"), ("_continue", "change")])
def test_each_save_button_goes_where_it_says(shop: Shop, browser: Browser, button: str,
                                             target: str) -> None:
    response = browser.post(BOOKS + "add/", book_form(shop.ids["terry"], **{button: "1"}))
    assert response.status_code == 303, response.text
    book = shop.run(lambda s: s.scalars(select(AdmShopBook).where(
        AdmShopBook.title == "Small Gods")).one())
    expected = {"list": BOOKS, "add": BOOKS + "add/", "change": f"{BOOKS}{book.id}/change/"}
    assert response.headers["location"].endswith(expected[target])
    assert (book.slug, book.status, book.price, book.author_id) == (
        "small-gods", AdmShopStatus.live, Decimal("7.50"), shop.ids["terry"])
    messages = flashes(browser.get(response.headers["location"]).text)
    assert any("&#34;Small Gods&#34; was added" in m for m in messages), messages


def test_a_change_is_saved_and_recorded(shop: Shop, browser: Browser) -> None:
    url = f"{BOOKS}{shop.ids['mort']}/change/"
    data = form_fields(browser.get(url).text)
    data.update(title="Mort (revised)", price="11.00", _continue="1")
    response = browser.post(url, data)
    assert response.status_code == 303
    assert response.headers["location"].endswith(url)
    book = shop.fetch(AdmShopBook, shop.ids["mort"])
    assert (book.title, book.price) == ("Mort (revised)", Decimal("11.00"))
    page = browser.get(response.headers["location"]).text
    assert "was changed. You may edit it again below." in page


def test_save_as_new_adds_a_copy_and_leaves_the_original(shop: Shop, browser: Browser) -> None:
    url = f"{BOOKS}{shop.ids['mort']}/change/"
    page = browser.get(url).text
    assert 'name="_saveasnew"' in page
    data = form_fields(page)
    data.update(title="Mort II", _saveasnew="1")
    response = browser.post(url, data)
    assert response.status_code == 303, response.text
    copy = shop.run(lambda s: s.scalars(select(AdmShopBook).where(
        AdmShopBook.title == "Mort II")).one())
    assert copy.id != shop.ids["mort"]
    assert response.headers["location"].endswith(f"{BOOKS}{copy.id}/change/")
    assert shop.fetch(AdmShopBook, shop.ids["mort"]).title == "Mort"
    assert shop.count(AdmShopBook) == 5


def test_the_change_list_filters_are_kept_across_the_form(shop: Shop, browser: Browser) -> None:
    kept = {"o": ["1"], "status": ["draft"]}
    listing = browser.get(BOOKS + "?o=1&status=draft").text
    link = re.search(rf'href="({BOOKS}{shop.ids["guards"]}/change/\\?[^"]+)"', listing)
    assert link is not None
    url = html.unescape(link.group(1))
    assert parse_qs(parse_qs(urlsplit(url).query)["_changelist_filters"][0]) == kept
    page = browser.get(url).text
    field = re.search(r'name="_changelist_filters" value="([^"]+)"', page)
    assert field is not None
    assert parse_qs(html.unescape(field.group(1))) == kept
    data = form_fields(page)
    response = browser.post(url, {**data, "_save": "1"})
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == BOOKS
    assert parse_qs(location.query) == kept

    response = browser.post(url, {**data, "_continue": "1"})
    location = urlsplit(response.headers["location"])
    assert location.path == f"{BOOKS}{shop.ids['guards']}/change/"
    assert parse_qs(parse_qs(location.query)["_changelist_filters"][0]) == kept


def test_kept_filters_are_re_encoded_not_echoed(shop: Shop, browser: Browser) -> None:
    url = f"{BOOKS}{shop.ids['guards']}/change/"
    data = form_fields(browser.get(url).text)
    data.update(_save="1", _changelist_filters="q=a b&x=<script>\r\nLocation: evil")
    response = browser.post(url, data)
    assert response.status_code == 303
    location = response.headers["location"]
    assert "\n" not in location
    assert "<" not in location
    assert " " not in location
    assert location.endswith(BOOKS + "?q=a+b&x=%3Cscript%3E%0D%0ALocation%3A+evil")
    data["_changelist_filters"] = "x" * 3000  # too long: dropped
    assert browser.post(url, data).headers["location"].endswith(BOOKS)


def test_a_row_that_does_not_exist_is_a_404(shop: Shop, browser: Browser) -> None:
    for suffix in ("change/", "delete/", "history/"):
        assert browser.get(f"{BOOKS}999/{suffix}").status_code == 404
    assert browser.post(f"{BOOKS}999/change/", {"title": "x"}).status_code == 404


# -- deleting ---------------------------------------------------------------------------------


def test_deleting_lists_the_rows_that_go_with_it(shop: Shop, browser: Browser) -> None:
    url = f"{AUTHORS}{shop.ids['ursula']}/delete/"
    page = browser.get(url)
    assert page.status_code == 200
    assert "These related rows will be deleted too" in page.text
    plan = page.text[page.text.index('class="deleted-objects"'):]
    assert "<strong>Adm shop books</strong> (2): A Wizard of Earthsea, The Dispossessed" in plan
    assert "(2): 1. Warriors in the Mist, 2. The Shadow" in plan  # the books' chapters
    assert shop.count(AdmShopAuthor) == 2  # a GET deletes nothing

    response = browser.post(url, {})  # a POST without the confirmation: the page again
    assert response.status_code == 200
    assert shop.count(AdmShopAuthor) == 2

    response = browser.post(url, {"post": "yes"})
    assert response.status_code == 303
    assert response.headers["location"].endswith(AUTHORS)
    assert shop.fetch(AdmShopAuthor, shop.ids["ursula"]) is None
    assert shop.count(AdmShopBook) == 2
    assert shop.count(AdmShopChapter) == 0
    assert any("was deleted" in m for m in flashes(browser.get(AUTHORS).text))


def test_a_row_others_depend_on_is_not_deleted(shop: Shop, browser: Browser) -> None:
    url = f"{BOOKS}{shop.ids['mort']}/delete/"
    page = browser.get(url)
    assert page.status_code == 200
    assert "This cannot be deleted" in page.text
    assert "Death takes a holiday" in page.text  # the review that blocks it
    assert 'name="post"' not in page.text  # no confirmation button
    response = browser.post(url, {"post": "yes"})
    assert response.status_code == 409
    assert shop.fetch(AdmShopBook, shop.ids["mort"]) is not None


def test_posts_need_the_csrf_token(shop: Shop, browser: Browser) -> None:
    url = f"{BOOKS}{shop.ids['guards']}/delete/"
    assert browser.post(url, {"post": "yes"}, csrf=False).status_code == 403
    assert browser.post(url, {"post": "yes", "csrf_token": "forged"}).status_code == 403
    assert shop.fetch(AdmShopBook, shop.ids["guards"]) is not None
    change = f"{BOOKS}{shop.ids['guards']}/change/"
    data = {**form_fields(browser.get(change).text), "title": "Forged", "_save": "1"}
    assert browser.post(change, data, csrf=False).status_code == 403
    assert browser.post(BOOKS + "add/", book_form(shop.ids["terry"], _save="1"),
                        csrf=False).status_code == 403
    assert browser.post(f"{USERS}1/password/", {"password1": "x" * 20, "password2": "x" * 20},
                        csrf=False).status_code == 403
    assert shop.fetch(AdmShopBook, shop.ids["guards"]).title == "Guards! Guards!"
    assert shop.count(AdmShopBook) == 4


# -- history ---------------------------------------------------------------------------------


def test_the_history_shows_each_change_with_its_fields(shop: Shop, browser: Browser) -> None:
    assert browser.post(BOOKS + "add/", book_form(shop.ids["terry"], _save="1")).status_code \
        == 303
    book = shop.run(lambda s: s.scalar(select(AdmShopBook.id).where(
        AdmShopBook.title == "Small Gods")))
    url = f"{BOOKS}{book}/change/"
    data = form_fields(browser.get(url).text)
    data.update(title="Small Gods (2nd ed.)", price="8.00", _save="1")
    assert browser.post(url, data).status_code == 303

    page = browser.get(f"{BOOKS}{book}/history/")
    assert page.status_code == 200
    rows = re.findall(r"<tr>\s*<td><time.*?</tr>", page.text, re.S)
    assert len(rows) == 2
    changed, added = rows  # newest first
    assert "Add" in added
    assert "<ins>Small Gods</ins>" in added
    assert "admin" in added
    assert "Change" in changed
    assert "<dt>title</dt><dd><del>Small Gods</del> &rarr; <ins>Small Gods (2nd ed.)</ins>" \
        in changed
    assert "<dt>price</dt>" in changed
    assert "<dt>slug</dt>" not in changed

    assert browser.post(f"{BOOKS}{book}/delete/", {"post": "yes"}).status_code == 303
    with db.context(shop.app):
        kinds = [e.action for e in entries_for(db.session, AdmShopBook, str(book))]
        deleted = db.session.scalars(select(LogEntry).where(
            LogEntry.action == "delete", LogEntry.object_id == str(book))).one()
    assert sorted(kinds) == ["add", "change", "delete"]
    assert deleted.changes["title"] == ["Small Gods (2nd ed.)", None]
    assert browser.get(f"{BOOKS}{book}/history/").status_code == 404  # the row is gone


# -- heron.auth's users and groups -----------------------------------------------------------


def _user(shop: Shop, username: str) -> object:
    model = get_user_model(shop.app)
    return shop.run(lambda s: s.scalars(select(model).where(
        model.username == username)).one_or_none())


@pytest.mark.parametrize(("first", "second", "message"), [
    ("a much better pass phrase", "a much better pass phrases",
     "The two passwords do not match."),
    ("short", "short", "too short"),
    ("", "", "required"),
])
def test_a_user_is_added_with_a_valid_password_typed_twice(
        shop: Shop, browser: Browser, first: str, second: str, message: str) -> None:
    page = browser.post(USERS + "add/", {"username": "bob", "password1": first,
                                         "password2": second, "_save": "1"})
    assert page.status_code == 422
    assert message in page.text
    assert first not in re.findall(r'value="([^"]*)"', page.text) or not first
    assert _user(shop, "bob") is None


def test_an_added_user_s_password_is_hashed(shop: Shop, browser: Browser) -> None:
    phrase = "a much better pass phrase"
    response = browser.post(USERS + "add/", {"username": "bob", "password1": phrase,
                                             "password2": phrase, "_continue": "1"})
    assert response.status_code == 303, response.text
    user: Any = _user(shop, "bob")
    assert user.password.startswith("$argon2id$")
    assert phrase not in user.password
    page = browser.get(response.headers["location"]).text
    assert "Set (stored hashed; change it on the password page)." in page
    assert user.password not in page
    assert 'name="password"' not in page  # never a field of the change form
    with TestClient(shop.app) as other:
        log_in(other, "bob", phrase)


def test_the_password_page_sets_a_new_password(shop: Shop, browser: Browser) -> None:
    user_id = shop.user("carol")
    url = f"{USERS}{user_id}/password/"
    page = browser.get(url)
    assert page.status_code == 200
    assert 'type="password"' in page.text
    assert f'href="{url}"' in browser.get(f"{USERS}{user_id}/change/").text
    bad = browser.post(url, {"password1": "new pass phrase one", "password2": "other"})
    assert bad.status_code == 422
    assert "The two passwords do not match." in bad.text
    weak = browser.post(url, {"password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 422
    assert 'id="id_password1-error"' in weak.text
    phrase = "new pass phrase one"
    response = browser.post(url, {"password1": phrase, "password2": phrase})
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"{USERS}{user_id}/change/")
    with TestClient(shop.app) as other:
        log_in(other, "carol", phrase)

    history = browser.get(f"{USERS}{user_id}/history/").text
    assert "Password changed." in history
    stored: Any = _user(shop, "carol")
    assert stored.password not in history
    assert "$argon2" not in history
    assert "<dt>password</dt>" in history  # that it changed, masked


def test_a_group_gets_permissions_from_a_multiple_select(shop: Shop, browser: Browser) -> None:
    page = browser.get(GROUPS + "add/").text
    select_tag = re.search(r'<select[^>]*name="permissions"[^>]*>', page)
    assert select_tag is not None
    assert "multiple" in select_tag.group(0)
    perms = shop.run(lambda s: {p.codename: p.id for p in s.scalars(select(Permission))})
    chosen = [perms["view_adm_shop_book"], perms["change_adm_shop_book"]]
    response = browser.client.post(GROUPS + "add/", data={
        "csrf_token": browser.token, "name": "Editors",
        "permissions": [str(p) for p in chosen], "_save": "1"})
    assert response.status_code == 303, response.text
    group = shop.run(lambda s: sorted(p.codename for p in s.scalars(
        select(Group).where(Group.name == "Editors")).one().permissions))
    assert group == ["change_adm_shop_book", "view_adm_shop_book"]


def test_the_user_list_never_shows_passwords(shop: Shop, browser: Browser) -> None:
    page = browser.get(USERS + "?q=adm")
    assert page.status_code == 200
    assert "admin" in page.text
    assert "$argon2" not in page.text
    assert browser.get(USERS + "?is_staff=1&o=1").status_code == 200
    assert browser.get(f"{BOOKS}1/password/").status_code == 404  # only users have one


# -- the admin_url setting -------------------------------------------------------------------


def test_admin_url_moves_the_admin(admin_app: AdminAppFactory) -> None:
    shop = make_shop(admin_app(admin_url="/back-office/"))
    with shop.client("admin") as browser:
        page = browser.get("/back-office/")
        assert page.status_code == 200
        assert 'href="/back-office/app/adm_shop_book/"' in page.text
        assert browser.get("/back-office/app/adm_shop_book/").status_code == 200
        assert browser.get("/admin/").status_code == 404
    with TestClient(shop.app) as anonymous:
        response = anonymous.get("/back-office/app/adm_shop_book/")
        assert response.status_code == 302
        assert response.headers["location"].startswith("/auth/login?next=")


# -- bad input: a 4xx, never a 500 -------------------------------------------------------------


@pytest.mark.parametrize("query", [
    "bogus=1", "p=abc", "p=0", "p=-1", "p=" + "9" * 30, "o=99", "o=abc", "o=-",
    "o=1,,2", "o=0", "o=" + "1" * 40, "status=bogus", "in_stock=2", "author=abc",
    "author=" + "9" * 30, "published=tomorrow", "published__isnull=maybe",
    "subtitle__empty=2", "band=free", "published__year=abc", "published__year=2021&"
    "published__month=13", "published__year=2021&published__month=2&published__day=30",
])
def test_bad_change_list_parameters_are_a_400(shop: Shop, browser: Browser,
                                              query: str) -> None:
    response = browser.get(f"{BOOKS}?{query}")
    assert response.status_code == 400, response.text[:300]
    assert "Show the whole list" in response.text
    assert browser.get(f"{BOOKS}export/csv?{query}").status_code == 400


@pytest.mark.parametrize("query", ["q=%00", "status=draft%00", "p=1%00", "%00=1"])
def test_a_nul_character_in_the_query_is_a_400(shop: Shop, browser: Browser,
                                               query: str) -> None:
    assert browser.get(f"{BOOKS}?{query}").status_code == 400


@pytest.mark.parametrize("pk", ["abc", str(10**30), "-" + str(10**30), "1,2", "1.5", "%20",
                                "1e3", "%00", "1%00"])
def test_a_tampered_key_is_a_404(shop: Shop, browser: Browser, pk: str) -> None:
    expected = 400 if "%00" in pk else 404  # the framework refuses a NUL in a path itself
    for suffix in ("change/", "delete/", "history/"):
        assert browser.get(f"{BOOKS}{pk}/{suffix}").status_code == expected
    assert browser.post(f"{BOOKS}{pk}/delete/", {"post": "yes"}).status_code == expected
    assert shop.count(AdmShopBook) == 4


@pytest.mark.parametrize("pk", ["1", "1,2,3", "a,b", "1,", ",2", str(10**30) + ",2"])
def test_a_composite_key_needs_each_part(shop: Shop, browser: Browser, pk: str) -> None:
    shelves = "/admin/app/adm_shop_shelf/"
    assert f'href="{shelves}1%2C2/change/"' in browser.get(shelves).text
    assert browser.get(f"{shelves}1%2C2/change/").status_code == 200
    assert browser.get(f"{shelves}1,2/change/").status_code == 200
    assert browser.get(f"{shelves}{pk}/change/").status_code == 404


@pytest.mark.parametrize("url", [
    "/admin/nope/", "/admin/app/nope/", "/admin/nope/adm_shop_book/", "/admin/auth/nope/add/",
    "/admin/app/adm_shop_book/1/nope/", "/admin/app/adm_shop_book/export/xml",
    "/admin/app/adm_shop_book/export/", "/admin/app/adm_shop_shelf/autocomplete/?term=a",
    "/admin/app/adm_shop_chapter/",  # a model that is not registered
])
def test_unknown_pages_are_a_404(shop: Shop, browser: Browser, url: str) -> None:
    assert browser.get(url).status_code == 404


def test_a_post_to_the_change_list_needs_an_action_or_a_save(shop: Shop,
                                                           browser: Browser) -> None:
    assert browser.post(BOOKS, {}).status_code == 400
    assert browser.post(BOOKS, {"action": "no_such_action", "_selected": "1"}).status_code \
        == 400
    assert browser.post(PUBLISHERS, {"action": "delete_selected",
                                     "_selected": "1"}).status_code == 400  # actions = None


def test_odd_form_values_are_refused_with_errors(shop: Shop, browser: Browser) -> None:
    url = f"{BOOKS}{shop.ids['guards']}/change/"
    data = form_fields(browser.get(url).text)
    for name, value in [("status", "bogus"), ("price", "1e999"), ("published", "2021-02-30"),
                        ("author", "abc"), ("author", str(10**30)), ("title", "x" * 201),
                        ("title", "nul\x00here")]:
        response = browser.post(url, {**data, name: value, "_save": "1"})
        assert response.status_code in (400, 422), (name, value, response.status_code)
    assert shop.fetch(AdmShopBook, shop.ids["guards"]).title == "Guards! Guards!"


def test_the_autocomplete_answers_json(shop: Shop, browser: Browser) -> None:
    found = browser.get(AUTHORS + "autocomplete/?term=ter")
    assert found.status_code == 200
    assert found.json() == {"results": [{"id": str(shop.ids["terry"]), "text": "Terry"}]}
    everyone = browser.get(AUTHORS + "autocomplete/").json()["results"]
    assert [r["text"] for r in everyone] == ["Ursula", "Terry"]
    assert browser.get(AUTHORS + "autocomplete/?term=%00").status_code == 400
    assert browser.get(AUTHORS + "autocomplete/?term=" + "x" * 5000).json() == {"results": []}
    assert browser.get("/admin/app/adm_shop_shelf/autocomplete/?term=a").status_code == 404
    assert browser.get(NOTES + "autocomplete/?term=open").json()["results"][0]["text"] == \
        "Open note"


# -- the main flows on PostgreSQL ----------------------------------------------------------------


def test_the_main_flows_on_postgresql(admin_app: AdminAppFactory, postgres_server: Any) -> None:
    url = postgres_server.create_database(f"heron_admin_views_{uuid.uuid4().hex[:12]}")
    shop = make_shop(admin_app(database_url=str(url)))
    ids = shop.ids
    with shop.client("admin") as browser:
        assert browser.get("/admin/").status_code == 200
        page = browser.get(BOOKS + f"?q=ter&status=draft&o=2,-1&author={ids['terry']}").text
        assert re.findall(r'class="field-title"><a [^>]+>([^<]+)<', page) == ["Guards! Guards!"]
        year = browser.get(BOOKS + "?published__year=2021&published__month=7").text
        assert "The Dispossessed" in year
        assert browser.get(BOOKS + "?published=year&subtitle__empty=1&band=cheap").status_code \
            == 200
        for query in ("status=bogus", "p=abc", "o=99", "author=" + "9" * 30,
                      "published__year=2021&published__month=13"):
            assert browser.get(BOOKS + "?" + query).status_code == 400
        assert browser.get(f"{BOOKS}{10**30}/change/").status_code == 404
        assert browser.get(AUTHORS + "autocomplete/?term=ter").json()["results"][0]["text"] \
            == "Terry"

        added = browser.post(BOOKS + "add/", book_form(ids["terry"], _continue="1"))
        assert added.status_code == 303
        change_url = urlsplit(added.headers["location"]).path
        data = form_fields(browser.get(change_url).text)
        data.update({"title": "Small Gods (PG)", "author": str(10**30), "_save": "1"})
        assert browser.post(change_url, data).status_code == 422
        data["author"] = str(ids["terry"])
        data.update({"adm_shop_chapter_set-0-title": "One", "adm_shop_chapter_set-0-number": "1"})
        assert browser.post(change_url, data).status_code == 303
        assert "<ins>Small Gods (PG)</ins>" in browser.get(
            change_url.replace("/change/", "/history/")).text

        inline_url = f"{AUTHORS}{ids['ursula']}/change/"
        data = form_fields(browser.get(inline_url).text)
        data.update({"adm_shop_book_set-1-DELETE": "1", "adm_shop_book_set-2-title": "New",
                     "_save": "1"})
        assert browser.post(inline_url, data).status_code == 303

        assert browser.post(f"{BOOKS}{ids['mort']}/delete/", {"post": "yes"}).status_code \
            == 409
        assert browser.post(BOOKS, {"action": "mark_live", "_selected": str(ids["guards"])}) \
            .status_code == 303
        assert browser.post(f"{AUTHORS}{ids['terry']}/delete/", {"post": "yes"}).status_code \
            == 409  # Mort's review blocks it, through the cascade
        csv_text = browser.get(BOOKS + "export/csv?status=live").text
        assert "Guards! Guards!" in csv_text
        assert browser.get(BOOKS + "export/json?q=new").json()[0]["title"] == "New"
    assert shop.count(AdmShopBook) == 5  # 4, one added, one added inline, one deleted
