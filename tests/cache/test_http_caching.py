"""HTTP caching headers on views: ``@cache_control``, ``@never_cache``, ``@condition``
(304 and 412 before the view runs, RFC 9110's order) and automatic weak ETags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from heron import App, Request, Response, Router, StreamingResponse
from heron.cache import cache_control, condition, never_cache, patch_cache_control
from heron.testing import TestClient

UPDATED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def http_date(value: datetime) -> str:
    return format_datetime(value, usegmt=True)


@pytest.fixture
def app(tmp_path: Path) -> App:
    return App(root=tmp_path, debug=True)


def test_cache_control_on_a_view_and_a_router(app: App) -> None:
    @app.get("/logo")
    @cache_control(max_age=3600, public=True, immutable=True)
    def logo() -> str:
        return "logo"

    private = cache_control(private=True, max_age=60)(Router("/me"))

    @private.get("/")
    def me() -> str:
        return "me"

    @private.get("/inbox")
    @cache_control(no_store=True)
    def inbox() -> str:
        return "inbox"

    app.include(private)
    with TestClient(app) as client:
        assert client.get("/logo").headers["cache-control"] == "max-age=3600, public, immutable"
        assert client.get("/me/").headers["cache-control"] == "private, max-age=60"
        assert client.get("/me/inbox").headers["cache-control"] == "no-store"  # the view's wins


def test_cache_control_merges_with_the_views_header(app: App) -> None:
    @app.get("/")
    @cache_control(max_age=600, public=True)
    def home() -> Response:
        return Response("x", headers={"cache-control": "private, max-age=30"})

    with TestClient(app) as client:
        # public replaced private; the view's shorter max-age is kept
        assert client.get("/").headers["cache-control"] == "max-age=30, public"


def test_public_and_private_together_are_refused() -> None:
    with pytest.raises(ValueError, match="exclude each other"):
        cache_control(public=True, private=True)


def test_patch_cache_control_removes_with_false() -> None:
    response = Response("x", headers={"cache-control": "no-cache, max-age=5"})
    patch_cache_control(response, no_cache=False, s_maxage=20)
    assert response.headers["cache-control"] == "max-age=5, s-maxage=20"
    patch_cache_control(response, max_age=None, s_maxage=None)
    assert "cache-control" not in response.headers


def test_never_cache(app: App) -> None:
    @app.get("/")
    @never_cache
    def home() -> Response:
        return Response("x", headers={"cache-control": "public, max-age=999"})

    with TestClient(app) as client:
        response = client.get("/")
    directives = {d.strip() for d in response.headers["cache-control"].split(",")}
    assert directives == {"max-age=0", "no-cache", "no-store", "must-revalidate", "private"}
    assert response.headers["expires"]


def test_decorating_something_else_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="view function or a Router"):
        never_cache(42)


# -- @condition ----------------------------------------------------------------------------


class Post:
    """What the view and its cheap validators read."""

    def __init__(self) -> None:
        self.version = 1
        self.updated = UPDATED
        self.views = 0


@pytest.fixture
def post() -> Post:
    return Post()


@pytest.fixture
def conditional_app(app: App, post: Post) -> App:
    def post_etag(request: Request, id: int) -> str:
        return f"post-{id}-v{post.version}"

    async def post_updated(request: Request, id: int) -> datetime:
        return post.updated

    @app.get("/posts/{id:int}")
    @condition(etag=post_etag, last_modified=post_updated)
    def show(id: int) -> dict[str, Any]:
        post.views += 1
        return {"id": id, "version": post.version}

    @app.put("/posts/{id:int}")
    @condition(etag=post_etag)
    def update(id: int) -> dict[str, Any]:
        post.version += 1
        return {"id": id, "version": post.version}

    @app.get("/dated")
    @condition(last_modified=lambda request: UPDATED.replace(tzinfo=None))  # naive: UTC
    def dated() -> str:
        post.views += 1
        return "dated"

    return app


def test_the_first_request_gets_the_validators(conditional_app: App, post: Post) -> None:
    with TestClient(conditional_app) as client:
        response = client.get("/posts/7")
    assert response.json() == {"id": 7, "version": 1}
    assert response.headers["etag"] == '"post-7-v1"'
    assert response.headers["last-modified"] == http_date(UPDATED)
    assert post.views == 1


@pytest.mark.parametrize("headers", [
    {"if-none-match": '"post-7-v1"'},
    {"if-none-match": 'W/"post-7-v1"'},  # weak comparison for If-None-Match
    {"if-none-match": '"other", "post-7-v1"'},
    {"if-none-match": "*"},
    {"if-modified-since": http_date(UPDATED)},
    {"if-modified-since": http_date(UPDATED + timedelta(days=1))},
])
def test_a_current_copy_gets_304_without_the_view(conditional_app: App, post: Post,
                                                  headers: dict[str, str]) -> None:
    with TestClient(conditional_app) as client:
        response = client.get("/posts/7", headers=headers)
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == '"post-7-v1"'
    assert post.views == 0


@pytest.mark.parametrize("headers", [
    {"if-none-match": '"post-7-v0"'},
    {"if-modified-since": http_date(UPDATED - timedelta(seconds=1))},
    {"if-modified-since": "not a date"},
    # If-None-Match wins over If-Modified-Since
    {"if-none-match": '"stale"', "if-modified-since": http_date(UPDATED)},
])
def test_a_stale_copy_gets_the_page(conditional_app: App, post: Post,
                                    headers: dict[str, str]) -> None:
    with TestClient(conditional_app) as client:
        assert client.get("/posts/7", headers=headers).status_code == 200
    assert post.views == 1


def test_a_write_with_a_stale_etag_is_refused(conditional_app: App, post: Post) -> None:
    with TestClient(conditional_app) as client:
        stale = client.put("/posts/7", headers={"if-match": '"post-7-v0"'})
        assert stale.status_code == 412
        assert post.version == 1
        weak = client.put("/posts/7", headers={"if-match": 'W/"post-7-v1"'})
        assert weak.status_code == 412  # If-Match compares strongly
        fresh = client.put("/posts/7", headers={"if-match": '"post-7-v1"'})
        assert fresh.json() == {"id": 7, "version": 2}
        assert fresh.headers["etag"] == '"post-7-v1"'  # computed before the write
        lost = client.put("/posts/7", headers={"if-none-match": "*"})
        assert lost.status_code == 412  # If-None-Match on a write: precondition failed


def test_if_unmodified_since(app: App, post: Post) -> None:
    @app.post("/posts/{id:int}/publish")
    @condition(last_modified=lambda request, id: post.updated)
    def publish(id: int) -> str:
        post.views += 1
        return "published"

    with TestClient(app) as client:
        before = http_date(UPDATED - timedelta(hours=1))
        assert client.post("/posts/1/publish",
                           headers={"if-unmodified-since": before}).status_code == 412
        after = http_date(UPDATED)
        assert client.post("/posts/1/publish",
                           headers={"if-unmodified-since": after}).status_code == 200


def test_naive_datetimes_are_utc(conditional_app: App, post: Post) -> None:
    with TestClient(conditional_app) as client:
        response = client.get("/dated")
        assert response.headers["last-modified"] == http_date(UPDATED)
        assert client.get("/dated", headers={
            "if-modified-since": response.headers["last-modified"]}).status_code == 304
    assert post.views == 1


def test_errors_from_the_view_get_no_validators(app: App) -> None:
    @app.get("/gone")
    @condition(etag=lambda request: "v1")
    def gone() -> Response:
        return Response("gone", status_code=410)

    with TestClient(app) as client:
        response = client.get("/gone")
    assert response.status_code == 410
    assert "etag" not in response.headers


def test_condition_needs_a_function() -> None:
    with pytest.raises(ValueError, match="etag=, last_modified="):
        condition()


def test_an_etag_with_a_quote_is_refused(app: App) -> None:
    @app.get("/")
    @condition(etag=lambda request: 'bad"tag')
    def home() -> str:
        return "x"

    with TestClient(app) as client:
        assert client.get("/").status_code == 500


# -- automatic ETags ------------------------------------------------------------------------


def test_automatic_weak_etags(tmp_path: Path) -> None:
    app = App(root=tmp_path, debug=True, cache_etags=True)
    calls = []

    @app.get("/")
    def home() -> str:
        calls.append(1)
        return "<p>same every time</p>"

    @app.get("/stream")
    def stream() -> StreamingResponse:
        async def body() -> Any:
            yield b"chunk"

        return StreamingResponse(body())

    @app.get("/tagged")
    def tagged() -> Response:
        return Response("x", headers={"etag": '"mine"'})

    @app.post("/")
    def write() -> str:
        return "written"

    with TestClient(app) as client:
        first = client.get("/")
        etag = first.headers["etag"]
        assert etag.startswith('W/"')
        assert client.get("/").headers["etag"] == etag  # the same body, the same tag
        again = client.get("/", headers={"if-none-match": etag})
        assert again.status_code == 304
        assert again.headers["etag"] == etag
        assert "etag" not in client.get("/stream").headers
        assert client.get("/tagged").headers["etag"] == '"mine"'
        assert "etag" not in client.post("/").headers
    assert len(calls) == 3  # the view runs: the ETag saves bandwidth, not work


def test_automatic_etags_are_off_by_default(app: App) -> None:
    @app.get("/")
    def home() -> str:
        return "x"

    with TestClient(app) as client:
        assert "etag" not in client.get("/").headers
