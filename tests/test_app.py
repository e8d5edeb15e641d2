"""The App end to end: lifespan, dispatch, return values, errors and the debug page."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import threading
from typing import Any

import httpx
import pydantic
import pytest

from heron import (
    App,
    HTTPException,
    JSONResponse,
    PlainTextResponse,
    Request,
    Router,
    WebSocket,
    WebSocketDisconnect,
    abort,
    run_async,
)
from heron.converters import PathConverter
from heron.testing import AsyncTestClient, TestClient

JSON = {"accept": "application/json"}
HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}

# -- lifespan -----------------------------------------------------------------


def test_startup_and_shutdown_hooks_sync_and_async(app: App) -> None:
    events: list[str] = []

    @app.on_startup
    def sync_start() -> None:
        events.append("sync start")

    @app.on_startup
    async def async_start() -> None:
        events.append("async start")

    @app.on_shutdown
    async def stop() -> None:
        events.append("stop")

    with TestClient(app):
        assert events == ["sync start", "async start"]
    assert events == ["sync start", "async start", "stop"]


def test_startup_hook_error_stops_startup(app: App) -> None:
    @app.on_startup
    async def broken() -> None:
        raise ConnectionError("database is down")

    with pytest.raises(RuntimeError, match="ConnectionError: database is down"), TestClient(app):
        pass


def test_later_startup_hooks_do_not_run_after_a_failure(app: App) -> None:
    ran: list[str] = []
    app.on_startup(lambda: 1 / 0)
    app.on_startup(lambda: ran.append("second"))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"), TestClient(app):
        pass
    assert ran == []


def test_shutdown_hook_failure_is_reported_and_others_still_run(app: App) -> None:
    ran: list[str] = []

    @app.on_shutdown
    def broken() -> None:
        raise OSError("flush failed")

    app.on_shutdown(lambda: ran.append("second"))
    with pytest.raises(RuntimeError, match="flush failed"), TestClient(app):
        pass
    assert ran == ["second"]


def test_missing_secret_key_fails_startup_with_e001(make_app: Any) -> None:
    app = make_app(secret_key=None)
    app.get("/")(lambda: "x")
    with pytest.raises(RuntimeError) as info, TestClient(app):
        pass
    message = str(info.value)
    assert "heron.settings.E001" in message
    assert "HERON_SECRET_KEY" in message


def test_missing_secret_key_is_fine_in_debug(make_app: Any) -> None:
    app = make_app(secret_key=None, debug=True)
    app.get("/")(lambda: "x")
    with TestClient(app) as client:
        assert client.get("/").text == "x"


async def test_app_without_lifespan_sets_up_on_first_request(app: App) -> None:
    app.get("/")(lambda: "lazy")
    transport = httpx.ASGITransport(app=app)  # sends no lifespan events
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/")).text == "lazy"
    assert app.setup() is app.setup()


async def test_app_without_lifespan_answers_500_on_bad_configuration(make_app: Any) -> None:
    app = make_app(secret_key=None)
    app.get("/")(lambda: "x")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/")).status_code == 500


async def test_async_client_runs_lifespan(app: App) -> None:
    started: list[bool] = []
    app.on_startup(lambda: started.append(True))
    app.get("/")(lambda: "async")
    async with AsyncTestClient(app) as client:
        assert started == [True]
        assert (await client.get("/")).text == "async"


# -- sync and async views ---------------------------------------------------------


def test_sync_views_run_in_the_heron_thread_pool(app: App) -> None:
    @app.get("/sync")
    def sync_view() -> str:
        return threading.current_thread().name

    with TestClient(app) as client:
        assert client.get("/sync").text.startswith("heron-sync")


def test_async_views_run_on_the_loop_thread(app: App) -> None:
    @app.get("/async")
    async def async_view() -> str:
        return threading.current_thread().name

    with TestClient(app) as client:
        name = client.get("/async").text
    assert not name.startswith("heron-sync")
    assert name == "heron-testclient"  # the thread running the client's event loop


def test_sync_view_reaches_the_loop_with_run_async(app: App) -> None:
    async def fetch() -> str:
        return threading.current_thread().name

    @app.get("/bridge")
    def bridge() -> dict[str, str]:
        return {"view": threading.current_thread().name, "coroutine": run_async(fetch())}

    with TestClient(app) as client:
        data = client.get("/bridge").json()
    assert data["view"].startswith("heron-sync")
    assert data["coroutine"] == "heron-testclient"


def test_run_async_outside_the_pool_explains_itself() -> None:
    async def nothing() -> None:
        return None

    with pytest.raises(RuntimeError, match="thread pool"):
        run_async(nothing())


def test_sync_hooks_run_in_the_thread_pool(app: App) -> None:
    names: list[str] = []
    app.before_request(lambda request: names.append(threading.current_thread().name))
    app.get("/")(lambda: "x")
    with TestClient(app) as client:
        client.get("/")
    assert names[0].startswith("heron-sync")


# -- return values ---------------------------------------------------------------


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Item(pydantic.BaseModel):
    name: str
    price: float


@pytest.mark.parametrize(
    ("value", "content_type", "body"),
    [
        ("<b>hi</b>", "text/html; charset=utf-8", b"<b>hi</b>"),
        ({"a": 1}, "application/json", b'{"a":1}'),
        ([1, 2], "application/json", b"[1,2]"),
        (Point(1, 2), "application/json", b'{"x":1,"y":2}'),
        (Item(name="pen", price=1.5), "application/json", b'{"name":"pen","price":1.5}'),
        (b"\x00\x01", "application/octet-stream", b"\x00\x01"),
    ],
    ids=["str", "dict", "list", "dataclass", "pydantic", "bytes"],
)
def test_return_values_are_coerced(app: App, value: Any, content_type: str, body: bytes) -> None:
    app.get("/")(lambda: value)
    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == body


def test_none_gives_204_without_body(app: App) -> None:
    app.post("/")(lambda: None)
    with TestClient(app) as client:
        response = client.post("/")
    assert response.status_code == 204
    assert response.content == b""


def test_body_and_status_tuple(app: App) -> None:
    app.post("/")(lambda: ({"created": True}, 201))
    with TestClient(app) as client:
        response = client.post("/")
    assert response.status_code == 201
    assert response.json() == {"created": True}


def test_body_status_headers_tuple(app: App) -> None:
    app.get("/")(lambda: ("moved on", 202, {"x-extra": "yes"}))
    with TestClient(app) as client:
        response = client.get("/")
    assert (response.status_code, response.text, response.headers["x-extra"]) == (
        202, "moved on", "yes",
    )


def test_response_objects_pass_through(app: App) -> None:
    app.get("/")(lambda: PlainTextResponse("plain", status_code=418))
    with TestClient(app) as client:
        response = client.get("/")
    assert (response.status_code, response.text) == (418, "plain")


def test_unsupported_return_type_is_a_500_with_a_clear_log(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    app.get("/")(lambda: {1, 2, 3})
    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 500
    assert "cannot turn" not in response.text
    assert "A view returned set, which heron cannot turn into a response" in caplog.text


# -- 404, 405, HEAD, OPTIONS, slashes ------------------------------------------------


def test_unknown_path_is_404(app: App) -> None:
    with TestClient(app) as client:
        response = client.get("/nowhere", headers=JSON)
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_wrong_method_is_405_with_allow(app: App) -> None:
    app.route("/items", methods=["GET", "POST"])(lambda: "x")
    with TestClient(app) as client:
        response = client.delete("/items")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_head_answers_like_get_without_a_body(app: App) -> None:
    app.get("/page")(lambda: "hello world")
    with TestClient(app) as client:
        get, head = client.get("/page"), client.head("/page")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] == "11"
    assert head.headers["content-type"] == get.headers["content-type"]


def test_options_is_answered_with_allow(app: App) -> None:
    app.route("/items/{id:int}", methods=["GET", "PUT"])(lambda id: "x")
    with TestClient(app) as client:
        response = client.options("/items/1")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, PUT"


def test_explicit_options_route_wins(app: App) -> None:
    app.route("/cors", methods=["OPTIONS"])(lambda: ("preflight", 200))
    with TestClient(app) as client:
        assert client.options("/cors").text == "preflight"


def test_options_on_unknown_path_is_404(app: App) -> None:
    with TestClient(app) as client:
        assert client.options("/nothing").status_code == 404


def test_trailing_slash_redirect_get_is_301_and_keeps_query(app: App) -> None:
    app.get("/about")(lambda: "about")
    with TestClient(app) as client:
        response = client.get("/about/?lang=en&x=1")
    assert response.status_code == 301
    assert response.headers["location"] == "/about?lang=en&x=1"


def test_missing_slash_redirect_post_is_308(app: App) -> None:
    app.post("/submit/")(lambda: "ok")
    with TestClient(app) as client:
        response = client.post("/submit")
        assert response.status_code == 308
        assert response.headers["location"] == "/submit/"
        followed = client.post("/submit", follow_redirects=True)
    assert followed.text == "ok"


def test_slash_redirect_keeps_non_ascii_paths_encoded(app: App) -> None:
    app.get("/café")(lambda: "coffee")
    with TestClient(app) as client:
        response = client.get("/caf%C3%A9/")
    assert response.status_code == 301
    assert response.headers["location"] == "/caf%C3%A9"


def test_slash_redirect_can_be_turned_off(make_app: Any) -> None:
    app = make_app(redirect_slashes=False)
    app.get("/about")(lambda: "about")
    with TestClient(app) as client:
        assert client.get("/about/").status_code == 404


def test_too_many_headers_is_431(make_app: Any) -> None:
    app = make_app(max_header_count=5)
    app.get("/")(lambda: "x")
    headers = {f"x-h{i}": "v" for i in range(10)}
    with TestClient(app) as client:
        assert client.get("/").status_code == 200
        assert client.get("/", headers=headers).status_code == 431


@pytest.mark.parametrize("path", ["/files/%zz", "/files/%", "/files/%ff%fe"])
def test_bad_percent_encoding_in_path_is_400(app: App, path: str) -> None:
    app.get("/files/{name}")(lambda name: name)
    with TestClient(app) as client:
        response = client.get(path)
    assert response.status_code == 400


# -- HTTP errors and handlers ------------------------------------------------------


def test_abort_with_status_detail_and_headers(app: App) -> None:
    @app.get("/limited")
    async def limited() -> None:
        abort(429, "Slow down.", headers={"retry-after": "30"})

    with TestClient(app) as client:
        response = client.get("/limited", headers=JSON)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert response.json()["detail"] == "Slow down."


def test_http_exception_with_unusual_status(app: App) -> None:
    @app.get("/")
    async def view() -> None:
        raise HTTPException(499)

    with TestClient(app) as client:
        assert client.get("/").status_code == 499


def test_json_clients_get_problem_details(app: App) -> None:
    with TestClient(app) as client:
        response = client.get("/missing", headers=JSON)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Nothing is found at /missing.",
    }


def test_json_body_senders_get_problem_details(app: App) -> None:
    with TestClient(app) as client:
        response = client.post("/missing", json={"a": 1})
    assert response.headers["content-type"] == "application/problem+json"


def test_browsers_get_an_html_error_page(app: App) -> None:
    with TestClient(app) as client:
        response = client.get("/missing<script>", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>404 Not Found</h1>" in response.text
    assert "<script>" not in response.text


def test_error_handler_by_status_on_app(app: App) -> None:
    @app.on_error(404)
    async def not_found(request: Request, exc: HTTPException) -> tuple[str, int]:
        return f"no {request.path} here", 404

    with TestClient(app) as client:
        response = client.get("/x")
    assert (response.status_code, response.text) == (404, "no /x here")


def test_error_handler_by_exception_class_uses_the_mro(app: App) -> None:
    class PaymentError(Exception):
        pass

    class CardDeclined(PaymentError):
        pass

    @app.on_error(PaymentError)
    def payment(request: Request, exc: PaymentError) -> Any:
        return JSONResponse({"error": type(exc).__name__}, 402)

    @app.get("/pay")
    async def pay() -> None:
        raise CardDeclined

    with TestClient(app) as client:
        response = client.get("/pay")
    assert (response.status_code, response.json()) == (402, {"error": "CardDeclined"})


def test_error_handler_for_500_catches_unhandled_exceptions(app: App) -> None:
    @app.on_error(500)
    async def server_error(request: Request, exc: Exception) -> tuple[str, int]:
        return "our fault", 500

    @app.get("/boom")
    async def boom() -> None:
        raise KeyError("x")

    with TestClient(app) as client:
        assert client.get("/boom").text == "our fault"


def test_innermost_router_handler_wins(app: App) -> None:
    api = Router(prefix="/api")
    app.on_error(ValueError)(lambda request, exc: ("app", 400))
    api.on_error(ValueError)(lambda request, exc: ("api", 400))

    def fail() -> None:
        raise ValueError("bad")

    api.get("/fail", name="api_fail")(fail)
    app.get("/fail", name="app_fail")(fail)
    app.include(api)
    with TestClient(app) as client:
        assert client.get("/api/fail").text == "api"
        assert client.get("/fail").text == "app"


def test_router_404_handler_applies_under_its_prefix(app: App) -> None:
    api = Router(prefix="/api")
    api.on_error(404)(lambda request, exc: ({"error": "no such endpoint"}, 404))
    api.get("/ok")(lambda: "ok")
    app.include(api)
    with TestClient(app) as client:
        assert client.get("/api/nope").json() == {"error": "no such endpoint"}
        assert client.get("/apinope").headers["content-type"].startswith("text/html")
        assert client.get("/elsewhere").headers["content-type"].startswith("text/html")


def test_router_405_handler_applies_under_its_prefix(app: App) -> None:
    api = Router(prefix="/api")
    api.on_error(405)(lambda request, exc: ("api says no", 405, exc.headers))
    api.get("/ok")(lambda: "ok")
    app.include(api)
    with TestClient(app) as client:
        response = client.post("/api/ok")
    assert (response.status_code, response.text) == (405, "api says no")
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_failing_error_handler_gives_a_plain_500(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    @app.on_error(404)
    async def broken(request: Request, exc: Exception) -> None:
        raise RuntimeError("handler bug with secret detail")

    with TestClient(app) as client:
        response = client.get("/missing", headers=JSON)
    assert response.status_code == 500
    assert "secret detail" not in response.text
    assert "handler bug with secret detail" in caplog.text


def test_http_exception_from_a_before_hook(app: App) -> None:
    @app.before_request
    async def deny(request: Request) -> None:
        abort(403)

    app.get("/")(lambda: "x")
    with TestClient(app) as client:
        assert client.get("/").status_code == 403


# -- production 500 versus the debug page ----------------------------------------------


def _boom_app(app: App) -> App:
    @app.get("/boom")
    def boom(request: Request) -> None:
        api_password = "hunter2-local"
        raise ValueError(f"exploded near {api_password}")

    return app


def test_production_500_hides_everything_but_a_reference(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(_boom_app(app)) as client:
        response = client.get("/boom", headers=HTML)
    assert response.status_code == 500
    text = response.text
    for leak in ("Traceback", "ValueError", "exploded", "hunter2", "boom"):
        assert leak not in text
    reference = re.search(r"Reference: ([0-9a-f]{12})", text)
    assert reference is not None
    assert f"[ref {reference.group(1)}]" in caplog.text
    assert "exploded near hunter2-local" in caplog.text


def test_production_500_for_json_clients_carries_the_reference(app: App) -> None:
    with TestClient(_boom_app(app)) as client:
        data = client.get("/boom", headers=JSON).json()
    assert data["status"] == 500
    assert re.fullmatch(r"[0-9a-f]{12}", data["reference"])
    assert "exploded" not in str(data)


def test_debug_page_shows_traceback_source_and_locals(make_app: Any) -> None:
    app = _boom_app(make_app(debug=True))
    with TestClient(app) as client:
        response = client.get("/boom?q=1", headers=HTML)
    assert response.status_code == 500
    text = response.text
    assert "ValueError at /boom" in text
    assert "exploded near hunter2-local" in text
    assert "raise ValueError(f&quot;exploded near {api_password}&quot;)" in text
    assert "<th>api_password</th>" in text
    assert "test_app.py" in text


def test_debug_page_masks_credentials(make_app: Any) -> None:
    app = _boom_app(make_app(debug=True))
    with TestClient(app) as client:
        response = client.get(
            "/boom",
            headers={"authorization": "Bearer tok-SECRET-123", "x-api-key": "key-SECRET-456",
                     "cookie": "session=cookie-SECRET-789", **HTML},
        )
    text = response.text
    assert "<th>authorization</th><td>********</td>" in text
    assert "<th>cookie</th><td>********</td>" in text
    for secret in ("tok-SECRET-123", "key-SECRET-456", "cookie-SECRET-789", "test-secret-key"):
        assert secret not in text


def test_debug_page_is_logged_too(make_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    app = _boom_app(make_app(debug=True))
    with caplog.at_level(logging.ERROR, "heron.error"), TestClient(app) as client:
        client.get("/boom")
    assert "Unhandled ValueError on GET /boom" in caplog.text


# -- settings through the app --------------------------------------------------------


def test_app_keyword_overrides_settings(app: App, make_app: Any) -> None:
    assert make_app(debug=True, thread_pool_size=3).settings.thread_pool_size == 3
    assert app.settings.debug is False


def test_app_state_and_extensions_are_free_storage(app: App) -> None:
    app.state.db = "connection"
    app.extensions["mail"] = object()
    assert app.state.db == "connection"
    assert "mail" in app.extensions


def test_request_app_is_the_app(app: App) -> None:
    @app.get("/")
    async def view(request: Request) -> str:
        return "same" if request.app is app else "other"

    with TestClient(app) as client:
        assert client.get("/").text == "same"


def test_slash_redirect_keeps_encoded_percent_and_question_marks(app: App) -> None:
    app.get("/50%off/why?")(lambda: "sale")
    with TestClient(app) as client:
        response = client.get("/50%25off/why%3F/?x=1")
        assert response.headers["location"] == "/50%25off/why%3F?x=1"
        assert client.get(response.headers["location"]).text == "sale"


async def test_slash_redirect_never_points_to_another_host(app: App) -> None:
    class NoTrailingSlash(PathConverter):
        regex = r".*[^/]"

    app.add_converter("any", NoTrailingSlash)
    app.get("/{rest:any}")(lambda rest: rest)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "//evil.example/", "raw_path":
             b"//evil.example/", "root_path": "", "query_string": b"", "headers": [],
             "scheme": "http", "server": ("testserver", 80), "client": ("127.0.0.1", 1)}
    await app(scope, receive, send)
    assert sent[0]["status"] == 404


def test_nested_router_without_prefix_handles_404_under_its_parent(app: App) -> None:
    api = Router(prefix="/api")
    v1 = Router(name="v1")
    v1.on_error(404)(lambda request, exc: ("v1 has no such endpoint", 404))
    v1.get("/x")(lambda: "x")
    api.include(v1)
    app.include(api)
    with TestClient(app) as client:
        assert client.get("/api/nope").text == "v1 has no such endpoint"


async def test_thread_pool_size_bounds_the_sync_workers(make_app: Any) -> None:
    app = make_app(thread_pool_size=1)
    app.get("/")(lambda: threading.current_thread().name)
    async with AsyncTestClient(app) as client:
        responses = await asyncio.gather(*(client.get("/") for _ in range(8)))
    assert len({r.text for r in responses}) == 1


def test_debug_mode_keeps_plain_pages_for_http_errors(make_app: Any) -> None:
    app = make_app(debug=True)
    with TestClient(app) as client:
        response = client.get("/missing", headers=HTML)
    assert response.status_code == 404
    assert "Traceback" not in response.text


def test_debug_page_shows_the_request(make_app: Any) -> None:
    app = _boom_app(make_app(debug=True))
    with TestClient(app) as client:
        text = client.get("/boom?page=2", headers={"x-trace": "abc", **HTML}).text
    assert "http://testserver/boom?page=2" in text
    assert "<th>x-trace</th><td>abc</td>" in text


# -- fixes found by review ----------------------------------------------------


def test_debug_error_for_json_client_is_problem_json_with_traceback(make_app: Any) -> None:
    app = make_app(debug=True)

    @app.get("/boom")
    async def boom() -> None:
        raise KeyError("missing")

    with TestClient(app) as client:
        response = client.get("/boom", headers={"accept": "application/json"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["detail"] == "KeyError: 'missing'"
    assert any("raise KeyError" in line for line in body["traceback"])


def test_none_with_status_sends_an_empty_body_with_length(app: App) -> None:
    @app.post("/things")
    async def create() -> tuple[None, int]:
        return None, 201

    with TestClient(app) as client:
        response = client.post("/things")
    assert response.status_code == 201
    assert response.headers["content-length"] == "0"
    assert response.content == b""


def test_a_500_handler_still_logs_the_error(app: App, caplog: pytest.LogCaptureFixture) -> None:
    @app.on_error(500)
    async def oops(request: Request, exc: Exception) -> tuple[str, int]:
        return "sorry", 500

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("database on fire")

    with caplog.at_level(logging.ERROR, logger="heron.error"), TestClient(app) as client:
        response = client.get("/boom")
    assert (response.status_code, response.text) == (500, "sorry")
    records = [r for r in caplog.records if r.name == "heron.error"]
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert "RuntimeError" in records[0].getMessage()


def test_a_class_handler_is_deliberate_and_not_logged(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    @app.on_error(ValueError)
    async def bad_value(request: Request, exc: Exception) -> tuple[str, int]:
        return "bad value", 400

    @app.get("/parse")
    async def parse() -> None:
        raise ValueError("nope")

    with caplog.at_level(logging.ERROR, logger="heron.error"), TestClient(app) as client:
        assert client.get("/parse").status_code == 400
    assert not [r for r in caplog.records if r.name == "heron.error"]


def test_mounted_heron_app_gets_startup_and_shutdown(app: App, make_app: Any) -> None:
    child = make_app()
    events: list[str] = []
    child.on_startup(lambda: events.append("child up"))
    child.on_shutdown(lambda: events.append("child down"))

    @child.get("/")
    async def index() -> str:
        return "child"

    app.mount("/child", child)
    with TestClient(app) as client:
        assert events == ["child up"]
        assert client.get("/child/").text == "child"
    assert events == ["child up", "child down"]


def test_websocket_view_reading_bad_query_is_closed_1008_quietly(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(dict(websocket.query_params))

    with (
        caplog.at_level(logging.ERROR),
        TestClient(app) as client,
        client.websocket_connect("/ws?a=%ff") as session,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        session.receive_text()
    assert closed.value.code == 1008
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_middleware_that_rebuilds_the_scope_still_reaches_the_view(app: App) -> None:
    class FreshScope:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            fresh = {k: v for k, v in scope.items() if k != "app"}
            await self.inner(fresh, receive, send)

    app.add_middleware(FreshScope)

    @app.get("/")
    async def index() -> str:
        return "reached"

    with TestClient(app) as client:
        assert client.get("/").text == "reached"
