"""The Request object: URL parts, headers, cookies, body helpers and their limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from heron import App, Request
from heron.app import App as CoreApp
from heron.testing import TestClient

JSON = {"accept": "application/json"}


def make_client(app: App) -> TestClient:
    return TestClient(app, headers=JSON)


@pytest.fixture
def app() -> App:
    app = App(debug=True, csrf=False, max_body_size=1000)

    @app.route("/info/{name}", methods=["GET", "POST"])
    async def info(request: Request, name: str) -> dict:
        return {
            "method": request.method,
            "url": str(request.url),
            "scheme": request.url.scheme,
            "host": request.url.netloc,
            "path": request.path,
            "path_params": request.path_params,
            "client": list(request.client) if request.client else None,
        }

    @app.get("/query")
    async def query(request: Request) -> dict:
        return {k: request.query_params.getlist(k) for k in request.query_params}

    @app.get("/headers")
    async def headers(request: Request) -> dict:
        return {
            "first": request.headers["X-Thing"],
            "all": request.headers.getlist("x-thing"),
            "missing": request.headers.get("x-missing"),
        }

    @app.get("/cookies")
    async def cookies(request: Request) -> dict:
        return request.cookies

    @app.post("/body")
    async def body(request: Request) -> dict:
        return {"size": len(await request.body()), "again": len(await request.body())}

    @app.post("/json")
    async def json_view(request: Request) -> dict:
        return {"got": await request.json()}

    @app.post("/stream")
    async def stream(request: Request) -> dict:
        sizes = [len(chunk) async for chunk in request.stream()]
        return {"total": sum(sizes)}

    @app.post("/ignore-body")
    async def ignore_body() -> str:
        return "fine"

    @app.get("/state")
    async def state(request: Request) -> dict:
        request.state.user = "ada"
        return {"user": request.state.user}

    return app


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with make_client(app) as client:
        yield client


def test_method_path_and_path_params(client: TestClient) -> None:
    data = client.post("/info/ada").json()
    assert data["method"] == "POST"
    assert data["path"] == "/info/ada"
    assert data["path_params"] == {"name": "ada"}


def test_url_has_scheme_host_and_query(client: TestClient) -> None:
    data = client.get("/info/x?a=1&b=2").json()
    assert data["url"] == "http://testserver/info/x?a=1&b=2"
    assert data["scheme"] == "http"
    assert data["host"] == "testserver"


def test_url_uses_the_host_header_and_port(app: App) -> None:
    with TestClient(app, base_url="https://example.org:8443") as client:
        data = client.get("/info/x").json()
    assert data["url"] == "https://example.org:8443/info/x"


def test_client_address(client: TestClient) -> None:
    assert client.get("/info/x").json()["client"] == ["127.0.0.1", 50000]


def test_percent_encoded_path_is_decoded(client: TestClient) -> None:
    data = client.get("/info/caf%C3%A9").json()
    assert data["path_params"] == {"name": "café"}


def test_x_forwarded_headers_are_ignored_without_trusted_proxies(client: TestClient) -> None:
    headers = {"x-forwarded-proto": "https", "x-forwarded-host": "evil.example",
               "x-forwarded-for": "6.6.6.6"}
    data = client.get("/info/x", headers=headers).json()
    assert data["scheme"] == "http"
    assert data["host"] == "testserver"
    assert data["client"] == ["127.0.0.1", 50000]


def test_x_forwarded_headers_are_honoured_from_a_trusted_proxy() -> None:
    app = App(debug=True, csrf=False, trusted_proxies=["127.0.0.1"], allowed_hosts=["*"])

    @app.get("/")
    async def index(request: Request) -> dict:
        return {"url": str(request.url), "client": request.client.host}

    headers = {"x-forwarded-proto": "https", "x-forwarded-host": "example.org",
               "x-forwarded-for": "203.0.113.9"}
    with make_client(app) as client:
        data = client.get("/", headers=headers).json()
    assert data == {"url": "https://example.org/", "client": "203.0.113.9"}


@pytest.mark.parametrize("host", ["evil.com/path?", "a b", "user@evil.com", "[::1", "x:port",
                                  "127.0.0.1:99999", "localhost:65536"])
def test_malformed_host_header_is_400(client: TestClient, host: str) -> None:
    response = client.get("/info/x", headers={"host": host})
    assert response.status_code == 400
    assert "Host" in response.json()["detail"]


@pytest.mark.parametrize("host", ["127.0.0.1:99999", "localhost:65536", "example.com:1234567"])
def test_a_port_out_of_range_is_400_without_the_host_check(host: str) -> None:
    # The core app has no allowed_hosts check: request.url refuses the port itself,
    # so url_for never builds a URL with it.
    app = CoreApp(debug=True)

    @app.get("/here")
    async def here(request: Request) -> str:
        return request.url_for("here")

    with TestClient(app) as client:
        assert client.get("/here", headers={"host": "localhost:65535"}).text == (
            "http://localhost:65535/here")
        response = client.get("/here", headers={"host": host, **JSON})
    assert response.status_code == 400
    assert response.json()["detail"] == "The Host header is malformed."


def test_query_params_multi_dict(client: TestClient) -> None:
    data = client.get("/query?a=1&a=2&b=&c=x+y&d=%26").json()
    assert data == {"a": ["1", "2"], "b": [""], "c": ["x y"], "d": ["&"]}


def test_query_params_first_value_wins_on_item_access() -> None:
    app = App(debug=True, csrf=False)

    @app.get("/")
    async def index(request: Request) -> str:
        return request.query_params["a"]

    with make_client(app) as client:
        assert client.get("/?a=1&a=2").text == "1"


@pytest.mark.parametrize(
    ("query", "message"),
    [("a=%zz", "percent-encoding"), ("a=%C3%28", "UTF-8"), ("a=%", "percent-encoding")],
)
def test_bad_query_string_is_400(client: TestClient, query: str, message: str) -> None:
    response = client.get(f"/query?{query}")
    assert response.status_code == 400
    assert message in response.json()["detail"]


@pytest.mark.parametrize("path", ["/info/%zz", "/info/%C3%28", "/info/abc%"])
def test_bad_percent_encoding_in_path_is_400(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response.json()["detail"] in (
        "Malformed percent-encoding in the URL path.",
        "The URL path is not valid UTF-8.",
    )


# -- NUL characters in text (PostgreSQL cannot store them) -------------------------


class Note(BaseModel):
    title: str


def nul_app(**settings: object) -> App:
    app = App(debug=True, csrf=False, **settings)

    @app.get("/raw/{name}")
    async def raw(request: Request, name: str) -> dict:
        return {"name": name, "q": request.query_params.get("q")}

    @app.get("/typed/{name}")
    async def typed(name: str, q: str = "") -> dict:
        return {"name": name, "q": q}

    @app.post("/json")
    async def json_view(request: Request) -> dict:
        return {"got": await request.json()}

    @app.post("/note")
    async def note(body: Note) -> dict:
        return {"title": body.title}

    return app


NUL_IN_QUERY = "The query string contains a NUL character (%00)."
NUL_IN_PATH = "The URL path contains a NUL character (%00)."
NUL_IN_JSON = "The JSON body contains a NUL character (\\u0000)."


@pytest.mark.parametrize(("method", "path", "body", "detail"), [
    ("GET", "/raw/x?q=%00", None, NUL_IN_QUERY),
    ("GET", "/typed/x?q=a%00", None, NUL_IN_QUERY),
    ("GET", "/raw/a%00b", None, NUL_IN_PATH),
    ("GET", "/typed/a%00b", None, NUL_IN_PATH),
    ("POST", "/json", b'{"a": ["\\u0000"]}', NUL_IN_JSON),
    ("POST", "/note", b'{"title": "\\u0000"}', NUL_IN_JSON),
    ("POST", "/note", b'{"title": "\x00"}', None),  # a raw NUL: JSON that is malformed
])
def test_nul_in_text_input_is_400(method: str, path: str, body: bytes | None,
                                  detail: str | None) -> None:
    headers = {**JSON, "content-type": "application/json"}
    with TestClient(nul_app(), headers=headers) as client:
        response = client.request(method, path, content=body)
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == detail or (
        detail is None and response.json()["detail"].startswith("Malformed JSON body"))


def test_nul_in_text_is_accepted_when_the_app_allows_it() -> None:
    headers = {**JSON, "content-type": "application/json"}
    with TestClient(nul_app(allow_nul_in_text=True), headers=headers) as client:
        assert client.get("/raw/x?q=a%00").json() == {"name": "x", "q": "a\x00"}
        assert client.get("/typed/x?q=a%00").json() == {"name": "x", "q": "a\x00"}
        assert client.post("/json", content=b'["\\u0000"]').json() == {"got": ["\x00"]}
        assert client.post("/note", content=b'{"title": "\\u0000"}').json() == {
            "title": "\x00"}
        # The path is always checked: no route needs a NUL, and files and databases refuse it.
        assert client.get("/raw/a%00b").status_code == 400


def test_an_escaped_backslash_before_u0000_is_not_a_nul() -> None:
    with TestClient(nul_app(), headers=JSON) as client:
        response = client.post("/json", content=b'["\\\\u0000"]',
                               headers={"content-type": "application/json"})
    assert response.json() == {"got": ["\\u0000"]}


def test_headers_are_case_insensitive_and_multi_valued(client: TestClient) -> None:
    response = client.get("/headers", headers=[("X-Thing", "a"), ("x-thing", "b")])
    assert response.json() == {"first": "a", "all": ["a", "b"], "missing": None}


def test_cookies_are_parsed(client: TestClient) -> None:
    response = client.get("/cookies", headers={"cookie": 'a=1; b="quoted"; c=x=y'})
    assert response.json() == {"a": "1", "b": "quoted", "c": "x=y"}


def test_one_malformed_cookie_does_not_hide_the_others(client: TestClient) -> None:
    response = client.get("/cookies", headers={"cookie": "good=1; bad\x7f{=]; ;also=2"})
    data = response.json()
    assert data["good"] == "1"
    assert data["also"] == "2"


def test_no_cookie_header_gives_empty_cookies(client: TestClient) -> None:
    assert client.get("/cookies").json() == {}


def test_body_is_read_once_and_cached(client: TestClient) -> None:
    assert client.post("/body", content=b"x" * 100).json() == {"size": 100, "again": 100}


def test_stream_yields_the_body_in_chunks(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"a" * 300
        yield b"b" * 300

    assert client.post("/stream", content=chunks()).json() == {"total": 600}


def test_request_state_is_per_request(client: TestClient) -> None:
    assert client.get("/state").json() == {"user": "ada"}


def test_json_body(client: TestClient) -> None:
    response = client.post("/json", json={"a": [1, 2]})
    assert response.json() == {"got": {"a": [1, 2]}}


def test_json_with_a_plus_json_media_type(client: TestClient) -> None:
    response = client.post("/json", content=b"[1]",
                           headers={"content-type": "application/vnd.api+json"})
    assert response.json() == {"got": [1]}


@pytest.mark.parametrize("body", [b"{", b"{'a': 1}", b"", b"\xff\xfe"])
def test_malformed_json_is_400_with_a_clear_message(client: TestClient, body: bytes) -> None:
    response = client.post("/json", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed JSON body")


def test_json_with_the_wrong_content_type_is_415(client: TestClient) -> None:
    response = client.post("/json", content=b"{}", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_json_without_a_content_type_is_415(client: TestClient) -> None:
    response = client.post("/json", content=b"{}")
    assert response.status_code == 415


def test_body_over_max_body_size_by_content_length_is_413(client: TestClient) -> None:
    response = client.post("/body", content=b"x" * 1001)
    assert response.status_code == 413
    assert response.json()["detail"] == "Request body is larger than 1000 bytes."


def test_body_at_max_body_size_is_accepted(client: TestClient) -> None:
    assert client.post("/body", content=b"x" * 1000).json()["size"] == 1000


def test_streamed_body_without_content_length_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"x" * 300

    response = client.post("/stream", content=chunks())
    assert response.status_code == 413
    assert response.json()["detail"] == "Request body is larger than 1000 bytes."


def test_lying_content_length_cannot_smuggle_a_bigger_body(app: App) -> None:
    # The server checks Content-Length; the stream itself is counted too.
    def chunks() -> Iterator[bytes]:
        yield b"x" * 600
        yield b"x" * 600

    with make_client(app) as client:
        response = client.post("/body", content=chunks(), headers={"content-length": "10"})
    assert response.status_code == 413


def test_a_view_that_ignores_the_body_is_not_limited(client: TestClient) -> None:
    # Limits apply when the body is read: a view that never reads it answers normally.
    response = client.post("/ignore-body", content=b"x" * 5000)
    assert response.status_code == 200
    assert response.text == "fine"


def test_sync_view_receives_the_request() -> None:
    app = App(debug=True, csrf=False)

    @app.get("/sync/{n:int}")
    def sync_view(request: Request, n: int) -> dict:
        return {"n": n, "q": request.query_params.get("q")}

    with make_client(app) as client:
        assert client.get("/sync/3?q=x").json() == {"n": 3, "q": "x"}


def test_too_many_query_fields_is_rejected() -> None:
    app = App(debug=True, csrf=False, max_form_fields=3)

    @app.get("/")
    async def index(request: Request) -> dict:
        return dict(request.query_params)

    with make_client(app) as client:
        assert client.get("/?a=1&b=2&c=3").status_code == 200
        response = client.get("/?a=1&b=2&c=3&d=4")
    assert response.status_code == 413
    assert "limit is 3" in response.json()["detail"]


def test_url_for_on_request_builds_an_absolute_url() -> None:
    app = App(debug=True, csrf=False)

    @app.get("/items/{id:int}", name="item")
    async def item(request: Request, id: int) -> str:
        return request.url_for("item", id=id + 1)

    with TestClient(app) as client:
        assert client.get("/items/1").text == "http://testserver/items/2"


def test_def_views_read_the_body_with_the_sync_twins() -> None:
    # Issue 23: a def view had to write run_async(request.form()).
    from heron import App
    from heron.testing import TestClient

    app = App(debug=True, csrf=False)

    @app.post("/form")
    def form_view(request: Request) -> dict[str, object]:
        first = request.form_sync()
        assert request.form_sync() is first  # read once, then cached
        return {"name": first["name"], "body": len(request.body_sync())}

    @app.post("/json")
    def json_view(request: Request) -> object:
        return request.json_sync()

    with TestClient(app) as client:
        answer = client.post("/form", data={"name": "ann"})
        assert answer.json() == {"name": "ann", "body": len(b"name=ann")}
        assert client.post("/json", json={"a": 1}).json() == {"a": 1}
        assert client.post("/json", content=b"x", headers={
            "content-type": "text/plain"}).status_code == 415


def test_the_sync_twins_refuse_the_event_loop() -> None:
    import asyncio

    async def on_the_loop() -> None:
        request = Request({"type": "http", "method": "POST", "path": "/", "headers": [],
                           "query_string": b""})
        with pytest.raises(RuntimeError, match="await the coroutine"):
            request.form_sync()

    asyncio.run(on_the_loop())
