"""Response classes, JSON encoding, cookies, streaming and server-sent events."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import enum
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

import pydantic
import pytest

from heron import (
    App,
    EventStreamResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Request,
    Response,
    ServerSentEvent,
    StreamingResponse,
)
from heron.responses import make_response
from heron.testing import AsyncTestClient, TestClient
from heron.types import Message


def serve(response: Response, base_url: str = "http://testserver", method: str = "GET") -> Any:
    """Answer one request with ``response`` through a real app and test client."""
    app = App(debug=True)

    @app.route("/", methods=["GET", "POST"])
    async def view() -> Response:
        return response

    with TestClient(app, base_url=base_url) as client:
        return client.request(method, "/")


class Harness:
    """Plays the server's part of ASGI for one response, recording what it sends."""

    def __init__(self, disconnect_after: int | None = None) -> None:
        self.sent: list[Message] = []
        self.disconnect_after = disconnect_after
        self.body_sent = asyncio.Event()

    async def receive(self) -> Message:
        while self.disconnect_after is None or len(self.body_messages) < self.disconnect_after:
            await self.body_sent.wait()
            self.body_sent.clear()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.body":
            self.body_sent.set()

    @property
    def body_messages(self) -> list[Message]:
        return [m for m in self.sent if m["type"] == "http.response.body"]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.body_messages)

    async def run(self, response: Response, method: str = "GET") -> None:
        scope = {"type": "http", "method": method, "headers": [], "scheme": "http"}
        await response(scope, self.receive, self.send)


# -- plain responses ---------------------------------------------------------


def test_response_bytes_with_content_length() -> None:
    response = serve(Response(b"abc", 201, {"x-a": "1"}, media_type="application/x-thing"))
    assert response.status_code == 201
    assert response.content == b"abc"
    assert response.headers["content-length"] == "3"
    assert response.headers["content-type"] == "application/x-thing"
    assert response.headers["x-a"] == "1"


def test_html_and_plain_text_carry_a_charset() -> None:
    assert serve(HTMLResponse("<p>é</p>")).headers["content-type"] == "text/html; charset=utf-8"
    text = serve(PlainTextResponse("é"))
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.content == "é".encode()


def test_head_sends_headers_without_a_body() -> None:
    response = serve(PlainTextResponse("hello"), method="HEAD")
    assert response.content == b""
    assert response.headers["content-length"] == "5"


def test_no_content_status_has_no_content_length() -> None:
    assert "content-length" not in serve(Response(status_code=204)).headers


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: evil=1", "a\nb"])
def test_line_breaks_in_header_values_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="header injection"):
        Response(b"", headers={"x-a": value})


def test_line_breaks_in_header_names_are_refused() -> None:
    with pytest.raises(ValueError, match="header name"):
        Response(b"", headers={"x-a\r\nSet-Cookie": "evil=1"})


def test_header_injection_in_a_view_gives_a_500_not_a_split_response() -> None:
    app = App(secret_key="test")

    @app.get("/")
    async def view(request: Request) -> Response:
        return Response(b"", headers={"x-echo": request.query_params["v"]})

    with TestClient(app) as client:
        response = client.get("/", params={"v": "a\r\nSet-Cookie: evil=1"})
    assert response.status_code == 500
    assert "set-cookie" not in response.headers


# -- JSON --------------------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: Decimal


class Model(pydantic.BaseModel):
    name: str
    when: datetime.date


def test_json_encodes_rich_types() -> None:
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")
    content = {
        "dt": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "date": datetime.date(2024, 1, 2),
        "uuid": key,
        "decimal": Decimal("1.10"),
        "enum": Colour.RED,
        "point": Point(1, Decimal("2.5")),
        "model": Model(name="a", when=datetime.date(2024, 5, 6)),
        "set": {3},
        "path": PurePosixPath("/a/b"),
        1: "int key",
    }
    assert serve(JSONResponse(content)).json() == {
        "dt": "2024-01-02T03:04:05+00:00",
        "date": "2024-01-02",
        "uuid": "12345678-1234-5678-1234-567812345678",
        "decimal": "1.10",
        "enum": "red",
        "point": {"x": 1, "y": "2.5"},
        "model": {"name": "a", "when": "2024-05-06"},
        "set": [3],
        "path": "/a/b",
        "1": "int key",
    }


def test_json_response_headers_and_compact_body() -> None:
    response = serve(JSONResponse({"a": [1, 2]}, status_code=201))
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"a":[1,2]}'


def test_json_refuses_unknown_types_with_a_clear_error() -> None:
    with pytest.raises(TypeError, match="object"):
        JSONResponse({"x": object()})


# -- redirects ---------------------------------------------------------------


def test_redirect_defaults_to_302_with_location() -> None:
    response = serve(RedirectResponse("/next?a=1"))
    assert response.status_code == 302
    assert response.headers["location"] == "/next?a=1"


@pytest.mark.parametrize("status", [301, 303, 307, 308])
def test_redirect_with_another_status(status: int) -> None:
    assert serve(RedirectResponse("/x", status)).status_code == status


