"""The test clients' session, CSRF token and rendered templates (issue 18 item 10).
force_login is tested with heron.auth in tests/auth/test_client_login.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from heron import App, Request
from heron.testing import AsyncTestClient, ClientSession, TestClient, TestResponse


@pytest.fixture(params=["cookie", "cache"])
def app(make_app: Callable[..., App], tmp_path: Path, request: pytest.FixtureRequest) -> App:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "cart.html").write_text("{{ items|length }} items")
    app = make_app(root=tmp_path, session_backend=request.param)

    @app.get("/cart")
    def cart(request: Request) -> Any:
        from heron.templating import render

        return render(request, "cart.html", items=request.session.get("cart", []))

    @app.post("/cart")
    async def add(request: Request) -> dict[str, Any]:
        form = await request.form()
        request.session["cart"] = [*request.session.get("cart", []), form["item"]]
        return {"cart": request.session["cart"]}

    @app.get("/json")
    def data() -> dict[str, int]:
        return {"n": 1}

    return app


def test_session_reads_what_the_app_stored_and_writes_it_back(app: App) -> None:
    with TestClient(app) as client:
        assert client.session == {}
        token = client.csrf_token()
        assert client.post("/cart", data={"item": "tea", "csrf_token": token}).status_code == 200
        session = client.session
        assert isinstance(session, ClientSession)
        assert session["cart"] == ["tea"]
        session["cart"] = ["tea", "milk", "jam"]
        session.save()
        assert client.get("/cart").text == "3 items"
        assert client.session["cart"] == ["tea", "milk", "jam"]
        client.logout()
        assert client.session == {}
        assert client.get("/cart").text == "0 items"


def test_csrf_token_without_a_page_and_csrf_still_enforced(app: App) -> None:
    with TestClient(app) as client:
        assert client.post("/cart", data={"item": "tea"}).status_code == 403
        token = client.csrf_token()
        assert client.post("/cart", data={"item": "tea", "csrf_token": token}).status_code == 200
        assert client.post("/cart", data={"item": "x"},
                           headers={"x-csrf-token": client.csrf_token()}).status_code == 200
        forged = "A" * len(token)
        assert client.post("/cart", data={"item": "x", "csrf_token": forged}).status_code == 403
        # Another client's token is no good for this client's session.
        with TestClient(app) as other:
            theirs = other.csrf_token()
        assert client.post("/cart", data={"item": "x", "csrf_token": theirs}).status_code == 403


def test_response_tells_the_template_and_context(app: App) -> None:
    with TestClient(app) as client:
        page = client.get("/cart")
        assert isinstance(page, TestResponse)
        assert page.template == "cart.html"
        assert page.templates == ["cart.html"]
        assert page.context is not None
        assert page.context["items"] == []
        assert isinstance(page.context["request"], Request)
        answer = client.get("/json")
        assert (answer.template, answer.context, answer.templates) == (None, None, [])


async def test_async_client(app: App) -> None:
    async with AsyncTestClient(app) as client:
        token = await client.csrf_token()
        answer = await client.post("/cart", data={"item": "tea", "csrf_token": token})
        assert answer.status_code == 200
        session = await client.get_session()
        assert session["cart"] == ["tea"]
        session["cart"] = []
        with pytest.raises(RuntimeError, match="asave"):
            session.save()
        await session.asave()
        page = await client.get("/cart")
        assert page.text == "0 items"
        assert isinstance(page, TestResponse)
        assert page.template == "cart.html"
        await client.logout()
        assert await client.get_session() == {}


def test_a_stale_session_cookie_reads_as_empty(app: App) -> None:
    with TestClient(app) as client:
        client.cookies.set("heron_session", "not-a-session")
        assert client.session == {}
        assert client.get("/cart").status_code == 200


def test_session_needs_a_heron_app() -> None:
    async def raw(scope: Any, receive: Any, send: Any) -> None:
        pass

    with pytest.raises(RuntimeError, match="heron App"):
        TestClient(raw).session  # noqa: B018
