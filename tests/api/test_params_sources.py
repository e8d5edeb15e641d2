"""Typed view parameters: every source, valid and invalid input, and the error format."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from heron import (
    App,
    Body,
    Cookie,
    Depends,
    Header,
    ImproperlyConfigured,
    Query,
    Request,
    RequestValidationError,
    WebSocket,
    abort_invalid,
)
from heron.params import Path
from heron.testing import TestClient


@pytest.fixture
def api() -> App:
    return App(debug=True, openapi_url=None, access_log=False)


def problems(response: Any) -> list[tuple[str, str, str]]:
    """``(location, field, type)`` of each error of a 422."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert body["title"] == "Unprocessable Entity"
    return [(e["location"], e["field"], e["type"]) for e in body["errors"]]


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


# -- query ------------------------------------------------------------------------


def test_query_scalars_with_defaults(api: App) -> None:
    @api.get("/search")
    async def search(page: int = 1, ratio: float = 0.5, exact: bool = False,
                     term: str | None = None) -> dict[str, Any]:
        return {"page": page, "ratio": ratio, "exact": exact, "term": term}

    client = TestClient(api)
    assert client.get("/search").json() == {"page": 1, "ratio": 0.5, "exact": False,
                                            "term": None}
    assert client.get("/search?page=3&ratio=2.5&exact=true&term=owl").json() == {
        "page": 3, "ratio": 2.5, "exact": True, "term": "owl"}
    assert client.get("/search?exact=yes").json()["exact"] is True
    assert client.get("/search?exact=0").json()["exact"] is False


@pytest.mark.parametrize(("query", "expected"), [
    ("page=x", ("query", "page", "int_parsing")),
    ("page=1.5", ("query", "page", "int_parsing")),
    ("page=" + "9" * 30, ("query", "page", "int_parsing")),
    ("ratio=nan", ("query", "ratio", "finite_number")),
    ("ratio=inf", ("query", "ratio", "finite_number")),
    ("ratio=abc", ("query", "ratio", "float_parsing")),
    ("exact=perhaps", ("query", "exact", "bool_parsing")),
])
def test_query_values_of_the_wrong_type_are_422(api: App, query: str,
                                                 expected: tuple[str, str, str]) -> None:
    @api.get("/search")
    async def search(page: int = 1, ratio: float = 0.5, exact: bool = False) -> str:
        return "ran"

    assert problems(TestClient(api).get(f"/search?{query}")) == [expected]


def test_required_query_parameter_missing(api: App) -> None:
    @api.get("/find")
    def find(q: str, limit: int) -> str:
        return q

    response = TestClient(api).get("/find")
    assert problems(response) == [("query", "q", "missing"), ("query", "limit", "missing")]
    assert response.json()["detail"] == "The request has 2 invalid values."
    assert response.json()["errors"][0]["message"] == "Field required"


def test_query_lists_enums_literals_and_dates(api: App) -> None:
    @api.get("/filter")
    async def filter_(tags: list[str] = [], ids: list[int] = [],  # noqa: B006
                      color: Color | None = None, order: Literal["asc", "desc"] = "asc",
                      since: datetime.date | None = None) -> dict[str, Any]:
        return {"tags": tags, "ids": ids, "color": color, "order": order, "since": since}

    client = TestClient(api)
    assert client.get("/filter?tags=a&tags=b&ids=1&ids=2&color=red&order=desc"
                      "&since=2026-11-24").json() == {
        "tags": ["a", "b"], "ids": [1, 2], "color": "red", "order": "desc",
        "since": "2026-11-24"}
    assert problems(client.get("/filter?ids=1&ids=x&color=green&order=up&since=yesterday")) == [
        ("query", "ids.1", "int_parsing"), ("query", "color", "enum"),
        ("query", "order", "literal_error"), ("query", "since", "date_from_datetime_parsing")]


