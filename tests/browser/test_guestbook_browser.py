"""The guestbook in a real browser: ``heron run`` in production mode, driven by Chromium.

What only a browser shows: that it obeys the security headers (CSP, X-Frame-Options),
that its own form submissions carry the session cookie and the CSRF token, that
cross-site ones are refused, that the POST/redirect/GET flow with a flashed
message works as a person sees it, and that the pager's links lead through the pages.
"""

from __future__ import annotations

import math
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from app_server import AppServer  # tests/app_server.py
    from playwright.sync_api import ConsoleMessage, Page

ROOT = Path(__file__).resolve().parents[2]
APP = "examples.guestbook.app:app"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; object-src 'none'; base-uri 'self'")
EVIL = "http://evil.test"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guestbook's throwaway SQLite file."""
    return tmp_path_factory.mktemp("guestbook-db") / "guestbook.sqlite3"


@pytest.fixture(scope="module")
def guestbook(database: Path, serve_app: Callable[..., AppServer]) -> AppServer:
    """The example served by ``heron run`` as in production: debug off, a secret key,
    its allowed hosts from the environment, and a throwaway SQLite file that
    ``heron db migrate`` made first (the app creates no tables itself)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env.update({
        "HERON_SECRET_KEY": secrets.token_urlsafe(32),
        "HERON_DEBUG": "0",
        "HERON_ALLOWED_HOSTS": "127.0.0.1",
        "HERON_DATABASE_URL": f"sqlite:///{database}",
        # heron runs in an empty folder (no stray .env): the repository goes on the path.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    })
    heron = Path(sys.executable).with_name("heron")
    migrate = subprocess.run([str(heron), "db", "--app", APP, "migrate"], cwd=database.parent,
                             env=env, capture_output=True, text=True, timeout=60, check=False)
    if migrate.returncode != 0:
        pytest.fail(f"`heron db migrate` failed:\n{migrate.stdout}{migrate.stderr}",
                    pytrace=False)
    return serve_app(APP, env)


def csp_violations(console: list[ConsoleMessage]) -> list[str]:
    return [m.text for m in console if "Content Security Policy" in m.text]


def entries(page: Page, server: AppServer) -> list[tuple[str, str]]:
    """What the guestbook stored, through its JSON API (with the page's cookies)."""
    response = page.request.get(f"{server.url}/api/entries?limit=100")
    assert response.ok
    return [(e["name"], e["message"]) for e in response.json()]


def submit(page: Page) -> int:
    """Click "Sign" and wait for the page that comes back; its status."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Sign").click()
    response = navigation.value
    assert response is not None
    return response.status


def test_sign_the_guestbook(page: Page, console: list[ConsoleMessage],
                            guestbook: AppServer) -> None:
    response = page.goto(guestbook.url + "/")
    assert response is not None
    assert response.status == 200
    headers = response.all_headers()
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == CSP
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "strict-transport-security" not in headers  # plain HTTP
    assert "server" not in headers
    assert page.title() == "heron guestbook"
    # The stylesheet, linked with static(), loaded and applies (the CSP allows it).
    button = page.get_by_role("button", name="Sign")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(36, 86, 110)"

    # Invalid: a message of spaces passes the browser's `required` but not the
    # server.  The page comes back (422) with the values as typed and the error.
    name_field, message_field = page.get_by_label("Name"), page.get_by_label("Message")
    tricky_name = '<b>Zoë</b> & "co"'
    name_field.fill(tricky_name)
    message_field.fill("   ")
    assert submit(page) == 422
    assert page.get_by_role("alert").inner_text() == (
        "Your entry was not saved: please correct it below.")
    assert page.locator("#message-error").inner_text() == "Please write a message."
    assert message_field.get_attribute("aria-invalid") == "true"
    assert name_field.input_value() == tricky_name  # kept, and escaped: no <b> element
    assert message_field.input_value() == "   "
    assert page.locator("main b").count() == 0

    # Too long a name, with the maxlength the browser enforces taken away.
    name_field.evaluate("input => input.removeAttribute('maxlength')")
    name_field.fill("n" * 81)
    message_field.fill("Hello")
    assert submit(page) == 422
    assert page.locator("#name-error").inner_text() == (
        "Your name can be at most 80 characters long.")
    assert name_field.input_value() == "n" * 81
    assert message_field.input_value() == "Hello"
    assert entries(page, guestbook) == []

    # Valid: POST /sign answers 303 to /, which shows the flashed thanks and the entry.
    name_field.fill(tricky_name)
    message_field.fill("Hello from a real browser!\nTwo lines.")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Sign").click()
    landed = navigation.value
    assert landed is not None
    assert landed.status == 200
    assert landed.url == guestbook.url + "/"
    post = landed.request.redirected_from
    assert post is not None
    assert post.method == "POST"
    assert post.url == guestbook.url + "/sign"
    posted = post.response()
    assert posted is not None
    assert posted.status == 303
    flash = page.locator(".flash")
    assert flash.count() == 1
    assert flash.inner_text() == f"Thanks for signing, {tricky_name}!"
    assert "flash-success" in (flash.get_attribute("class") or "")
    newest = page.locator(".entries li").first
    assert newest.inner_text() == f"{tricky_name}: Hello from a real browser!\nTwo lines."
    assert page.locator(".count").inner_text() == "1 signature."
    assert name_field.input_value() == ""  # a fresh form

    # Reload: the message was shown once and is gone; the entry stays.
    page.reload()
    assert page.locator(".flash").count() == 0
    assert page.locator(".entries li").first.inner_text().startswith(tricky_name)

    # The entry's own page.
    page.get_by_role("link", name=tricky_name).click()
    page.wait_for_url(guestbook.url + "/entries/*")
    assert page.locator("blockquote").inner_text() == "Hello from a real browser!\nTwo lines."
    assert entries(page, guestbook) == [(tricky_name, "Hello from a real browser!\r\nTwo lines.")]

    assert csp_violations(console) == []
    errors = [m.text for m in console if m.type == "error"]
    # Chromium reports every 4xx page as a failed load; the two 422s are expected.
    assert [e for e in errors if "status of 422" not in e] == []


def test_form_without_its_token_is_refused(page: Page, guestbook: AppServer) -> None:
    page.goto(guestbook.url + "/")
    before = entries(page, guestbook)
    page.get_by_label("Name").fill("Mallory")
    page.get_by_label("Message").fill("no token")
    page.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Sign").click()
    refused = navigation.value
    assert refused is not None
    assert refused.status == 403
    # The browser did send its session cookie and its Origin: only the token was missing.
    sent = refused.request.all_headers()
    assert "heron_session=" in sent["cookie"]
    assert sent["origin"] == guestbook.url
    assert "The request was refused by the CSRF check." in page.inner_text("body")
    assert "CSRF token missing" in guestbook.output()  # the reason is logged, not shown

    # A script's form post with the browser's cookies but no token: refused too.
    scripted = page.request.post(guestbook.url + "/sign",
                                 form={"name": "Mallory", "message": "scripted"})
    assert scripted.status == 403
    assert entries(page, guestbook) == before


def test_cross_site_form_is_refused(page: Page, guestbook: AppServer) -> None:
    # The visitor has a session with the guestbook...
    page.goto(guestbook.url + "/")
    token = page.locator("input[name=csrf_token]").get_attribute("value")
    assert token
    before = entries(page, guestbook)
    # ...and opens another site, whose form posts to the guestbook (even with a
    # valid token, which a real attacker could not read).
    attack = f"""<!doctype html><title>win a prize</title>
        <form method="post" action="{guestbook.url}/sign">
          <input type="hidden" name="name" value="Mallory">
          <input type="hidden" name="message" value="cross-site">
          <input type="hidden" name="csrf_token" value="{token}">
          <button>Claim</button>
        </form>"""
    page.route(EVIL + "/**", lambda route: route.fulfill(content_type="text/html", body=attack))
    page.goto(EVIL + "/")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Claim").click()
    refused = navigation.value
    assert refused is not None
    assert refused.status == 403
    assert refused.request.all_headers()["origin"] == EVIL
    assert f"Origin checking failed: {EVIL}" in guestbook.output()
    assert entries(page, guestbook) == before


def test_browser_enforces_the_policy(page: Page, console: list[ConsoleMessage],
                                     guestbook: AppServer) -> None:
    """The CSP and X-Frame-Options headers work in the browser (and a violation shows
    up in the console, so test_sign_the_guestbook's check for none is meaningful)."""
    page.goto(guestbook.url + "/")
    with page.expect_console_message(
            lambda m: "Content Security Policy" in m.text) as violation:
        ran = page.evaluate("""() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
            return window.injected === true;
        }""")
    assert ran is False  # an inline script does not run
    assert "script-src" in violation.value.text
    assert csp_violations(console) == [violation.value.text]

    # X-Frame-Options: DENY: no page, not even the guestbook's own, can frame it
    # (clickjacking).  The CSP allows same-origin frames, so this is the header's doing.
    with page.expect_console_message(lambda m: "X-Frame-Options" in m.text) as refused:
        page.evaluate("""url => {
            const frame = document.createElement("iframe");
            frame.src = url;
            document.body.append(frame);
        }""", guestbook.url + "/")
    assert "'deny'" in refused.value.text


def test_pager_links_lead_through_the_pages(page: Page, database: Path,
                                            guestbook: AppServer) -> None:
    # Rows written straight into the database (the server sees them at once).
    with sqlite3.connect(database) as connection:
        connection.executemany("INSERT INTO entry (name, message) VALUES (?, ?)",
                               [(f"Guest {n}", f"Message {n}") for n in range(1, 26)])
    connection.close()
    page.goto(guestbook.url + "/")
    total = int(page.locator(".count").inner_text().split()[0])
    assert total >= 25
    pages = math.ceil(total / 20)
    assert page.locator(".entries li").count() == 20
    assert page.locator(".entries li").first.inner_text() == "Guest 25: Message 25"
    assert page.locator(".pager-current").inner_text() == f"Page 1 of {pages}"
    assert page.get_by_role("link", name="Newer").count() == 0

    page.get_by_role("link", name="Older").click()
    page.wait_for_url(guestbook.url + "/?page=2")
    assert page.locator(".pager-current").inner_text() == f"Page 2 of {pages}"
    assert page.locator(".entries li").first.inner_text() == "Guest 5: Message 5"
    page.get_by_role("link", name="Newer").click()
    page.wait_for_url(guestbook.url + "/")
    assert page.locator(".entries li").first.inner_text() == "Guest 25: Message 25"

    missing = page.goto(f"{guestbook.url}/?page={pages + 1}")
    assert missing is not None
    assert missing.status == 404
    assert page.title() == "Not found"
    assert f"There is no page {pages + 1}; the last is {pages}." in page.inner_text("main")
