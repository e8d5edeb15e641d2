"""Which apps serve ``/openapi.json`` and ``/docs``: by default those with a typed API
route (API mode, a JSON body, a response model) or debug on; ``openapi_enabled`` turns
them on or off whatever the routes; heron.openapi.W001 agrees with what is served."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from heron import App, ImproperlyConfigured, Router
from heron.testing import TestClient

DOC_ROUTES = {"heron_openapi", "heron_docs", "heron_docs_asset"}


class Pet(BaseModel):
    name: str


def html_site(**settings: Any) -> App:
    settings.setdefault("secret_key", "test-secret-key")
    settings.setdefault("allowed_hosts", ["testserver"])
    settings.setdefault("access_log", False)
    app = App(**settings)

    @app.get("/")
    async def home() -> str:
        return "<h1>Home</h1>"

    @app.get("/search")
    async def search(q: str = "") -> str:
        return f"<p>{q}</p>"

    return app


def served(app: App) -> tuple[int, int]:
    with TestClient(app) as client:
        return client.get("/openapi.json").status_code, client.get("/docs").status_code


def w001(app: App) -> bool:
    return "heron.openapi.W001" in [p.id for p in app.check(deploy=True)]


def test_a_site_of_pages_does_not_publish_its_routes() -> None:
    app = html_site()
    assert served(app) == (404, 404)
    assert not DOC_ROUTES & {route.name for route in app.routes()}
    assert not w001(app)


def test_debug_serves_them_for_any_app() -> None:
    assert served(html_site(debug=True)) == (200, 200)


def test_a_json_body_serves_them() -> None:
    app = html_site()

    @app.post("/pets", status_code=201)
    async def add_pet(pet: Pet) -> dict[str, str]:
        return {"name": pet.name}

    assert served(app) == (200, 200)
    assert not w001(app)


def test_a_response_model_serves_them() -> None:
    app = html_site()

    @app.get("/pets")
    async def pets() -> list[Pet]:
        return [Pet(name="Rex")]

    assert served(app) == (200, 200)


def test_an_api_mode_router_serves_them_without_types() -> None:
    app = html_site()
    api = Router("/api", api=True)

    @api.get("/ping")
    async def ping():  # type: ignore[no-untyped-def]
        return {"pong": True}

    app.include(api)
    assert served(app) == (200, 200)
    assert not w001(app)


def test_a_typed_route_left_out_of_the_schema_does_not_count() -> None:
    app = html_site()

    @app.post("/hook", include_in_schema=False)
    async def hook(pet: Pet) -> None:
        return None

    assert served(app) == (404, 404)


def test_openapi_enabled_true_serves_them_and_w001_warns() -> None:
    app = html_site(openapi_enabled=True)
    assert served(app) == (200, 200)
    problems = [p for p in app.check(deploy=True) if p.id == "heron.openapi.W001"]
    assert len(problems) == 1
    assert "openapi_enabled is on" in problems[0].message
    assert "/openapi.json and the docs page /docs" in problems[0].message


def test_openapi_enabled_false_never_serves_them() -> None:
    app = html_site(debug=True, openapi_enabled=False)

    @app.post("/pets")
    async def add_pet(pet: Pet) -> Pet:
        return pet

    assert served(app) == (404, 404)
    assert not w001(app)


def test_openapi_url_none_still_serves_neither() -> None:
    assert served(html_site(openapi_enabled=True, openapi_url=None)) == (404, 404)


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_OPENAPI_ENABLED", "1")
    assert served(html_site()) == (200, 200)
    monkeypatch.setenv("HERON_OPENAPI_ENABLED", "")  # empty: the default, decided by the app
    assert html_site().settings.openapi_enabled is None


def test_a_bad_value_is_a_clear_startup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_OPENAPI_ENABLED", "perhaps")
    with pytest.raises(ImproperlyConfigured) as caught:
        html_site()
    assert caught.value.id == "heron.settings.E002"
    assert "openapi_enabled" in str(caught.value)


def test_a_view_heron_cannot_compile_is_reported_as_usual() -> None:
    app = html_site()

    @app.get("/broken")
    async def broken(thing):  # type: ignore[no-untyped-def]
        return "never"

    assert [p.id for p in app.check()] == ["heron.params.E001"]