def test_a_list_default_is_never_shared_between_requests(api: App) -> None:
    @api.get("/grow")
    def grow(items: list[str] = []) -> list[str]:  # noqa: B006
        items.append("x")
        return items

    client = TestClient(api)
    assert client.get("/grow").json() == ["x"]
    assert client.get("/grow").json() == ["x"]


def test_constraints_and_aliases(api: App) -> None:
    @api.get("/page")
    async def page(number: Annotated[int, Field(ge=1, le=100)] = 1,
                   per_page: Annotated[int, Query(alias="per-page"), Field(le=50)] = 20,
                   code: Annotated[str, Field(pattern=r"^[a-z]{3}$")] = "abc") -> dict[str, int]:
        return {"number": number, "per_page": per_page}

    client = TestClient(api)
    assert client.get("/page?number=5&per-page=10").json() == {"number": 5, "per_page": 10}
    assert client.get("/page?per_page=99").json() == {"number": 1, "per_page": 20}  # the alias
    response = client.get("/page?number=0&per-page=51&code=ABCD")
    assert problems(response) == [("query", "number", "greater_than_equal"),
                                  ("query", "per-page", "less_than_equal"),
                                  ("query", "code", "string_pattern_mismatch")]


# -- path -----------------------------------------------------------------------------


def test_path_parameters_converted_by_the_annotation(api: App) -> None:
    @api.get("/users/{id}")
    async def user(id: int) -> dict[str, Any]:
        return {"id": id, "type": type(id).__name__}

    @api.get("/orders/{key}")
    async def order(key: uuid.UUID) -> str:
        return str(key.version)

    client = TestClient(api)
    assert client.get("/users/7").json() == {"id": 7, "type": "int"}
    assert problems(client.get("/users/seven")) == [("path", "id", "int_parsing")]
    assert client.get("/orders/3f2504e0-4f89-41d3-9a0c-0305e82c3301").text == "4"
    assert problems(client.get("/orders/nope")) == [("path", "key", "uuid_parsing")]


def test_path_converter_and_matching_annotation_take_the_direct_path(api: App) -> None:
    @api.get("/posts/{id:int}")
    async def post(id: int) -> dict[str, int]:
        return {"id": id}

    client = TestClient(api)
    assert client.get("/posts/3").json() == {"id": 3}
    route = next(r for r in api.routes() if r.path == "/posts/{id:int}")
    assert route.direct is post  # no adapter, no second conversion


def test_path_marker_must_name_a_path_parameter(api: App) -> None:
    @api.get("/x")
    async def view(id: Annotated[int, Path()]) -> None: ...

    with pytest.raises(ImproperlyConfigured) as info:
        api.routes()
    assert info.value.id == "heron.params.E004"


# -- headers and cookies ----------------------------------------------------------------


def test_headers(api: App) -> None:
    @api.get("/h")
    async def headers(user_agent: Annotated[str, Header()],
                      request_id: Annotated[uuid.UUID | None, Header(alias="X-Request-ID")] = None,
                      accept_language: Annotated[list[str], Header()] = []  # noqa: B006
                      ) -> dict[str, Any]:
        return {"ua": user_agent, "id": request_id, "languages": accept_language}

    client = TestClient(api)
    key = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    body = client.get("/h", headers={"user-agent": "owl/1", "x-request-id": key}).json()
    assert body == {"ua": "owl/1", "id": key, "languages": []}
    assert problems(client.get("/h", headers={"x-request-id": "nope"})) == [
        ("header", "x-request-id", "uuid_parsing")]
    raw = client.get("/h", headers=[("accept-language", "en"), ("accept-language", "fr")])
    assert raw.json()["languages"] == ["en", "fr"]


def test_required_header_missing(api: App) -> None:
    @api.get("/h")
    async def headers(x_api_version: Annotated[int, Header()]) -> str:
        return str(x_api_version)

    client = TestClient(api)
    assert problems(client.get("/h")) == [("header", "x-api-version", "missing")]
    assert client.get("/h", headers={"X-API-Version": "2"}).text == "2"


