"""Hand-written ASGI callable: the ceiling every framework is compared against.

No framework at all: the three benchmark endpoints are answered with a dict
lookup and pre-encoded headers; JSON bodies are serialised per request, as
the frameworks must. ``BENCH_ROUTES`` controls how many
``/r{i}/{id}`` routes exist (default 500); routing is one dict lookup on the
path prefix, so its cost does not depend on the route count.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ROUTE_COUNT = int(os.environ.get("BENCH_ROUTES", "500"))

TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]
JSON_HEADERS = [(b"content-type", b"application/json")]

PLAINTEXT_BODY = b"Hello, World!"
NOT_FOUND_BODY = b"Not Found"

# "/r250/" -> 250: the route table for the numbered routes.
ROUTE_PREFIXES: dict[str, int] = {f"/r{i}/": i for i in range(ROUTE_COUNT)}


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """Send a complete response in two ASGI messages."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge lifespan startup and shutdown; there is nothing to set up."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _match_route(path: str) -> tuple[int, int] | None:
    """Return ``(route_index, id)`` for ``/r{i}/{id}`` paths, else ``None``."""
    cut = path.rfind("/") + 1
    index = ROUTE_PREFIXES.get(path[:cut])
    tail = path[cut:]
    if index is None or not tail.isdigit():
        return None
    return index, int(tail)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI entry point."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path = scope["path"]
    if path == "/plaintext":
        await _respond(send, 200, TEXT_HEADERS, PLAINTEXT_BODY)
    elif path == "/json":
        # Serialised per request, as every framework must (and as TechEmpower asks).
        await _respond(send, 200, JSON_HEADERS, orjson.dumps({"message": "Hello, World!"}))
    elif (match := _match_route(path)) is not None:
        body = orjson.dumps({"route": match[0], "id": match[1]})
        await _respond(send, 200, JSON_HEADERS, body)
    else:
        await _respond(send, 404, TEXT_HEADERS, NOT_FOUND_BODY)
