"""A real ``heron run`` server in a subprocess, spoken to over real sockets."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

APP = '''
import asyncio

from heron import App, Request, StreamingResponse, WebSocket

app = App(secret_key="test", max_body_size=1000, allowed_hosts=["127.0.0.1"], csrf=False)
events = []


@app.get("/hello")
async def hello(request: Request):
    return {"scheme": request.url.scheme, "client": request.client.host}


@app.get("/query")
async def query(request: Request):
    return dict(request.query_params)


@app.post("/echo")
async def echo(request: Request):
    return {"size": len(await request.body())}


@app.post("/read-slowly")
async def read_slowly(request: Request):
    try:
        await request.body()
    finally:
        events.append("read-slowly done")
    return "read"


@app.get("/stream")
async def stream():
    async def chunks():
        for i in range(3):
            yield f"chunk {i}\\n"
            await asyncio.sleep(0)
    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/endless")
async def endless():
    async def ticks():
        try:
            while True:
                yield "tick\\n"
                await asyncio.sleep(0.01)
        finally:
            events.append("endless stopped")
    return StreamingResponse(ticks(), media_type="text/plain")


@app.get("/events")
async def get_events():
    return events


@app.websocket("/ws/{room}")
async def ws(websocket: WebSocket, room: str):
    await websocket.accept(subprotocol="chat")
    async for text in websocket.iter_text():
        await websocket.send_text(f"{room}: {text}")


@app.websocket("/push")
async def push(websocket: WebSocket):
    await websocket.accept()
    try:
        while True:
            await websocket.send_text("tick")
            await asyncio.sleep(0.01)
    finally:
        events.append("push stopped")
'''


@dataclass
class Server:
    url: str
    host: str
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # type: ignore[no-any-return]


def server_command(port: int) -> list[str]:
    if importlib.util.find_spec("heron.cli") is not None:
        heron = Path(sys.executable).with_name("heron")
        return [str(heron), "run", "app:app", "--host", "127.0.0.1", "--port", str(port)]
    # Until `heron run` exists: uvicorn as heron run will start it.
    return [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1",
            "--port", str(port), "--no-proxy-headers"]


def wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(url + "/hello", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"the server did not start in 30 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("served")
    (folder / "app.py").write_text(textwrap.dedent(APP))
    port = free_port()
    log = folder / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("HERON_DEBUG", None)
    with log.open("wb") as out:
        process = subprocess.Popen(server_command(port), cwd=folder, stdout=out,
                                   stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(process, url, log)
        yield Server(url, "127.0.0.1", port, log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


CLOSE = b"Connection: close\r\n\r\n"


def raw_request(server: Server, data: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def wait_for_event(server: Server, event: str) -> list[str]:
    deadline = time.monotonic() + 15
    events: list[str] = []
    while time.monotonic() < deadline:
        events = httpx.get(server.url + "/events").json()
        if event in events:
            return events
        time.sleep(0.05)
    pytest.fail(f"{event!r} never happened; events: {events}\n{server.output()}")


def test_plain_request(server: Server) -> None:
    response = httpx.get(server.url + "/hello")
    assert response.status_code == 200
    assert response.json() == {"scheme": "http", "client": "127.0.0.1"}


def test_forwarded_headers_are_not_trusted_by_default(server: Server) -> None:
    headers = {"x-forwarded-proto": "https", "x-forwarded-for": "6.6.6.6"}
    assert httpx.get(server.url + "/hello", headers=headers).json() == {
        "scheme": "http", "client": "127.0.0.1",
    }


def test_body_is_read(server: Server) -> None:
    assert httpx.post(server.url + "/echo", content=b"x" * 1000).json() == {"size": 1000}


def test_oversized_body_is_413(server: Server) -> None:
    response = httpx.post(server.url + "/echo", content=b"x" * 5000,
                          headers={"accept": "application/json"})
    assert response.status_code == 413
    assert response.json()["detail"] == "Request body is larger than 1000 bytes."


def test_oversized_chunked_body_is_413(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 500

    response = httpx.post(server.url + "/echo", content=chunks())
    assert response.status_code == 413


@pytest.mark.parametrize("path", [b"/hello%zz", b"/caf%C3%28", b"/hello%"])
def test_bad_percent_encoding_in_the_path_is_400(server: Server, path: bytes) -> None:
    reply = raw_request(server, b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + CLOSE)
    assert reply.startswith(b"HTTP/1.1 400 ")


def test_bad_query_string_is_400_when_the_view_reads_it(server: Server) -> None:
    reply = raw_request(server, b"GET /query?a=%ff HTTP/1.1\r\nHost: 127.0.0.1\r\n" + CLOSE)
    assert reply.startswith(b"HTTP/1.1 400 ")


def test_streaming_response_arrives_in_chunks(server: Server) -> None:
    with httpx.stream("GET", server.url + "/stream") as response:
        assert response.headers["transfer-encoding"] == "chunked"
        assert "".join(response.iter_text()) == "chunk 0\nchunk 1\nchunk 2\n"


def test_client_leaving_an_endless_stream_stops_it(server: Server) -> None:
    with httpx.stream("GET", server.url + "/endless") as response:
        assert next(response.iter_lines()) == "tick"
    wait_for_event(server, "endless stopped")
    assert httpx.get(server.url + "/hello").status_code == 200


def test_slow_client_that_disconnects_mid_body_does_not_hang_the_server(server: Server) -> None:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(b"POST /read-slowly HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Length: 500\r\n\r\n")
        sock.sendall(b"only a little")
    wait_for_event(server, "read-slowly done")
    assert httpx.get(server.url + "/hello").status_code == 200
    assert "Traceback" not in server.output()


def test_websocket_round_trip(server: Server) -> None:
    ws_url = server.url.replace("http://", "ws://")
    with connect(ws_url + "/ws/lobby", subprotocols=["chat"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "chat"
        ws.send("hello")
        assert ws.recv(timeout=10) == "lobby: hello"
        ws.send("again")
        assert ws.recv(timeout=10) == "lobby: again"


def test_websocket_client_leaving_mid_push_logs_no_error(server: Server) -> None:
    ws_url = server.url.replace("http://", "ws://")
    with connect(ws_url + "/push") as ws:
        assert ws.recv(timeout=10) == "tick"
    wait_for_event(server, "push stopped")
    output = server.output()
    assert "Traceback" not in output
    assert "Unhandled" not in output


def test_websocket_to_an_unknown_path_is_rejected(server: Server) -> None:
    from websockets.exceptions import InvalidStatus

    ws_url = server.url.replace("http://", "ws://")
    with pytest.raises(InvalidStatus) as info, connect(ws_url + "/nowhere"):
        pass
    assert info.value.response.status_code == 403