def test_cookies(api: App) -> None:
    @api.get("/c")
    async def cookies(theme: Annotated[str, Cookie()] = "light",
                      visits: Annotated[int | None, Cookie()] = None) -> dict[str, Any]:
        return {"theme": theme, "visits": visits}

    client = TestClient(api)
    assert client.get("/c").json() == {"theme": "light", "visits": None}
    client.cookies.set("theme", "dark")
    client.cookies.set("visits", "3")
    assert client.get("/c").json() == {"theme": "dark", "visits": 3}
    client.cookies.set("visits", "many")
    assert problems(client.get("/c")) == [("cookie", "visits", "int_parsing")]


# -- bodies ---------------------------------------------------------------------------


class Address(BaseModel):
    city: str = Field(min_length=1)


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    price: float = Field(gt=0)
    tags: list[str] = []
    address: Address | None = None


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_json_body_validated_into_a_model(api: App) -> None:
    @api.post("/items")
    async def create(item: Item) -> dict[str, Any]:
        return {"type": type(item).__name__, **item.model_dump()}

    client = TestClient(api)
    body = {"name": "owl", "price": 2.5, "tags": ["a"], "extra": "ignored"}
    assert client.post("/items", json=body).json() == {
        "type": "Item", "name": "owl", "price": 2.5, "tags": ["a"], "address": None}
    bad = {"name": "", "price": -1, "tags": "x", "address": {"city": ""}}
    assert problems(client.post("/items", json=bad)) == [
        ("body", "name", "string_too_short"), ("body", "price", "greater_than"),
        ("body", "tags", "list_type"), ("body", "address.city", "string_too_short")]
    assert problems(client.post("/items", json=[1])) == [("body", "", "model_type")]


