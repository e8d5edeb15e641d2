"""The example API's home page in a real browser: ``heron run`` in production mode.

A person who opens the API in a browser sees a styled page (its inline style allowed
by heron's default Content-Security-Policy, with no violation in the console) whose
first link leads to the API's documentation page.
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
    from playwright.sync_api import ConsoleMessage, Page

ROOT = Path(__file__).resolve().parents[2]
APP = "examples.api.app:app"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, serve_app: Callable[..., AppServer]
        ) -> AppServer:
    database = tmp_path_factory.mktemp("api-db") / "api.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env.update({
        "HERON_SECRET_KEY": secrets.token_urlsafe(32),
        "HERON_DEBUG": "0",
        "HERON_ALLOWED_HOSTS": "127.0.0.1",
        "HERON_DATABASE_URL": f"sqlite:///{database}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    })
    heron = Path(sys.executable).with_name("heron")
    migrate = subprocess.run([str(heron), "db", "migrate", "--app", APP], cwd=database.parent,
                             env=env, capture_output=True, text=True, timeout=60, check=False)
    if migrate.returncode != 0:
        pytest.fail(f"`heron db migrate` failed:\n{migrate.stdout}{migrate.stderr}",
                    pytrace=False)
    return serve_app(APP, env)


def test_the_home_page_looks_finished_and_leads_to_the_docs(
        api: AppServer, page: Page, console: list[ConsoleMessage]) -> None:
    response = page.goto(api.url + "/")
    assert response is not None
    assert response.status == 200
    assert page.title() == "Tasks API"
    card = page.locator("main")
    # the inline style applies: the page is a white card on a grey background
    assert card.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") \
        == "rgb(245, 247, 250)"
    with page.expect_navigation():
        page.get_by_role("link", name="Read the API's documentation").click()
    assert page.url == api.url + "/docs"
    page.get_by_text("Tasks API").first.wait_for()
    assert [m.text for m in console if "Content Security Policy" in m.text] == []
