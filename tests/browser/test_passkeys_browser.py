"""Passkeys in a real browser (issue 22): Chromium's virtual authenticator (CDP
``WebAuthn``) makes a passkey from the security page, then logs in with it without
a password, and as the second step after the password.

The site is ``auth_site`` served by ``heron run`` (production mode, heron.auth's
shipped migrations).  Chromium allows WebAuthn only in a secure context with a
valid RP ID: ``http://localhost`` is one (an IP address is no RP ID), so the
pages are browsed at ``http://localhost:PORT``.  What only a browser shows: that
``auth/passkeys.js`` runs under the default CSP, converts the options and the
answers, sends the CSRF token, and that the pages look finished (screenshots in
``build/test-artifacts/passkeys/``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from browser_sites import DESKTOP, PHONE, REPORT_VIOLATIONS, serve_migrated

if TYPE_CHECKING:
    from app_server import AppServer  # tests/app_server.py
    from playwright.sync_api import CDPSession, ConsoleMessage, Page

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
APP = "auth_site.app:app"
PASSWORD = "a sturdy passphrase 42"
SHOTS = Path(os.environ.get("HERON_TEST_ARTIFACTS") or ROOT / "build" / "test-artifacts") \
    / "passkeys"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory,
         serve_app: Callable[..., AppServer]) -> AppServer:
    return serve_migrated(tmp_path_factory, serve_app, APP, allowed_hosts="localhost,127.0.0.1")


def add_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A virtual platform authenticator (with user verification) for ``page``."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added: dict[str, Any] = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return cdp, added["authenticatorId"]


def shoot(page: Page, name: str) -> None:
    """Screenshots at desktop and phone width; neither may scroll sideways."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("mobile", PHONE)):
        page.set_viewport_size(size)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size['width']}px"
        page.screenshot(path=SHOTS / f"passkeys-{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def log_out(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()


def test_register_a_passkey_then_log_in_with_it(page: Page, console: list[ConsoleMessage],
                                                site: AppServer) -> None:
    violations: list[str] = []
    page.expose_function("reportViolation", lambda text: violations.append(text))
    page.add_init_script(REPORT_VIOLATIONS)
    base = f"http://localhost:{site.port}"
    cdp, authenticator = add_authenticator(page)

    # Sign up (the password was just typed: the security page does not ask it again).
    page.goto(base + "/auth/signup")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Create my account").click()

    page.goto(base + "/auth/security")
    assert page.locator("[data-passkey-unsupported]").is_hidden()
    # A name of blanks (the browser's `required` lets it through): the server's message
    # shows in the page, and no passkey is made on the device.
    name = page.get_by_label("Name of the new passkey")
    name.fill("   ")
    page.get_by_role("button", name="Add a passkey").click()
    message = page.locator(".passkey-add [data-passkey-message]")
    message.filter(has_text="Give the passkey a name").wait_for()
    assert "passkey-error" in (message.get_attribute("class") or "")
    assert cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator}) == {
        "credentials": []}

    name.fill("This browser")
    with page.expect_navigation(url=base + "/auth/security"):
        page.get_by_role("button", name="Add a passkey").click()
    assert "The passkey “This browser” was added." in page.locator(".messages").inner_text()
    assert page.locator(".passkey-name strong").all_inner_texts() == ["This browser"]
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(stored["credentials"]) == 1
    assert stored["credentials"][0]["isResidentCredential"]
    page.locator(".passkey-edit summary").click()
    shoot(page, "security")

    # Passwordless: the login page's passkey button.
    log_out(page)
    page.goto(base + "/auth/login?next=/private")
    button = page.get_by_role("button", name="Log in with a passkey")
    assert button.is_visible()
    shoot(page, "login")
    with page.expect_navigation(url=base + "/private"):
        button.click()
    assert page.locator("#secret").inner_text() == "Members only: hello, ada."

    # The password first, then the passkey as the second step.
    log_out(page)
    page.goto(base + "/auth/login")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation(url=base + "/auth/two-factor"):
        page.get_by_role("button", name="Log in", exact=True).click()
    use = page.get_by_role("button", name="Use a passkey")
    assert use.is_visible()
    shoot(page, "second-step")
    with page.expect_navigation(url=base + "/"):
        use.click()
    assert page.locator("#status").inner_text() == "Welcome back, ada."

    assert violations == []
    assert [m.text for m in console if "Content Security Policy" in m.text] == []
    errors = [m.text for m in console if m.type == "error"]
    # The blank name's 400 is reported by Chromium as a failed load.
    assert [e for e in errors if "status of 400" not in e] == []


def test_without_webauthn_the_passkey_buttons_stay_hidden(page: Page,
                                                          site: AppServer) -> None:
    page.add_init_script("delete window.PublicKeyCredential;")
    page.goto(f"http://localhost:{site.port}/auth/login")
    assert page.get_by_role("button", name="Log in", exact=True).is_visible()
    assert page.locator("[data-passkey-login]").is_hidden()
