"""An app's own error shapes, declared once with ``on_error(..., model=...)``, and the
OpenAPI document that follows them; ``raises=[...]`` (issue 18 item 4).  The last test
serves tests/api/error_shapes_app.py with ``heron run`` and runs schemathesis with every
check against its own document."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app_server import AppServer
from error_shapes_app import app as shapes_app
from pydantic import BaseModel

from heron import App, HTTPException, RequestValidationError, Router, abort
from heron.exceptions import ImproperlyConfigured
from heron.openapi import openapi_schema
from heron.testing import TestClient

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = Path(sys.executable).parent
SECRET = "error-shapes-" + "x" * 40
JSON = {"accept": "application/json"}


def test_errors_answer_in_the_declared_shapes() -> None:
    client = TestClient(shapes_app)
    missing = client.get("/items/999")
    assert (missing.status_code, missing.json()) == (404, {"error": "No such item.",
                                                          "status": 404})
    assert missing.headers["content-type"] == "application/json"
    invalid = client.get("/items?limit=0")
    assert invalid.status_code == 422
    assert invalid.json() == {"errors": {"limit": [
        "Input should be greater than or equal to 1"]}}
    refused = client.post("/admin/items", json={"name": "x", "unitPrice": 1},
                          headers={"x-api-key": "wrong"})
    assert refused.status_code == 401
    assert refused.json() == {"error": "A valid X-API-Key header is required.", "status": 401}
    assert refused.headers["www-authenticate"] == 'ApiKey realm="admin"'  # kept
    bad_json = client.post("/admin/items", content=b"{", headers={
        "x-api-key": "sesame", "content-type": "application/json"})
    assert bad_json.status_code == 400
    assert bad_json.json()["status"] == 400
    body = client.post("/admin/items", json={"name": "", "unitPrice": -1},
                       headers={"x-api-key": "sesame"})
    assert body.json() == {"errors": {
        "name": ["String should have at least 1 character"],
        "unitPrice": ["Input should be greater than or equal to 0"]}}
    created = client.post("/admin/items", json={"name": "egret", "unitPrice": 3},
                          headers={"x-api-key": "sesame"})
    assert created.status_code == 201
    assert created.json()["unitPrice"] == 3


def _responses(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    responses: dict[str, Any] = document["paths"][path][method]["responses"]
    return responses


def test_the_document_follows_the_declared_shapes() -> None:
    document = TestClient(shapes_app).get("/openapi.json").json()
    ref = "#/components/schemas/"
    lookup = _responses(document, "/items/{item_id}", "get")
    assert sorted(lookup) == ["200", "404"]  # {item_id:int} is an int already: no 422
    assert lookup["404"]["content"] == {"application/json": {"schema": {
        "$ref": ref + "ShapeError"}}}
    listing = _responses(document, "/items", "get")
    assert sorted(listing) == ["200", "400", "422"]  # 400: a query string with a NUL
    assert listing["400"]["description"] == "Malformed query string"
    assert listing["422"]["content"] == {"application/json": {"schema": {
        "$ref": ref + "ShapeFieldErrors"}}}
    create = _responses(document, "/admin/items", "post")
    assert sorted(create) == ["201", "400", "401", "415", "422"]
    assert create["401"]["content"]["application/json"]["schema"] == {"$ref": ref + "ShapeError"}
    assert create["400"]["content"]["application/json"]["schema"] == {"$ref": ref + "ShapeError"}
    remove = _responses(document, "/admin/items/{item_id}", "delete")
    assert sorted(remove) == ["204", "401", "404", "422"]
    schemas = document["components"]["schemas"]
    assert "Problem" not in schemas
    assert "ValidationProblem" not in schemas
    assert set(schemas["ShapeItemOut"]["properties"]) == {"id", "name", "unitPrice"}
    # The router dependency's header is a parameter of each admin operation.
    parameters = document["paths"]["/admin/items"]["post"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [
        ("x-api-key", "header", True)]


class InnerShape(BaseModel):
    message: str


def test_inner_routers_win_and_undeclared_handlers_promise_no_body() -> None:
    app = App(debug=True, secret_key=SECRET)
    inner = Router("/inner")

    @inner.on_error(404, model=InnerShape)
    def inner_missing(request: Any, exc: HTTPException) -> tuple[dict[str, str], int]:
        return {"message": "not here"}, 404

    @app.on_error(409)
    def conflict(request: Any, exc: HTTPException) -> tuple[str, int]:
        return "conflict", 409

    @inner.get("/thing", raises=[404])
    async def thing() -> dict[str, str]:
        abort(404)

    @app.get("/outer", raises=[404, 409])
    async def outer() -> dict[str, str]:
        abort(409)

    app.include(inner)
    client = TestClient(app)
    assert client.get("/inner/thing").json() == {"message": "not here"}
    assert client.get("/outer").text == "conflict"
    document = openapi_schema(app)
    assert _responses(document, "/inner/thing", "get")["404"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/InnerShape"}}}
    outer_responses = _responses(document, "/outer", "get")
    assert outer_responses["409"] == {"description": "Conflict"}  # its own handler, no shape
    assert "application/problem+json" in outer_responses["404"]["content"]  # heron's own


def test_a_handler_answer_that_does_not_fit_its_shape_is_a_500() -> None:
    app = App(secret_key=SECRET)

    @app.on_error(RequestValidationError, model=InnerShape)
    def wrong(request: Any, exc: RequestValidationError) -> dict[str, int]:
        return {"count": len(exc.errors)}

    @app.get("/n")
    async def n(value: int) -> dict[str, int]:
        return {"value": value}

    answer = TestClient(app).get("/n?value=x", headers=JSON)
    assert answer.status_code == 500
    assert "count" not in answer.text


def test_bad_raises_and_bad_error_models_are_configuration_errors() -> None:
    app = App(debug=True, secret_key=SECRET)

    @app.get("/a", raises=["404"])
    async def a() -> str:
        return "a"

    @app.get("/b", raises=404)
    async def b() -> str:
        return "b"

    problems = app.check()
    assert [p.id for p in problems if p.id.startswith("heron.openapi")] == [
        "heron.openapi.E001", "heron.openapi.E001"]
    assert "raises=[404, 409]" in str(problems[0])
    with pytest.raises(RuntimeError, match=r"heron\.openapi\.E001"), TestClient(app):
        pass  # startup fails

    class Opaque:
        pass

    with pytest.raises(ImproperlyConfigured) as raised:
        app.on_error(404, model=Opaque)(lambda request, exc: None)
    assert raised.value.id == "heron.params.E007"


@pytest.fixture(scope="module")
def shapes_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    if not (BIN / "schemathesis").exists():
        message = "schemathesis is not installed: pip install -e '.[testsuite]'"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(message + " (CI=true: failing instead of skipping)", pytrace=False)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("error_shapes")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env.update(HERON_SECRET_KEY=SECRET, HERON_ALLOWED_HOSTS="127.0.0.1",
               PYTHONPATH=os.pathsep.join(
                   filter(None, [str(HERE), str(ROOT), env.get("PYTHONPATH")])))
    server = AppServer("error_shapes_app:app", cwd=folder, env=env,
                       ready_path="/health").start()
    try:
        yield server
    finally:
        server.stop()


def test_schemathesis_with_every_check_passes_against_the_apps_own_document(
        shapes_server: AppServer) -> None:
    command = [str(BIN / "schemathesis"), "run", f"{shapes_server.url}/openapi.json",
               "--checks", "all", "--max-examples", "30", "--seed", "20261208",
               "--request-timeout", "10", "--no-color"]
    run = subprocess.run(command, cwd=shapes_server.cwd, capture_output=True, text=True,
                         timeout=150, check=False, env={**os.environ, "NO_COLOR": "1"})
    report = f"{run.stdout}\n{run.stderr}\n--- server output ---\n{shapes_server.output()}"
    assert run.returncode == 0, report
    assert "No issues found" in run.stdout, report
    assert re.search(r"Operations:\s+5 selected / 5 total", run.stdout), report
    assert "Traceback" not in shapes_server.output(), report
