"""Routes, routers (blueprints), mounts and URL building through a real app."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse as StarletteJSON
from starlette.routing import Route as StarletteRoute

from heron import App, ImproperlyConfigured, Request, Router, URLBuildError, WebSocket
from heron.testing import TestClient
from heron.types import Receive, Scope, Send

# -- decorators ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_app_method_decorators(app: App, method: str) -> None:
    getattr(app, method)("/thing")(lambda: method)
    with TestClient(app) as client:
        response = client.request(method.upper(), "/thing")
    assert response.status_code == 200
    assert response.text == method


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_router_method_decorators(app: App, method: str) -> None:
    router = Router()
    getattr(router, method)("/thing")(lambda: method)
    app.include(router)
    with TestClient(app) as client:
        assert client.request(method.upper(), "/thing").text == method


def test_route_with_several_methods(app: App) -> None:
    @app.route("/form", methods=["GET", "POST"])
    async def form(request: Request) -> str:
        return request.method

    with TestClient(app) as client:
        assert client.get("/form").text == "GET"
        assert client.post("/form").text == "POST"


def test_websocket_decorators_on_app_and_router(app: App) -> None:
    router = Router(prefix="/r")

    @app.websocket("/ws/{room}")
    async def room(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_text(f"app {room}")

    @router.websocket("/ws")
    async def routed(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("router")

    app.include(router)
    with TestClient(app) as client:
        with client.websocket_connect("/ws/lobby") as ws:
            assert ws.receive_text() == "app lobby"
        with client.websocket_connect("/r/ws") as ws:
            assert ws.receive_text() == "router"


def test_add_route_without_decorator(app: App) -> None:
    async def hello() -> str:
        return "hi"

    app.add_route("/hello", hello)
    with TestClient(app) as client:
        assert client.get("/hello").text == "hi"


def test_routes_cannot_be_added_after_startup(app: App) -> None:
    app.get("/")(lambda: "x")
    with TestClient(app), pytest.raises(RuntimeError, match="started"):
        app.get("/late")(lambda: "x")


# -- path parameters ----------------------------------------------------------


def test_path_parameters_are_converted_for_async_and_sync_views(app: App) -> None:
    @app.get("/a/{id:int}")
    async def a(id: int) -> dict[str, Any]:
        return {"id": id, "type": type(id).__name__}

    @app.get("/s/{x:float}")
    def s(x: float) -> dict[str, Any]:
        return {"x": x}

    with TestClient(app) as client:
        assert client.get("/a/5").json() == {"id": 5, "type": "int"}
        assert client.get("/s/1.5").json() == {"x": 1.5}


def test_uuid_and_path_parameters(app: App) -> None:
    @app.get("/k/{key:uuid}")
    async def k(key: uuid.UUID) -> str:
        return key.hex

    @app.get("/f/{rest:path}")
    async def f(rest: str) -> str:
        return rest

    key = uuid.uuid4()
    with TestClient(app) as client:
        assert client.get(f"/k/{key}").text == key.hex
        assert client.get("/f/a/b/c.txt").text == "a/b/c.txt"


def test_absurd_path_numbers_are_404_for_converters_and_422_for_typed_views(app: App) -> None:
    @app.get("/a/{id:int}")
    async def a(id: int) -> int:
        return id

    @app.get("/f/{x:float}")
    async def f(x: float) -> float:
        return x

    @app.get("/k/{key:uuid}")
    async def k(key: uuid.UUID) -> str:
        return key.hex

    @app.get("/typed/{id}")
    async def typed(id: int) -> int:
        return id

    huge = "9" * 4301
    with TestClient(app) as client:
        # The converter rejects the text: the path does not match, as for any non-number.
        assert client.get(f"/a/{huge}").status_code == 404
        assert client.get(f"/f/{huge}").status_code == 404
        assert client.get(f"/f/{huge}.5").status_code == 404
        assert client.get("/k/" + "f" * 5000).status_code == 404
        assert client.get("/k/3f2504e0-4f89-41d3-9a0c-0305e82c33011").status_code == 404
        # A plain {id} typed int by the view is validated: 422, as for "x".
        response = client.get(f"/typed/{huge}")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "id"


def test_mixed_segment(app: App) -> None:
    @app.get("/files/{name}.{ext}")
    async def file(name: str, ext: str) -> dict[str, str]:
        return {"name": name, "ext": ext}

    with TestClient(app) as client:
        assert client.get("/files/report.pdf").json() == {"name": "report", "ext": "pdf"}


def test_percent_encoded_parameter_is_decoded(app: App) -> None:
    @app.get("/tags/{tag}")
    async def tag(tag: str) -> str:
        return tag

    with TestClient(app) as client:
        assert client.get("/tags/caf%C3%A9%20au%20lait").text == "café au lait"


def test_view_gets_request_and_params_together(app: App) -> None:
    @app.get("/u/{id:int}")
    def user(request: Request, id: int) -> dict[str, Any]:
        return {"id": id, "params": request.path_params, "path": request.path}

    with TestClient(app) as client:
        assert client.get("/u/3").json() == {"id": 3, "params": {"id": 3}, "path": "/u/3"}


def test_optional_argument_with_default_is_allowed(app: App) -> None:
    @app.get("/d")
    async def d(flag: str = "default") -> str:
        return flag

    with TestClient(app) as client:
        assert client.get("/d").text == "default"


def test_argument_heron_cannot_supply_is_a_startup_error(app: App) -> None:
    @app.get("/p/{id:int}")
    async def view(id: int, session: object) -> str:
        return "x"

    problems = app.check()
    assert [p.id for p in problems] == ["heron.params.E001"]
    assert "'session'" in str(problems[0])
    with pytest.raises(RuntimeError, match=r"heron\.params\.E001"), TestClient(app):
        pass


# -- routers ------------------------------------------------------------------


def test_router_prefix(app: App) -> None:
    router = Router(prefix="/api")
    router.get("/items")(lambda: "items")
    app.include(router)
    with TestClient(app) as client:
        assert client.get("/api/items").text == "items"
        assert client.get("/items").status_code == 404


def test_include_with_extra_prefix(app: App) -> None:
    router = Router(prefix="/items")
    router.get("/")(lambda: "list")
    app.include(router, prefix="/v1")
    with TestClient(app) as client:
        assert client.get("/v1/items/").text == "list"


def test_nested_routers_join_prefixes_and_names(app: App) -> None:
    api = Router(prefix="/api", name="api")
    v2 = Router(prefix="/v2", name="v2")

    @v2.get("/users/{id:int}")
    async def user(id: int) -> str:
        return f"user {id}"

    api.include(v2)
    app.include(api)
    with TestClient(app) as client:
        assert client.get("/api/v2/users/1").text == "user 1"
    assert app.url_for("api:v2:user", id=1) == "/api/v2/users/1"


def test_router_cannot_include_itself() -> None:
    router = Router()
    with pytest.raises(ImproperlyConfigured):
        router.include(router)


@pytest.mark.parametrize("prefix", ["api", "/api/"])
def test_bad_router_prefix(prefix: str) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        Router(prefix=prefix)
    assert info.value.id == "heron.routing.E007"


@pytest.mark.parametrize("name", ["", "a:b"])
def test_bad_router_name_is_e013(name: str) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        Router(name=name)
    assert info.value.id == "heron.routing.E013"


@pytest.mark.parametrize("name", ["", "a:b"])
def test_bad_route_name_is_e014(name: str) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        Router().add_route("/x", lambda: "x", name=name)
    assert info.value.id == "heron.routing.E014"


def test_router_before_hook_runs_only_for_its_routes(app: App) -> None:
    seen: list[str] = []
    router = Router(prefix="/r")

    @router.before_request
    def remember(request: Request) -> None:
        seen.append(request.path)

    router.get("/in", name="in")(lambda: "in")
    app.get("/out", name="out")(lambda: "out")
    app.include(router)
    with TestClient(app) as client:
        client.get("/r/in")
        client.get("/out")
    assert seen == ["/r/in"]


def test_before_hook_returning_a_value_skips_the_view(app: App) -> None:
    router = Router(prefix="/admin")

    @router.before_request
    async def guard(request: Request) -> Any:
        if "token" not in request.query_params:
            return "denied", 403
        return None

    router.get("/")(lambda: "secret area")
    app.include(router)
    with TestClient(app) as client:
        assert client.get("/admin/").status_code == 403
        assert client.get("/admin/?token=1").text == "secret area"


def test_hooks_run_outermost_first_then_innermost_after(app: App) -> None:
    order: list[str] = []
    outer = Router(prefix="/o")
    inner = Router(prefix="/i")
    app.before_request(lambda request: order.append("app before"))
    outer.before_request(lambda request: order.append("outer before"))
    inner.before_request(lambda request: order.append("inner before"))
    inner.after_request(lambda request, response: order.append("inner after"))
    outer.after_request(lambda request, response: order.append("outer after"))
    app.after_request(lambda request, response: order.append("app after"))

    @inner.get("/v")
    def view() -> str:
        order.append("view")
        return "ok"

    outer.include(inner)
    app.include(outer)
    with TestClient(app) as client:
        assert client.get("/o/i/v").text == "ok"
    assert order == [
        "app before", "outer before", "inner before", "view",
        "inner after", "outer after", "app after",
    ]


def test_after_hook_can_replace_or_edit_the_response(app: App) -> None:
    @app.after_request
    async def stamp(request: Request, response: Any) -> None:
        response.headers["x-stamp"] = "1"

    app.get("/")(lambda: "home")
    with TestClient(app) as client:
        response = client.get("/")
    assert response.headers["x-stamp"] == "1"


def test_after_hook_sees_error_responses(app: App) -> None:
    @app.after_request
    async def stamp(request: Request, response: Any) -> None:
        response.headers["x-stamp"] = str(response.status_code)

    @app.get("/boom")
    async def boom() -> None:
        raise LookupError("x")

    with TestClient(app) as client:
        assert client.get("/boom").headers["x-stamp"] == "500"


# -- mounts -------------------------------------------------------------------


def test_mount_raw_asgi_app_sees_root_path(app: App) -> None:
    seen: dict[str, Any] = {}

    async def raw(scope: Scope, receive: Receive, send: Send) -> None:
        seen.update(path=scope["path"], root_path=scope["root_path"])
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"raw"})

    app.mount("/raw", raw)
    with TestClient(app) as client:
        response = client.get("/raw/deep/path?q=1")
    assert response.text == "raw"
    # The ASGI spec's reading: path stays whole, root_path names the mount.
    assert seen == {"path": "/raw/deep/path", "root_path": "/raw"}


def test_mount_starlette_app_routes_and_builds_urls(app: App) -> None:
    async def item(request: StarletteRequest) -> StarletteJSON:
        return StarletteJSON({
            "id": request.path_params["id"],
            "url": str(request.url_for("item", id=7)),
            "root_path": request.scope["root_path"],
        })

    app.mount("/star", Starlette(routes=[StarletteRoute("/items/{id:int}", item, name="item")]))
    with TestClient(app) as client:
        data = client.get("/star/items/3").json()
    assert data == {"id": 3, "url": "http://testserver/star/items/7", "root_path": "/star"}


def test_mounted_heron_app_builds_urls_under_its_prefix(app: App, make_app: Any) -> None:
    child = make_app()

    @child.get("/page", name="page")
    async def page(request: Request) -> dict[str, str]:
        return {"url": request.url_for("page"), "path": request.path,
                "route_path": request.route_path}

    app.mount("/child", child)
    with TestClient(app) as client:
        data = client.get("/child/page").json()
    assert data == {"url": "http://testserver/child/page", "path": "/child/page",
                    "route_path": "/page"}


def test_mount_has_a_url_name(app: App) -> None:
    async def raw(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not called")

    app.mount("/docs", raw, name="docs")
    assert app.url_for("docs", path="guide/intro.html") == "/docs/guide/intro.html"


def test_route_under_a_mount_prefix_wins(app: App) -> None:
    async def raw(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"mounted"})

    app.mount("/m", raw)
    app.get("/m/own")(lambda: "own")
    with TestClient(app) as client:
        assert client.get("/m/own").text == "own"
        assert client.get("/m/other").text == "mounted"


# -- url_for --------------------------------------------------------------------


def test_url_for_uses_the_function_name_by_default(app: App) -> None:
    @app.get("/posts/{id:int}")
    async def show_post(id: int) -> str:
        return ""

    assert app.url_for("show_post", id=3) == "/posts/3"


def test_url_for_with_namespace(app: App) -> None:
    blog = Router(prefix="/blog", name="blog")
    blog.get("/{slug}", name="post")(lambda slug: slug)
    app.include(blog)
    assert app.url_for("blog:post", slug="hello-world") == "/blog/hello-world"


def test_url_for_extra_keywords_become_the_query(app: App) -> None:
    app.get("/search", name="search")(lambda: "")
    assert app.url_for("search", q="a b", tag=["x", "y"]) == "/search?q=a+b&tag=x&tag=y"


def test_url_for_quotes_parameter_values(app: App) -> None:
    app.get("/t/{name}", name="t")(lambda name: name)
    assert app.url_for("t", name="a/b c") == "/t/a%2Fb%20c"


def test_url_for_missing_parameter_names_it(app: App) -> None:
    app.get("/posts/{year:int}/{slug}", name="post")(lambda year, slug: "")
    with pytest.raises(URLBuildError, match="'slug'"):
        app.url_for("post", year=2024)


def test_url_for_unknown_route_suggests_close_names(app: App) -> None:
    app.get("/", name="index")(lambda: "")
    with pytest.raises(URLBuildError, match=r"'indx'.*did you mean 'index'"):
        app.url_for("indx")


def test_url_for_picks_the_route_whose_params_are_given(app: App) -> None:
    async def listing(page: int = 1) -> str:
        return ""

    app.add_route("/list", listing, name="listing")
    app.add_route("/list/page/{page:int}", listing, name="listing")
    assert app.url_for("listing") == "/list"
    assert app.url_for("listing", page=2) == "/list/page/2"


def test_request_url_for_is_absolute(app: App) -> None:
    @app.get("/posts/{id:int}", name="post")
    async def post(request: Request, id: int) -> str:
        return request.url_for("post", id=id + 1)

    with TestClient(app, base_url="https://example.com") as client:
        assert client.get("/posts/1").text == "https://example.com/posts/2"


def test_request_url_for_relative_name_uses_the_route_namespace(app: App) -> None:
    blog = Router(prefix="/blog", name="blog")

    @blog.get("/", name="index")
    async def index(request: Request) -> str:
        return request.url_for(".post", id=5)

    @blog.get("/{id:int}", name="post")
    async def post(id: int) -> str:
        return ""

    app.include(blog)
    with TestClient(app) as client:
        assert client.get("/blog/").text == "http://testserver/blog/5"


def test_duplicate_route_name_is_e002(app: App) -> None:
    app.get("/a", name="same")(lambda: "a")
    app.get("/b", name="same")(lambda: "b")
    (problem,) = app.check()
    assert problem.id == "heron.routing.E002"
    assert "'same'" in str(problem)


def test_same_function_name_in_two_namespaces_is_fine(app: App) -> None:
    one, two = Router(prefix="/1", name="one"), Router(prefix="/2", name="two")
    one.get("/")(lambda: "1")
    two.get("/")(lambda: "2")
    app.include(one)
    app.include(two)
    assert app.check() == []
    assert app.url_for("one:<lambda>") == "/1/"


def test_duplicate_path_and_method_is_e001_at_startup(app: App) -> None:
    app.get("/a", name="first")(lambda: "a")
    app.get("/a", name="second")(lambda: "b")
    with pytest.raises(RuntimeError, match=r"heron\.routing\.E001"), TestClient(app):
        pass


def test_routes_lists_every_route(app: App) -> None:
    app.get("/a", name="a")(lambda: "a")
    app.post("/b", name="b")(lambda: "b")
    app.settings.openapi_enabled = True
    # and the OpenAPI document and docs page (docs/api.md)
    assert sorted(r.name for r in app.routes()) == [
        "a", "b", "heron_docs", "heron_docs_asset", "heron_openapi"]


def test_routing_among_a_thousand_routes(app: App) -> None:
    for i in range(500):
        app.add_route(f"/static{i}", lambda i=i: f"static {i}", name=f"s{i}")
        app.add_route(f"/dyn{i}/{{id:int}}", lambda id, i=i: f"dyn {i} {id}", name=f"d{i}")
    with TestClient(app) as client:
        assert client.get("/static0").text == "static 0"
        assert client.get("/static499").text == "static 499"
        assert client.get("/dyn250/9").text == "dyn 250 9"
        assert client.get("/dyn500/9").status_code == 404


def test_url_for_before_startup_sees_routes_added_later(app: App) -> None:
    app.get("/a", name="a")(lambda: "a")
    assert app.url_for("a") == "/a"
    app.get("/b", name="b")(lambda: "b")
    assert app.url_for("b") == "/b"
    assert sorted(r.name for r in app.routes() if not r.name.startswith("heron_")) == ["a", "b"]


def test_mount_name_in_a_named_router_is_namespaced(app: App) -> None:
    async def raw(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not called")

    blog = Router(prefix="/blog", name="blog")
    blog.mount("/files", raw, name="files")
    app.include(blog)
    assert app.url_for("blog:files", path="a.txt") == "/blog/files/a.txt"


def test_mount_and_route_with_the_same_name_is_e010(app: App) -> None:
    async def raw(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not called")

    app.get("/docs", name="docs")(lambda: "docs")
    app.mount("/manual", raw, name="docs")
    (problem,) = app.check()
    assert problem.id == "heron.routing.E010"
    assert "/manual" in str(problem)
