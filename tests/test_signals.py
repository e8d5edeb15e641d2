"""heron.signals (issue 18 item 9): request started and finished, template_rendered,
and what an app that listens to nothing pays (nothing: no blinker, no middleware)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import pytest

from heron import App, Request, signals
from heron.signals import _RequestSignals
from heron.testing import TestClient


def _app(make_app: Callable[..., App]) -> App:
    app = make_app()

    @app.get("/")
    def index() -> str:
        return "hi"

    @app.get("/boom")
    def boom() -> str:
        raise ValueError("boom")

    return app


def test_request_signals_around_each_request(make_app: Callable[..., App]) -> None:
    heard: list[tuple[str, Any, str]] = []

    def started(sender: Any, *, scope: dict[str, Any]) -> None:
        heard.append(("started", sender, scope["path"]))

    def finished(sender: Any, *, scope: dict[str, Any]) -> None:
        heard.append(("finished", sender, scope["path"]))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        app = _app(make_app)
        with TestClient(app) as client:
            assert client.get("/").text == "hi"
            assert client.get("/boom").status_code == 500
            assert client.get("/nowhere").status_code == 404
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert heard == [("started", app, "/"), ("finished", app, "/"),
                     ("started", app, "/boom"), ("finished", app, "/boom"),
                     ("started", app, "/nowhere"), ("finished", app, "/nowhere")]


def test_without_receivers_the_request_path_is_unchanged(make_app: Callable[..., App]) -> None:
    from heron.app import App as CoreApp

    bare = CoreApp(secret_key="x")
    assert bare.setup() is bare  # no middleware at all: __call__ answers by itself
    assert not isinstance(_app(make_app).setup(), _RequestSignals)

    def started(sender: Any, **extra: Any) -> None:
        pass

    signals.request_started.connect(started)
    try:
        listened = CoreApp(secret_key="x")
        assert isinstance(listened.setup(), _RequestSignals)
    finally:
        signals.request_started.disconnect(started)


def test_an_app_that_never_listens_loads_no_blinker() -> None:
    script = textwrap.dedent("""
        import asyncio, json, sys
        from heron import App

        app = App(secret_key="x", access_log=False, allowed_hosts=["localhost"])

        @app.get("/")
        async def hello():
            return "hi"

        async def call():
            sent = []
            scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/",
                     "query_string": b"", "headers": [(b"host", b"localhost")],
                     "scheme": "http", "server": ("localhost", 80), "root_path": "",
                     "http_version": "1.1", "client": ("127.0.0.1", 1)}
            async def receive():
                return {"type": "http.request", "body": b"", "more_body": False}
            async def send(message):
                sent.append(message)
            await app(scope, receive, send)
            return sent[0]["status"]

        status = asyncio.run(call())
        print(json.dumps([status, "blinker" in sys.modules, "heron.signals" in sys.modules]))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, timeout=60)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [200, False, False]


def test_template_rendered_names_the_page_and_its_context(
        make_app: Callable[..., App], tmp_path: Any) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "hello.html").write_text("Hello {{ name }}")
    app = make_app(root=tmp_path)

    @app.get("/")
    def index(request: Request) -> Any:
        from heron.templating import render

        return render(request, "hello.html", name="Ada")

    heard: list[tuple[Any, str, dict[str, Any]]] = []

    def rendered(sender: Any, *, template: str, context: dict[str, Any]) -> None:
        heard.append((sender, template, context))

    signals.template_rendered.connect(rendered)
    try:
        with TestClient(app) as client:
            assert client.get("/").text == "Hello Ada"
    finally:
        signals.template_rendered.disconnect(rendered)
    [(sender, template, context)] = heard
    assert (sender, template, context["name"]) == (app, "hello.html", "Ada")
    assert isinstance(context["request"], Request)


def test_an_async_receiver_is_refused_loudly(make_app: Callable[..., App]) -> None:
    async def started(sender: Any, **extra: Any) -> None:
        pass

    signals.request_started.connect(started)
    try:
        with TestClient(_app(make_app)) as client, pytest.raises(RuntimeError):
            client.get("/")
    finally:
        signals.request_started.disconnect(started)