def test_bad_bodies_get_400_415_and_422(api: App) -> None:
    @api.post("/items")
    async def create(item: Item) -> str:
        return "ran"

    client = TestClient(api)
    malformed = client.post("/items", content=b'{"name": ', headers={
        "content-type": "application/json", "accept": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["detail"].startswith("Malformed JSON body")
    wrong_type = client.post("/items", content=b"<item/>", headers={
        "content-type": "application/xml", "accept": "application/json"})
    assert wrong_type.status_code == 415
    assert "application/json" in wrong_type.json()["detail"]
    missing = client.post("/items", headers={"content-type": "application/json"})
    assert problems(missing) == [("body", "", "missing")]
    vendor = client.post("/items", content=b'{"name": "a", "price": 1}',
                         headers={"content-type": "application/vnd.api+json"})
    assert vendor.text == "ran"


def test_optional_body_dataclass_body_and_list_body(api: App) -> None:
    @api.post("/maybe")
    async def maybe(item: Item | None = None) -> str:
        return "none" if item is None else item.name

    @api.post("/points")
    def point(p: Point) -> dict[str, Any]:
        return {"type": type(p).__name__, "sum": p.x + p.y}

    @api.post("/batch")
    async def batch(items: Annotated[list[Item], Body()]) -> str:
        return str(len(items))

    client = TestClient(api)
    assert client.post("/maybe").text == "none"
    assert client.post("/maybe", json={"name": "owl", "price": 1}).text == "owl"
    assert client.post("/points", json={"x": 1, "y": 2}).json() == {"type": "Point", "sum": 3}
    assert problems(client.post("/points", json={"x": "one"})) == [
        ("body", "x", "int_parsing"), ("body", "y", "missing")]
    assert client.post("/batch", json=[{"name": "a", "price": 1}] * 3).text == "3"
    assert problems(client.post("/batch", json=[{"name": "a", "price": 0}])) == [
        ("body", "0.price", "greater_than")]


def test_errors_from_every_source_are_reported_together(api: App) -> None:
    @api.post("/items/{id}")
    async def update(id: int, item: Item, dry_run: bool = False,
                     version: Annotated[int, Header(alias="x-version")] = 1) -> str:
        return "ran"

    response = TestClient(api).post("/items/x?dry_run=maybe", json={"price": 1},
                                    headers={"x-version": "v2"})
    assert problems(response) == [("path", "id", "int_parsing"),
                                  ("body", "name", "missing"),
                                  ("query", "dry_run", "bool_parsing"),
                                  ("header", "x-version", "int_parsing")]


def test_validation_errors_are_json_even_for_browsers(api: App) -> None:
    @api.get("/n")
    async def n(value: int) -> str:
        return str(value)

    response = TestClient(api).get("/n?value=x", headers={"accept": "text/html"})
    assert problems(response) == [("query", "value", "int_parsing")]


def test_injected_html_in_values_is_never_executed_in_errors(api: App) -> None:
    @api.get("/n")
    async def n(value: int) -> str:
        return str(value)

    response = TestClient(api).get("/n?value=<script>alert(1)</script>")
    assert "<script>" not in response.text  # pydantic's messages never echo the input
    assert problems(response) == [("query", "value", "int_parsing")]


def test_two_bodies_and_unsupported_types_are_startup_errors(api: App) -> None:
    @api.post("/two")
    async def two(a: Item, b: Point) -> None: ...

    with pytest.raises(ImproperlyConfigured) as info:
        api.routes()
    assert info.value.id == "heron.params.E003"

    other = App(debug=True, openapi_url=None)

    class Service:
        pass

    @other.get("/svc")
    async def svc(service: Service) -> None: ...

    with pytest.raises(ImproperlyConfigured) as info:
        other.routes()
    assert info.value.id == "heron.params.E001"
    assert "'service'" in info.value.message


def test_the_request_alongside_typed_parameters(api: App) -> None:
    @api.get("/both/{id}")
    def both(request: Request, id: int, q: str = "") -> dict[str, Any]:
        return {"path": request.path, "id": id, "q": q}

    assert TestClient(api).get("/both/4?q=z").json() == {"path": "/both/4", "id": 4, "q": "z"}


def test_websocket_query_parameters(api: App) -> None:
    @api.websocket("/ws")
    async def ws(socket: WebSocket, room: str, size: int = 10) -> None:
        await socket.accept()
        await socket.send_json({"room": room, "size": size})
        await socket.close()

    with TestClient(api) as client, client.websocket_connect("/ws?room=lobby&size=3") as socket:
        assert socket.receive_json() == {"room": "lobby", "size": 3}


# -- review regressions ---------------------------------------------------------------


def test_empty_query_values(api: App) -> None:
    # As in FastAPI: "?page=" is a value, and "" is not an integer (422), for
    # optional integers too; text parameters get "".
    @api.get("/e")
    async def e(page: int = 1, size: int | None = None, bounded: Annotated[int, Field(ge=1)] = 1,
                term: str | None = None) -> dict[str, Any]:
        return {"term": term}

    client = TestClient(api)
    for key in ("page", "size", "bounded"):
        assert problems(client.get(f"/e?{key}=")) == [("query", key, "int_parsing")]
    assert client.get("/e?term=").json() == {"term": ""}


def test_literals_of_numbers_read_from_text(api: App) -> None:
    @api.get("/lit/{code}")
    async def lit(code: Literal[1, 2], limit: Literal[10, 20] | None = None,
                  modes: list[Literal[0, "auto"]] = [],  # noqa: B006
                  x_flag: Annotated[Literal[True], Header()] = True) -> dict[str, Any]:
        return {"code": code, "limit": limit, "modes": modes, "flag": x_flag}

    client = TestClient(api)
    assert client.get("/lit/2?limit=20&modes=0&modes=auto",
                      headers={"x-flag": "true"}).json() == {
        "code": 2, "limit": 20, "modes": [0, "auto"], "flag": True}
    assert problems(client.get("/lit/3?limit=11&modes=1")) == [
        ("path", "code", "literal_error"), ("query", "limit", "literal_error"),
        ("query", "modes.0", "literal_error")]


def test_floats_refuse_other_scripts_digits_like_integers(api: App) -> None:
    @api.get("/fl")
    async def fl(x: float = 0.0, n: int = 0) -> dict[str, Any]:
        return {"x": x}

    client = TestClient(api)
    assert problems(client.get("/fl?x=%EF%BC%91&n=%EF%BC%91")) == [
        ("query", "x", "float_parsing"), ("query", "n", "int_parsing")]


def test_no_dependency_runs_when_any_value_is_invalid(api: App) -> None:
    from heron import Depends

    ran: list[str] = []

    def current_user() -> str:
        ran.append("user")
        return "ann"

    def paging(page: Annotated[int, Field(ge=1)] = 1) -> int:
        ran.append("paging")
        return page

    def listing(p: int = Depends(paging)) -> int:
        return p

    @api.post("/deps")
    async def deps(body: Annotated[list[int], Body()], user: str = Depends(current_user),
                   items: int = Depends(listing), again: int = Depends(paging, use_cache=False),
                   size: int = 1) -> dict[str, Any]:
        return {"user": user, "items": items}

    client = TestClient(api)
    # The dependencies come before the invalid values in the signature.
    assert problems(client.post("/deps?size=x", json=[1])) == [("query", "size", "int_parsing")]
    assert problems(client.post("/deps", json=["x"])) == [("body", "0", "int_parsing")]
    # A value read by several dependencies is reported once.
    assert problems(client.post("/deps?page=0", json=[1])) == [
        ("query", "page", "greater_than_equal")]
    assert client.post("/deps", content=b"[", headers={"content-type": "application/json"}
                       ).status_code == 400
    assert ran == []
    assert client.post("/deps?page=2", json=[1]).json() == {"user": "ann", "items": 2}
    assert ran == ["user", "paging", "paging"]


def test_a_response_model_pydantic_cannot_validate_is_e005(api: App) -> None:
    class Opaque:
        pass

    @api.get("/x", response_model=Opaque)
    async def view() -> Any:
        return None

    (problem,) = api.check()
    assert problem.id == "heron.params.E005"
    assert "response model" in problem.message


def test_response_model_filters_tuple_returns(api: App) -> None:
    class Out(BaseModel):
        id: int

    class Secret(Out):
        password: str

    @api.get("/t1", status_code=201, response_model=Out)
    async def t1() -> Any:
        return Secret(id=1, password="hunter2"), 202

    @api.get("/t2", response_model=Out)
    async def t2() -> Any:
        return {"id": 2, "password": "hunter2"}, 200, {"x-kept": "yes"}

    @api.get("/t3", response_model=Out)
    async def t3() -> Any:
        return None, 204

    client = TestClient(api)
    first, second = client.get("/t1"), client.get("/t2")
    assert (first.status_code, first.json()) == (202, {"id": 1})
    assert (second.json(), second.headers["x-kept"]) == ({"id": 2}, "yes")
    assert client.get("/t3").status_code == 204


class TokenOut(BaseModel):
    token: str


PROBLEM = {"type": "about:blank", "title": "Unprocessable Entity", "status": 422,
           "detail": "The password is too weak."}


def test_error_tuples_are_not_validated_against_the_success_model(api: App) -> None:
    @api.post("/async")
    async def async_view(weak: bool = False) -> TokenOut:
        if weak:
            return PROBLEM, 422  # type: ignore[return-value]
        return TokenOut(token="t1")

    @api.post("/sync")
    def sync_view(weak: bool = False) -> TokenOut:
        if weak:
            return PROBLEM, 400, {"x-reason": "policy"}  # type: ignore[return-value]
        return {"token": "t2", "secret": "kept out"}  # type: ignore[return-value]

    @api.post("/created", status_code=201)
    def created() -> TokenOut:
        return {"oops": True}, 201  # type: ignore[return-value]

    client = TestClient(api)
    async_error = client.post("/async?weak=true")
    assert (async_error.status_code, async_error.json()) == (422, PROBLEM)
    sync_error = client.post("/sync?weak=true")
    assert (sync_error.status_code, sync_error.json()) == (400, PROBLEM)
    assert sync_error.headers["x-reason"] == "policy"
    # Successes are still validated and filtered.
    assert client.post("/async").json() == {"token": "t1"}
    assert client.post("/sync").json() == {"token": "t2"}
    assert client.post("/created").status_code == 500


class Signup(BaseModel):
    password: str = Field(min_length=10)


def test_abort_invalid_answers_like_a_real_validation_error(api: App) -> None:
    @api.post("/model")
    async def by_model(signup: Signup) -> None:
        return None

    @api.post("/code")
    def by_code(request: Request) -> None:
        abort_invalid("password", "String should have at least 10 characters",
                      type="string_too_short")

    @api.post("/many")
    async def many(request: Request) -> None:
        abort_invalid({"password": ["Too short.", "Too common."], "q": "Bad."},
                      location="query")

    client = TestClient(api)
    real = client.post("/model", json={"password": "short"})
    raised = client.post("/code", json={"password": "short"})
    assert real.status_code == raised.status_code == 422
    assert raised.headers["content-type"] == real.headers["content-type"] \
        == "application/problem+json"
    assert raised.json() == real.json()
    assert problems(client.post("/many")) == [
        ("query", "password", "value_error"), ("query", "password", "value_error"),
        ("query", "q", "value_error")]
    assert client.post("/many").json()["detail"] == "The request has 3 invalid values."


def test_abort_invalid_refuses_an_error_without_a_message() -> None:
    with pytest.raises(TypeError, match="message is missing"):
        abort_invalid("password")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="at least one message"):
        abort_invalid({"password": []})
    with pytest.raises(RequestValidationError) as raised:
        abort_invalid("password", "Too short.")
    assert raised.value.errors == [{"location": "body", "field": "password",
                                    "message": "Too short.", "type": "value_error"}]


def test_path_constraints_hold_with_a_matching_converter(api: App) -> None:
    @api.get("/things/{id:int}")
    async def thing(id: Annotated[int, Field(ge=1, le=1000)]) -> dict[str, int]:
        return {"id": id}

    client = TestClient(api)
    assert client.get("/things/5").json() == {"id": 5}
    assert problems(client.get("/things/0")) == [("path", "id", "greater_than_equal")]
    assert problems(client.get("/things/5000")) == [("path", "id", "less_than_equal")]


async def payload(item: Item) -> Item:
    return item


def test_a_body_read_by_a_dependency_counts_as_the_views_body(api: App) -> None:
    @api.post("/one")
    async def one(a: Annotated[Item, Depends(payload)],
                  b: Annotated[Item, Depends(payload)]) -> str:
        return a.name + b.name  # the same body, read once

    @api.post("/two")
    async def two(a: Annotated[Item, Depends(payload)], p: Point) -> None: ...

    with pytest.raises(ImproperlyConfigured) as info:
        api.routes()
    assert info.value.id == "heron.params.E003"
    api.router._specs = [s for s in api.router._specs if s.path != "/two"]
    assert TestClient(api).post("/one", json={"name": "o", "price": 1}).text == "oo"


def test_an_unresolvable_return_annotation_is_reported_at_startup(
        api: App, caplog: pytest.LogCaptureFixture) -> None:
    class Hidden(BaseModel):  # defined in a function: the string annotation cannot resolve
        id: int

    @api.get("/hidden")
    async def hidden() -> Hidden:
        return Hidden(id=1)

    with caplog.at_level("WARNING", logger="heron.params"):
        api.routes()
    assert "'Hidden' cannot be resolved" in caplog.text
