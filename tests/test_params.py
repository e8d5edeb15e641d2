"""What a view's signature may ask for, checked once at startup."""

from __future__ import annotations

import functools
import threading
from typing import Any

import pytest

from heron import App, ImproperlyConfigured, Request, WebSocket
from heron.params import build_call, plan
from heron.testing import TestClient


def test_request_found_by_annotation_whatever_its_name(app: App) -> None:
    @app.get("/")
    async def view(req: Request) -> str:
        return req.method

    with TestClient(app) as client:
        assert client.get("/").text == "GET"


def test_request_found_by_name_without_annotation(app: App) -> None:
    @app.get("/")
    def view(request) -> str:  # type: ignore[no-untyped-def]
        return request.path

    with TestClient(app) as client:
        assert client.get("/").text == "/"


def test_websocket_found_by_annotation(app: App) -> None:
    @app.websocket("/ws/{n:int}")
    async def echo(sock: WebSocket, n: int) -> None:
        await sock.accept()
        await sock.send_json({"n": n})

    with TestClient(app) as client, client.websocket_connect("/ws/4") as ws:
        assert ws.receive_json() == {"n": 4}


def test_view_with_no_arguments(app: App) -> None:
    app.get("/")(lambda: "none")
    with TestClient(app) as client:
        assert client.get("/").text == "none"


def test_view_may_take_only_some_path_params(app: App) -> None:
    @app.get("/{a}/{b}")
    async def view(b: str, request: Request) -> dict[str, Any]:
        return {"b": b, "all": request.path_params}

    with TestClient(app) as client:
        assert client.get("/x/y").json() == {"b": "y", "all": {"a": "x", "b": "y"}}


def test_var_keyword_arguments_are_ignored(app: App) -> None:
    @app.get("/{a}")
    async def view(a: str, **extra: Any) -> dict[str, Any]:
        return {"a": a, "extra": extra}

    with TestClient(app) as client:
        assert client.get("/x").json() == {"a": "x", "extra": {}}


def test_partial_of_an_async_view(app: App) -> None:
    async def greet(greeting: str, name: str) -> str:
        return f"{greeting}, {name}"

    app.get("/{name}", name="greet")(functools.partial(greet, "hello"))
    with TestClient(app) as client:
        assert client.get("/ann").text == "hello, ann"


def test_callable_object_as_view(app: App) -> None:
    class Counter:
        def __init__(self) -> None:
            self.calls = 0

        async def __call__(self, request: Request) -> str:
            self.calls += 1
            return str(self.calls)

    app.add_route("/count", Counter(), name="count")
    with TestClient(app) as client:
        client.get("/count")
        assert client.get("/count").text == "2"


def test_plan_rejects_an_argument_heron_cannot_supply() -> None:
    def view(id: int, db: object) -> None:
        return None

    with pytest.raises(ImproperlyConfigured) as info:
        plan(view, {"id"}, "View view for /x/{id}")
    assert info.value.id == "heron.params.E001"
    assert "View view for /x/{id}" in str(info.value)
    assert "'db'" in str(info.value)
    assert "id" in info.value.message


def test_plan_lists_resolvers_in_signature_order() -> None:
    def view(request: Request, id: int, page: int = 1) -> None:
        return None

    assert plan(view, {"id"}, "v") == [("request", "connection"), ("id", "path"),
                                      ("page", "query")]


async def test_build_call_runs_sync_functions_in_the_pool() -> None:
    def view() -> str:
        return threading.current_thread().name

    call = build_call(view, set(), "v")
    assert (await call(object())).startswith("heron-sync")


def test_bound_methods_are_views() -> None:
    # A view may be a bound method (a feed's or a class-based helper's), sync or async.

    class Views:
        def __init__(self) -> None:
            self.greeting = "hi"

        async def hello(self, request: Request) -> str:
            return self.greeting

        def count(self, n: int = 1) -> str:
            return f"{self.greeting} x{n}"

    views = Views()
    app = App(debug=True)
    app.add_route("/hello", views.hello)
    app.add_route("/count", views.count)
    client = TestClient(app)
    assert client.get("/hello").text == "hi"
    assert client.get("/count?n=3").text == "hi x3"
    assert client.get("/count?n=x").status_code == 422
