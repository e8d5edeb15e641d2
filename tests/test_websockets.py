"""WebSocket views: accept, messages, iteration, close codes, rejects, disconnects, errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from heron import App, WebSocket, WebSocketDisconnect
from heron.testing import AsyncTestClient, TestClient
from heron.types import Message, Receive, Scope, Send

finished: list[str] = []


def build_app() -> App:
    app = App(debug=True)

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        while True:
            message = await ws.receive()
            if "text" in message and message["text"] is not None:
                await ws.send_text("text:" + message["text"])
            else:
                await ws.send_bytes(b"bytes:" + message["bytes"])

    @app.websocket("/json")
    async def json_view(ws: WebSocket) -> None:
        await ws.accept()
        data = await ws.receive_json()
        await ws.send_json({"got": data})
        await ws.send_json({"binary": True}, binary=True)
        await ws.close()

    @app.websocket("/protocols")
    async def protocols(ws: WebSocket) -> None:
        await ws.accept(subprotocol="chat.v2", headers=[("X-Server", "heron")])
        await ws.send_text(",".join(ws.scope["subprotocols"]))
        await ws.close()

    @app.websocket("/rooms/{room}/{n:int}")
    async def room(ws: WebSocket, room: str, n: int) -> None:
        await ws.accept()
        await ws.send_json({"room": room, "n": n, "q": ws.query_params.get("q")})
        await ws.close()

    @app.websocket("/iterate")
    async def iterate(ws: WebSocket) -> None:
        await ws.accept()
        count = 0
        async for text in ws.iter_text():
            count += 1
            await ws.send_text(f"{count}:{text}")
        finished.append("iterate")

    @app.websocket("/close-code")
    async def close_code(ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(4001, "go away")

    @app.websocket("/reject")
    async def reject(ws: WebSocket) -> None:
        await ws.close(4003)

    @app.websocket("/boom")
    async def boom(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        raise RuntimeError("kaboom")

    @app.websocket("/leave")
    async def leave(ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.receive_text()
        finally:
            finished.append(f"leave:{ws.close_code}")

    @app.websocket("/headers")
    async def headers(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json({"token": ws.headers.get("x-token"), "cookie": ws.cookies.get("sid"),
                            "url": str(ws.url)})
        await ws.close()

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(build_app()) as client:
        yield client


def test_text_and_bytes_round_trip(client: TestClient) -> None:
    with client.websocket_connect("/echo") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "text:hi"
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_bytes() == b"bytes:\x00\x01"


def test_json_round_trip_text_and_binary(client: TestClient) -> None:
    with client.websocket_connect("/json") as ws:
        ws.send_json({"a": [1, 2]})
        assert ws.receive_json() == {"got": {"a": [1, 2]}}
        assert ws.receive_bytes() == b'{"binary":true}'


def test_accept_with_a_subprotocol_and_headers(client: TestClient) -> None:
    with client.websocket_connect("/protocols", subprotocols=["chat.v1", "chat.v2"]) as ws:
        assert ws.accepted_subprotocol == "chat.v2"
        assert (b"x-server", b"heron") in ws.accept_headers
        assert ws.receive_text() == "chat.v1,chat.v2"


def test_path_parameters_and_query(client: TestClient) -> None:
    with client.websocket_connect("/rooms/lobby/7?q=x") as ws:
        assert ws.receive_json() == {"room": "lobby", "n": 7, "q": "x"}


def test_headers_cookies_and_url(client: TestClient) -> None:
    client.cookies.set("sid", "abc")
    with client.websocket_connect("/headers", headers={"x-token": "t"}) as ws:
        assert ws.receive_json() == {"token": "t", "cookie": "abc",
                                     "url": "ws://testserver/headers"}


def test_iterating_messages_ends_cleanly_on_disconnect(client: TestClient) -> None:
    finished.clear()
    with client.websocket_connect("/iterate") as ws:
        ws.send_text("a")
        assert ws.receive_text() == "1:a"
        ws.send_text("b")
        assert ws.receive_text() == "2:b"
    assert finished == ["iterate"]


def test_server_close_with_a_code_and_reason(client: TestClient) -> None:
    with client.websocket_connect("/close-code") as ws, pytest.raises(WebSocketDisconnect) as info:
        ws.receive_text()
    assert (info.value.code, info.value.reason) == (4001, "go away")


def test_close_before_accept_rejects_the_connection(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/reject"):
        pass
    assert info.value.code == 4003


def test_no_route_rejects_the_connection(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/nowhere"):
        pass
    assert info.value.code == 1008


def test_websocket_to_a_static_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "a.txt").write_text("a")
    client = TestClient(App(debug=True, root=tmp_path))
    with client, pytest.raises(WebSocketDisconnect), client.websocket_connect("/static/a.txt"):
        pass


def test_client_disconnect_mid_conversation_logs_no_error(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    finished.clear()
    caplog.set_level(logging.DEBUG)
    with client.websocket_connect("/leave") as ws:
        ws.close(1001)
    assert finished == ["leave:1001"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_exception_in_the_view_closes_1011_and_logs_one_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with client.websocket_connect("/boom") as ws:
        ws.send_text("go")
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert info.value.code == 1011
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1
    assert "RuntimeError" in errors[0].getMessage()
    assert "/boom" in errors[0].getMessage()


def test_receive_before_accept_is_a_programming_error() -> None:
    app = App(debug=True)

    @app.websocket("/early")
    async def early(ws: WebSocket) -> None:
        await ws.receive_text()

    client = TestClient(app)
    with client, pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/early"):
        pass
    assert info.value.code == 1011


def test_sending_after_the_client_left_ends_the_view_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App(debug=True, allowed_hosts=["testserver"])
    outcome: list[str] = []

    @app.websocket("/push")
    async def push(ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.send_text("late")
        except WebSocketDisconnect as exc:
            outcome.append(f"disconnect {exc.code}")
            raise

    async def server_with_a_dead_socket(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_or_fail(message: Message) -> None:
            if message["type"] == "websocket.send":
                raise OSError("connection reset by peer")
            await send(message)

        await app(scope, receive, send_or_fail)

    caplog.set_level(logging.DEBUG)
    with TestClient(server_with_a_dead_socket) as client, client.websocket_connect("/push"):
        pass
    assert outcome == ["disconnect 1006"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_async_client_websocket_round_trip() -> None:
    async with AsyncTestClient(build_app()) as client, client.websocket_connect("/echo") as ws:
        await ws.send_text("hey")
        assert await ws.receive_text() == "text:hey"


async def test_many_concurrent_websockets() -> None:
    async with AsyncTestClient(build_app()) as client:

        async def talk(i: int) -> str:
            async with client.websocket_connect("/echo") as ws:
                await ws.send_text(str(i))
                return await ws.receive_text()

        replies = await asyncio.gather(*(talk(i) for i in range(20)))
    assert replies == [f"text:{i}" for i in range(20)]
