"""The API docs page in a real browser: a small typed app served by ``heron run``.

Chromium opens /docs, sees the operations grouped by tag, opens one and reads its
parameters and schemas, uses "Try it" on a GET with a query parameter and on a
POST with a JSON body (which needs the page's CSRF token, as the browser holds a
session cookie), and sees each JSON answer; the console records no error and no
Content-Security-Policy violation.
"""

from __future__ import annotations

import json
import os
import secrets
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from app_server import AppServer  # tests/app_server.py
    from playwright.sync_api import ConsoleMessage, Page

APP_SOURCE = '''
from __future__ import annotations

import enum
from typing import Annotated

from pydantic import BaseModel, Field

from heron import App, Router


class Kind(enum.Enum):
    bird = "bird"
    fish = "fish"


class Animal(BaseModel):
    """An animal of the zoo."""

    name: str = Field(min_length=1, description="What the keepers call it")
    kind: Kind = Kind.bird
    legs: int = Field(2, ge=0)


ANIMALS = [Animal(name="heron"), Animal(name="egret"), Animal(name="pike", kind=Kind.fish, legs=0)]

app = App()
zoo = Router("/zoo", name="zoo", tags=["animals"])


@zoo.get("/animals")
async def list_animals(kind: Kind | None = None,
                       limit: Annotated[int, Field(ge=1, le=50)] = 10) -> list[Animal]:
    """List the animals.

    Filter them by kind; at most `limit` of them.
    """
    found = [a for a in ANIMALS if kind is None or a.kind == kind]
    return found[:limit]


@zoo.post("/animals", status_code=201)
async def add_animal(animal: Animal) -> Animal:
    """Add an animal."""
    return animal


app.include(zoo)
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory,
         serve_app: Callable[..., AppServer]) -> AppServer:
    folder = tmp_path_factory.mktemp("docs-site")
    (folder / "zoo_api.py").write_text(textwrap.dedent(APP_SOURCE))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env.update({
        "HERON_SECRET_KEY": secrets.token_urlsafe(32),
        "HERON_DEBUG": "0",
        "HERON_ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    })
    return serve_app("zoo_api:app", env)


def problems(console: list[ConsoleMessage], errors: list[str]) -> list[str]:
    """Console errors, warnings and CSP reports, but for the one the test asks for:
    Chromium logs every 4xx answer to a fetch, the 422 of the invalid "Try it" too."""
    found = [f"{m.type}: {m.text} ({m.location.get('url')})" for m in console
             if (m.type in ("error", "warning") or "Content Security Policy" in m.text)
             and not ("status of 422" in m.text and "limit=500" in m.location.get("url", ""))]
    return found + [f"page error: {e}" for e in errors]


def test_docs_page_shows_the_api_and_tries_it(site: AppServer, page: Page,
                                              console: list[ConsoleMessage]) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))

    response = page.goto(site.url + "/docs")
    assert response is not None
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]

    # The operations, grouped under their router's tag.
    section = page.get_by_role("region", name="animals")
    operations = section.locator("details.hd-op > summary")
    expect(operations).to_have_count(2)  # drawn once the document is fetched
    assert operations.nth(0).inner_text().split()[:2] == ["GET", "/zoo/animals"]
    assert "List the animals." in operations.nth(0).inner_text()
    assert operations.nth(1).inner_text().split()[:2] == ["POST", "/zoo/animals"]

    # Keyboard: focus the GET operation's summary and open it with Enter.
    get = section.locator("details.hd-op").nth(0)
    get.locator("summary").focus()
    page.keyboard.press("Enter")
    assert get.get_attribute("open") is not None
    # The body is drawn on the "toggle" event, which the browser fires a moment later.
    expect(get.get_by_text("Filter them by kind")).to_be_visible()
    table = get.get_by_role("table", name="Parameters")
    assert table.get_by_role("row", name="limit").inner_text().split("\t")[:4] == [
        "limit", "query", "integer", "no"]
    assert "≥ 1 · ≤ 50 · default 10" in table.inner_text()
    expect(get.get_by_text("array of Animal").first).to_be_visible()
    expect(get.get_by_text("What the keepers call it").first).to_be_visible()

    # Try it: a GET with a query parameter, answered with JSON.
    get.get_by_label("kind").select_option("fish")
    get.get_by_label("limit").fill("5")
    get.get_by_role("button", name="Send request").click()
    result = get.locator(".hd-result")
    result.locator(".hd-body").wait_for()
    assert result.locator(".hd-status-code").inner_text() == "200 OK"
    assert "GET /zoo/animals?kind=fish&limit=5" in result.inner_text()
    assert json.loads(result.locator(".hd-body").inner_text()) == [
        {"name": "pike", "kind": "fish", "legs": 0}]
    assert "content-type: application/json" in result.locator(".hd-headers").inner_text()

    # A value the server refuses comes back as the documented 422 problem.
    get.get_by_label("limit").fill("500")
    get.get_by_role("button", name="Send request").click()
    result.get_by_text("422 Unprocessable Entity").wait_for()
    problem = json.loads(result.locator(".hd-body").inner_text())
    assert problem["errors"][0]["field"] == "limit"

    # Try it: a POST with a JSON body; the browser holds the session cookie the page
    # set, so the CSRF token from the page's <meta> must go with it.
    assert any(c["name"] == "heron_session" for c in page.context.cookies())
    post = section.locator("details.hd-op").nth(1)
    post.locator("summary").click()
    body = post.get_by_label("Body (application/json)")
    assert json.loads(body.input_value()) == {"name": "string", "kind": "bird", "legs": 2}
    body.fill('{"name": "kingfisher"}')
    post.get_by_role("button", name="Send request").click()
    post.locator(".hd-result .hd-body").wait_for()
    assert post.locator(".hd-result .hd-status-code").inner_text() == "201 Created"
    assert json.loads(post.locator(".hd-result .hd-body").inner_text()) == {
        "name": "kingfisher", "kind": "bird", "legs": 2}

    # Filtering hides what does not match.
    page.get_by_label("Filter operations").fill("post")
    expect(get).to_be_hidden()
    expect(post).to_be_visible()

    assert problems(console, errors) == []
    assert failed == []


def test_docs_page_with_a_broken_document_says_so(site: AppServer, page: Page,
                                                  console: list[ConsoleMessage]) -> None:
    # The document cannot be had: an error message, not a blank page.
    page.route("**/openapi.json", lambda route: route.fulfill(status=500, body="no"))
    page.goto(site.url + "/docs")
    alert = page.get_by_role("alert")
    assert "Could not load the API description" in alert.inner_text()

