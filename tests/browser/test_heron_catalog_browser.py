"""heron's own pages in German in a real browser: a browser set to German logs in,
reads the admin's change list (its counter updated in German by admin.js as rows are
ticked) and a form error, with no page scrolling sideways at desktop and phone widths
and no Content-Security-Policy violation.

The site is tests/browser/admin_site, served by ``heron run`` with
``HERON_LANGUAGES=en,de``; pages are photographed into build/test-artifacts/i18n/.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_sites import DESKTOP, PHONE, REPORT_VIOLATIONS, serve_seeded

if TYPE_CHECKING:
    from app_server import AppServer  # tests/app_server.py
    from playwright.sync_api import Browser, ConsoleMessage, Page

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PASSWORD = "a sturdy passphrase 42"
BOOKS = "/admin/catalogue/adm_br_book/"
SHOTS = Path(os.environ.get("HERON_TEST_ARTIFACTS") or ROOT / "build" / "test-artifacts") \
    / "i18n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory,
         serve_app: Callable[..., AppServer]) -> AppServer:
    return serve_seeded(tmp_path_factory, serve_app, "admin_site.app:app",
                        "admin_site.seed", test_password=PASSWORD, languages="en,de")


@pytest.fixture
def german(browser: Browser) -> Iterator[tuple[Page, list[ConsoleMessage], list[str]]]:
    """A page of a browser set to German (``Accept-Language: de-DE``), its console
    messages and the CSP violations it reports."""
    context = browser.new_context(locale="de-DE", viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    console: list[ConsoleMessage] = []
    page.on("console", lambda message: console.append(message))
    violations: list[str] = []
    page.expose_function("reportViolation", lambda text: violations.append(text))
    page.add_init_script(REPORT_VIOLATIONS)
    try:
        yield page, console, violations
    finally:
        context.close()


def shoot(page: Page, name: str) -> None:
    """Photograph the page at both widths; neither may scroll sideways."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("mobile", PHONE)):
        page.set_viewport_size(size)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size['width']}px"
        page.screenshot(path=SHOTS / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_the_admin_in_german(german: tuple[Page, list[ConsoleMessage], list[str]],
                             site: AppServer) -> None:
    page, console, violations = german
    page.goto(site.url + "/auth/login?next=/admin/")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.title() == "Anmelden"
    shoot(page, "login-de")
    page.get_by_label("Benutzername").fill("admin")
    page.get_by_label("Passwort").fill("not the password")
    page.get_by_role("button", name="Anmelden", exact=True).click()
    assert page.get_by_role("alert").inner_text() == \
        "Anmeldung fehlgeschlagen: Benutzername oder Passwort ist falsch."
    page.get_by_label("Passwort").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Anmelden", exact=True).click()
    assert page.url == site.url + "/admin/"
    assert page.get_by_role("heading", level=1).inner_text() == "Website-Verwaltung"

    page.goto(site.url + BOOKS)
    counter = page.locator(".action-counter")
    assert counter.inner_text() == "0 von 20 ausgewählt"
    page.locator("input.action-select").nth(0).check()
    page.locator("input.action-select").nth(1).check()
    assert counter.inner_text() == "2 von 20 ausgewählt"  # written by admin.js
    assert page.get_by_role("button", name="Ausführen").count() >= 1
    assert page.locator("aside.filters h2").inner_text() == "Filter"
    shoot(page, "admin-changelist-de")

    page.goto(site.url + BOOKS + "add/")
    with page.expect_navigation():
        page.get_by_role("button", name="Sichern", exact=True).click()
    assert page.locator(".errornote").first.inner_text() == \
        "Bitte korrigieren Sie die unten aufgeführten Fehler."
    assert page.get_by_text("Dieses Feld ist erforderlich.").count() >= 1
    shoot(page, "admin-form-error-de")

    assert violations == []
    assert [m.text for m in console if "Content Security Policy" in m.text] == []
    errors = [m.text for m in console if m.type == "error"]
    assert [e for e in errors if "status of 400" not in e and "status of 422" not in e] == []
