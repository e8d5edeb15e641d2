"""CORSMiddleware: preflights, headers on actual requests, configuration errors.

Most tests go through an :class:`App` with the ``cors_*`` settings (the app puts the
middleware around itself); the last ones drive the middleware alone, at the ASGI level.
"""

from __future__ import annotations

from typing import Any

import pytest

from heron import App, HTTPException, ImproperlyConfigured, Request, Response, WebSocket
from heron.middleware import CORSMiddleware
from heron.testing import AsyncTestClient, TestClient
from heron.types import Message, Receive, Scope, Send

APP_ORIGIN = "https://app.example.com"
OTHER_ORIGIN = "https://evil.example"


def build_app(**settings: Any) -> App:
    settings.setdefault("cors_allow_origins", [APP_ORIGIN])
    # A cross-origin POST must also pass the CSRF origin check.
    settings.setdefault("csrf_trusted_origins", [APP_ORIGIN])
    app = App(debug=True, access_log=False, **settings)

    @app.get("/items")
    async def items() -> dict[str, Any]:
        return {"items": [1, 2]}

    @app.post("/items")
    async def create(request: Request) -> tuple[dict[str, Any], int]:
        return await request.json(), 201

    @app.get("/varies")
    async def varies() -> Response:
        return Response("x", headers={"vary": "Accept-Encoding", "x-total": "3"})

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("boom")

    @app.get("/gone")
    async def gone() -> None:
        raise HTTPException(410, "gone")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(build_app())


def preflight(client: TestClient, path: str = "/items", origin: str = APP_ORIGIN,
              method: str = "POST", headers: str | None = None) -> Any:
    sent = {"origin": origin, "access-control-request-method": method}
    if headers is not None:
        sent["access-control-request-headers"] = headers
    return client.options(path, headers=sent)


def cors_headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


# -- preflights ------------------------------------------------------------------


def test_allowed_preflight_is_answered_with_the_exact_origin(client: TestClient) -> None:
    response = preflight(client, headers="Content-Type, X-CSRF-Token")
    assert response.status_code == 204
    assert response.content == b""
    assert cors_headers(response) == {
        "access-control-allow-origin": APP_ORIGIN,
        "access-control-allow-methods": "GET, HEAD, POST, PUT, PATCH, DELETE",
        "access-control-allow-headers": ("accept, accept-language, content-language, "
                                         "content-type, authorization, x-csrf-token"),
        "access-control-max-age": "600",
    }
    assert response.headers["vary"] == "Origin"


def test_preflight_never_reaches_the_app() -> None:
    app = build_app()
    calls = []

    @app.before_request
    def record(request: Request) -> None:
        calls.append(request.path)

    with TestClient(app) as client:
        assert preflight(client, "/no/such/path").status_code == 204
    assert calls == []


