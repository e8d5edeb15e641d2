"""ServerTimingMiddleware: a Server-Timing header, on in debug only."""

from __future__ import annotations

import re

from heron import App
from heron.middleware import ServerTimingMiddleware
from heron.testing import TestClient


def build_app(**settings: object) -> App:
    app = App(**settings)  # type: ignore[arg-type]

    @app.get("/")
    async def index() -> str:
        return "hi"

    return app


def test_server_timing_is_sent_in_debug() -> None:
    with TestClient(build_app(debug=True)) as client:
        header = client.get("/").headers["server-timing"]
    assert re.fullmatch(r"app;dur=\d+\.\d{2}", header)


def test_server_timing_is_absent_in_production() -> None:
    with TestClient(build_app(secret_key="test")) as client:
        assert "server-timing" not in client.get("/").headers


def test_server_timing_can_be_added_explicitly() -> None:
    app = build_app(secret_key="test")
    app.add_middleware(ServerTimingMiddleware)
    with TestClient(app) as client:
        assert "server-timing" in client.get("/").headers


def test_server_timing_is_on_error_responses_too() -> None:
    with TestClient(build_app(debug=True)) as client:
        assert "server-timing" in client.get("/missing").headers
