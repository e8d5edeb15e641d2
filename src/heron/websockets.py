"""WebSocket connections for views declared with ``@app.websocket(path)``."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

from heron.exceptions import WebSocketDisconnect
from heron.requests import HTTPConnection
from heron.responses import json_dumps
from heron.types import Message, Receive, Scope, Send

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketState"]


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2


class WebSocket(HTTPConnection):
    """A websocket connection: accept it, exchange messages, close it.

    ``receive_*`` raise :class:`WebSocketDisconnect` when the client leaves;
    heron treats that as the normal end of the view, without an error log.
    """

    __slots__ = ("_receive", "_send", "client_state", "close_code")

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        super().__init__(scope)
        self._receive = receive
        self._send = send
        self.client_state = WebSocketState.CONNECTING
        self.close_code: int | None = None

    async def accept(
        self, subprotocol: str | None = None, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        """Accept the connection, optionally choosing one of the client's subprotocols."""
        if self.client_state is WebSocketState.CONNECTING:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                self.client_state = WebSocketState.DISCONNECTED
                raise WebSocketDisconnect(message.get("code", 1000))
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        await self._send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": raw})
        self.client_state = WebSocketState.CONNECTED

    async def receive(self) -> Message:
        """The next raw ASGI message; raises :class:`WebSocketDisconnect` on close."""
        if self.client_state is not WebSocketState.CONNECTED:
            raise RuntimeError("Call accept() before receiving from a websocket.")
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
            self.close_code = message.get("code", 1000)
            raise WebSocketDisconnect(self.close_code, message.get("reason"))
        return message

    async def receive_text(self) -> str:
        message = await self.receive()
        text = message.get("text")
        if text is None:
            raise TypeError("Expected a text message, got a binary one.")
        return text  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        message = await self.receive()
        data = message.get("bytes")
        if data is None:
            raise TypeError("Expected a binary message, got a text one.")
        return data  # type: ignore[no-any-return]

    async def receive_json(self) -> Any:
        """The next message (text or binary) decoded as JSON.

        Raises:
            ValueError: when the message is not valid JSON (the connection stays open).
        """
        message = await self.receive()
        data = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        return orjson.loads(data)

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message.

        Raises:
            WebSocketDisconnect: (code 1006) when the connection is already gone.
        """
        try:
            await self._send(message)
        except OSError:
            # Servers raise OSError for a socket the client has dropped.
            self.client_state = WebSocketState.DISCONNECTED
            self.close_code = 1006
            raise WebSocketDisconnect(1006) from None

    async def send_text(self, data: str) -> None:
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, *, binary: bool = False) -> None:
        encoded = json_dumps(data)
        if binary:
            await self.send({"type": "websocket.send", "bytes": encoded})
        else:
            await self.send({"type": "websocket.send", "text": encoded.decode()})

    async def iter_text(self) -> AsyncIterator[str]:
        """Yield text messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            return

    async def iter_json(self) -> AsyncIterator[Any]:
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            return

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection (before accept, this rejects it with 403)."""
        if self.client_state is WebSocketState.DISCONNECTED:
            return
        self.client_state = WebSocketState.DISCONNECTED
        self.close_code = code
        await self._send({"type": "websocket.close", "code": code, "reason": reason or ""})
