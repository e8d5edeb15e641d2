"""Page caching: ``@cache_page`` on views and routers and the site-wide page cache, on the
memory store and a real redis-server; what is never cached; the headers emitted."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from heron import App, Request, Response, Router
from heron.cache import cache_page, never_cache
from heron.exceptions import HTTPException, ImproperlyConfigured
from heron.testing import TestClient

AppFactory = Callable[..., App]


@pytest.fixture(params=["memory", "redis"])
def cache_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
def make_app(tmp_path: Path, cache_url: str) -> AppFactory:
    def make(**settings: Any) -> App:
        return App(root=tmp_path, secret_key="s" * 40, allowed_hosts=["testserver"],
                   cache_url=cache_url, cache_debug_header=True, **settings)

    return make


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


@pytest.fixture
def counter() -> Counter:
    return Counter()


def served(app: App) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def test_a_cached_view_runs_once(make_app: AppFactory, counter: Counter) -> None:
    app = make_app()

    @app.get("/")
    @cache_page(60)
    def home() -> str:
        return f"<p>{counter()}</p>"

    with TestClient(app) as client:
        first = client.get("/")
        assert first.text == "<p>1</p>"
        assert first.headers["x-heron-cache"] == "miss"
        assert first.headers["cache-control"] == "max-age=60"
        assert "expires" in first.headers
        second = client.get("/")
        assert second.text == "<p>1</p>"
        assert second.headers["x-heron-cache"] == "hit"
        assert second.headers["age"] == "0"
        assert second.headers["expires"] == first.headers["expires"]
        assert second.headers["content-type"] == first.headers["content-type"]
        # security headers are added to each response, the hit's too
        assert second.headers["x-content-type-options"] == "nosniff"
    assert counter.calls == 1


def test_async_views_and_query_strings(make_app: AppFactory, counter: Counter) -> None:
    app = make_app()

    @app.get("/search")
    @cache_page(60)
    async def search(q: str = "") -> dict[str, Any]:
        return {"q": q, "n": counter()}

    with TestClient(app) as client:
        assert client.get("/search?q=a").json() == {"q": "a", "n": 1}
        assert client.get("/search?q=b").json() == {"q": "b", "n": 2}
        assert client.get("/search?q=a").json() == {"q": "a", "n": 1}


def test_pages_expire(make_app: AppFactory, counter: Counter) -> None:
    app = make_app()

    @app.get("/")
    @cache_page(1)
    def home() -> str:
        return str(counter())

    with TestClient(app) as client:
        assert client.get("/").text == "1"
        assert client.get("/").text == "1"
        time.sleep(1.2)
        assert client.get("/").text == "2"


def test_a_router_caches_every_route(make_app: AppFactory, counter: Counter) -> None:
    app = make_app()
    blog = cache_page(60)(Router("/blog", name="blog"))

    @blog.get("/")
    def index() -> str:
        return f"index {counter()}"

    @blog.get("/fresh")
    @never_cache
    def fresh() -> str:
        return f"fresh {counter()}"

    @blog.get("/short")
    @cache_page(1)
    def short() -> str:
        return f"short {counter()}"

    app.include(blog)
    with TestClient(app) as client:
        assert client.get("/blog/").text == client.get("/blog/").text == "index 1"
        assert client.get("/blog/fresh").text == "fresh 2"
        never = client.get("/blog/fresh")
        assert never.text == "fresh 3"
        assert "no-store" in never.headers["cache-control"]
        assert "x-heron-cache" not in never.headers
        assert client.get("/blog/short").headers["cache-control"] == "max-age=1"


def test_the_site_wide_cache(make_app: AppFactory, counter: Counter) -> None:
    app = make_app(cache_site_seconds=30)

    @app.get("/")
    def home() -> str:
        return f"home {counter()}"

    @app.get("/live")
    @never_cache
    def live() -> str:
        return f"live {counter()}"

    @app.get("/own")
    @cache_page(5)
    def own() -> str:
        return f"own {counter()}"

    @app.post("/write")
    def write() -> str:
        return f"write {counter()}"

    with TestClient(app) as client:
        assert client.get("/").text == client.get("/").text == "home 1"
        assert client.get("/").headers["cache-control"] == "max-age=30"
        assert client.get("/live").text != client.get("/live").text
        assert client.get("/own").headers["cache-control"] == "max-age=5"
        assert client.post("/write").text != client.post("/write").text


def test_head_is_answered_from_the_get_copy(make_app: AppFactory, counter: Counter) -> None:
    app = make_app()

    @app.get("/")
    @cache_page(60)
    def home() -> str:
        return f"home {counter()}"

    with TestClient(app) as client:
        client.get("/")
        head = client.head("/")
        assert head.status_code == 200
        assert head.headers["x-heron-cache"] == "hit"
        assert head.content == b""
    assert counter.calls == 1


def test_a_head_first_stores_nothing(make_app: AppFactory, counter: Counter) -> None:
    app = make_app()

    @app.get("/")
    @cache_page(60)
    def home() -> str:
        return f"home {counter()}"

    with TestClient(app) as client:
        client.head("/")
        assert client.get("/").text == "home 2"  # the HEAD's response was not stored


@pytest.mark.parametrize("reason", ["cookie", "private", "no-store", "no-cache", "status",
                                    "vary-star", "streamed"])
def test_responses_that_are_never_stored(make_app: AppFactory, counter: Counter,
                                         reason: str) -> None:
    app = make_app()

    @app.get("/")
    @cache_page(60)
    def home() -> Response:
        text = f"page {counter()}"
        response = Response(text, media_type="text/plain")
        if reason == "cookie":
            response.set_cookie("seen", "1")
        elif reason in ("private", "no-store", "no-cache"):
            response.headers["cache-control"] = reason
        elif reason == "status":
            response.status_code = 201
        elif reason == "vary-star":
            response.headers["vary"] = "*"
        else:
            from heron import StreamingResponse

            async def body() -> Any:
                yield text.encode()

            return StreamingResponse(body())
        return response

    with TestClient(app) as client:
        assert client.get("/").headers["x-heron-cache"] == "bypass"
        client.get("/")
    assert counter.calls == 2


def test_a_page_that_reads_the_session_is_not_shared(make_app: AppFactory,
                                                    counter: Counter) -> None:
    app = make_app()

    @app.get("/me")
    @cache_page(60)
    def me(request: Request) -> str:
        visits = request.session.get("visits", 0) + 1
        request.session["visits"] = visits
        return f"visit {visits} ({counter()})"

    with TestClient(app) as alice, TestClient(app) as bob:
        assert alice.get("/me").text == "visit 1 (1)"
        assert alice.get("/me").text == "visit 2 (2)"
        assert bob.get("/me").text == "visit 1 (3)"


def test_authorization_bypasses_unless_varied_on(make_app: AppFactory,
                                                 counter: Counter) -> None:
    app = make_app()

    @app.get("/shared")
    @cache_page(60)
    def shared(request: Request) -> str:
        return f"{request.headers.get('authorization')} {counter()}"

    @app.get("/per-token")
    @cache_page(60, vary=["Authorization"])
    def per_token(request: Request) -> str:
        return f"{request.headers.get('authorization')} {counter()}"

    with TestClient(app) as client:
        client.get("/shared")
        token = {"authorization": "Bearer one"}
        assert client.get("/shared", headers=token).text == "Bearer one 2"
        assert client.get("/shared", headers=token).headers["x-heron-cache"] == "bypass"
        assert client.get("/per-token", headers=token).text == "Bearer one 4"
        assert client.get("/per-token", headers=token).text == "Bearer one 4"
        other = client.get("/per-token", headers={"authorization": "Bearer two"})
        assert other.text == "Bearer two 5"
        assert "Authorization" in other.headers["vary"]


def test_copies_are_keyed_on_the_varied_headers(make_app: AppFactory,
                                                counter: Counter) -> None:
    app = make_app()

    @app.get("/hello")
    @cache_page(60)
    def hello(request: Request) -> Response:
        language = request.headers.get("accept-language", "en")[:2]
        text = {"fr": "bonjour", "en": "hello"}[language]
        return Response(f"{text} {counter()}", headers={"vary": "Accept-Language"})

    @app.get("/theme")
    @cache_page(60, vary=["X-Theme"])
    def theme(request: Request) -> str:
        return f"{request.headers.get('x-theme')} {counter()}"

    with TestClient(app) as client:
        assert client.get("/hello").text == "hello 1"
        french = {"accept-language": "fr"}
        assert client.get("/hello", headers=french).text == "bonjour 2"
        assert client.get("/hello", headers=french).text == "bonjour 2"
        assert client.get("/hello").text == "hello 1"
        assert client.get("/theme", headers={"x-theme": "dark"}).text == "dark 3"
        light = client.get("/theme", headers={"x-theme": "light"})
        assert light.text == "light 4"
        assert light.headers["vary"] == "X-Theme"
        assert client.get("/theme", headers={"x-theme": "dark"}).text == "dark 3"


def test_a_key_function_joins_urls(make_app: AppFactory, counter: Counter) -> None:
    app = make_app()

    @app.get("/items")
    @cache_page(60, key=lambda request: request.query_params.get("id", ""))
    def items(request: Request) -> str:
        return f"{request.query_params.get('id')} {counter()}"

    async def by_path(request: Request) -> str:
        return request.url.path

    @app.get("/tracked")
    @cache_page(60, key=by_path)
    def tracked() -> str:
        return f"tracked {counter()}"

    with TestClient(app) as client:
        assert client.get("/items?id=1&utm=a").text == "1 1"
        assert client.get("/items?utm=b&id=1").text == "1 1"
        assert client.get("/items?id=2").text == "2 2"
        assert client.get("/tracked?ref=x").text == client.get("/tracked?ref=y").text


def test_error_pages_are_kept_per_accept(make_app: AppFactory, counter: Counter) -> None:
    app = make_app()

    @app.get("/posts/{id:int}")
    @cache_page(60)
    def post(id: int) -> str:
        counter()
        raise HTTPException(404)

    @app.get("/broken")
    @cache_page(60)
    def broken() -> str:
        counter()
        raise HTTPException(403)

    with TestClient(app) as client:
        html = client.get("/posts/1")
        assert html.status_code == 404
        assert "accept" in html.headers["vary"].lower()
        assert client.get("/posts/1").headers["x-heron-cache"] == "hit"
        as_json = client.get("/posts/1", headers={"accept": "application/json"})
        assert as_json.headers["content-type"] == "application/problem+json"
        assert client.get("/posts/1", headers={"accept": "application/json"}).headers[
            "content-type"] == "application/problem+json"
        assert counter.calls == 2  # once per kind of client
        client.get("/broken")
        client.get("/broken")  # a 403 is never stored
    assert counter.calls == 4


def test_a_csp_nonce_page_is_not_replayed(make_app: AppFactory, tmp_path: Path,
                                          counter: Counter) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "nonce.html").write_text(
        '<script nonce="{{ csp_nonce() }}">go()</script>')
    app = make_app(content_security_policy="script-src 'nonce-{nonce}'")

    @app.get("/")
    @cache_page(60)
    def home(request: Request) -> Any:
        counter()
        from heron import render

        return render(request, "nonce.html")

    with TestClient(app) as client:
        for _ in range(2):
            page = client.get("/")
            nonce = page.text.split('nonce="')[1].split('"')[0]
            assert f"'nonce-{nonce}'" in page.headers["content-security-policy"]
    assert counter.calls == 2


def test_the_views_own_shorter_max_age_wins(make_app: AppFactory) -> None:
    app = make_app()

    @app.get("/")
    @cache_page(60)
    def home() -> Response:
        return Response("x", headers={"cache-control": "public, max-age=10"})

    with TestClient(app) as client:
        assert client.get("/").headers["cache-control"] == "public, max-age=10"


def test_debug_header_follows_debug(tmp_path: Path) -> None:
    app = App(root=tmp_path, debug=False, secret_key="s" * 40, allowed_hosts=["testserver"])

    @app.get("/")
    @cache_page(60)
    def home() -> str:
        return "x"

    with TestClient(app) as client:
        assert "x-heron-cache" not in client.get("/").headers


def test_an_unknown_cache_is_a_startup_error(make_app: AppFactory) -> None:
    app = make_app()

    @app.get("/")
    @cache_page(60, cache="pages")
    def home() -> str:
        return "x"

    with pytest.raises(ImproperlyConfigured) as error:
        app.setup()
    assert error.value.id == "heron.cache.E004"
    assert "'pages'" in str(error.value)


def test_a_named_cache_holds_the_pages(make_app: AppFactory, counter: Counter) -> None:
    app = make_app(caches={"pages": "memory://?max_entries=100"}, cache_pages="pages")

    @app.get("/")
    @cache_page(60)
    def home() -> str:
        return str(counter())

    with TestClient(app) as client:
        client.get("/")
        assert client.get("/").headers["x-heron-cache"] == "hit"
        app.caches["pages"].clear()
        assert client.get("/").text == "2"


@pytest.mark.parametrize("bad", [0, -5, 1.5, True, "60"])
def test_bad_seconds(bad: Any) -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        cache_page(bad)


def test_a_cache_that_is_down_serves_the_view(tmp_path: Path, counter: Counter) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = App(root=tmp_path, secret_key="s" * 40, allowed_hosts=["testserver"],
              cache_url=f"redis://127.0.0.1:{port}/0?timeout=0.5")

    @app.get("/")
    @cache_page(60)
    def home() -> str:
        return str(counter())

    with TestClient(app) as client:
        started = time.monotonic()
        assert [client.get("/").status_code for _ in range(5)] == [200] * 5
        assert time.monotonic() - started < 5
    assert counter.calls == 5
