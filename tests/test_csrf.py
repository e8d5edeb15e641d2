"""CSRF protection end to end: tokens, the Origin/Referer checks, exemptions and errors."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest
from pydantic import BaseModel

from heron import (
    App,
    HTMLResponse,
    ImproperlyConfigured,
    Request,
    Router,
    csrf_exempt,
    render,
)
from heron.csrf import get_token, rotate_token
from heron.testing import TestClient, extract_csrf_token

JSON = {"accept": "application/json"}
GENERIC = "The request was refused by the CSRF check."
UNSAFE = ["POST", "PUT", "PATCH", "DELETE"]
COOKIE_DOMAIN = "testserver.local"  # where httpx files the test server's cookies


@dataclasses.dataclass
class Site:
    app: App
    calls: list[str]


def build_site(make_app: Any, **settings: Any) -> Site:
    """An app with a form page, a token endpoint and a view that writes the session."""
    app = make_app(**settings)
    calls: list[str] = []
    templates = app.root / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "form.html").write_text(
        '<form method="post">{{ csrf_input() }}<button>Go</button></form>'
    )

    @app.route("/form")
    def form(request: Request) -> HTMLResponse:
        return render(request, "form.html")

    @app.route("/token")
    def token(request: Request) -> str:
        return get_token(request)

    @app.route("/session")
    def session(request: Request) -> dict[str, Any]:
        return {k: v for k, v in request.session.items() if k != "_csrf"}

    @app.route("/submit", methods=["GET", *UNSAFE])
    async def submit(request: Request) -> str:
        calls.append(request.method)
        request.session["submitted"] = request.method
        return "done"

    @app.route("/options", methods=["OPTIONS"])
    def options() -> str:
        calls.append("OPTIONS")
        return "options"

    return Site(app, calls)


@pytest.fixture
def site(make_app: Any) -> Site:
    return build_site(make_app)


@pytest.fixture
def debug_site(make_app: Any) -> Site:
    return build_site(make_app, debug=True)


def start(app: App, **kwargs: Any) -> tuple[TestClient, str]:
    """A client with a session, and a valid token for it."""
    client = TestClient(app, **kwargs)
    response = client.get("/token")
    assert response.status_code == 200
    assert "heron_session" in client.cookies
    return client, response.text


def anonymous(site: Site) -> TestClient:
    """A fresh client without cookies (the view writes the session, so one per request)."""
    return TestClient(site.app)


# -- missing and wrong tokens -------------------------------------------------


def test_post_without_token_is_refused_before_the_view_runs(site: Site) -> None:
    client, _ = start(site.app)
    response = client.post("/submit", data={"name": "x"})
    assert response.status_code == 403
    assert site.calls == []
    assert "set-cookie" not in response.headers  # the session was not written
    assert client.get("/session").json() == {}


def test_failed_check_runs_no_before_request_hook(site: Site) -> None:
    ran: list[str] = []
    site.app.before_request(lambda request: ran.append(request.path))
    client, _ = start(site.app)
    ran.clear()
    assert client.post("/submit", data={}).status_code == 403
    assert ran == []
    assert site.calls == []


@pytest.mark.parametrize("method", UNSAFE)
def test_every_unsafe_method_is_checked(site: Site, method: str) -> None:
    client, token = start(site.app)
    refused = client.request(method, "/submit", content=b"a=1",
                             headers={"content-type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 403
    assert site.calls == []
    accepted = client.request(method, "/submit", headers={"x-csrf-token": token})
    assert accepted.status_code == 200
    assert site.calls == [method]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_safe_methods_are_never_checked(site: Site, method: str) -> None:
    client, _ = start(site.app)
    response = client.request(method, "/submit", headers={"origin": "http://evil.example"})
    assert response.status_code == 200
    assert site.calls == [method]


def test_options_is_never_checked(site: Site) -> None:
    client, _ = start(site.app)
    response = client.options("/options", headers={"origin": "http://evil.example"})
    assert response.status_code == 200
    assert site.calls == ["OPTIONS"]
    # OPTIONS on a route without it answers the allowed methods, unchecked.
    assert client.options("/submit").status_code == 204


def test_token_from_another_session_is_refused(site: Site) -> None:
    alice, alice_token = start(site.app)
    mallory, _ = start(site.app)
    response = mallory.post("/submit", data={"csrf_token": alice_token})
    assert response.status_code == 403
    response = mallory.post("/submit", headers={"x-csrf-token": alice_token})
    assert response.status_code == 403
    assert site.calls == []
    assert alice.post("/submit", data={"csrf_token": alice_token}).status_code == 200


def test_token_for_a_session_without_a_secret_is_refused(site: Site) -> None:
    _, alice_token = start(site.app)
    other = TestClient(site.app)
    other.cookies.set("theme", "dark", domain=COOKIE_DOMAIN)  # cookies, but no session
    response = other.post("/submit", data={"csrf_token": alice_token})
    assert response.status_code == 403
    assert site.calls == []


# -- where the token may come from --------------------------------------------


def test_token_in_the_form_field_urlencoded(site: Site) -> None:
    client = TestClient(site.app)
    token = extract_csrf_token(client.get("/form").text)
    response = client.post("/submit", data={"csrf_token": token, "name": "x"})
    assert response.status_code == 200
    assert site.calls == ["POST"]
    assert client.get("/session").json() == {"submitted": "POST"}


def test_token_in_the_form_field_multipart(site: Site) -> None:
    client = TestClient(site.app)
    token = extract_csrf_token(client.get("/form").text)
    response = client.post("/submit", data={"csrf_token": token},
                           files={"upload": ("a.txt", b"hello", "text/plain")})
    assert response.status_code == 200
    assert site.calls == ["POST"]


def test_multipart_without_token_is_refused(site: Site) -> None:
    client, _ = start(site.app)
    response = client.post("/submit", data={"name": "x"},
                           files={"upload": ("a.txt", b"hello", "text/plain")})
    assert response.status_code == 403
    assert site.calls == []


def test_token_sent_as_a_file_does_not_count(site: Site) -> None:
    client, token = start(site.app)
    response = client.post("/submit", files={"csrf_token": ("t.txt", token.encode(), "text/plain")})
    assert response.status_code == 403


def test_token_in_the_header_with_a_json_body(site: Site) -> None:
    client, token = start(site.app)
    response = client.post("/submit", json={"a": 1}, headers={"x-csrf-token": token})
    assert response.status_code == 200
    assert site.calls == ["POST"]


def test_json_body_with_cookies_needs_the_token(site: Site) -> None:
    client, _ = start(site.app)
    response = client.post("/submit", json={"a": 1})
    assert response.status_code == 403
    assert site.calls == []


def test_htmx_style_form_post_with_the_header(site: Site) -> None:
    client, token = start(site.app)
    response = client.post("/submit", data={"name": "x"},
                           headers={"hx-request": "true", "X-CSRF-Token": token})
    assert response.status_code == 200


def test_text_plain_post_with_cookies_needs_the_token(site: Site) -> None:
    client, token = start(site.app)
    headers = {"content-type": "text/plain"}
    assert client.post("/submit", content=b"csrf_token=x", headers=headers).status_code == 403
    headers["x-csrf-token"] = token
    assert client.post("/submit", content=b"hello", headers=headers).status_code == 200


def test_the_header_wins_over_the_form_field(site: Site) -> None:
    client, token = start(site.app)
    response = client.post("/submit", data={"csrf_token": token},
                           headers={"x-csrf-token": "wrong"})
    assert response.status_code == 403


def test_an_empty_header_falls_back_to_the_form_field(site: Site) -> None:
    # A script that sends the header before it has a token must not hide the form's.
    client, token = start(site.app)
    response = client.post("/submit", data={"csrf_token": token}, headers={"x-csrf-token": ""})
    assert response.status_code == 200


def test_custom_field_and_header_names(make_app: Any) -> None:
    site = build_site(make_app, csrf_field_name="_token", csrf_header_name="X-XSRF-Token")
    client = TestClient(site.app)
    page = client.get("/form").text
    assert 'name="_token"' in page
    token = extract_csrf_token(page, field="_token")
    assert client.post("/submit", data={"_token": token}).status_code == 200
    assert client.post("/submit", headers={"x-xsrf-token": token}).status_code == 200
    assert client.post("/submit", data={"csrf_token": token}).status_code == 403
    assert client.post("/submit", headers={"x-csrf-token": token}).status_code == 403


# -- masking ----------------------------------------------------------------------


def test_tokens_are_masked_differently_per_render_and_all_valid(site: Site) -> None:
    client = TestClient(site.app)
    first = client.get("/form")
    tokens = [extract_csrf_token(first.text)]
    for _ in range(3):
        page = client.get("/form")
        assert "set-cookie" not in page.headers  # the secret is stored once
        tokens.append(extract_csrf_token(page.text))
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        assert client.post("/submit", data={"csrf_token": token}).status_code == 200
    assert len(site.calls) == len(tokens)


def test_two_tokens_in_one_page_differ(make_app: Any) -> None:
    site = build_site(make_app)
    (site.app.root / "templates" / "two.html").write_text(
        '<meta name="csrf-token" content="{{ csrf_token() }}">{{ csrf_input() }}'
    )

    @site.app.route("/two")
    def two(request: Request) -> HTMLResponse:
        return render(request, "two.html")

    client = TestClient(site.app)
    page = client.get("/two").text
    from_input = extract_csrf_token(page)
    from_meta = page.split('content="')[1].split('"')[0]
    assert from_input != from_meta
    assert client.post("/submit", data={"csrf_token": from_input}).status_code == 200
    assert client.post("/submit", headers={"x-csrf-token": from_meta}).status_code == 200


def test_the_unmasked_session_secret_is_not_a_token(site: Site) -> None:
    @site.app.route("/secret")
    def secret(request: Request) -> str:
        get_token(request)
        return str(request.session["_csrf"])

    client = TestClient(site.app)
    secret_value = client.get("/secret").text
    assert client.post("/submit", data={"csrf_token": secret_value}).status_code == 403


@pytest.mark.parametrize(
    "bad",
    [
        "garbage",
        "x",
        "=",
        "!!!!!!!!",
        "....",
        "A" * 86,  # the right length, all zero bytes
        "-" * 86,
        "x" * 201,
        "y" * 10_000,
        "%%%%",
        "ñandú-é",
        "\u2603" * 43,
    ],
)
def test_garbage_tokens_are_refused_not_crashing(site: Site, bad: str) -> None:
    client, _ = start(site.app)
    response = client.post("/submit", data={"csrf_token": bad})
    assert response.status_code == 403
    assert site.calls == []


@pytest.mark.parametrize("bad", [b"garbage", b"\xff\xfe\x00bad", b"A" * 5000, b" "])
def test_garbage_header_tokens_are_refused(site: Site, bad: bytes) -> None:
    client, _ = start(site.app)
    response = client.post("/submit", json={}, headers={"x-csrf-token": bad})
    assert response.status_code == 403


def test_mangled_real_tokens_are_refused(site: Site) -> None:
    client, token = start(site.app)
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for bad in (token[:-1], token + "A", token + "AAAA", flipped, token[43:] + token[:43]):
        assert client.post("/submit", data={"csrf_token": bad}).status_code == 403, bad
    assert site.calls == []
    assert client.post("/submit", data={"csrf_token": token}).status_code == 200


# -- exemptions -----------------------------------------------------------------


def test_csrf_exempt_view_accepts_a_tokenless_post(site: Site) -> None:
    hooks: list[str] = []

    @site.app.route("/webhook", methods=["POST"])
    @csrf_exempt
    async def webhook(request: Request) -> str:
        hooks.append((await request.body()).decode())
        return "thanks"

    @csrf_exempt
    @site.app.route("/webhook2", methods=["PUT"])
    def webhook2() -> str:
        hooks.append("2")
        return "thanks"

    client, _ = start(site.app)
    response = client.post("/webhook", data={"event": "paid"},
                           headers={"origin": "https://payments.example"})
    assert response.status_code == 200
    assert client.put("/webhook2", data={"a": "b"}).status_code == 200
    assert hooks == ["event=paid", "2"]
    # Other views stay protected.
    assert client.post("/submit", data={}).status_code == 403


def test_router_routes_are_protected_too(site: Site) -> None:
    api = Router()

    @api.route("/items", methods=["POST"])
    def create() -> str:
        site.calls.append("create")
        return "created"

    site.app.include(api, prefix="/api")
    client, token = start(site.app)
    assert client.post("/api/items", data={}).status_code == 403
    assert client.post("/api/items", data={"csrf_token": token}).status_code == 200
    assert site.calls == ["create"]


def test_authorization_header_without_cookies_is_exempt(site: Site) -> None:
    headers = {"authorization": "Bearer abc123"}
    assert anonymous(site).post("/submit", data={"a": "b"}, headers=headers).status_code == 200
    assert anonymous(site).delete("/submit", headers=headers).status_code == 200
    # A foreign Origin is still refused: the Origin check comes first.
    headers["origin"] = "http://evil.example"
    assert anonymous(site).post("/submit", json={}, headers=headers).status_code == 403
    assert site.calls == ["POST", "DELETE"]


def test_authorization_header_with_cookies_is_still_checked(site: Site) -> None:
    client, token = start(site.app)
    headers = {"authorization": "Bearer abc123"}
    assert client.post("/submit", data={"a": "b"}, headers=headers).status_code == 403
    assert client.post("/submit", json={}, headers=headers).status_code == 403
    assert site.calls == []
    headers["x-csrf-token"] = token
    assert client.post("/submit", json={}, headers=headers).status_code == 200


def test_cookieless_json_post_is_allowed(site: Site) -> None:
    assert anonymous(site).post("/submit", json={"a": 1}).status_code == 200
    assert anonymous(site).put("/submit", content=b"{}",
                               headers={"content-type": "application/json"}).status_code == 200
    assert anonymous(site).delete("/submit").status_code == 200  # an empty DELETE
    assert site.calls == ["POST", "PUT", "DELETE"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"user=mallory&password=x"),
        ("application/x-www-form-urlencoded; charset=utf-8", b"user=mallory"),
        ("Application/X-WWW-Form-Urlencoded", b"user=mallory"),
        ("multipart/form-data; boundary=xyz",
         b'--xyz\r\nContent-Disposition: form-data; name="user"\r\n\r\nmallory\r\n--xyz--\r\n'),
        ("text/plain", b"user=mallory"),
    ],
)
def test_cookieless_form_post_is_refused_login_csrf(
    site: Site, content_type: str, body: bytes
) -> None:
    client = TestClient(site.app)
    response = client.post("/submit", content=body, headers={"content-type": content_type})
    assert response.status_code == 403
    assert site.calls == []


class Note(BaseModel):
    text: str


def test_the_csrf_check_answers_before_a_json_views_415(site: Site) -> None:
    """A body a form can send (text/plain) without cookies is a CSRF 403 before the
    view's JSON check; with a session and its token it reaches that check (415), as
    does a cookie-less body no form can send (application/xml)."""
    from pydantic import BaseModel

    class Note(BaseModel):
        text: str

    @site.app.post("/notes")
    async def add_note(note: Note) -> dict[str, str]:
        return {"text": note.text}

    plain = {"content-type": "text/plain", **JSON}
    refused = anonymous(site).post("/notes", content=b'{"text": "hi"}', headers=plain)
    assert refused.status_code == 403
    xml = {"content-type": "application/xml", **JSON}
    assert anonymous(site).post("/notes", content=b"<note/>", headers=xml).status_code == 415
    client, token = start(site.app)
    with_token = client.post("/notes", content=b'{"text": "hi"}',
                             headers={**plain, "x-csrf-token": token})
    assert with_token.status_code == 415


def test_cookieless_form_post_with_a_token_from_elsewhere_is_refused(site: Site) -> None:
    _, token = start(site.app)
    response = anonymous(site).post("/submit", data={"csrf_token": token})
    assert response.status_code == 403


def test_setting_csrf_false_disables_the_check(make_app: Any) -> None:
    site = build_site(make_app, csrf=False)
    client, _ = start(site.app)
    assert client.post("/submit", data={"a": "b"}).status_code == 200
    assert client.post("/submit", data={"a": "b"},
                       headers={"origin": "http://evil.example"}).status_code == 200
    assert TestClient(site.app).post("/submit", data={"a": "b"}).status_code == 200
    assert site.calls == ["POST", "POST", "POST"]


# -- Origin ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "https://testserver", "http://testserver:8000",
               "http://testserver.evil.example", "http://evil.example/http://testserver",
               "testserver", ""],
)
def test_foreign_origin_is_refused_even_with_a_valid_token(site: Site, origin: str) -> None:
    client, token = start(site.app)
    response = client.post("/submit", data={"csrf_token": token}, headers={"origin": origin})
    assert response.status_code == 403
    assert site.calls == []


@pytest.mark.parametrize(
    "origin", ["http://testserver", "http://testserver:80", "HTTP://TestServer"]
)
def test_own_origin_is_accepted(site: Site, origin: str) -> None:
    client, token = start(site.app)
    response = client.post("/submit", data={"csrf_token": token}, headers={"origin": origin})
    assert response.status_code == 200


def test_origin_must_match_a_non_default_port(make_app: Any) -> None:
    site = build_site(make_app, allowed_hosts=["testserver"])
    client, token = start(site.app)
    host = {"host": "testserver:8000"}
    ok = client.post("/submit", data={"csrf_token": token},
                     headers={**host, "origin": "http://testserver:8000"})
    assert ok.status_code == 200
    refused = client.post("/submit", data={"csrf_token": token},
                          headers={**host, "origin": "http://testserver"})
    assert refused.status_code == 403


def test_foreign_origin_refuses_even_a_cookieless_json_post(site: Site) -> None:
    client = TestClient(site.app)
    response = client.post("/submit", json={}, headers={"origin": "http://evil.example"})
    assert response.status_code == 403
    assert site.calls == []


def test_trusted_origins_exact(make_app: Any) -> None:
    site = build_site(make_app, csrf_trusted_origins=["https://app.example.com",
                                                      "http://localhost:3000"])
    client, token = start(site.app)

    def post(origin: str) -> int:
        return client.post("/submit", data={"csrf_token": token},
                           headers={"origin": origin}).status_code

    assert post("https://app.example.com") == 200
    assert post("https://app.example.com:443") == 200
    assert post("http://localhost:3000") == 200
    assert post("http://app.example.com") == 403
    assert post("https://other.example.com") == 403
    assert post("https://app.example.com.evil.example") == 403
    assert post("http://localhost:3001") == 403


def test_trusted_origins_wildcard(make_app: Any) -> None:
    site = build_site(make_app, csrf_trusted_origins=["https://*.example.com"])
    client, token = start(site.app)

    def post(origin: str) -> int:
        return client.post("/submit", data={"csrf_token": token},
                           headers={"origin": origin}).status_code

    assert post("https://app.example.com") == 200
    assert post("https://a.b.example.com") == 200
    assert post("https://badexample.com") == 403
    assert post("http://app.example.com") == 403
    assert post("https://example.com.evil.example") == 403
    assert site.calls == ["POST", "POST"]


def test_trusted_origin_still_needs_a_token(make_app: Any) -> None:
    site = build_site(make_app, csrf_trusted_origins=["https://app.example.com"])
    client, _ = start(site.app)
    response = client.post("/submit", data={}, headers={"origin": "https://app.example.com"})
    assert response.status_code == 403


@pytest.mark.parametrize("entry", ["app.example.com", "https://", "*.example.com", "//x.com"])
def test_trusted_origin_without_scheme_or_host_is_a_configuration_error(
    make_app: Any, entry: str
) -> None:
    site = build_site(make_app, csrf_trusted_origins=[entry])
    with pytest.raises(ImproperlyConfigured, match="csrf_trusted_origins") as info:
        site.app.setup()
    assert info.value.id == "heron.security.E002"


# -- HTTPS: the Referer ----------------------------------------------------------


@pytest.fixture
def https_site(make_app: Any) -> Site:
    return build_site(make_app, debug=True,
                      csrf_trusted_origins=["https://partner.example"])


def https_start(site: Site) -> tuple[TestClient, str]:
    return start(site.app, base_url="https://testserver")


def test_https_without_origin_or_referer_is_refused(https_site: Site) -> None:
    client, token = https_start(https_site)
    response = client.post("/submit", data={"csrf_token": token})
    assert response.status_code == 403
    assert "Referer checking failed" in response.text
    assert https_site.calls == []


@pytest.mark.parametrize(
    "referer",
    ["http://testserver/form", "https://evil.example/form", "https://testserver.evil.example/",
     "https://testserver:8443/form", "https://user@evil.example/", "not a url", "//testserver/",
     "https://[::1", "https://[zz]/x", "ftp://testserver/"],
)
def test_https_bad_referer_is_refused(https_site: Site, referer: str) -> None:
    client, token = https_start(https_site)
    response = client.post("/submit", data={"csrf_token": token}, headers={"referer": referer})
    assert response.status_code == 403
    assert "Referer checking failed" in response.text
    assert https_site.calls == []


@pytest.mark.parametrize(
    "referer",
    ["https://testserver/form", "https://testserver:443/form?x=1", "https://TESTSERVER/",
     "https://partner.example/page"],
)
def test_https_matching_referer_is_accepted(https_site: Site, referer: str) -> None:
    client, token = https_start(https_site)
    response = client.post("/submit", data={"csrf_token": token}, headers={"referer": referer})
    assert response.status_code == 200
    assert https_site.calls == ["POST"]


def test_https_matching_origin_needs_no_referer(https_site: Site) -> None:
    client, token = https_start(https_site)
    response = client.post("/submit", data={"csrf_token": token},
                           headers={"origin": "https://testserver"})
    assert response.status_code == 200
    response = client.post("/submit", data={"csrf_token": token},
                           headers={"origin": "http://testserver"})
    assert response.status_code == 403


def test_https_referer_does_not_excuse_a_missing_token(https_site: Site) -> None:
    client, _ = https_start(https_site)
    response = client.post("/submit", data={}, headers={"referer": "https://testserver/form"})
    assert response.status_code == 403
    assert "CSRF token missing" in response.text


def test_https_cookieless_api_client_is_exempt_without_referer(https_site: Site) -> None:
    client = TestClient(https_site.app, base_url="https://testserver")
    response = client.post("/submit", json={}, headers={"authorization": "Token abc"})
    assert response.status_code == 200


# -- what a failure looks like ---------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"data": {}}, "CSRF token missing"),
        ({"data": {"csrf_token": "A" * 86}}, "CSRF token incorrect"),
        ({"data": {"csrf_token": "garbage"}}, "CSRF token incorrect"),
        ({"headers": {"origin": "http://evil.example"}}, "Origin checking failed"),
    ],
)
def test_debug_403_names_the_reason(debug_site: Site, kwargs: dict[str, Any],
                                    reason: str) -> None:
    client, _ = start(debug_site.app)
    response = client.post("/submit", **kwargs)
    assert response.status_code == 403
    assert reason in response.text
    assert GENERIC not in response.text


def test_debug_missing_token_message_names_the_field_and_header(debug_site: Site) -> None:
    client, _ = start(debug_site.app)
    text = client.post("/submit", data={}).text
    assert "csrf_token" in text
    assert "X-CSRF-Token" in text


@pytest.mark.parametrize(
    "kwargs",
    [{"data": {}}, {"data": {"csrf_token": "A" * 86}},
     {"headers": {"origin": "http://evil.example"}}],
)
def test_production_403_is_generic(site: Site, kwargs: dict[str, Any]) -> None:
    client, _ = start(site.app)
    response = client.post("/submit", **kwargs)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert GENERIC in response.text
    for reason in ("missing", "incorrect", "Origin", "evil.example"):
        assert reason not in response.text


def test_json_clients_get_problem_json(site: Site, debug_site: Site) -> None:
    client, _ = start(site.app)
    response = client.post("/submit", json={"a": 1}, headers=JSON)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"type": "about:blank", "title": "Forbidden", "status": 403,
                               "detail": GENERIC}
    client, _ = start(debug_site.app)
    body = client.post("/submit", json={"a": 1}, headers=JSON).json()
    assert body["status"] == 403
    assert body["detail"].startswith("CSRF token missing")


def test_failure_is_logged_on_heron_security(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = start(site.app)
    with caplog.at_level(logging.WARNING, logger="heron.security"):
        client.post("/submit", data={}, headers={"origin": "http://evil.example"})
        client.post("/submit", data={})
    records = [r for r in caplog.records if r.name == "heron.security"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.WARNING]
    assert "POST /submit" in records[0].getMessage()
    assert "Origin checking failed" in records[0].getMessage()
    assert "CSRF token missing" in records[1].getMessage()


def test_success_logs_nothing(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    client, token = start(site.app)
    with caplog.at_level(logging.DEBUG, logger="heron.security"):
        assert client.post("/submit", data={"csrf_token": token}).status_code == 200
    assert [r for r in caplog.records if r.name == "heron.security"] == []


def test_custom_403_handler_sees_the_csrf_error(site: Site) -> None:
    from heron.csrf import CSRFError

    seen: list[str] = []

    @site.app.on_error(CSRFError)
    def refused(request: Request, exc: CSRFError) -> tuple[str, int]:
        seen.append(exc.reason)
        return "Your form expired; reload the page.", 403

    client, _ = start(site.app)
    response = client.post("/submit", data={})
    assert response.status_code == 403
    assert response.text == "Your form expired; reload the page."
    assert seen[0].startswith("CSRF token missing")


# -- rotation and sessions ---------------------------------------------------------


def test_rotate_token_invalidates_old_tokens(site: Site) -> None:
    @site.app.route("/login", methods=["POST"])
    def login(request: Request) -> str:
        request.session["user"] = "alice"
        rotate_token(request)
        return get_token(request)

    client, old = start(site.app)
    old_too = client.get("/token").text
    new = client.post("/login", data={"csrf_token": old}).text
    assert client.post("/submit", data={"csrf_token": old}).status_code == 403
    assert client.post("/submit", data={"csrf_token": old_too}).status_code == 403
    assert client.post("/submit", data={"csrf_token": new}).status_code == 200
    assert client.post("/submit", data={"csrf_token": client.get("/token").text}).status_code \
        == 200


def test_flushing_the_session_invalidates_tokens(site: Site) -> None:
    @site.app.route("/logout", methods=["POST"])
    def logout(request: Request) -> str:
        request.session.flush()
        return "bye"

    client, token = start(site.app)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 200
    assert client.post("/submit", data={"csrf_token": token}).status_code == 403


def tamper(client: TestClient, value: str) -> None:
    client.cookies.clear()
    client.cookies.set("heron_session", value, domain=COOKIE_DOMAIN)


@pytest.mark.parametrize(
    "mangle",
    [lambda v: v[:-4] + ("AAAA" if not v.endswith("AAAA") else "BBBB"),
     lambda v: "x" + v,
     lambda v: "garbage",
     lambda v: "e30.e30.e30",
     lambda v: "%ff%fe"],
)
def test_tampered_session_cookie_with_token_is_refused_not_crashing(
    site: Site, mangle: Any
) -> None:
    client, token = start(site.app)
    tamper(client, mangle(client.cookies["heron_session"]))
    response = client.post("/submit", data={"csrf_token": token})
    assert response.status_code == 403
    assert site.calls == []


def test_tokens_work_with_the_cache_session_backend(make_app: Any) -> None:
    site = build_site(make_app, session_backend="cache", cache_url="memory://")
    with TestClient(site.app) as client:
        token = client.get("/token").text
        assert client.post("/submit", data={}).status_code == 403
        assert client.post("/submit", data={"csrf_token": token}).status_code == 200
        other = TestClient(site.app)
        other.get("/token")
        assert other.post("/submit", data={"csrf_token": token}).status_code == 403
        other.close()


def test_the_view_can_read_the_form_after_the_check(site: Site) -> None:
    @site.app.route("/echo", methods=["POST"])
    async def echo(request: Request) -> dict[str, Any]:
        form = await request.form()
        upload = form["upload"]
        return {"name": form["name"], "file": (await upload.read()).decode()}

    client, token = start(site.app)
    response = client.post("/echo", data={"csrf_token": token, "name": "Ada"},
                           files={"upload": ("a.txt", b"hello", "text/plain")})
    assert response.status_code == 200
    assert response.json() == {"name": "Ada", "file": "hello"}


def test_behind_a_trusted_proxy_the_forwarded_origin_counts(make_app: Any) -> None:
    site = build_site(make_app, trusted_proxies=["127.0.0.1"],
                      allowed_hosts=["testserver", "example.com"])
    client, token = start(site.app)
    forwarded = {"x-forwarded-proto": "https", "x-forwarded-host": "example.com"}
    ok = client.post("/submit", data={"csrf_token": token},
                     headers={**forwarded, "origin": "https://example.com"})
    assert ok.status_code == 200
    refused = client.post("/submit", data={"csrf_token": token},
                          headers={**forwarded, "origin": "http://testserver"})
    assert refused.status_code == 403
    no_referer = client.post("/submit", data={"csrf_token": token}, headers=forwarded)
    assert no_referer.status_code == 403  # HTTPS now: a Referer is required


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--xyz\r\n"),  # no boundary
        ("multipart/form-data; boundary=xyz", b"not multipart at all"),
        ("application/x-www-form-urlencoded", b"%zz=%%&\xff\xfe"),
    ],
)
def test_malformed_form_body_is_a_client_error(
    site: Site, content_type: str, body: bytes
) -> None:
    client, _ = start(site.app)
    response = client.post("/submit", content=body, headers={"content-type": content_type})
    assert 400 <= response.status_code < 500
    assert site.calls == []


def test_calling_check_on_a_running_app_keeps_the_csrf_check(site: Site) -> None:
    client, _ = start(site.app)
    assert client.post("/submit", data={}).status_code == 403
    assert site.app.check() == []
    assert client.post("/submit", data={}).status_code == 403
    assert site.calls == []


def test_browser_credentials_in_authorization_do_not_exempt_a_form_post() -> None:
    # Browsers replay cached Basic/Digest/NTLM credentials on cross-site posts.
    app = App(secret_key="k", access_log=False, allowed_hosts=["testserver"])
    done: list[str] = []

    @app.post("/wipe")
    def wipe() -> str:
        done.append("wiped")
        return "ok"

    with TestClient(app) as client:
        for scheme in ("Basic dXNlcjpwdw==", "Digest x", "NTLM x", "Negotiate x"):
            refused = client.post("/wipe", data={"a": "1"}, headers={"authorization": scheme})
            assert refused.status_code == 403
        evil = client.post("/wipe", json={}, headers={"authorization": "Bearer t",
                                                       "origin": "https://evil.example"})
        assert evil.status_code == 403
        token_client = client.post("/wipe", json={}, headers={"authorization": "Bearer t"})
        assert token_client.status_code == 200
    assert done == ["wiped"]


def test_cycle_key_drops_the_csrf_secret() -> None:
    from heron.sessions import Session

    session = Session({"_csrf": "x", "user": 1})
    session.cycle_key()
    assert "_csrf" not in session
    assert session["user"] == 1
