"""Secure defaults: security headers, CSP nonces, HSTS, the HTTPS redirect and host validation."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from heron import (
    App,
    HTMLResponse,
    ImproperlyConfigured,
    RedirectResponse,
    Request,
    Response,
    WebSocket,
    WebSocketDisconnect,
    render,
    render_async,
)
from heron.security import content_security_policy, frame_options
from heron.testing import TestClient
from heron.types import Message, Receive, Scope, Send

CSP_WITHOUT_NONCE = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'"
)
DEFAULTS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "content-security-policy": CSP_WITHOUT_NONCE,
}
HSTS = "max-age=31536000"
GENERIC_HOST = "The Host header names a host this site does not serve."


def is_html(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/html")


def assert_default_headers(response: httpx.Response, hsts: bool = False,
                           skip: str = "") -> None:
    """Every default header exactly once, with its default value (CSP on HTML only)."""
    for name, value in DEFAULTS.items():
        if name == skip:
            continue
        if name == "content-security-policy" and not is_html(response):
            assert name not in response.headers
            continue
        assert response.headers.get_list(name) == [value], name
    if hsts:
        assert response.headers.get_list("strict-transport-security") == [HSTS]
    else:
        assert "strict-transport-security" not in response.headers


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A foreign ASGI app (not heron) to mount."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"raw"})


async def raw_app_with_own_headers(scope: Scope, receive: Receive, send: Send) -> None:
    # Header names in mixed case, as ASGI allows for responses.
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"Content-Type", b"text/plain"),
                            (b"X-Frame-Options", b"SAMEORIGIN"),
                            [b"content-security-policy", b"default-src 'none'"]]})
    await send({"type": "http.response.body", "body": b"own"})


def build(make_app: Any, **settings: Any) -> App:
    """An app with a bit of everything that can answer."""
    app = make_app(**settings)
    static = app.root / "static"
    static.mkdir(exist_ok=True)
    (static / "site.css").write_text("body { color: black }")

    @app.route("/")
    def home() -> str:
        return "home"

    @app.route("/json")
    def json_view() -> dict[str, int]:
        return {"a": 1}

    @app.route("/post-only", methods=["POST"])
    def post_only() -> str:
        return "posted"

    @app.route("/boom")
    def boom() -> None:
        raise RuntimeError("kaboom")

    @app.route("/go")
    def go() -> RedirectResponse:
        return RedirectResponse("/")

    @app.route("/dir/")
    def directory() -> str:
        return "dir"

    app.mount("/raw", raw_app)
    app.mount("/own", raw_app_with_own_headers)
    return app


@pytest.fixture
def site(make_app: Any) -> App:
    return build(make_app)


# -- default headers everywhere ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("HEAD", "/", 200),
        ("GET", "/json", 200),
        ("GET", "/nowhere", 404),
        ("GET", "/post-only", 405),
        ("OPTIONS", "/post-only", 204),
        ("GET", "/boom", 500),
        ("GET", "/go", 302),
        ("GET", "/dir", 301),  # the trailing-slash redirect
        ("POST", "/post-only", 403),  # CSRF: no cookie-less form posts
        ("GET", "/static/site.css", 200),
        ("GET", "/static/missing.css", 404),
        ("GET", "/raw/anything", 200),
    ],
)
def test_default_headers_on_every_kind_of_response(
    site: App, method: str, path: str, status: int
) -> None:
    client = TestClient(site)
    kwargs: dict[str, Any] = {}
    if method == "POST":
        kwargs["data"] = {"a": "b"}
    response = client.request(method, path, **kwargs)
    assert response.status_code == status
    assert_default_headers(response)


def test_default_headers_on_a_json_error(site: App) -> None:
    response = TestClient(site).get("/nowhere", headers={"accept": "application/json"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert_default_headers(response)


def test_default_headers_on_a_bad_host(site: App) -> None:
    response = TestClient(site).get("/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert_default_headers(response)


def test_default_headers_on_a_debug_error_page(make_app: Any) -> None:
    app = build(make_app, debug=True)
    response = TestClient(app).get("/boom")
    assert response.status_code == 500
    assert "kaboom" in response.text
    for name in ("x-content-type-options", "x-frame-options", "content-security-policy"):
        assert len(response.headers.get_list(name)) == 1


def test_default_headers_on_a_custom_error_handler(site: App) -> None:
    site.on_error(404)(lambda request, exc: ("custom not found", 404))
    response = TestClient(site).get("/nowhere")
    assert response.text == "custom not found"
    assert_default_headers(response)


def test_default_headers_on_a_response_changed_by_after_request(site: App) -> None:
    @site.after_request
    def replace(request: Request, response: Response) -> Response:
        return Response("replaced", media_type="text/plain")

    response = TestClient(site).get("/")
    assert response.text == "replaced"
    assert_default_headers(response)


def test_default_headers_on_a_mounted_heron_app(site: App, make_app: Any) -> None:
    child = make_app()

    @child.route("/hello")
    @frame_options("SAMEORIGIN")
    def hello() -> str:
        return "hello"

    site.mount("/child", child)
    client = TestClient(site)
    response = client.get("/child/hello")
    assert response.text == "hello"
    # The child's own header wins; the parent adds nothing twice.
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    for name in ("x-content-type-options", "referrer-policy", "content-security-policy"):
        assert response.headers.get_list(name) == [DEFAULTS[name]]
    assert_default_headers(client.get("/child/nowhere"))


def test_headers_set_by_a_mounted_app_win_whatever_their_case(site: App) -> None:
    response = TestClient(site).get("/own/x")
    assert response.text == "own"
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers.get_list("content-security-policy") == ["default-src 'none'"]
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]


def test_a_header_the_view_sets_wins_and_is_not_duplicated(site: App) -> None:
    own = {
        "X-Frame-Options": "SAMEORIGIN",
        "Content-Security-Policy": "default-src 'none'",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Opener-Policy": "unsafe-none",
        "Strict-Transport-Security": "max-age=60",
    }

    @site.route("/own-headers")
    def own_headers() -> Response:
        return Response("mine", headers=own, media_type="text/plain")

    for base_url in ("http://testserver", "https://testserver"):
        response = TestClient(site, base_url=base_url).get("/own-headers")
        for name, value in own.items():
            assert response.headers.get_list(name) == [value], (base_url, name)


def test_a_header_the_view_sets_through_response_headers(site: App) -> None:
    @site.route("/set-later")
    def set_later() -> Response:
        response = HTMLResponse("<p>x</p>")
        response.headers["x-frame-options"] = "SAMEORIGIN"
        return response

    response = TestClient(site).get("/set-later")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]


def test_headers_memoised_per_content_type_and_scheme(site: App) -> None:
    # The finalizer keeps each view's additions by content type and scheme: one view
    # answering HTML then JSON, over HTTP then HTTPS, gets each response's own set.
    @site.route("/either/{kind}")
    def either(kind: str) -> Response:
        return HTMLResponse("<p>x</p>") if kind == "html" else Response("{}", media_type=
                                                                        "application/json")

    for _ in range(2):  # the second round is served from the memo
        for base_url, hsts in (("http://testserver", False), ("https://testserver", True)):
            client = TestClient(site, base_url=base_url)
            for kind in ("html", "json", "html"):
                assert_default_headers(client.get(f"/either/{kind}"), hsts=hsts)


def test_the_memo_holds_content_types_only(site: App) -> None:
    # A response without a content type whose first header varies (a Location per
    # answer) is not memoised by that header: the memo stays for content types.
    @site.route("/made/{n:int}")
    def made(n: int) -> Response:
        return Response(b"", 201, headers={"location": f"/things/{n}"}, media_type=None)

    client = TestClient(site)
    for n in range(80):
        answer = client.get(f"/made/{n}")
        assert answer.status_code == 201
        assert answer.headers["location"] == f"/things/{n}"
        assert answer.headers["x-content-type-options"] == "nosniff"
    (route,) = site._names["made"]
    view = route.extensions["heron.security"]
    assert not any(key[0] == b"location" for key in view.blocks)


def test_headers_given_as_lists_get_the_defaults(site: App) -> None:
    # ASGI allows a header as any two-item iterable: not memoised, never a 500.
    @site.route("/list-headers")
    def list_headers() -> Response:
        response = Response("x")
        response.raw_headers = [[b"content-type", b"text/plain"],  # type: ignore[list-item]
                                [b"content-length", b"1"]]
        return response

    client = TestClient(site)
    for _ in range(2):
        response = client.get("/list-headers")
        assert response.status_code == 200
        assert_default_headers(response)


def test_csp_goes_on_html_responses_only(site: App) -> None:
    client = TestClient(site)
    assert client.get("/").headers["content-security-policy"] == CSP_WITHOUT_NONCE
    assert client.get("/nowhere").headers["content-security-policy"] == CSP_WITHOUT_NONCE
    for path, headers in [("/json", {}), ("/static/site.css", {}), ("/raw/x", {}),
                          ("/nowhere", {"accept": "application/json"})]:
        response = client.get(path, headers=headers)
        assert "content-security-policy" not in response.headers, path
        assert response.headers["x-content-type-options"] == "nosniff", path


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/static/logo.svg", "image/svg+xml"), ("/xhtml", "application/xhtml+xml")],
)
def test_csp_goes_on_other_script_capable_documents(
    site: App, path: str, content_type: str
) -> None:
    (site.root / "static" / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    )

    @site.route("/xhtml")
    def xhtml() -> Response:
        return Response('<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
                        media_type="application/xhtml+xml")

    response = TestClient(site).get(path)
    assert response.headers["content-type"].startswith(content_type)
    assert response.headers.get_list("content-security-policy") == [CSP_WITHOUT_NONCE]


# -- per-view decorators ---------------------------------------------------------------


def test_frame_options_decorator(site: App) -> None:
    @site.route("/embeddable")
    @frame_options("SAMEORIGIN")
    def embeddable() -> str:
        return "embed me"

    @site.route("/anywhere")
    @frame_options(None)
    def anywhere() -> str:
        return "embed me anywhere"

    @frame_options("sameorigin")  # outside the route decorator, lower case: also fine
    @site.route("/outside")
    def outside() -> str:
        return "outside"

    client = TestClient(site)
    assert client.get("/embeddable").headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert "x-frame-options" not in client.get("/anywhere").headers
    assert client.get("/outside").headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    # The other headers are untouched, and other views keep the default.
    assert client.get("/anywhere").headers["content-security-policy"] == CSP_WITHOUT_NONCE
    assert client.get("/").headers["x-frame-options"] == "DENY"


def test_frame_options_decorator_applies_to_the_views_errors(site: App) -> None:
    @site.route("/embeddable-error")
    @frame_options("SAMEORIGIN")
    def embeddable_error() -> str:
        raise RuntimeError("no")

    response = TestClient(site).get("/embeddable-error")
    assert response.status_code == 500
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]


def test_calling_check_on_a_running_app_keeps_per_view_headers(site: App) -> None:
    @site.route("/embeddable")
    @frame_options("SAMEORIGIN")
    def embeddable() -> str:
        return "embed me"

    client = TestClient(site)
    assert client.get("/embeddable").headers["x-frame-options"] == "SAMEORIGIN"
    assert site.check() == []
    assert client.get("/embeddable").headers.get_list("x-frame-options") == ["SAMEORIGIN"]


@pytest.mark.parametrize("value", ["ALLOW-FROM https://x.example", "ALLOWALL", ""])
def test_frame_options_refuses_unknown_values(value: str) -> None:
    with pytest.raises(ValueError, match="DENY"):
        frame_options(value)


def test_content_security_policy_decorator(site: App) -> None:
    @site.route("/strict")
    @content_security_policy("default-src 'none'")
    def strict() -> str:
        return "strict"

    @site.route("/no-csp")
    @content_security_policy(None)
    def no_csp() -> str:
        return "none"

    client = TestClient(site)
    assert client.get("/strict").headers.get_list("content-security-policy") == [
        "default-src 'none'"
    ]
    no_policy = client.get("/no-csp")
    assert "content-security-policy" not in no_policy.headers
    assert no_policy.headers["x-frame-options"] == "DENY"
    assert client.get("/").headers["content-security-policy"] == CSP_WITHOUT_NONCE


def test_both_decorators_on_one_view(site: App) -> None:
    @site.route("/both")
    @frame_options(None)
    @content_security_policy("frame-ancestors https://partner.example")
    def both() -> str:
        return "both"

    response = TestClient(site).get("/both")
    assert "x-frame-options" not in response.headers
    assert response.headers["content-security-policy"] == (
        "frame-ancestors https://partner.example"
    )


# -- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "header"),
    [
        ("x_frame_options", None, "x-frame-options"),
        ("content_type_nosniff", False, "x-content-type-options"),
        ("referrer_policy", None, "referrer-policy"),
        ("cross_origin_opener_policy", None, "cross-origin-opener-policy"),
        ("content_security_policy", None, "content-security-policy"),
        ("content_security_policy", "", "content-security-policy"),
    ],
)
def test_each_header_can_be_turned_off(
    make_app: Any, setting: str, value: Any, header: str
) -> None:
    app = build(make_app, **{setting: value})
    client = TestClient(app)
    for path in ("/", "/nowhere", "/static/site.css", "/raw/x"):
        response = client.get(path)
        assert header not in response.headers, path
        assert_default_headers(response, skip=header)


@pytest.mark.parametrize(
    ("setting", "value", "header"),
    [
        ("x_frame_options", "SAMEORIGIN", "x-frame-options"),
        ("referrer_policy", "strict-origin-when-cross-origin", "referrer-policy"),
        ("cross_origin_opener_policy", "same-origin-allow-popups",
         "cross-origin-opener-policy"),
        ("content_security_policy", "default-src 'none'; img-src https:",
         "content-security-policy"),
    ],
)
def test_each_header_can_be_changed(make_app: Any, setting: str, value: str, header: str) -> None:
    app = build(make_app, **{setting: value})
    client = TestClient(app)
    for path in ("/", "/nowhere", "/raw/x"):
        response = client.get(path)
        if header == "content-security-policy" and not is_html(response):
            assert header not in response.headers
        else:
            assert response.headers.get_list(header) == [value], path


def test_lower_case_frame_options_setting_is_sent_upper_case(make_app: Any) -> None:
    app = build(make_app, x_frame_options="sameorigin")
    assert TestClient(app).get("/").headers["x-frame-options"] == "SAMEORIGIN"


def test_settings_come_from_the_environment(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERON_X_FRAME_OPTIONS", "SAMEORIGIN")
    monkeypatch.setenv("HERON_REFERRER_POLICY", "no-referrer")
    app = build(make_app)
    response = TestClient(app).get("/")
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["referrer-policy"] == "no-referrer"


# -- CSP nonces --------------------------------------------------------------------------


@pytest.fixture
def nonce_app(make_app: Any) -> App:
    app = build(make_app)
    templates = app.root / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "nonce.html").write_text(
        '<script nonce="{{ csp_nonce() }}">1</script><script nonce="{{ csp_nonce() }}">2</script>'
    )
    (templates / "plain.html").write_text("<p>no scripts</p>")

    @app.route("/nonce")
    def nonce(request: Request) -> HTMLResponse:
        return render(request, "nonce.html")

    @app.route("/nonce-async")
    async def nonce_async(request: Request) -> HTMLResponse:
        return await render_async(request, "nonce.html")

    @app.route("/plain")
    def plain(request: Request) -> HTMLResponse:
        return render(request, "plain.html")

    @app.route("/nonce-custom")
    @content_security_policy("script-src {nonce} 'strict-dynamic'; object-src 'none'")
    def nonce_custom(request: Request) -> HTMLResponse:
        return render(request, "nonce.html")

    @app.route("/nonce-off")
    @content_security_policy(None)
    def nonce_off(request: Request) -> HTMLResponse:
        return render(request, "nonce.html")

    @app.route("/nonce-fixed")
    @content_security_policy("script-src 'self'")
    def nonce_fixed(request: Request) -> HTMLResponse:
        return render(request, "nonce.html")

    return app


def page_nonces(html: str) -> list[str]:
    return re.findall(r'nonce="([^"]+)"', html)


@pytest.mark.parametrize("path", ["/nonce", "/nonce-async"])
def test_csp_nonce_is_in_the_header_when_the_page_uses_it(nonce_app: App, path: str) -> None:
    response = TestClient(nonce_app).get(path)
    nonces = page_nonces(response.text)
    assert len(nonces) == 2
    assert nonces[0] == nonces[1]  # one nonce per request
    assert len(nonces[0]) >= 16
    assert response.headers.get_list("content-security-policy") == [
        CSP_WITHOUT_NONCE.replace("script-src 'self'", f"script-src 'self' 'nonce-{nonces[0]}'")
    ]


def test_csp_nonce_differs_per_request(nonce_app: App) -> None:
    client = TestClient(nonce_app)
    seen = {page_nonces(client.get("/nonce").text)[0] for _ in range(5)}
    assert len(seen) == 5


def test_no_nonce_in_the_header_when_the_page_does_not_use_it(nonce_app: App) -> None:
    client = TestClient(nonce_app)
    for path in ("/plain", "/", "/nowhere"):
        header = client.get(path).headers["content-security-policy"]
        assert header == CSP_WITHOUT_NONCE
        assert "nonce" not in header
        assert "{" not in header


def test_nonce_with_a_per_view_policy(nonce_app: App) -> None:
    client = TestClient(nonce_app)
    response = client.get("/nonce-custom")
    nonce = page_nonces(response.text)[0]
    assert response.headers["content-security-policy"] == (
        f"script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'"
    )
    assert "content-security-policy" not in client.get("/nonce-off").headers
    assert client.get("/nonce-fixed").headers.get_list("content-security-policy") == [
        "script-src 'self'"
    ]


def test_nonce_placeholder_only_where_the_policy_has_it(make_app: Any) -> None:
    app = build(make_app, content_security_policy="default-src 'self'; script-src {nonce}")
    response = TestClient(app).get("/")
    assert response.headers["content-security-policy"] == "default-src 'self'; script-src"


# -- HSTS ------------------------------------------------------------------------------


def https(app: App, **kwargs: Any) -> TestClient:
    return TestClient(app, base_url="https://testserver", **kwargs)


def test_hsts_only_on_https(site: App) -> None:
    assert "strict-transport-security" not in TestClient(site).get("/").headers
    client = https(site)
    for path in ("/", "/nowhere", "/boom", "/go", "/static/site.css", "/raw/x"):
        assert_default_headers(client.get(path), hsts=True)
    bad_host = client.get("/", headers={"host": "evil.example"})
    assert bad_host.status_code == 400
    assert bad_host.headers.get_list("strict-transport-security") == [HSTS]


def test_no_hsts_in_debug(make_app: Any) -> None:
    app = build(make_app, debug=True)
    assert "strict-transport-security" not in https(app).get("/").headers


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"hsts_include_subdomains": True}, f"{HSTS}; includeSubDomains"),
        ({"hsts_preload": True}, f"{HSTS}; preload"),
        ({"hsts_seconds": 3600, "hsts_include_subdomains": True, "hsts_preload": True},
         "max-age=3600; includeSubDomains; preload"),
        ({"hsts_seconds": 60}, "max-age=60"),
    ],
)
def test_hsts_settings(make_app: Any, settings: dict[str, Any], expected: str) -> None:
    app = build(make_app, **settings)
    assert https(app).get("/").headers.get_list("strict-transport-security") == [expected]
    assert "strict-transport-security" not in TestClient(app).get("/").headers


def test_hsts_seconds_zero_disables_it(make_app: Any) -> None:
    app = build(make_app, hsts_seconds=0, hsts_include_subdomains=True)
    assert "strict-transport-security" not in https(app).get("/").headers


# -- the HTTPS redirect -------------------------------------------------------------------


@pytest.fixture
def redirecting(make_app: Any) -> tuple[App, list[str]]:
    app = build(make_app, secure_redirect=True, allowed_hosts=["testserver", "example.com"])
    calls: list[str] = []

    @app.route("/a/{rest:path}", methods=["GET", "POST"])
    def anything(request: Request, rest: str) -> str:
        calls.append(request.url.scheme)
        return "ok"

    return app, calls


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/", "https://testserver/"),
        ("/a/b/c?x=1&y=two", "https://testserver/a/b/c?x=1&y=two"),
        ("/a/caf%C3%A9?q=%20", "https://testserver/a/caf%C3%A9?q=%20"),
        ("/nowhere", "https://testserver/nowhere"),
        ("/static/site.css", "https://testserver/static/site.css"),
        ("/raw/x", "https://testserver/raw/x"),
    ],
)
def test_secure_redirect_keeps_path_and_query(
    redirecting: tuple[App, list[str]], url: str, location: str
) -> None:
    app, calls = redirecting
    response = TestClient(app).get(url)
    assert response.status_code == 301
    assert response.headers["location"] == location
    assert calls == []
    assert_default_headers(response)  # headers, but no HSTS on plain http


def test_secure_redirect_for_other_methods_and_hosts(redirecting: tuple[App, list[str]]) -> None:
    app, calls = redirecting
    client = TestClient(app)
    posted = client.post("/a/form", data={"a": "b"})
    assert posted.status_code == 301
    assert posted.headers["location"] == "https://testserver/a/form"
    assert client.get("/a/x", headers={"host": "example.com:80"}).headers["location"] == (
        "https://example.com/a/x"
    )
    assert client.get("/a/x", headers={"host": "example.com:8080"}).headers["location"] == (
        "https://example.com:8080/a/x"
    )
    assert calls == []


def test_no_secure_redirect_on_https(redirecting: tuple[App, list[str]]) -> None:
    app, calls = redirecting
    response = https(app).get("/a/b?x=1")
    assert response.status_code == 200
    assert calls == ["https"]
    assert_default_headers(response, hsts=True)


def test_bad_host_is_refused_before_the_https_redirect(
    redirecting: tuple[App, list[str]]
) -> None:
    app, _ = redirecting
    response = TestClient(app).get("/a/b", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert "location" not in response.headers


def test_no_redirect_without_the_setting(site: App) -> None:
    assert TestClient(site).get("/").status_code == 200


# -- behind a proxy --------------------------------------------------------------------------


def proxied(make_app: Any, trusted: list[str]) -> tuple[App, list[str]]:
    app = build(make_app, secure_redirect=True, trusted_proxies=trusted)
    seen: list[str] = []

    @app.route("/scheme")
    def scheme(request: Request) -> str:
        seen.append(f"{request.url.scheme} secure={request.is_secure}")
        return "ok"

    return app, seen


@pytest.mark.parametrize(
    "forwarded",
    [{"x-forwarded-proto": "https"}, {"forwarded": "for=203.0.113.7;proto=https"},
     {"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7"}],
)
def test_trusted_proxy_https_counts_as_https(make_app: Any, forwarded: dict[str, str]) -> None:
    app, seen = proxied(make_app, ["127.0.0.1"])
    response = TestClient(app).get("/scheme", headers=forwarded)
    assert response.status_code == 200
    assert seen == ["https secure=True"]
    assert_default_headers(response, hsts=True)


def test_trusted_proxy_cidr(make_app: Any) -> None:
    app, seen = proxied(make_app, ["127.0.0.0/8"])
    response = TestClient(app).get("/scheme", headers={"x-forwarded-proto": "https"})
    assert response.status_code == 200
    assert seen == ["https secure=True"]
    assert response.headers["strict-transport-security"] == HSTS


def test_trusted_proxy_plain_http_is_redirected(make_app: Any) -> None:
    app, seen = proxied(make_app, ["127.0.0.1"])
    client = TestClient(app)
    assert client.get("/scheme").status_code == 301
    response = client.get("/scheme", headers={"x-forwarded-proto": "http"})
    assert response.status_code == 301
    assert seen == []


def test_untrusted_proxy_headers_are_ignored(make_app: Any) -> None:
    app, seen = proxied(make_app, ["10.0.0.1"])  # the test client is 127.0.0.1
    response = TestClient(app).get("/scheme", headers={"x-forwarded-proto": "https"})
    assert response.status_code == 301
    assert response.headers["location"] == "https://testserver/scheme"
    assert "strict-transport-security" not in response.headers
    assert seen == []


def test_untrusted_client_address_with_a_trusted_list(make_app: Any) -> None:
    app, seen = proxied(make_app, ["127.0.0.1"])
    client = TestClient(app, client=("203.0.113.9", 4000))
    response = client.get("/scheme", headers={"x-forwarded-proto": "https"})
    assert response.status_code == 301
    assert seen == []


def test_no_proxy_headers_believed_without_trusted_proxies(make_app: Any) -> None:
    app = build(make_app)
    response = TestClient(app).get("/", headers={"x-forwarded-proto": "https"})
    assert "strict-transport-security" not in response.headers


def test_forwarded_host_from_a_trusted_proxy_is_validated(make_app: Any) -> None:
    app = build(make_app, trusted_proxies=["127.0.0.1"], allowed_hosts=["example.com"])
    client = TestClient(app)
    assert client.get("/", headers={"x-forwarded-host": "example.com"}).status_code == 200
    assert client.get("/", headers={"x-forwarded-host": "evil.example"}).status_code == 400


# -- hosts -----------------------------------------------------------------------------------


def host_app(make_app: Any, hosts: list[str], **settings: Any) -> tuple[App, list[str]]:
    app = make_app(allowed_hosts=hosts, **settings)
    calls: list[str] = []

    @app.route("/")
    def home(request: Request) -> str:
        calls.append(request.headers.get("host", ""))
        return "home"

    app.mount("/raw", raw_app)
    return app, calls


def status_for(app: App, host: str, path: str = "/") -> int:
    return TestClient(app).get(path, headers={"host": host}).status_code


def test_bad_host_is_400_with_a_generic_message_in_production(make_app: Any) -> None:
    app, calls = host_app(make_app, ["example.com"])
    response = TestClient(app).get("/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert GENERIC_HOST in response.text
    assert "evil.example" not in response.text
    assert calls == []
    problem = TestClient(app).get("/", headers={"host": "evil.example",
                                                "accept": "application/json"})
    assert problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["detail"] == GENERIC_HOST


def test_bad_host_in_debug_names_the_host(make_app: Any) -> None:
    app, calls = host_app(make_app, ["example.com"], debug=True)
    response = TestClient(app).get("/", headers={"host": "evil.example:8000"})
    assert response.status_code == 400
    assert "evil.example:8000" in response.text
    assert "allowed_hosts" in response.text
    assert calls == []


def test_host_check_runs_before_anything_else(make_app: Any) -> None:
    app, calls = host_app(make_app, ["example.com"])
    hooks: list[str] = []
    app.before_request(lambda request: hooks.append("before"))
    client = TestClient(app)
    for path in ("/", "/nowhere", "/raw/x"):
        assert client.get(path, headers={"host": "evil.example"}).status_code == 400, path
    assert client.post("/", headers={"host": "evil.example"}).status_code == 400
    assert calls == []
    assert hooks == []


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("example.com", True),
        ("EXAMPLE.COM", True),
        ("Example.Com:8000", True),
        ("example.com:443", True),
        ("example.com:65535", True),
        ("example.com:0", True),
        ("example.com:", True),
        ("example.com.", True),
        ("example.com.:8000", True),
        ("www.example.com", False),
        ("example.co", False),
        ("example.com.evil.example", False),
        ("evilexample.com", False),
        ("example.org", True),
        ("www.example.org", True),
        ("a.b.example.org:8443", True),
        ("WWW.EXAMPLE.ORG.", True),
        ("badexample.org", False),
        ("example.org.evil.example", False),
        ("[::1]:8000", True),
        ("[::1]", True),
        ("[::2]", False),
        ("127.0.0.1", False),
        ("localhost", False),
    ],
)
def test_allowed_hosts_patterns(make_app: Any, host: str, allowed: bool) -> None:
    app, calls = host_app(make_app, ["example.com", ".example.org", "[::1]"])
    assert status_for(app, host) == (200 if allowed else 400)
    assert len(calls) == int(allowed)


def test_allowed_hosts_entries_are_normalised(make_app: Any) -> None:
    app, _ = host_app(make_app, [" Example.COM. ", ".Example.Net", ""])
    assert status_for(app, "example.com") == 200
    assert status_for(app, "api.example.net") == 200
    assert status_for(app, "example.net") == 200
    assert status_for(app, "other.example") == 400


@pytest.mark.parametrize("host", ["example.com", "anything.example:9000", "[::1]:1", "x"])
def test_star_allows_any_host(make_app: Any, host: str) -> None:
    app, _ = host_app(make_app, ["*"])
    assert status_for(app, host) == 200


MALFORMED = [
    "a b",
    "exa mple.com",
    "evil.com/x",
    "@evil",
    "evil.com@example.com",
    "user:pass@example.com",
    "example.com:80:80",
    "example.com:abc",
    "127.0.0.1:99999",
    "example.com:65536",
    "example.com:000080",
    "example.com:-1",
    "example.com?x=1",
    "example.com#frag",
    "example.com\\x",
    "[::1",
    "[::1]x",
    "[example.com]",
    "<script>.example.com",
    '"example.com"',
]


@pytest.mark.parametrize("host", MALFORMED)
def test_malformed_hosts_are_refused(make_app: Any, host: str) -> None:
    app, calls = host_app(make_app, [".example.com"])
    assert status_for(app, host) == 400
    assert calls == []


@pytest.mark.parametrize("host", ["a b", "evil.com/x", "@evil", "example.com:abc",
                                  "127.0.0.1:99999", "[::1]:65536"])
def test_malformed_hosts_are_refused_even_with_star(make_app: Any, host: str) -> None:
    # "*" allows any host name, not a Host header that is no host name at all.
    app, calls = host_app(make_app, ["*"])
    assert status_for(app, host) == 400
    assert calls == []


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("localhost:8000", True),
        ("127.0.0.1", True),
        ("127.0.0.1:5000", True),
        ("[::1]", True),
        ("[::1]:8000", True),
        ("x.localhost", True),
        ("app.x.localhost:3000", True),
        ("localhost.", True),
        ("example.com", False),
        ("localhost.example.com", False),
        ("notlocalhost", False),
        ("127.0.0.2", False),
        ("0.0.0.0", False),
    ],
)
def test_debug_with_empty_allowed_hosts_allows_local_names(
    make_app: Any, host: str, allowed: bool
) -> None:
    app, _ = host_app(make_app, [], debug=True)
    assert status_for(app, host) == (200 if allowed else 400)


def test_production_with_empty_allowed_hosts_does_not_start(make_app: Any) -> None:
    app, _ = host_app(make_app, [])
    problems = app.check()
    assert "heron.security.E001" in [p.id for p in problems]
    with pytest.raises(ImproperlyConfigured, match="allowed_hosts") as info:
        app.setup()
    assert info.value.id == "heron.security.E001"


def test_production_with_empty_allowed_hosts_fails_the_lifespan(make_app: Any) -> None:
    app, _ = host_app(make_app, [])
    sent: list[Message] = []
    incoming: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "allowed_hosts" in sent[0]["message"]


def test_debug_and_star_pass_the_check(make_app: Any) -> None:
    assert not [p for p in host_app(make_app, [], debug=True)[0].check()
                if p.id == "heron.security.E001"]
    assert not [p for p in host_app(make_app, ["*"])[0].check()
                if p.id == "heron.security.E001"]


def test_allowed_hosts_from_the_environment(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERON_ALLOWED_HOSTS", "example.com,.example.org")
    app = App(secret_key="k", access_log=False, root=tmp_path)

    @app.route("/")
    def home() -> str:
        return "home"

    assert status_for(app, "example.com") == 200
    assert status_for(app, "www.example.org") == 200
    assert status_for(app, "evil.example") == 400


def test_test_client_adds_its_own_host(make_app: Any) -> None:
    app, _ = host_app(make_app, ["example.com"])
    client = TestClient(app)
    assert client.get("/").status_code == 200
    assert "testserver" in app.settings.allowed_hosts
    other = TestClient(app, base_url="http://other.test")
    assert other.get("/").status_code == 200


async def call_raw(app: App, headers: list[tuple[bytes, bytes]],
                   server: tuple[str, int] | None, http_version: str = "1.0") -> int:
    """Call the app with a hand-made scope (e.g. HTTP/1.0 without a Host header)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": http_version,
             "method": "GET", "scheme": "http", "path": "/", "raw_path": b"/",
             "root_path": "", "query_string": b"", "headers": headers,
             "server": server, "client": ("127.0.0.1", 5000)}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


