"""Dependencies of the app, routers and routes; reusable ``Annotated`` dependencies;
``app.dependency_overrides`` (issue 18 item 5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import pytest
from pydantic import Field

from heron import App, Depends, Header, Router, abort
from heron.exceptions import ImproperlyConfigured
from heron.testing import TestClient

SECRET = "dependencies-" + "x" * 40


def api_key(x_api_key: Annotated[str, Header()]) -> str:
    if x_api_key != "sesame":
        abort(401, "A valid X-API-Key header is required.")
    return x_api_key


def get_db() -> Iterator[str]:
    yield "real-db"


def current_user(db: Annotated[str, Depends(get_db)],
                 x_user: Annotated[str, Header()] = "anonymous") -> dict[str, str]:
    return {"name": x_user, "db": db}


CurrentUser = Annotated[dict, Depends(current_user)]
Db = Annotated[str, Depends(get_db)]


def make_app(events: list[str]) -> App:
    def audit(limit: Annotated[int, Field(ge=1, le=50)] = 10) -> None:
        events.append(f"audit {limit}")

    def app_wide() -> None:
        events.append("app")

    app = App(debug=True, secret_key=SECRET, dependencies=[Depends(app_wide)])
    admin = Router("/admin", name="admin", dependencies=[Depends(api_key)])
    inner = Router("/reports", name="reports", dependencies=[Depends(audit)])

    @admin.get("/me")
    async def me(user: CurrentUser, db: Db) -> dict[str, object]:
        return {"user": user, "db": db}

    @inner.get("/")
    def reports(limit: int = 10) -> dict[str, int]:
        return {"limit": limit}

    @app.get("/open", dependencies=[Depends(audit)])
    async def open_view() -> str:
        return "open"

    @app.get("/plain")
    async def plain() -> str:
        return "plain"

    admin.include(inner)
    app.include(admin)
    return app


def test_router_and_app_dependencies_run_for_every_route() -> None:
    events: list[str] = []
    client = TestClient(make_app(events))
    assert client.get("/plain").text == "plain"
    assert events == ["app"]
    answer = client.get("/admin/me", headers={"x-api-key": "sesame", "x-user": "ann"})
    assert answer.json() == {"user": {"name": "ann", "db": "real-db"}, "db": "real-db"}
    events.clear()
    # An included router's dependencies run after its parents', in order.
    assert client.get("/admin/reports/?limit=5", headers={"x-api-key": "sesame"}).json() == {
        "limit": 5}
    assert events == ["app", "audit 5"]
    events.clear()
    assert client.get("/open?limit=3").text == "open"
    assert events == ["app", "audit 3"]


def test_a_router_dependency_refuses_and_validates_before_the_view() -> None:
    events: list[str] = []
    client = TestClient(make_app(events))
    refused = client.get("/admin/me", headers={"accept": "application/json"})
    assert refused.status_code == 422  # the header is required: the value is checked first
    assert refused.json()["errors"][0]["field"] == "x-api-key"
    wrong = client.get("/admin/me", headers={"x-api-key": "nope", "accept": "application/json"})
    assert wrong.status_code == 401
    assert events == ["app"]  # the app's dependency ran, then the router's refused
    invalid = client.get("/admin/reports/?limit=500", headers={"x-api-key": "sesame"})
    assert invalid.status_code == 422
    assert [e["field"] for e in invalid.json()["errors"]] == ["limit"]
    assert events == ["app"]  # nothing ran for an invalid request


def test_dependency_overrides_replace_a_dependency_everywhere_it_is_used() -> None:
    events: list[str] = []
    app = make_app(events)
    client = TestClient(app)
    calls: list[str] = []

    def fake_db() -> str:
        calls.append("fake")
        return "fake-db"

    def any_key() -> str:  # an override takes its own parameters: no header needed
        return "test"

    app.dependency_overrides[get_db] = fake_db
    app.dependency_overrides[api_key] = any_key
    answer = client.get("/admin/me", headers={"x-user": "bob"})
    assert answer.json() == {"user": {"name": "bob", "db": "fake-db"}, "db": "fake-db"}
    assert calls == ["fake"]  # once per request, like the dependency it replaces
    app.dependency_overrides.clear()
    assert client.get("/admin/me", headers={"x-api-key": "sesame"}).json()["db"] == "real-db"
    assert client.get("/admin/me").status_code == 422


def test_a_generator_override_is_torn_down() -> None:
    app = make_app([])
    client = TestClient(app)
    steps: list[str] = []

    def scoped_user() -> Iterator[dict[str, str]]:
        steps.append("open")
        yield {"name": "scoped", "db": "none"}
        steps.append("close")

    app.dependency_overrides[current_user] = scoped_user
    answer = client.get("/admin/me", headers={"x-api-key": "sesame"})
    assert answer.json()["user"]["name"] == "scoped"
    assert steps == ["open", "close"]


def test_an_override_with_a_bad_value_is_a_422_for_its_own_parameters() -> None:
    app = make_app([])
    client = TestClient(app)

    def paged_user(page: Annotated[int, Field(ge=1)] = 1) -> dict[str, str]:
        return {"name": f"page {page}", "db": "none"}

    app.dependency_overrides[current_user] = paged_user
    headers = {"x-api-key": "sesame"}
    assert client.get("/admin/me?page=2", headers=headers).json()["user"]["name"] == "page 2"
    bad = client.get("/admin/me?page=0", headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "page"


def test_dependencies_must_be_depends() -> None:
    app = App(debug=True, secret_key=SECRET)
    router = Router("/r", dependencies=[api_key])

    @router.get("/x")
    async def x() -> str:
        return "x"

    app.include(router)

    with pytest.raises(ImproperlyConfigured) as raised:
        app.routes()
    assert raised.value.id == "heron.params.E006"
    assert "dependencies=[Depends(func)]" in str(raised.value)