def test_redirect_location_is_percent_encoded_and_cannot_split_headers() -> None:
    response = serve(RedirectResponse("/café\r\nSet-Cookie: x=1"))
    assert response.headers["location"] == "/caf%C3%A9%0D%0ASet-Cookie:%20x=1"
    assert "set-cookie" not in response.headers


# -- cookies -----------------------------------------------------------------


def test_cookies_default_to_httponly_and_samesite_lax() -> None:
    response = Response()
    response.set_cookie("sid", "abc")
    header = serve(response).headers["set-cookie"]
    assert header == "sid=abc; HttpOnly; Path=/; SameSite=Lax"


def test_secure_is_added_automatically_on_https() -> None:
    response = Response()
    response.set_cookie("sid", "abc")
    assert serve(response, "https://testserver").headers["set-cookie"].endswith("; Secure")
    assert "Secure" not in serve(response, "http://testserver").headers["set-cookie"]


def test_secure_false_is_respected_on_https() -> None:
    response = Response()
    response.set_cookie("sid", "abc", secure=False)
    assert "Secure" not in serve(response, "https://testserver").headers["set-cookie"]


def test_cookie_options() -> None:
    response = Response()
    response.set_cookie("a", "1", max_age=60, path="/p", domain="example.org", secure=True,
                        httponly=False, samesite="strict",
                        expires=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC))
    header = response.headers["set-cookie"]
    for part in ("a=1", "Max-Age=60", "Path=/p", "Domain=example.org", "Secure",
                 "SameSite=Strict", "expires=Tue, 01 Jan 2030 00:00:00 GMT"):
        assert part in header
    assert "HttpOnly" not in header


def test_samesite_none_forces_secure() -> None:
    response = Response()
    response.set_cookie("a", "1", samesite="none")
    assert "Secure" in response.headers["set-cookie"]


def test_bad_samesite_is_refused() -> None:
    with pytest.raises(ValueError, match="samesite"):
        Response().set_cookie("a", "1", samesite="sometimes")  # type: ignore[arg-type]


def test_cookie_value_with_special_characters_is_quoted() -> None:
    response = Response()
    response.set_cookie("a", "x; Domain=evil\r\n")
    header = response.headers["set-cookie"]
    assert "\r" not in header
    assert header.startswith('a="x\\073 Domain=evil\\015\\012"')


def test_delete_cookie_expires_it() -> None:
    response = Response()
    response.delete_cookie("sid", path="/app")
    header = serve(response).headers["set-cookie"]
    assert header.startswith('sid=""')
    assert "Max-Age=0" in header
    assert "expires=Thu, 01 Jan 1970 00:00:00 GMT" in header
    assert "Path=/app" in header


def test_several_cookies_are_separate_headers() -> None:
    response = Response()
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    assert len(serve(response).headers.get_list("set-cookie")) == 2


# -- streaming ---------------------------------------------------------------


def test_streaming_from_a_sync_iterator() -> None:
    def numbers() -> Iterator[str]:
        yield from ("1", "2", "3")

    response = serve(StreamingResponse(numbers(), media_type="text/plain"))
    assert response.text == "123"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "content-length" not in response.headers


def test_streaming_from_an_async_iterator() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"a", b"b"):
            yield part

    assert serve(StreamingResponse(chunks())).content == b"ab"


async def test_streaming_sends_one_message_per_chunk() -> None:
    harness = Harness()
    await harness.run(StreamingResponse(iter([b"a", b"b"])))
    assert [m.get("body") for m in harness.body_messages] == [b"a", b"b", b""]
    assert harness.body_messages[-1].get("more_body", False) is False


async def test_streaming_head_sends_no_body() -> None:
    harness = Harness()
    await harness.run(StreamingResponse(iter([b"a"])), method="HEAD")
    assert harness.body == b""


async def test_streaming_stops_when_the_client_disconnects() -> None:
    produced = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        while True:
            produced += 1
            yield b"tick"
            await asyncio.sleep(0)

    harness = Harness(disconnect_after=3)
    await asyncio.wait_for(harness.run(StreamingResponse(endless())), 10)
    sent = len(harness.body_messages)
    await asyncio.sleep(0.01)
    assert len(harness.body_messages) == sent
    assert sent >= 3


async def test_streaming_a_sync_iterator_stops_when_the_client_disconnects() -> None:
    def endless() -> Iterator[bytes]:
        while True:
            yield b"tick"

    harness = Harness(disconnect_after=2)
    await asyncio.wait_for(harness.run(StreamingResponse(endless())), 10)
    assert len(harness.body_messages) >= 2


async def test_an_error_in_the_iterator_propagates() -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"a"
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await Harness().run(StreamingResponse(broken()))


# -- server-sent events ------------------------------------------------------


def test_event_encoding_with_all_fields() -> None:
    event = ServerSentEvent("hello", event="greeting", id="7", retry=3000)
    assert event.encode() == b"event: greeting\nid: 7\nretry: 3000\ndata: hello\n\n"


