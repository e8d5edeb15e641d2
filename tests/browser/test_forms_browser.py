"""heron forms in a real browser: the call-for-talks example served by ``heron run``.

Chromium fills the proposal form in wrongly, sees each message next to its field
(tied to it with ``aria-describedby``) with what was typed still there, corrects it,
attaches slides and submits; then a second proposal with the same title is refused by
the server's unique check, which no browser can do.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from app_server import AppServer  # tests/app_server.py
    from playwright.sync_api import ConsoleMessage, Locator, Page

ROOT = Path(__file__).resolve().parents[2]
APP = "examples.talks.app:app"
ABSTRACT = "Forms that validate on the server and keep what people typed, in a browser."


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("talks-browser")


@pytest.fixture(scope="module")
def talks(folder: Path, serve_app: Callable[..., AppServer]) -> AppServer:
    """The example as in production, on a throwaway SQLite file and media folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env.update({
        "HERON_SECRET_KEY": secrets.token_urlsafe(32),
        "HERON_DEBUG": "0",
        "HERON_ALLOWED_HOSTS": "127.0.0.1",
        "HERON_DATABASE_URL": f"sqlite:///{folder / 'talks.sqlite3'}",
        "HERON_MEDIA_DIR": str(folder / "media"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    })
    heron = Path(sys.executable).with_name("heron")
    migrate = subprocess.run([str(heron), "db", "--app", APP, "migrate"], cwd=folder, env=env,
                             capture_output=True, text=True, timeout=60, check=False)
    if migrate.returncode != 0:
        pytest.fail(f"`heron db migrate` failed:\n{migrate.stdout}{migrate.stderr}",
                    pytrace=False)
    return serve_app(APP, env)


def submit(page: Page, button: str = "Propose") -> int:
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=button).click()
    response = navigation.value
    assert response is not None
    return response.status


def error_for(page: Page, field: Locator) -> str:
    """The text of the error list that ``field`` names in its ``aria-describedby``."""
    described = (field.get_attribute("aria-describedby") or "").split()
    errors = [i for i in described if i.endswith("-error")]
    assert len(errors) == 1, described
    return page.locator(f"#{errors[0]}").inner_text()


def test_fill_wrongly_see_errors_correct_and_submit(page: Page, console: list[ConsoleMessage],
                                                    talks: AppServer, folder: Path) -> None:
    response = page.goto(talks.url + "/propose")
    assert response is not None
    assert response.status == 200
    title, speaker = page.get_by_label("Title"), page.get_by_label("Speaker")
    email, minutes = page.get_by_label("Email"), page.get_by_label("Minutes")
    abstract, website = page.get_by_label("Abstract"), page.get_by_label("Website (optional)")
    consent = page.get_by_label("I agree to follow the code of conduct")
    assert page.get_by_label("Track").input_value() == ""  # choose one
    assert email.get_attribute("type") == "email"
    assert consent.get_attribute("required") is not None

    # Wrong: a bad email, no speaker, a talk of 20 minutes, a shouted title, a short
    # abstract, no track, the box unticked.  The browser would stop most of these
    # itself; switch its checks off to reach the server, as a script could.
    title.fill("FORMS <B>IN</B> HERON")
    email.fill("ann@")
    minutes.fill("20")
    abstract.fill("Too short.")
    website.fill("javascript:alert(1)")
    page.locator("form").evaluate("form => { form.noValidate = true; }")
    assert submit(page) == 422
    assert page.get_by_role("alert").first.inner_text() == (
        "Your proposal was not saved: please correct it below.")
    assert error_for(page, title) == "Please do not shout: write the title in lower case."
    assert error_for(page, speaker) == "Please fill in this field."
    assert error_for(page, email) == "Enter a valid email address."
    assert error_for(page, minutes) == "Ensure this value is a multiple of 15."
    assert error_for(page, abstract) == "Ensure this value has at least 50 characters."
    assert error_for(page, website) == "Enter a valid URL."
    assert error_for(page, page.get_by_label("Track")) == "Please fill in this field."
    assert error_for(page, consent) == "Please fill in this field."
    for field in (title, speaker, email, minutes, abstract, website, consent):
        assert field.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Level").get_attribute("aria-invalid") is None
    # What was typed is still there, as text (no <b> element was made of it).
    assert title.input_value() == "FORMS <B>IN</B> HERON"
    assert email.input_value() == "ann@"
    assert minutes.input_value() == "20"
    assert abstract.input_value() == "Too short."
    assert page.locator("main form b").count() == 0

    # Correct it, with the browser's checks back on (the page is new), and attach slides.
    title.fill("Forms in heron")
    speaker.fill("Ann")
    email.fill("ann@example.com")
    minutes.fill("45")
    abstract.fill(ABSTRACT)
    website.fill("")
    page.get_by_label("Track").select_option(label="Data")
    page.get_by_label("Level").select_option(label="Advanced")
    consent.check()
    page.get_by_label("Slides (optional)").set_input_files(
        files=[{"name": "../../slides.pdf", "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4 slides"}])
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Propose").click()
    landed = navigation.value
    assert landed is not None
    assert landed.status == 200
    posted = landed.request.redirected_from
    assert posted is not None
    assert posted.method == "POST"
    assert posted.response().status == 303  # type: ignore[union-attr]
    assert page.locator("h1").inner_text() == "Forms in heron"
    assert page.locator(".flash").inner_text() == "Thank you! “Forms in heron” was proposed."
    assert page.locator(".byline").inner_text() == "by Ann, Data track, advanced, 45 minutes"
    stored = list((folder / "media" / "slides").iterdir())
    assert len(stored) == 1
    assert stored[0].suffix == ".pdf"
    assert stored[0].read_bytes() == b"%PDF-1.4 slides"

    # The same title again: only the server knows it is taken.
    page.goto(talks.url + "/propose")
    page.get_by_label("Title").fill("Forms in heron")
    page.get_by_label("Speaker").fill("Bob")
    page.get_by_label("Email").fill("bob@example.com")
    page.get_by_label("Abstract").fill(ABSTRACT)
    page.get_by_label("Track").select_option(label="Web")
    page.get_by_label("I agree to follow the code of conduct").check()
    assert submit(page) == 422
    assert error_for(page, page.get_by_label("Title")) == "A talk with this title already exists."
    assert page.get_by_label("Speaker").input_value() == "Bob"
    page.get_by_label("Title").fill("Forms in heron, the sequel")
    page.get_by_label("I agree to follow the code of conduct").check()
    assert submit(page) == 200
    assert page.locator("h1").inner_text() == "Forms in heron, the sequel"

    assert [m.text for m in console if "Content Security Policy" in m.text] == []
    errors = [m.text for m in console if m.type == "error"]
    assert [e for e in errors if "status of 422" not in e] == []
