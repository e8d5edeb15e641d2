"""Class-based views (heron.views.MethodView): one route per verb, typed parameters,
405 with Allow, sync and async methods, decorators, names and configuration errors."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from heron import App, ImproperlyConfigured, Request, Response, Router
from heron.routing import add_view_hook
from heron.testing import TestClient
from heron.views import ClassView, MethodView


class ItemIn(BaseModel):
    name: str
    price: float


class Item(MethodView):
    """An item."""

    def get(self, id: int, full: bool = False) -> dict[str, Any]:
        """Read an item."""
        return {"id": id, "full": full, "view": type(self).__name__}

    async def put(self, id: int, body: ItemIn) -> dict[str, Any]:
        return {"id": id, "name": body.name, "price": body.price}

    def delete(self, request: Request, id: int) -> Response:
        return Response(status_code=204, headers={"x-method": request.method})


class Counter(MethodView):
    """Each request gets a new instance: state never leaks between requests."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def get(self) -> str:
        self.seen.append("get")
        return str(len(self.seen))


async def refuse(request: Request) -> Response | None:
    return Response("refused", 403) if request.headers.get("x-deny") else None


def deny_unless_allowed(view: Any) -> Any:
    add_view_hook(view, refuse)
    return view


class Guarded(MethodView):
    decorators = [deny_unless_allowed]

    def get(self) -> str:
        return "in"

    def post(self) -> str:
        return "posted"


@pytest.fixture
def client(make_app: Any) -> Any:
    app = make_app(csrf=False)
    app.add_route("/items/{id:int}", Item.as_view())
    app.add_route("/counter", Counter)
    router = Router("/r", name="r")
    router.add_route("/guarded", Guarded.as_view(name="guarded"))
    app.include(router)

    @app.route("/decorated/{id:int}", name="decorated")
    class Decorated(Item):
        pass

    with TestClient(app) as test_client:
        yield test_client


def test_each_verb_is_a_route_with_typed_parameters(client: TestClient) -> None:
    assert client.get("/items/3?full=yes").json() == {"id": 3, "full": True, "view": "Item"}
    assert client.put("/items/3", json={"name": "pen", "price": "1.5"}).json() == \
        {"id": 3, "name": "pen", "price": 1.5}
    deleted = client.delete("/items/3")
    assert deleted.status_code == 204
    assert deleted.headers["x-method"] == "DELETE"
    assert client.head("/items/3").status_code == 200  # HEAD from GET
    assert client.get("/decorated/4").json()["id"] == 4  # @app.route on a class


def test_bad_input_is_a_4xx(client: TestClient) -> None:
    bad_body = client.put("/items/3", json={"name": "pen"})
    assert bad_body.status_code == 422
    assert "price" in bad_body.text
    assert client.put("/items/3", content=b"{nope", headers={
        "content-type": "application/json"}).status_code == 400
    assert client.get("/items/3?full=perhaps").status_code == 422
    assert client.get("/items/x").status_code == 404


def test_a_verb_the_class_lacks_is_405_with_allow(client: TestClient) -> None:
    answer = client.post("/items/3", json={})
    assert answer.status_code == 405
    assert set(answer.headers["allow"].split(", ")) >= {"GET", "HEAD", "PUT", "DELETE"}
    assert "POST" not in answer.headers["allow"]
    assert client.patch("/counter").status_code == 405


def test_a_new_instance_serves_each_request(client: TestClient) -> None:
    assert [client.get("/counter").text for _ in range(3)] == ["1", "1", "1"]


def test_decorators_apply_to_every_verb(client: TestClient) -> None:
    assert client.get("/r/guarded").text == "in"
    assert client.post("/r/guarded").text == "posted"
    assert client.get("/r/guarded", headers={"x-deny": "1"}).status_code == 403
    assert client.post("/r/guarded", headers={"x-deny": "1"}).status_code == 403


def test_the_routes_share_one_name(client: TestClient) -> None:
    app = client.app
    assert app.url_path_for("Item", id=5) == "/items/5"
    assert app.url_path_for("r:guarded") == "/r/guarded"
    assert app.url_path_for("decorated", id=1) == "/decorated/1"
    routes = {(r.path, m) for r in app.routes() if r.name == "Item" for m in r.methods}
    assert routes == {("/items/{id:int}", m) for m in ("GET", "PUT", "DELETE")}
    assert {r.describe() for r in app.routes() if r.name == "Item"} >= {
        f"{__name__}.Item.get ('Item')"}


def test_openapi_documents_each_verb(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operations = document["paths"]["/items/{id}"]
    assert set(operations) >= {"get", "put", "delete"}
    assert operations["get"]["summary"] == "Read an item."
    assert any(p["name"] == "full" for p in operations["get"]["parameters"])
    assert "requestBody" in operations["put"]
    assert len({op["operationId"] for op in operations.values()}) == len(operations)


def test_methods_restricts_the_verbs(make_app: Any) -> None:
    app: App = make_app(csrf=False)
    app.add_route("/only-get/{id:int}", Item, methods=["GET"])
    with TestClient(app) as client:
        assert client.get("/only-get/1").status_code == 200
        assert client.put("/only-get/1", json={"name": "a", "price": 1}).status_code == 405


def test_one_class_at_two_paths_and_a_name_clash(make_app: Any) -> None:
    app: App = make_app()
    app.add_route("/a/{id:int}", Item)
    app.add_route("/b/{id:int}", Item)
    assert app.check() == []

    class Other(MethodView):
        def get(self) -> str:
            return "other"

    clash: App = make_app()
    clash.add_route("/a/{id:int}", Item)
    clash.add_route("/other", Other, name="Item")
    assert [p.id for p in clash.check()] == ["heron.routing.E002"]


def test_mistakes_are_clear() -> None:
    class Nothing(MethodView):
        pass

    router = Router()
    with pytest.raises(ImproperlyConfigured, match=r"defines: none.*heron.views.E001"):
        router.add_route("/x", Nothing)
    with pytest.raises(ImproperlyConfigured, match=r"no method for POST.*heron.views.E001"):
        router.add_route("/x", Item, methods=["GET", "POST"])
    with pytest.raises(TypeError, match="'colour'"):
        Item.as_view(colour="red")
    view = Item.as_view()
    assert isinstance(view, ClassView)
    assert view.methods == {"GET", "PUT", "DELETE"}
    assert "Item" in repr(view)


def test_a_method_view_with_an_argument_heron_cannot_supply(make_app: Any) -> None:
    class Broken(MethodView):
        def get(self, thing) -> str:  # type: ignore[no-untyped-def]
            return "never"

    app: App = make_app()
    app.add_route("/broken", Broken)
    problems = app.check()
    assert [p.id for p in problems] == ["heron.params.E001"]
    assert "Broken.get" in problems[0].message