@pytest.mark.parametrize(
    ("origin", "method", "headers", "reason"),
    [
        (OTHER_ORIGIN, "POST", None, "the origin https://evil.example is not allowed"),
        (APP_ORIGIN, "PROPFIND", None, "the method PROPFIND is not allowed"),
        (APP_ORIGIN, "POST", "content-type, X-Secret", "the header x-secret is not allowed"),
        (APP_ORIGIN, "POST", "x-a,x-b", "the headers x-a, x-b are not allowed"),
        ("http://app.example.com", "POST", None,  # another scheme is another origin
         "the origin http://app.example.com is not allowed"),
        (OTHER_ORIGIN, "TRACE", "x-a",
         "the origin https://evil.example is not allowed; the method TRACE is not allowed; "
         "the header x-a is not allowed"),
    ],
)
def test_refused_preflight_is_400_without_cors_headers(client: TestClient, origin: str,
                                                        method: str, headers: str | None,
                                                        reason: str) -> None:
    response = preflight(client, origin=origin, method=method, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == f"CORS preflight refused: {reason}."
    assert cors_headers(response) == {}
    assert "vary" not in response.headers


def test_requested_headers_are_matched_case_insensitively() -> None:
    client = TestClient(build_app(cors_allow_headers=["X-Request-ID"]))
    response = preflight(client, headers="x-request-id,CONTENT-TYPE")
    assert response.status_code == 204
    assert response.headers["access-control-allow-headers"] == (
        "x-request-id, accept, accept-language, content-language, content-type")


def test_wildcard_headers_and_methods_echo_the_request() -> None:
    client = TestClient(build_app(cors_allow_headers=["*"], cors_allow_methods=["*"],
                                  cors_allow_credentials=True))
    response = preflight(client, method="PROPFIND", headers="X-Anything, x-other")
    assert response.status_code == 204
    # With credentials a literal "*" is no wildcard for browsers: the request is echoed.
    assert response.headers["access-control-allow-methods"] == "PROPFIND"
    assert response.headers["access-control-allow-headers"] == "X-Anything, x-other"
    assert response.headers["access-control-allow-credentials"] == "true"


def test_max_age_is_configurable() -> None:
    response = preflight(TestClient(build_app(cors_max_age=86400)))
    assert response.headers["access-control-max-age"] == "86400"


def test_options_without_request_method_is_an_ordinary_request(client: TestClient) -> None:
    response = client.options("/items", headers={"origin": APP_ORIGIN})
    # heron answered (with its Allow header), and the middleware added the origin.
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert cors_headers(response) == {"access-control-allow-origin": APP_ORIGIN}


# -- actual requests ---------------------------------------------------------------


def test_allowed_origin_gets_the_exact_origin_and_vary(client: TestClient) -> None:
    response = client.get("/items", headers={"origin": APP_ORIGIN})
    assert response.status_code == 200
    assert response.json() == {"items": [1, 2]}
    assert cors_headers(response) == {"access-control-allow-origin": APP_ORIGIN}
    assert response.headers["vary"] == "Origin"


def test_post_from_an_allowed_origin(client: TestClient) -> None:
    response = client.post("/items", json={"name": "a"}, headers={"origin": APP_ORIGIN})
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN


def test_disallowed_origin_is_passed_through_untouched(client: TestClient) -> None:
    response = client.get("/items", headers={"origin": OTHER_ORIGIN})
    assert response.status_code == 200  # the browser, not the server, blocks the script
    assert cors_headers(response) == {}
    assert "vary" not in response.headers


def test_requests_without_origin_are_untouched(client: TestClient) -> None:
    plain = client.get("/items")
    assert cors_headers(plain) == {}
    assert "vary" not in plain.headers
    options = client.options("/items", headers={"access-control-request-method": "GET"})
    assert cors_headers(options) == {}


def test_credentials_and_exposed_headers() -> None:
    client = TestClient(build_app(cors_allow_credentials=True,
                                  cors_expose_headers=["X-Total", "ETag"]))
    response = client.get("/varies", headers={"origin": APP_ORIGIN})
    assert cors_headers(response) == {
        "access-control-allow-origin": APP_ORIGIN,
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "X-Total, ETag",
    }
    assert response.headers["vary"] == "Accept-Encoding, Origin"  # merged, not doubled
    allowed = preflight(client)
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "access-control-expose-headers" not in allowed.headers


@pytest.mark.parametrize(("path", "status"), [("/broken", 500), ("/gone", 410),
                                              ("/missing", 404)])
def test_error_responses_keep_the_cors_headers(path: str, status: int) -> None:
    app = build_app()
    app.settings.debug = False  # error pages as in production
    app.settings.secret_key = "test-secret-key"
    with TestClient(app) as client:
        response = client.get(path, headers={"origin": APP_ORIGIN, "accept": "application/json"})
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert response.headers["vary"] == "Origin"


def test_validation_error_keeps_the_cors_headers() -> None:
    app = build_app()

    @app.get("/pages")
    async def pages(page: int = 1) -> dict[str, int]:
        return {"page": page}

    response = TestClient(app).get("/pages?page=x", headers={"origin": APP_ORIGIN})
    assert response.status_code == 422
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN


def test_wildcard_origin_answers_star_without_vary() -> None:
    client = TestClient(build_app(cors_allow_origins=["*"], cors_expose_headers=["X-Total"]))
    response = client.get("/items", headers={"origin": "https://anyone.example"})
    assert cors_headers(response) == {"access-control-allow-origin": "*",
                                      "access-control-expose-headers": "X-Total"}
    assert "vary" not in response.headers
    allowed = preflight(client, origin="null")
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "*"
    assert "vary" not in allowed.headers
    assert "access-control-expose-headers" not in allowed.headers


def test_configured_origins_are_normalised() -> None:
    client = TestClient(build_app(cors_allow_origins=["HTTPS://App.Example.com:443",
                                                      "http://localhost:8080"]))
    assert preflight(client).status_code == 204
    assert preflight(client, origin="http://localhost:8080").status_code == 204
    assert preflight(client, origin="http://localhost").status_code == 400


def test_no_cors_settings_means_no_middleware() -> None:
    app = App(debug=True)

    @app.get("/")
    async def index() -> str:
        return "ok"

    response = TestClient(app).get("/", headers={"origin": APP_ORIGIN})
    assert cors_headers(response) == {}


def test_websockets_pass_through(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers={"origin": OTHER_ORIGIN}) as ws:
        assert ws.receive_text() == "hi"


# -- configuration errors ------------------------------------------------------------


def test_credentials_with_any_origin_is_refused_at_startup() -> None:
    app = build_app(cors_allow_origins=["*"], cors_allow_credentials=True)
    with pytest.raises(RuntimeError, match=r"heron could not start: .*\(heron\.cors\.E001\)"), \
            TestClient(app):
        pass
    with pytest.raises(ImproperlyConfigured) as error:
        CORSMiddleware(raw_app, allow_origins=["*"], allow_credentials=True)
    assert error.value.id == "heron.cors.E001"


@pytest.mark.parametrize("origin", ["app.example.com", "https://app.example.com/",
                                    "https://app.example.com/api", "https://*.example.com",
                                    "https://", "https://a.example:port", "null"])
def test_a_malformed_origin_is_refused(origin: str) -> None:
    with pytest.raises(ImproperlyConfigured) as error:
        CORSMiddleware(raw_app, allow_origins=[origin])
    assert error.value.id == "heron.cors.E002"
    assert repr(origin) in error.value.message


def test_one_string_is_one_origin() -> None:
    middleware = CORSMiddleware(raw_app, allow_origins="https://a.example")
    assert middleware.origins == {b"https://a.example"}


# -- the middleware alone, at the ASGI level ------------------------------------------


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers 200 with a header list the middleware must not change in place."""
    await send({"type": "http.response.start", "status": 200, "headers": RAW_HEADERS})
    await send({"type": "http.response.body", "body": b"raw"})


RAW_HEADERS = [(b"content-type", b"text/plain"), (b"access-control-allow-origin", b"*"),
               (b"vary", b"Accept-Language"), (b"vary", b"Cookie")]


async def call(middleware: CORSMiddleware, method: str, headers: list[tuple[bytes, bytes]],
               scope_type: str = "http") -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": scope_type, "method": method, "path": "/", "headers": headers}
    await middleware(scope, receive, send)
    return sent


async def test_asgi_actual_request_replaces_the_apps_cors_headers() -> None:
    middleware = CORSMiddleware(raw_app, allow_origins=[APP_ORIGIN], expose_headers=["X-A"])
    sent = await call(middleware, "GET", [(b"origin", APP_ORIGIN.encode())])
    assert sent[0]["headers"] == [
        (b"content-type", b"text/plain"), (b"vary", b"Accept-Language"),
        (b"vary", b"Cookie, Origin"),
        (b"access-control-allow-origin", APP_ORIGIN.encode()),
        (b"access-control-expose-headers", b"X-A"),
    ]
    assert sent[1]["body"] == b"raw"
    assert RAW_HEADERS[1] == (b"access-control-allow-origin", b"*")  # not changed in place
    assert len(RAW_HEADERS) == 4


async def test_asgi_vary_star_or_origin_is_kept() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"vary", b"origin, accept")]})
        await send({"type": "http.response.body", "body": b""})

    sent = await call(CORSMiddleware(app, allow_origins=[APP_ORIGIN]), "GET",
                      [(b"origin", APP_ORIGIN.encode())])
    assert [v for k, v in sent[0]["headers"] if k == b"vary"] == [b"origin, accept"]


async def test_asgi_untouched_requests_reach_the_app_as_they_are() -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await raw_app(scope, receive, send)

    middleware = CORSMiddleware(app, allow_origins=[APP_ORIGIN])
    for headers in ([], [(b"origin", OTHER_ORIGIN.encode())]):
        sent = await call(middleware, "GET", headers)
        assert sent[0]["headers"] is RAW_HEADERS  # the very message the app sent
    # Scopes the middleware does not handle pass through, even with an Origin.
    await call(middleware, "GET", [(b"origin", APP_ORIGIN.encode())], scope_type="websocket")
    assert seen[-1]["type"] == "websocket"


async def test_asgi_preflight_with_a_fixed_allow_list() -> None:
    middleware = CORSMiddleware(raw_app, allow_origins=[APP_ORIGIN], allow_methods=["get"],
                                allow_headers=["x-a"], max_age=None)
    sent = await call(middleware, "OPTIONS", [
        (b"origin", APP_ORIGIN.encode()), (b"access-control-request-method", b"GET"),
        (b"access-control-request-headers", b"X-A")])
    assert sent[0]["status"] == 204
    assert dict(sent[0]["headers"]) == {
        b"access-control-allow-origin": APP_ORIGIN.encode(), b"vary": b"Origin",
        b"access-control-allow-methods": b"GET",
        b"access-control-allow-headers":
            b"x-a, accept, accept-language, content-language, content-type",
        b"content-length": b"0",
    }
    assert sent[1] == {"type": "http.response.body", "body": b""}


async def test_asgi_through_an_async_client() -> None:
    app = build_app()
    async with AsyncTestClient(app) as client:
        response = await client.get("/items", headers={"origin": APP_ORIGIN})
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
