"""The OpenAPI 3.1 document: every document is checked by openapi-spec-validator, and
its content is checked where it says something specific."""

from __future__ import annotations

import dataclasses
import datetime
import enum
from http import HTTPStatus
from typing import Annotated, Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from pydantic import BaseModel, Field, computed_field

from heron import (
    App,
    Body,
    Cookie,
    Header,
    Query,
    Request,
    Router,
    WebSocket,
    abort_invalid,
)
from heron.datastructures import UploadFile
from heron.forms import Form, field
from heron.openapi import openapi_schema
from heron.params import Depends, Path
from heron.testing import TestClient

REF = "#/components/schemas/"


@pytest.fixture
def api() -> App:
    # Served whatever the routes: these tests read the document of any app.
    return App(secret_key="test-secret-key", allowed_hosts=["testserver"], access_log=False,
               openapi_enabled=True)


def document(app: App) -> dict[str, Any]:
    """The app's document as served, after checking it is valid OpenAPI 3.1."""
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    doc: dict[str, Any] = response.json()
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    return doc


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        assert schema["$ref"].startswith(REF)
        schema = doc["components"]["schemas"][schema["$ref"][len(REF):]]
    return schema


def parameters(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


def check(doc: dict[str, Any], schema: dict[str, Any], value: Any) -> None:
    """``value`` is valid against ``schema`` (refs into the document's components)."""
    Draft202012Validator({**schema, "components": doc.get("components", {})}).validate(value)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Tag(BaseModel):
    name: str = Field(min_length=1, description="The tag's text", examples=["garden"])


class Item(BaseModel):
    """Something to sell."""

    name: str
    price: float = Field(gt=0)
    color: Color = Color.RED
    tags: list[Tag] = []


class ItemOut(Item):
    id: int


def _make_other_item() -> type[BaseModel]:
    class Item(BaseModel):
        code: int

    return Item


#: Another model named Item (module-level: the views' hints must resolve).
OtherItem = _make_other_item()


class Priced(BaseModel):
    net: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def gross(self) -> float:
        return self.net * 1.2


class Problem(BaseModel):
    """A user model named like heron's problem schema."""

    difficulty: int


class Opaque:
    """A default value with no JSON form."""


OPAQUE = Opaque()


def pagination(page: Annotated[int, Field(ge=1, description="Page number")] = 1,
               per_page: Annotated[int, Query(alias="per-page"), Field(le=100)] = 20
               ) -> tuple[int, int]:
    return page, per_page


# -- the document -------------------------------------------------------------------


def test_info_paths_and_what_is_left_out(api: App) -> None:
    api.settings.openapi_title = "Shop API"
    api.settings.openapi_version = "2.1.0"

    @api.get("/items/{id:int}")
    async def show(id: int) -> dict[str, int]:
        return {"id": id}

    @api.route("/items/{id:int}/notes/{slug}", methods=["GET", "HEAD", "OPTIONS"])
    async def note(id: int, slug: str) -> dict[str, Any]:
        return {}

    @api.get("/hidden", include_in_schema=False)
    async def hidden() -> dict[str, Any]:
        return {}

    @api.websocket("/ws")
    async def socket(ws: WebSocket) -> None:
        await ws.accept()

    other = App(secret_key="k")
    api.mount("/other", other)
    doc = document(api)
    assert doc["info"] == {"title": "Shop API", "version": "2.1.0"}
    assert list(doc["paths"]) == ["/items/{id}", "/items/{id}/notes/{slug}"]
    # HEAD comes with GET and OPTIONS is heron's: neither is listed.
    assert list(doc["paths"]["/items/{id}/notes/{slug}"]) == ["get"]
    show_op = doc["paths"]["/items/{id}"]["get"]
    assert show_op["operationId"] == "show"
    assert show_op["parameters"] == [{"name": "id", "in": "path", "required": True,
                                      "schema": {"type": "integer", "minimum": 0}}]
    # Only converted values: a 404 for "/items/x", never a 422.
    assert list(show_op["responses"]) == ["200"]
    note_op = doc["paths"]["/items/{id}/notes/{slug}"]["get"]
    assert [(p["name"], p["schema"]) for p in note_op["parameters"]] == [
        ("id", {"type": "integer", "minimum": 0}), ("slug", {"type": "string"})]
    assert "components" not in doc or "securitySchemes" not in doc["components"]


def test_every_parameter_source() -> None:
    app = App(secret_key="k", allowed_hosts=["testserver"], access_log=False,
              openapi_enabled=True)

    @app.get("/shops/{shop}/items/{day}")
    async def items(
        shop: Annotated[str, Path(description="The shop's slug", examples=["north"])],
        day: datetime.date,
        paging: Annotated[tuple[int, int], Depends(pagination)],
        again: Annotated[tuple[int, int], Depends(pagination, use_cache=False)],
        tags: list[str] = [],  # noqa: B006
        color: Color | None = None,
        since: datetime.date = datetime.date(2024, 1, 1),
        q: Annotated[str | None, Query(description="Search text", deprecated=True)] = None,
        secret: Annotated[str | None, Query(include_in_schema=False)] = None,
        x_request_id: Annotated[str, Header()] = "",
        token: Annotated[str, Header(alias="X-Token")] = "none",
        session_hint: Annotated[int | None, Cookie()] = None,
        marker: Any = dataclasses.MISSING,
    ) -> dict[str, Any]:
        return {}

    doc = document(app)
    operation = doc["paths"]["/shops/{shop}/items/{day}"]["get"]
    found = parameters(operation)
    assert list(found) == [
        ("path", "shop"), ("path", "day"), ("query", "page"), ("query", "per-page"),
        ("query", "tags"), ("query", "color"), ("query", "since"), ("query", "q"),
        ("header", "x-request-id"), ("header", "X-Token"), ("cookie", "session_hint"),
        ("query", "marker")]
    assert found[("query", "marker")]["schema"] == {}  # Any, and a default with no JSON form
    assert found[("path", "shop")] == {
        "name": "shop", "in": "path", "required": True, "description": "The shop's slug",
        "schema": {"type": "string", "examples": ["north"]}}
    assert found[("path", "day")]["schema"] == {"type": "string", "format": "date"}
    assert found[("query", "page")]["schema"] == {
        "type": "integer", "minimum": 1, "description": "Page number", "default": 1}
    assert "required" not in found[("query", "page")]
    assert found[("query", "per-page")]["schema"] == {"type": "integer", "maximum": 100,
                                                      "default": 20}
    assert found[("query", "tags")]["schema"] == {"type": "array", "items": {"type": "string"},
                                                  "default": []}
    assert found[("query", "color")]["schema"] == {
        "anyOf": [{"$ref": REF + "Color"}, {"type": "null"}]}
    assert doc["components"]["schemas"]["Color"] == {
        "enum": ["red", "blue"], "title": "Color", "type": "string"}
    assert found[("query", "since")]["schema"]["default"] == "2024-01-01"
    assert found[("query", "q")]["deprecated"] is True
    assert found[("query", "q")]["description"] == "Search text"
    assert found[("header", "X-Token")]["schema"] == {"type": "string", "default": "none"}
    assert found[("cookie", "session_hint")]["schema"] == {
        "anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert "415" not in operation["responses"]  # no body
    # A query string heron cannot read (a NUL character) is a 400.
    assert operation["responses"]["400"]["description"] == "Malformed query string"
    assert operation["responses"]["422"]["content"] == {
        "application/problem+json": {"schema": {"$ref": REF + "ValidationProblem"}}}


def test_required_parameters_and_defaults_without_json_form(api: App) -> None:
    @api.get("/find")
    async def find(term: str, limit: int = OPAQUE,  # type: ignore[assignment]
                   fresh: Annotated[bool, Header()] = False) -> dict[str, Any]:
        return {}

    operation = document(api)["paths"]["/find"]["get"]
    found = parameters(operation)
    assert found[("query", "term")]["required"] is True
    assert "default" not in found[("query", "term")]["schema"]
    assert found[("query", "limit")]["schema"] == {"type": "integer"}  # no JSON default
    assert found[("header", "fresh")]["schema"] == {"type": "boolean", "default": False}


def test_models_are_described_once_and_referenced(api: App) -> None:
    @api.get("/items")
    async def list_items(color: Color = Color.BLUE) -> list[ItemOut]:
        return []

    @api.post("/items", status_code=201)
    async def create(item: Item) -> ItemOut:
        return ItemOut(id=1, **item.model_dump())

    @api.put("/items/{id:int}")
    async def replace(id: int, item: Item) -> ItemOut:
        return ItemOut(id=id, **item.model_dump())

    doc = document(api)
    schemas = doc["components"]["schemas"]
    assert set(schemas) == {"Color", "Item", "ItemOut", "Tag", "Problem", "ValidationProblem"}
    assert schemas["Item"]["description"] == "Something to sell."
    assert schemas["Item"]["required"] == ["name", "price"]
    assert schemas["Item"]["properties"]["price"] == {
        "exclusiveMinimum": 0, "title": "Price", "type": "number"}
    assert schemas["Item"]["properties"]["color"] == {"$ref": REF + "Color", "default": "red"}
    assert schemas["Item"]["properties"]["tags"]["items"] == {"$ref": REF + "Tag"}
    assert schemas["Tag"]["properties"]["name"] == {
        "description": "The tag's text", "examples": ["garden"], "minLength": 1,
        "title": "Name", "type": "string"}
    listing = doc["paths"]["/items"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": REF + "ItemOut"}}
    assert parameters(listing)[("query", "color")]["schema"] == {
        "$ref": REF + "Color", "default": "blue"}
    post = doc["paths"]["/items"]["post"]
    assert post["requestBody"] == {"required": True, "content": {
        "application/json": {"schema": {"$ref": REF + "Item"}}}}
    assert list(post["responses"]) == ["201", "400", "415", "422"]
    assert post["responses"]["201"]["description"] == "Created"
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": REF + "ItemOut"}
    assert post["responses"]["415"]["content"]["application/problem+json"]["schema"] == {
        "$ref": REF + "Problem"}


def test_models_with_the_same_name_and_different_input_and_output() -> None:
    app = App(secret_key="k", allowed_hosts=["testserver"], access_log=False,
              openapi_enabled=True)

    @app.post("/a")
    async def a(item: Item) -> Item:
        return item

    @app.post("/b")
    async def b(item: OtherItem) -> OtherItem:  # type: ignore[valid-type]
        return item

    @app.post("/prices")
    async def prices(price: Priced) -> Priced:
        return price

    doc = document(app)
    a_ref = doc["paths"]["/a"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    b_ref = doc["paths"]["/b"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert a_ref != b_ref
    assert resolve(doc, a_ref)["required"] == ["name", "price"]
    assert resolve(doc, b_ref)["required"] == ["code"]
    price = doc["paths"]["/prices"]["post"]
    sent = resolve(doc, price["requestBody"]["content"]["application/json"]["schema"])
    answered = resolve(doc, price["responses"]["200"]["content"]["application/json"]["schema"])
    assert "gross" not in sent["properties"]
    assert answered["properties"]["gross"]["readOnly"] is True


@dataclasses.dataclass
class Address:
    street: str
    city: str = "Paris"


@dataclasses.dataclass
class Customer:
    name: str
    addresses: list[Address]
    vip: bool = False


class Summary(BaseModel):
    count: int
    names: list[str]


def test_dataclass_list_and_dict_bodies(api: App) -> None:
    @api.post("/customers")
    async def add(customer: Customer) -> Customer:
        return customer

    @api.post("/batch")
    async def batch(
        items: Annotated[list[Item], Body(description="Items to add", examples=[[]])],
    ) -> Summary:
        return Summary(count=len(items), names=[i.name for i in items])

    @api.patch("/settings")
    async def settings(values: dict[str, int] | None = None) -> dict[str, int]:
        return values or {}

    doc = document(api)
    schemas = doc["components"]["schemas"]
    assert schemas["Customer"]["properties"]["addresses"]["items"] == {"$ref": REF + "Address"}
    assert schemas["Address"]["properties"]["city"]["default"] == "Paris"
    assert schemas["Address"]["required"] == ["street"]
    batch_op = doc["paths"]["/batch"]["post"]
    assert batch_op["requestBody"]["description"] == "Items to add"
    assert batch_op["requestBody"]["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": REF + "Item"}, "examples": [[]]}
    assert batch_op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": REF + "Summary"}
    assert schemas["Summary"]["required"] == ["count", "names"]
    patch = doc["paths"]["/settings"]["patch"]
    assert "required" not in patch["requestBody"]
    assert patch["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "object", "additionalProperties": {"type": "integer"}}


def test_responses_from_route_options(api: App) -> None:
    class NotFound(BaseModel):
        detail: str

    @api.get("/items/{id:int}", response_model=Item, responses={
        HTTPStatus.NOT_FOUND: {"description": "No such item", "model": NotFound},
        "5XX": {"description": "The shop is closed"}})
    async def show(id: int) -> dict[str, Any]:
        return {}

    @api.delete("/items/{id:int}", status_code=204)
    async def remove(id: int) -> None:
        return None

    @api.post("/ping")
    async def ping() -> None:
        return None

    @api.get("/raw", response_model=None)
    async def raw() -> Item:
        return Item(name="x", price=1)

    @api.get("/page")
    async def page() -> str:
        return "<p>hi</p>"

    @api.get("/anything")
    async def anything():  # type: ignore[no-untyped-def]
        return {}

    doc = document(api)
    show_op = doc["paths"]["/items/{id}"]["get"]
    assert list(show_op["responses"]) == ["200", "404", "5XX"]
    assert show_op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": REF + "Item"}
    # the view's own body, or heron's problem JSON when it raises HTTPException(404)
    assert show_op["responses"]["404"] == {"description": "No such item", "content": {
        "application/json": {"schema": {"$ref": REF + "NotFound"}},
        "application/problem+json": {"schema": {"$ref": REF + "Problem"}}}}
    assert show_op["responses"]["5XX"] == {"description": "The shop is closed", "content": {
        "application/problem+json": {"schema": {"$ref": REF + "Problem"}}}}
    assert doc["paths"]["/items/{id}"]["delete"]["responses"] == {
        "204": {"description": "No Content"}}
    assert doc["paths"]["/ping"]["post"]["responses"] == {"204": {"description": "No Content"}}
    assert doc["paths"]["/raw"]["get"]["responses"]["200"]["content"] == {
        "application/json": {"schema": {}}}
    assert doc["paths"]["/page"]["get"]["responses"]["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}}}
    assert doc["paths"]["/anything"]["get"]["responses"]["200"]["content"] == {
        "application/json": {"schema": {}}}


def test_docstrings_options_and_operation_ids(api: App) -> None:
    @api.get("/a")
    async def documented() -> dict[str, Any]:
        """Show the a.

        It is the first letter.

        Really.
        """
        return {}

    @api.get("/b", summary="The b", description="Second.", operation_id="getB",
             deprecated=True)
    async def overridden() -> dict[str, Any]:
        """Ignored."""
        return {}

    @api.route("/c", methods=["GET", "POST"])
    async def both() -> dict[str, Any]:
        return {}

    @api.get("/d", name="both_get")
    async def clash() -> dict[str, Any]:
        return {}

    doc = document(api)
    a = doc["paths"]["/a"]["get"]
    assert a["summary"] == "Show the a."
    assert a["description"] == "It is the first letter.\n\nReally."
    b = doc["paths"]["/b"]["get"]
    assert (b["summary"], b["description"], b["operationId"], b["deprecated"]) == (
        "The b", "Second.", "getB", True)
    assert doc["paths"]["/c"]["get"]["operationId"] == "both_get"
    assert doc["paths"]["/c"]["post"]["operationId"] == "both_post"
    assert doc["paths"]["/d"]["get"]["operationId"] == "both_get_2"  # unique
    assert "summary" not in doc["paths"]["/c"]["get"]


def test_tags_from_options_routers_and_namespaces(api: App) -> None:
    shop = Router("/shop", name="shop", tags=["shop"])
    stock = Router("/stock", name="stock", tags=["stock", "shop"])
    admin = Router("/admin", name="admin")

    @shop.get("/items")
    async def items() -> list[str]:
        return []

    @stock.get("/levels")
    async def levels() -> list[str]:
        return []

    @stock.get("/special", tags=["special"])
    async def special() -> list[str]:
        return []

    @admin.get("/users")
    async def users() -> list[str]:
        return []

    @api.get("/plain")
    async def plain() -> list[str]:
        return []

    shop.include(stock)
    api.include(shop)
    api.include(admin)
    doc = document(api)
    tags = {path: item["get"].get("tags") for path, item in doc["paths"].items()}
    assert tags == {"/shop/items": ["shop"], "/shop/stock/levels": ["shop", "stock"],
                    "/shop/stock/special": ["special"], "/admin/users": ["admin"],
                    "/plain": None}
    assert doc["tags"] == [{"name": "shop"}, {"name": "stock"}, {"name": "special"},
                           {"name": "admin"}]
    assert doc["paths"]["/shop/stock/levels"]["get"]["operationId"] == "shop_stock_levels"


def test_guarded_operations_have_security(tmp_path: Any) -> None:
    from heron.auth import login_required, staff_required

    app = App(components=["heron.auth"], secret_key="k", allowed_hosts=["testserver"],
              access_log=False, database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
              session_cookie_name="shop_session", openapi_enabled=True)
    members = login_required(Router("/members", name="members"))

    @members.get("/list")
    async def member_list() -> list[str]:
        return []

    @app.get("/me")
    @staff_required
    async def me(request: Request) -> dict[str, str]:
        return {}

    @app.get("/open")
    async def public() -> dict[str, str]:
        return {}

    app.include(members)
    doc = document(app)
    security = [{"sessionCookie": []}, {"bearerAuth": []}]
    for path in ("/members/list", "/me"):
        operation = doc["paths"][path]["get"]
        assert operation["security"] == security
        assert operation["responses"]["401"]["content"]["application/problem+json"] == {
            "schema": {"$ref": REF + "Problem"}}
        assert "403" in operation["responses"]
    assert "security" not in doc["paths"]["/open"]["get"]
    assert "401" not in doc["paths"]["/open"]["get"]["responses"]
    assert doc["components"]["securitySchemes"] == {
        "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "shop_session",
                          "description": "The session of a user logged in with heron.auth "
                                         "(browsers)."},
        "bearerAuth": {"type": "http", "scheme": "bearer",
                       "description": "A personal API token: `Authorization: Bearer <token>`."},
    }
    # The documented 401 is what an API client gets.
    with TestClient(app) as client:
        refused = client.get("/members/list", headers={"accept": "application/json"})
    assert refused.status_code == 401
    check(doc, {"$ref": REF + "Problem"}, refused.json())


class Contact(Form):
    """Write to us."""

    name: str = field(max_length=100, label="Your name")
    age: int | None = field(ge=0, help_text="In years")
    topic: str = field(choices=["sales", "support"], default="sales")
    color: Color = Color.BLUE
    subscribe: bool = False


class Upload(Form):
    title: str
    files: list[UploadFile]
    cover: UploadFile | None = None


def test_heron_form_bodies(api: App) -> None:
    @api.post("/contact")
    async def contact(form: Contact) -> dict[str, Any]:
        return {}

    @api.post("/upload")
    async def upload(form: Upload) -> dict[str, Any]:
        return {}

    doc = document(api)
    body = doc["paths"]["/contact"]["post"]["requestBody"]
    assert body["required"] is True
    assert list(body["content"]) == ["application/x-www-form-urlencoded", "multipart/form-data"]
    assert body["content"]["multipart/form-data"]["schema"] == {"$ref": REF + "Contact"}
    schema = doc["components"]["schemas"]["Contact"]
    assert schema["description"] == "Write to us."
    assert schema["required"] == ["name"]
    properties = schema["properties"]
    assert properties["name"] == {"type": "string", "maxLength": 100, "title": "Your name"}
    assert properties["age"]["anyOf"] == [{"type": "integer", "minimum": 0}, {"type": "null"}]
    assert properties["age"]["description"] == "In years"
    assert properties["topic"] == {"type": "string", "enum": ["sales", "support"],
                                   "title": "Topic", "default": "sales"}
    assert properties["color"] == {"$ref": REF + "Color", "title": "Color", "default": "blue"}
    assert properties["subscribe"] == {"type": "boolean", "title": "Subscribe", "default": False}
    upload_op = doc["paths"]["/upload"]["post"]
    assert list(upload_op["requestBody"]["content"]) == ["multipart/form-data"]
    assert doc["components"]["schemas"]["Upload"]["properties"]["files"] == {
        "type": "array", "items": {"type": "string", "format": "binary"}, "title": "Files"}
    assert doc["components"]["schemas"]["Upload"]["properties"]["cover"] == {
        "type": "string", "format": "binary", "title": "Cover"}
    assert doc["components"]["schemas"]["Upload"]["required"] == ["title", "files"]
    # The form's own validation answers: no 422 / 415 is promised for forms.
    assert list(upload_op["responses"]) == ["200"]


def test_documented_errors_match_the_answers(api: App) -> None:
    @api.post("/items/{id:int}")
    async def update(id: int, item: Item, dry_run: bool = False) -> Item:
        return item

    doc = document(api)
    responses = doc["paths"]["/items/{id}"]["post"]["responses"]

    def schema(code: str) -> dict[str, Any]:
        return responses[code]["content"]["application/problem+json"]["schema"]  # type: ignore[no-any-return]

    with TestClient(api) as client:
        invalid = client.post("/items/1?dry_run=maybe", json={"name": "x", "price": -1})
        malformed = client.post("/items/1", content=b"{", headers={
            "content-type": "application/json"})
        wrong_type = client.post("/items/1", content=b"<item/>", headers={
            "content-type": "application/xml", "accept": "application/json"})
    assert invalid.status_code == 422
    check(doc, schema("422"), invalid.json())
    assert {e["location"] for e in invalid.json()["errors"]} == {"query", "body"}
    assert malformed.status_code == 400
    check(doc, schema("400"), malformed.json())
    assert wrong_type.status_code == 415
    check(doc, schema("415"), wrong_type.json())


def test_a_422_of_the_route_options_is_the_validation_error_list(api: App) -> None:
    # A rule checked in code (abort_invalid) on a view that validates nothing itself.
    @api.post("/passwords", responses={422: {"description": "The password is too weak"}})
    async def set_password(request: Request) -> dict[str, bool]:
        abort_invalid("password", "This password is too common.")

    doc = document(api)
    documented = doc["paths"]["/passwords"]["post"]["responses"]["422"]
    assert documented["description"] == "The password is too weak"
    schema = documented["content"]["application/problem+json"]["schema"]
    assert schema == {"$ref": REF + "ValidationProblem"}
    with TestClient(api) as client:
        answer = client.post("/passwords", json={})
    assert answer.status_code == 422
    check(doc, schema, answer.json())


def test_a_model_named_like_heron_schemas_keeps_its_name(api: App) -> None:
    @api.post("/problems")
    async def add(problem: Problem) -> Problem:
        return problem

    doc = document(api)
    schemas = doc["components"]["schemas"]
    assert schemas["Problem"]["required"] == ["difficulty"]
    assert doc["paths"]["/problems"]["post"]["responses"]["400"]["content"][
        "application/problem+json"]["schema"] == {"$ref": REF + "heron.Problem"}
    assert schemas["heron.Problem"]["required"] == ["type", "title", "status"]


# -- caching and serving ----------------------------------------------------------


def test_cached_after_startup_not_before(api: App) -> None:
    @api.get("/one")
    async def one() -> dict[str, Any]:
        return {}

    before = openapi_schema(api)
    assert openapi_schema(api) is not before
    assert list(before["paths"]) == ["/one"]

    @api.get("/two")
    async def two() -> dict[str, Any]:
        return {}

    assert list(openapi_schema(api)["paths"]) == ["/one", "/two"]
    with TestClient(api) as client:
        first = client.get("/openapi.json")
        assert openapi_schema(api) is openapi_schema(api)
        again = client.get("/openapi.json", headers={"if-none-match": first.headers["etag"]})
    assert first.headers["cache-control"] == "no-cache"
    assert again.status_code == 304
    assert again.content == b""


def test_a_mounted_app_names_its_prefix_as_server() -> None:
    inner = App(secret_key="k", access_log=False, openapi_enabled=True)

    @inner.get("/items")
    async def items() -> list[str]:
        return []

    outer = App(secret_key="k", allowed_hosts=["testserver"], access_log=False,
                openapi_url=None)
    outer.mount("/v1", inner)
    with TestClient(outer) as client:
        doc = client.get("/v1/openapi.json").json()
    validate(doc)
    assert doc["servers"] == [{"url": "/v1"}]
    assert list(doc["paths"]) == ["/items"]
    assert "servers" not in openapi_schema(inner)  # the cached document is not changed


def test_large_app_stays_valid_and_unique(api: App) -> None:
    for number in range(60):
        router = Router(f"/r{number}", name=f"r{number}")

        @router.get("/items/{id:int}")
        async def show(id: int, q: str | None = None) -> Item:
            return Item(name="x", price=1)

        @router.post("/items")
        async def create(item: Item) -> ItemOut:
            return ItemOut(id=1, **item.model_dump())

        api.include(router)
    doc = document(api)
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == 120 == len(set(ids))
    assert set(doc["components"]["schemas"]) == {"Color", "Item", "ItemOut", "Tag", "Problem",
                                                 "ValidationProblem"}


def test_a_view_returning_none_documents_no_content_whatever_its_status(api: App) -> None:
    @api.post("/made", status_code=201)
    async def made() -> None:
        return None

    doc = document(api)
    assert doc["paths"]["/made"]["post"]["responses"]["201"] == {"description": "Created"}
    with TestClient(api) as client:
        answer = client.post("/made", headers={"accept": "application/json"})
    assert (answer.status_code, answer.content) == (201, b"")
