"""GZipMiddleware: minimum size, skipped types, streaming chunk by chunk, Vary."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator, Iterator

import pytest

from heron import App, EventStreamResponse, Response, StreamingResponse
from heron.middleware import GZipMiddleware
from heron.testing import TestClient
from heron.types import Message, Receive, Scope, Send

BIG = "x" * 2000
GZIP = {"accept-encoding": "gzip, deflate"}


def build_app() -> App:
    app = App(debug=True, gzip=True, gzip_min_size=500)

    @app.get("/big")
    async def big() -> str:
        return BIG

    @app.get("/small")
    async def small() -> str:
        return "tiny"

    @app.get("/image")
    async def image() -> Response:
        return Response(b"\x89PNG" + b"\x00" * 2000, media_type="image/png")

    @app.get("/encoded")
    async def encoded() -> Response:
        return Response(gzip.compress(BIG.encode()), headers={"content-encoding": "gzip"},
                        media_type="text/plain")

    @app.get("/no-transform")
    async def no_transform() -> Response:
        return Response(BIG, headers={"cache-control": "no-transform"}, media_type="text/plain")

    @app.get("/events")
    async def events() -> EventStreamResponse:
        return EventStreamResponse(iter(["a" * 1000]), ping=None)

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(iter(["a" * 100, "b" * 100]), media_type="text/plain")

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(build_app()) as client:
        yield client


def test_large_response_is_compressed(client: TestClient) -> None:
    response = client.get("/big", headers=GZIP)
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) < 2000
    assert response.text == BIG  # httpx decodes it


def test_not_compressed_when_the_client_does_not_accept_gzip(client: TestClient) -> None:
    response = client.get("/big", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == "2000"


def test_gzip_with_q_zero_is_refused(client: TestClient) -> None:
    response = client.get("/big", headers={"accept-encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in response.headers


def test_small_response_is_left_alone(client: TestClient) -> None:
    response = client.get("/small", headers=GZIP)
    assert "content-encoding" not in response.headers
    assert response.text == "tiny"


@pytest.mark.parametrize("path", ["/image", "/encoded", "/no-transform", "/events"])
def test_skipped_responses_are_passed_through(client: TestClient, path: str) -> None:
    response = client.get(path, headers=GZIP)
    assert response.headers.get("content-encoding") in (None, "gzip")
    if path == "/encoded":
        assert response.text == BIG  # compressed once, by the view
    else:
        assert "content-encoding" not in response.headers


def test_off_by_default() -> None:
    app = App(debug=True)

    @app.get("/")
    async def index() -> str:
        return BIG

    with TestClient(app) as client:
        assert "content-encoding" not in client.get("/", headers=GZIP).headers


def test_streaming_response_is_compressed_without_content_length(client: TestClient) -> None:
    response = client.get("/stream", headers=GZIP)
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    assert response.text == "a" * 100 + "b" * 100


async def test_each_streamed_chunk_is_flushed_and_decodable_on_its_own() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first " * 50
        yield b"second " * 50

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await StreamingResponse(chunks(), media_type="text/plain")(scope, receive, send)

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.disconnect"} if len(sent) > 10 else await _never()

    scope = {"type": "http", "method": "GET", "headers": [(b"accept-encoding", b"gzip")]}
    await GZipMiddleware(inner, minimum_size=10)(scope, receive, send)
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body"]
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    # The first chunk can be decoded before the second one is sent.
    assert decoder.decompress(bodies[0]) == b"first " * 50
    assert decoder.decompress(b"".join(bodies[1:])) == b"second " * 50


async def _never() -> Message:
    import asyncio

    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def test_head_request_is_not_compressed(client: TestClient) -> None:
    response = client.head("/big", headers=GZIP)
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == "2000"
