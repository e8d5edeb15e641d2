"""The docs page and its assets: content types, cache headers, CSP-friendly HTML, the
CSRF token, 404s for anything else, settings that turn them off or move them, and an
app's own routes winning."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from heron import App, Request
from heron.testing import TestClient

STATIC = Path(__file__).resolve().parents[2] / "src" / "heron" / "openapi" / "static"


def make(**settings: Any) -> App:
    settings.setdefault("secret_key", "test-secret-key")
    settings.setdefault("allowed_hosts", ["testserver"])
    settings.setdefault("access_log", False)
    settings.setdefault("openapi_enabled", True)  # no typed API route below
    app = App(**settings)

    @app.get("/items")
    async def items(q: str | None = None) -> list[str]:
        return []

    @app.post("/items", status_code=201)
    async def add(name: str) -> dict[str, str]:
        return {"name": name}

    return app


@pytest.fixture
def client() -> Any:
    with TestClient(make()) as client:
        yield client


def digest(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:16]


def test_the_page_loads_the_viewer_by_url(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    html = page.text
    assert f'<script src="/docs/assets/docs.js?v={digest("docs.js")}" defer></script>' in html
    assert f'<link rel="stylesheet" href="/docs/assets/docs.css?v={digest("docs.css")}">' in html
    assert 'data-openapi-url="/openapi.json"' in html
    assert '<html lang="en">' in html
    assert "<title>heron API · API docs</title>" in html
    # Nothing inline that the default policy would block: every script has a src, no
    # handler attributes.
    assert re.findall(r"<script\b[^>]*>", html) == [
        f'<script src="/docs/assets/docs.js?v={digest("docs.js")}" defer>']
    assert not re.search(r"\son[a-z]+=", html)
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy  # no nonce was needed


def test_the_page_carries_the_csrf_token_of_the_session(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.headers["cache-control"] == "no-store"
    token = re.search(r'<meta name="csrf-token" content="([^"]+)" data-header="X-CSRF-Token">',
                      page.text)
    assert token is not None
    assert "heron_session" in client.cookies
    # The token is good for an unsafe request of the same session.
    ok = client.post("/items?name=owl", headers={"x-csrf-token": token.group(1)})
    assert ok.status_code == 201
    assert client.post("/items?name=owl").status_code == 403


def test_without_csrf_there_is_no_token_and_no_session() -> None:
    with TestClient(make(csrf=False, csrf_header_name="X-Token")) as client:
        page = client.get("/docs")
    assert 'name="csrf-token"' not in page.text
    assert page.headers["cache-control"] == "no-cache"
    assert "set-cookie" not in page.headers


@pytest.mark.parametrize(("name", "media_type"), [("docs.js", "text/javascript"),
                                                  ("docs.css", "text/css")])
def test_assets_types_and_caching(client: TestClient, name: str, media_type: str) -> None:
    current = client.get(f"/docs/assets/{name}?v={digest(name)}")
    assert current.status_code == 200
    assert current.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert current.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert current.headers["x-content-type-options"] == "nosniff"
    assert current.content == (STATIC / name).read_bytes()
    etag = current.headers["etag"]
    assert etag == f'"{digest(name)}"'
    # Without the hash (or with an old one), revalidate each time: ETag and 304.
    for url in (f"/docs/assets/{name}", f"/docs/assets/{name}?v=0123456789abcdef"):
        plain = client.get(url)
        assert plain.headers["cache-control"] == "no-cache"
        again = client.get(url, headers={"if-none-match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag


@pytest.mark.parametrize("path", [
    "/docs/assets/nope.js", "/docs/assets/..%2Fviews.py", "/docs/assets/..%2F__init__.py",
    "/docs/assets/%2E%2E%2Fviews.py", "/docs/assets/DOCS.JS",
    "/docs/assets/static%2Fdocs.js", "/docs/assets/",
])
def test_unknown_assets_are_404(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 404
    assert b"import " not in response.content  # never a Python file


def test_a_nul_in_an_asset_path_is_400(client: TestClient) -> None:
    response = client.get("/docs/assets/docs.js%00")
    assert response.status_code == 400  # refused before routing, as in any path
    assert b"import " not in response.content


def test_the_viewer_is_csp_friendly() -> None:
    script = (STATIC / "docs.js").read_text()
    for forbidden in ("innerHTML", "outerHTML", "eval(", "new Function", "document.write",
                      "http://", "https://cdn"):
        assert forbidden not in script, forbidden
    css = (STATIC / "docs.css").read_text()
    assert "@import" not in css
    assert "url(" not in css


def test_settings_none_turn_them_off() -> None:
    with TestClient(make(openapi_url=None)) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404
        assert client.get("/docs/assets/docs.js").status_code == 404
    with TestClient(make(docs_url=None)) as client:
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/docs").status_code == 404
        assert client.get("/docs/assets/docs.js").status_code == 404


def test_other_urls_and_an_escaped_title() -> None:
    app = make(openapi_url="/api/schema.json", docs_url="/api/docs/",
               openapi_title='Shop <script>alert("x")</script>')
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 404
        schema = client.get("/api/schema.json").json()
        page = client.get("/api/docs")
        js = client.get("/api/docs/assets/docs.js")
    assert schema["info"]["title"] == 'Shop <script>alert("x")</script>'
    assert list(schema["paths"]) == ["/items"]  # its own URLs are not in it
    assert page.status_code == 200
    assert js.status_code == 200
    assert 'data-openapi-url="/api/schema.json"' in page.text
    assert "/api/docs/assets/docs.css?v=" in page.text
    assert "<script>alert" not in page.text
    assert "Shop &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.text


def test_an_app_route_wins() -> None:
    app = make()

    @app.get("/docs")
    async def my_docs() -> str:
        return "<p>my docs</p>"

    @app.get("/openapi.json")
    async def my_schema() -> dict[str, Any]:
        return {"mine": True}

    with TestClient(app) as client:
        assert client.get("/docs").text == "<p>my docs</p>"
        assert client.get("/openapi.json").json() == {"mine": True}
        assert client.get("/docs/assets/docs.js").status_code == 404


def test_under_a_mount_the_page_links_with_the_prefix() -> None:
    inner = make()
    outer = App(secret_key="k", allowed_hosts=["testserver"], access_log=False,
                openapi_url=None)
    outer.mount("/v1", inner)

    @outer.get("/")
    async def home(request: Request) -> str:
        return "home"

    with TestClient(outer) as client:
        page = client.get("/v1/docs")
        assert 'data-openapi-url="/v1/openapi.json"' in page.text
        css = re.search(r'href="(/v1/docs/assets/docs\.css\?v=\w+)"', page.text)
        assert css is not None
        assert client.get(css.group(1)).status_code == 200
        assert client.get("/v1/openapi.json").json()["servers"] == [{"url": "/v1"}]
