"""AccessLogMiddleware: one line per request on the heron.access logger."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from heron import App, abort
from heron.middleware import AccessLogMiddleware
from heron.testing import TestClient

LINE = re.compile(r'^127\.0\.0\.1 "(?P<method>[A-Z]+) (?P<path>\S+)" (?P<status>\d{3}) '
                  r"\d+\.\dms$")


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = App(secret_key="test")

    @app.get("/hello")
    async def hello() -> str:
        return "hi"

    @app.post("/missing")
    async def missing() -> None:
        abort(404)

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    with TestClient(app) as client:
        yield client


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "heron.access"]


def test_one_line_per_request_with_method_path_status_and_time(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="heron.access")
    client.get("/hello?token=secret")
    (line,) = access_lines(caplog)
    match = LINE.match(line)
    assert match is not None, line
    assert match.groupdict() == {"method": "GET", "path": "/hello", "status": "200"}


def test_query_string_is_left_out(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="heron.access")
    client.get("/hello?token=secret")
    assert "secret" not in access_lines(caplog)[0]


def test_error_statuses_are_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="heron.access")
    client.post("/missing")
    client.get("/crash")
    statuses = [LINE.match(line)["status"] for line in access_lines(caplog)]  # type: ignore[index]
    assert statuses == ["404", "500"]


def test_nothing_is_logged_when_the_logger_is_off(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="heron.access")
    client.get("/hello")
    assert access_lines(caplog) == []


def test_the_access_log_setting_turns_it_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="heron.access")
    app = App(secret_key="test", access_log=False)

    @app.get("/")
    async def index() -> str:
        return "hi"

    with TestClient(app) as client:
        client.get("/")
    assert access_lines(caplog) == []


async def test_a_request_abandoned_by_the_client_is_logged_as_499(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="heron.access")

    async def app_that_sees_a_disconnect(scope: object, receive: object, send: object) -> None:
        return None  # the client left before a response was started

    scope = {"type": "http", "method": "GET", "path": "/gone", "client": ("127.0.0.1", 1)}
    await AccessLogMiddleware(app_that_sees_a_disconnect)(scope, None, None)  # type: ignore[arg-type]
    (line,) = access_lines(caplog)
    assert line.startswith('127.0.0.1 "GET /gone" 499 ')


def test_a_custom_logger_can_be_given(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("myproject.access")
    caplog.set_level(logging.INFO, logger="myproject.access")
    app = App(secret_key="test", access_log=False)
    app.add_middleware(AccessLogMiddleware, logger=logger)

    @app.get("/")
    async def index() -> str:
        return "hi"

    with TestClient(app) as client:
        client.get("/")
    assert [r.name for r in caplog.records] == ["myproject.access"]
