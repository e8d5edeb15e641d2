"""API mode (``Router(api=True)``, ``App(api=True)``): every error of heron's and the
view's is problem JSON whatever the client accepts, bad input included; pages outside
stay HTML; ``request.api_mode`` says which applies; error handlers still win."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from heron import App, Request, Router, abort
from heron.testing import TestClient

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
PROBLEM = "application/problem+json"
AppFactory = Callable[..., App]


class NoteIn(BaseModel):
    text: str


def api_router(**options: Any) -> Router:
    api = Router("/api", name="api", api=True, **options)

    @api.get("/notes/{id:int}")
    async def note(id: int) -> dict[str, int]:
        if id > 9:
            abort(404, f"There is no note {id}.")
        return {"id": id}

    @api.post("/notes", status_code=201)
    async def add_note(note: NoteIn) -> dict[str, str]:
        return {"text": note.text}

    @api.get("/forbidden")
    async def forbidden() -> None:
        abort(403)

    @api.get("/unauthorized")
    async def unauthorized() -> None:
        abort(401, "Log in first.", {"www-authenticate": 'Bearer realm="api"'})

    @api.get("/boom")
    async def boom() -> None:
        raise RuntimeError("the secret is hunter2")

    @api.get("/mode")
    async def mode(request: Request) -> dict[str, bool]:
        return {"api_mode": request.api_mode}

    return api


@pytest.fixture
def app(make_app: AppFactory) -> App:
    app = make_app(max_body_size=100)
    app.include(api_router())

    @app.get("/page")
    async def page() -> str:
        abort(404, "No such page.")

    @app.get("/mode")
    async def mode(request: Request) -> dict[str, bool]:
        return {"api_mode": request.api_mode}

    return app


@pytest.fixture
def client(app: App) -> Any:
    with TestClient(app) as client:
        yield client


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert (body["type"], body["status"]) == ("about:blank", status)
    return body


@pytest.mark.parametrize("accept", [BROWSER, {"accept": "*/*"}, {}])
def test_every_error_is_problem_json_whatever_the_client_accepts(
        client: TestClient, accept: dict[str, str]) -> None:
    assert problem(client.get("/api/notes/10", headers=accept), 404)["detail"] == \
        "There is no note 10."
    assert problem(client.get("/api/forbidden", headers=accept), 403)["title"] == "Forbidden"
    unauthorized = client.get("/api/unauthorized", headers=accept)
    assert problem(unauthorized, 401)["detail"] == "Log in first."
    assert unauthorized.headers["www-authenticate"] == 'Bearer realm="api"'
    # heron's own: no route, wrong method, a converter that does not match
    assert problem(client.get("/api/nothing/here", headers=accept), 404)["detail"] == \
        "Nothing is found at /api/nothing/here."
    assert problem(client.get("/api/notes/x", headers=accept), 404)
    wrong_method = client.delete("/api/notes/1", headers=accept)
    assert problem(wrong_method, 405)
    assert wrong_method.headers["allow"] == "GET, HEAD, OPTIONS"


def test_bad_input_is_a_clear_4xx_in_problem_json(client: TestClient) -> None:
    json_type = {**BROWSER, "content-type": "application/json"}
    assert problem(client.post("/api/notes", content=b"{not json", headers=json_type),
                   400)
    assert problem(client.post("/api/notes", content=b"<note/>",
                               headers={**BROWSER, "content-type": "application/xml"}), 415)
    assert problem(client.post("/api/notes", content=b'{"text": "' + b"x" * 200 + b'"}',
                               headers=json_type), 413)
    invalid = problem(client.post("/api/notes", json={"text": 3}, headers=BROWSER), 422)
    assert [e["field"] for e in invalid["errors"]] == ["text"]
    # A Host the site does not serve is refused before routing: still JSON here.
    assert problem(client.get("/api/notes/1", headers={**BROWSER, "host": "evil.example"}),
                   400)


def test_a_server_error_is_problem_json_with_a_reference_and_no_secret(
        client: TestClient) -> None:
    body = problem(client.get("/api/boom", headers=BROWSER), 500)
    assert body["detail"] == "The server could not answer this request."
    assert len(body["reference"]) == 12
    assert "hunter2" not in str(body)


def test_debug_errors_in_api_mode_are_json_with_the_traceback(make_app: AppFactory) -> None:
    app = make_app(debug=True)
    app.include(api_router())
    with TestClient(app) as client:
        body = problem(client.get("/api/boom", headers=BROWSER), 500)
    assert body["detail"] == "RuntimeError: the secret is hunter2"
    assert any("raise RuntimeError" in line for line in body["traceback"])


def test_pages_outside_the_api_stay_html(client: TestClient) -> None:
    page = client.get("/page", headers=BROWSER)
    assert (page.status_code, page.headers["content-type"]) == (404, "text/html; charset=utf-8")
    assert client.get("/apis", headers=BROWSER).headers["content-type"].startswith("text/html")
    # ...and JSON for JSON clients, as everywhere
    assert problem(client.get("/page", headers={"accept": "application/json"}), 404)


def test_request_api_mode(client: TestClient) -> None:
    assert client.get("/api/mode").json() == {"api_mode": True}
    assert client.get("/mode").json() == {"api_mode": False}


def test_a_router_included_in_an_api_router_is_in_api_mode(make_app: AppFactory) -> None:
    outer = Router("/v1", api=True)
    inner = Router("/users")

    @inner.get("/{id:int}")
    async def user(id: int) -> None:
        abort(404)

    outer.include(inner)
    app = make_app()
    app.include(outer)
    with TestClient(app) as client:
        assert problem(client.get("/v1/users/1", headers=BROWSER), 404)
        assert problem(client.get("/v1/users/x", headers=BROWSER), 404)


def test_an_api_router_without_prefix_answers_405_in_json(make_app: AppFactory) -> None:
    api = Router(api=True)

    @api.post("/webhook")
    async def webhook() -> dict[str, bool]:
        return {"ok": True}

    app = make_app()
    app.include(api)

    @app.get("/")
    async def home() -> str:
        return "home"

    with TestClient(app) as client:
        assert problem(client.get("/webhook", headers=BROWSER), 405)
        # a path of no route is not under that router: the app's HTML
        assert client.get("/nothing", headers=BROWSER).headers["content-type"].startswith(
            "text/html")


def test_the_whole_app_in_api_mode(make_app: AppFactory) -> None:
    app = make_app(api=True)

    @app.get("/items/{id:int}")
    async def item(id: int) -> None:
        abort(404)

    with TestClient(app) as client:
        assert problem(client.get("/items/1", headers=BROWSER), 404)
        assert problem(client.get("/", headers=BROWSER), 404)
        assert problem(client.post("/items/1", headers=BROWSER), 405)
        assert problem(client.get("/", headers={**BROWSER, "host": "evil.example"}), 400)
    assert app.router.api is True


def test_error_handlers_still_win(make_app: AppFactory) -> None:
    api = api_router()

    @api.on_error(404)
    async def not_found(request: Request, exc: Exception) -> tuple[dict[str, str], int]:
        return {"error": "not_found"}, 404

    app = make_app()
    app.include(api)
    with TestClient(app) as client:
        response = client.get("/api/notes/10", headers=BROWSER)
    assert (response.status_code, response.json()) == (404, {"error": "not_found"})


def test_api_is_an_argument_of_app_not_a_setting() -> None:
    from heron import ImproperlyConfigured, Settings

    with pytest.raises(ImproperlyConfigured, match=r"argument of App: App\(api=") as caught:
        Settings(api=True)
    assert caught.value.id == "heron.settings.E004"
