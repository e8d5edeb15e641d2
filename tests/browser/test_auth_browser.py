"""heron.auth's pages in a real browser: sign up, reach a page for members, log out,
log in again (issue 5).

The site (``auth_site/``) is served by ``heron run`` in production mode on a
throwaway SQLite file that ``heron db migrate`` prepared, with sign-up on.
What only a browser shows: that its form posts carry the session cookie and the
CSRF token (which the login replaces), that the redirects lead where they
should, that the pages break no CSP rule and that their stylesheet loads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_sites import click_and_wait, serve_migrated

if TYPE_CHECKING:
    from app_server import AppServer  # tests/app_server.py
    from playwright.sync_api import ConsoleMessage, Page, Response

HERE = Path(__file__).resolve().parent
APP = "auth_site.app:app"
PASSWORD = "a sturdy passphrase 42"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory,
         serve_app: Callable[..., AppServer]) -> AppServer:
    """The site, debug off, on a fresh database migrated by ``heron db migrate``."""
    return serve_migrated(tmp_path_factory, serve_app, APP)



def posted_status(landed: Response) -> int:
    """The status of the POST that redirected to ``landed``."""
    post = landed.request.redirected_from
    assert post is not None
    assert post.method == "POST"
    answer = post.response()
    assert answer is not None
    return answer.status


def test_sign_up_reach_the_members_page_log_out_and_in(
        page: Page, console: list[ConsoleMessage], site: AppServer) -> None:
    # A visitor asks for the members' page and is sent to the login page.
    page.goto(site.url + "/private")
    assert page.url == site.url + "/auth/login?next=/private"
    assert page.title() == "Log in"
    button = page.get_by_role("button", name="Log in", exact=True)  # not "... with a passkey"
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(36, 86, 110)"

    # No account yet: sign up (the wanted page travels along).
    click_and_wait(page, "Create an account")
    assert page.url == site.url + "/auth/signup?next=%2Fprivate"
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password (again)").fill("short")
    assert click_and_wait(page, "Create my account").status == 422
    assert page.get_by_role("alert").inner_text().startswith("Your account was not created")
    assert "This password is too short." in page.locator("#password1-error").inner_text()
    assert page.get_by_label("Username").input_value() == "ada"
    assert page.get_by_label("Password", exact=True).input_value() == ""  # never sent back

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    landed = click_and_wait(page, "Create my account")
    assert posted_status(landed) == 303
    assert landed.url == site.url + "/private"
    assert page.locator("#secret").inner_text() == "Members only: hello, ada."
    assert "Logged in as ada" in page.locator(".auth-bar").inner_text()
    signed_up_cookie = session_cookie(page)

    # Log out (a POST with the CSRF token, from the bar of every page).
    landed = click_and_wait(page, "Log out")
    assert posted_status(landed) == 303
    assert landed.url == site.url + "/"
    assert page.locator("#status").inner_text().startswith("You are not logged in.")
    assert session_cookie(page) != signed_up_cookie
    page.goto(site.url + "/private")
    assert page.url == site.url + "/auth/login?next=/private"

    # A wrong password: the form comes back with one message, the name kept.
    page.get_by_label("Username").fill("ADA")
    page.get_by_label("Password").fill("not my password")
    assert click_and_wait(page, "Log in").status == 400
    assert page.get_by_role("alert").inner_text() == (
        "Please enter a correct username and password.")
    assert page.get_by_label("Username").input_value() == "ADA"
    assert page.get_by_label("Password").input_value() == ""

    # The right one: back to the members' page, under a new session key.
    before = session_cookie(page)
    page.get_by_label("Password").fill(PASSWORD)
    landed = click_and_wait(page, "Log in")
    assert posted_status(landed) == 303
    assert landed.url == site.url + "/private"
    assert page.locator("#secret").inner_text() == "Members only: hello, ada."
    assert session_cookie(page) != before

    click_and_wait(page, "Log out")
    page.goto(site.url + "/private")
    assert page.url == site.url + "/auth/login?next=/private"

    assert [m.text for m in console if "Content Security Policy" in m.text] == []
    errors = [m.text for m in console if m.type == "error"]
    # Chromium reports every 4xx page as a failed load; the 422 and the 400 are expected.
    assert [e for e in errors if "status of 422" not in e and "status of 400" not in e] == []


def session_cookie(page: Page) -> str | None:
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    return cookies.get("heron_session")


def test_logout_from_another_site_is_refused(page: Page, site: AppServer) -> None:
    """Logout is a CSRF-checked POST: another site's form cannot log the visitor out."""
    page.goto(site.url + "/auth/signup")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    click_and_wait(page, "Create my account")
    assert "Logged in as grace" in page.locator(".auth-bar").inner_text()

    evil = "http://evil.test"
    attack = f"""<!doctype html><title>win a prize</title>
        <form method="post" action="{site.url}/auth/logout"><button>Claim</button></form>"""
    page.route(evil + "/**", lambda route: route.fulfill(content_type="text/html", body=attack))
    page.goto(evil + "/")
    assert click_and_wait(page, "Claim").status == 403

    page.goto(site.url + "/private")
    assert page.locator("#secret").inner_text() == "Members only: hello, grace."
