"""Two-factor login in a real browser (issue 22): set up an authenticator app from the
security page (QR code, key, first code), see the recovery codes, log out, log in
with the password and then a code.

The site is ``auth_site`` (served by ``heron run``, production mode, sign-up on);
the codes are computed with pyotp from the key the page shows, as an app would.
Screenshots of the pages at desktop size and at 375 px go to
build/test-artifacts/two_factor/.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_sites import click_and_wait, serve_migrated

if TYPE_CHECKING:
    from app_server import AppServer  # tests/app_server.py
    from playwright.sync_api import ConsoleMessage, Page

HERE = Path(__file__).resolve().parent
APP = "auth_site.app:app"
PASSWORD = "a sturdy passphrase 42"
SHOTS = HERE.parent.parent / "build" / "test-artifacts" / "two_factor"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory,
         serve_app: Callable[..., AppServer]) -> AppServer:
    return serve_migrated(tmp_path_factory, serve_app, APP, auth_totp_issuer="Heron demo")



def shoot(page: Page, name: str) -> None:
    """A full-page screenshot at desktop width and at 375 px."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 740})
    page.screenshot(path=str(SHOTS / f"{name}-375.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_set_up_an_authenticator_then_log_in_with_a_code(
        page: Page, console: list[ConsoleMessage], site: AppServer) -> None:
    import pyotp

    # Sign up; then the security page offers an authenticator app.
    page.goto(site.url + "/auth/signup")
    page.get_by_label("Username").fill("lin")
    page.get_by_label("Email").fill("lin@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    click_and_wait(page, "Create my account")
    page.goto(site.url + "/auth/security")
    assert page.title() == "Security"
    click_and_wait(page, "Set up an authenticator app")
    assert page.url == site.url + "/auth/security/totp"

    # The QR code is drawn (an inline SVG, no script, no style attribute).
    qr = page.locator(".qr-code svg")
    box = qr.bounding_box()
    assert box is not None
    assert box["width"] >= 150
    page.get_by_text("Cannot scan it? Type the key instead").click()
    key = page.locator("code.secret").inner_text().replace(" ", "")
    assert len(key) == 32
    totp = pyotp.TOTP(key)
    shoot(page, "enrolment")

    # A wrong first code is refused; the right one turns it on and shows the codes once.
    page.get_by_label("The 6-digit code the app shows").fill("000000")
    assert click_and_wait(page, "Turn on two-factor login").status == 400
    assert "This code is not right" in page.locator("#code-error").inner_text()
    page.get_by_label("The 6-digit code the app shows").fill(totp.now())
    assert click_and_wait(page, "Turn on two-factor login").status == 200
    assert page.title() == "Your recovery codes"
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    shoot(page, "recovery-codes")
    click_and_wait(page, "I have saved them")
    assert "10 unused recovery codes" in page.locator("main").inner_text()
    shoot(page, "security")

    # Log out, then in: the password first, then a code.
    click_and_wait(page, "Log out")
    page.goto(site.url + "/private")
    page.get_by_label("Username").fill("lin")
    page.get_by_label("Password").fill(PASSWORD)
    landed = click_and_wait(page, "Log in")
    assert landed.url == site.url + "/auth/two-factor?next=%2Fprivate"
    assert page.locator(".auth-bar").count() == 0  # not logged in yet
    shoot(page, "second-step")
    page.get_by_label("Code").fill("123456")
    assert click_and_wait(page, "Verify").status == 400
    before = {c["name"]: c["value"] for c in page.context.cookies()}.get("heron_session")
    page.get_by_label("Code").fill(totp.at(time.time() + 30))  # the next step's code
    landed = click_and_wait(page, "Verify")
    assert landed.url == site.url + "/private"
    assert page.locator("#secret").inner_text() == "Members only: hello, lin."
    after = {c["name"]: c["value"] for c in page.context.cookies()}.get("heron_session")
    assert after != before

    assert [m.text for m in console if "Content Security Policy" in m.text] == []
    errors = [m.text for m in console if m.type == "error"]
    assert [e for e in errors if "status of 400" not in e] == []