def test_multi_line_data_becomes_several_data_lines() -> None:
    assert ServerSentEvent("a\nb\r\nc").encode() == b"data: a\ndata: b\ndata: c\n\n"


def test_data_that_is_not_a_string_is_json() -> None:
    assert ServerSentEvent({"n": 1}).encode() == b'data: {"n":1}\n\n'


def test_empty_data_is_one_empty_data_line() -> None:
    assert ServerSentEvent().encode() == b"data: \n\n"


def test_line_breaks_cannot_forge_fields_in_event_or_id() -> None:
    encoded = ServerSentEvent("x", event="a\ndata: forged", id="1\r2").encode()
    assert encoded == b"event: a data: forged\nid: 1 2\ndata: x\n\n"


def test_event_stream_response_headers_and_body() -> None:
    def events() -> Iterator[Any]:
        yield ServerSentEvent("one", event="e")
        yield "two"
        yield {"three": 3}

    response = serve(EventStreamResponse(events()))
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.text == 'event: e\ndata: one\n\ndata: two\n\ndata: {"three":3}\n\n'


async def test_event_stream_sends_ping_comments_while_idle() -> None:
    harness = Harness()
    pinged = asyncio.Event()
    original_send = harness.send

    async def send(message: Message) -> None:
        await original_send(message)
        if message.get("body") == b": ping\n\n":
            pinged.set()

    harness.send = send  # type: ignore[method-assign]

    async def events() -> AsyncIterator[str]:
        await pinged.wait()
        yield "after ping"

    await asyncio.wait_for(harness.run(EventStreamResponse(events(), ping=0.001)), 10)
    assert harness.body.startswith(b": ping\n\n")
    assert harness.body.endswith(b"data: after ping\n\n")


# -- return-value coercion ---------------------------------------------------


def test_make_response_coerces_view_return_values() -> None:
    assert isinstance(make_response("<p>"), HTMLResponse)
    assert isinstance(make_response({"a": 1}), JSONResponse)
    assert isinstance(make_response([1]), JSONResponse)
    assert isinstance(make_response(Point(1, Decimal(1))), JSONResponse)
    assert isinstance(make_response(Model(name="a", when=datetime.date.today())), JSONResponse)
    assert make_response(b"x").headers["content-type"] == "application/octet-stream"
    assert make_response(None).status_code == 204


def test_make_response_tuples() -> None:
    response = make_response(({"a": 1}, 201, {"x-a": "1"}))
    assert (response.status_code, response.headers["x-a"]) == (201, "1")
    empty = make_response(("ignored", 204))
    assert (empty.body, "content-length" in empty.headers) == (b"", False)


def test_make_response_refuses_other_values_with_a_clear_error() -> None:
    with pytest.raises(TypeError, match="cannot turn into a response"):
        make_response(object())
    with pytest.raises(TypeError, match="tuple"):
        make_response(("a", "b"))


async def test_async_test_client_reads_a_streamed_response() -> None:
    app = App(debug=True)

    @app.get("/")
    async def view() -> StreamingResponse:
        return StreamingResponse(iter(["a", "b"]))

    async with AsyncTestClient(app) as client:
        assert (await client.get("/")).text == "ab"


def test_naive_expires_is_taken_as_utc() -> None:
    response = Response()
    response.set_cookie("a", "1", expires=datetime.datetime(2030, 1, 1, 12, 0))
    assert "expires=Tue, 01 Jan 2030 12:00:00 GMT" in response.headers["set-cookie"]


@pytest.mark.parametrize("value", ["plain", "", "with space", 'q"uote', "semi;colon", "ünï", "a=b"])
@pytest.mark.parametrize("options", [
    {},
    {"max_age": 60, "domain": "example.com", "path": "/app"},
    {"secure": True, "httponly": False, "samesite": None},
    {"samesite": "strict"},
])
def test_set_cookie_writes_what_http_cookies_would(value: str, options: dict[str, Any]) -> None:
    from http.cookies import SimpleCookie

    response = Response()
    response.set_cookie("name", value, **options)
    expected: SimpleCookie = SimpleCookie()
    expected["name"] = value
    morsel = expected["name"]
    morsel["path"] = options.get("path", "/")
    for key in ("max_age", "domain"):
        if key in options:
            morsel[key.replace("_", "-")] = options[key]
    if options.get("secure"):
        morsel["secure"] = True
    if options.get("httponly", True):
        morsel["httponly"] = True
    samesite = options.get("samesite", "lax")
    if samesite:
        morsel["samesite"] = samesite.capitalize()
    assert response.headers["set-cookie"] == morsel.OutputString()


def test_auto_secure_survives_editing_other_headers() -> None:
    response = Response("x")
    response.set_cookie("pref", "dark")
    response.headers["content-type"] = "text/plain; charset=utf-8"
    headers = dict(response._headers_for({"scheme": "https"}))
    assert headers[b"set-cookie"].endswith(b"; Secure")
    assert not headers[b"content-type"].endswith(b"Secure")