async def test_without_a_host_header_the_server_name_is_checked(make_app: Any) -> None:
    app, _ = host_app(make_app, ["example.com"])
    assert await call_raw(app, [], ("example.com", 80)) == 200
    assert await call_raw(app, [], ("10.1.2.3", 80)) == 400
    assert await call_raw(app, [], None) == 400


async def test_an_http_1_1_request_without_host_is_a_400(make_app: Any) -> None:
    # RFC 9112 3.2: even when the server's own name would be allowed.
    app, _ = host_app(make_app, ["example.com"])
    assert await call_raw(app, [], ("example.com", 80), http_version="1.1") == 400
    assert await call_raw(app, [(b"host", b"example.com")], ("example.com", 80),
                          http_version="1.1") == 200
    star, _ = host_app(make_app, ["*"])
    assert await call_raw(star, [], ("10.1.2.3", 80), http_version="1.1") == 400


# -- websockets ----------------------------------------------------------------------------


def ws_app(make_app: Any, **settings: Any) -> App:
    app = make_app(allowed_hosts=["example.com"], **settings)

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    return app


@pytest.mark.parametrize("debug", [False, True])
def test_websocket_with_a_bad_host_is_closed_with_1008(make_app: Any, debug: bool) -> None:
    app = ws_app(make_app, debug=debug)
    client = TestClient(app)
    with pytest.raises(WebSocketDisconnect) as info, \
            client.websocket_connect("ws://evil.example/ws"):
        pass
    assert info.value.code == 1008
    with pytest.raises(WebSocketDisconnect) as info, \
            client.websocket_connect("ws://a b/ws"):
        pass
    assert info.value.code == 1008


def test_websocket_with_an_allowed_host_connects(make_app: Any) -> None:
    app = ws_app(make_app)
    client = TestClient(app)
    with client.websocket_connect("ws://example.com:8000/ws") as ws:
        assert ws.receive_text() == "hello"
    with client.websocket_connect("/ws") as ws:  # testserver, added by the client
        assert ws.receive_text() == "hello"


def test_a_mounted_heron_app_without_hosts_of_its_own_serves_its_parents() -> None:
    inner = App(secret_key="k", access_log=False)
    inner.add_route("/x", lambda: "x")
    outer = App(secret_key="k", access_log=False, allowed_hosts=["example.com"])
    outer.mount("/in", inner)
    with TestClient(outer, base_url="http://example.com") as client:
        assert client.get("/in/x").status_code == 200
        assert client.get("/in/x", headers={"host": "evil.com"}).status_code == 400
    assert inner.settings.allowed_hosts == ["example.com"]
