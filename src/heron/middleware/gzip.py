"""Compress responses with gzip for clients that accept it."""

from __future__ import annotations

import gzip
import zlib

from heron.datastructures import Headers, MutableHeaders
from heron.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["GZipMiddleware"]

_SKIP_TYPES = ("image/", "video/", "audio/", "font/woff", "application/zip",
               "application/gzip", "application/x-gzip", "text/event-stream")


class GZipMiddleware:
    """gzip responses of at least ``minimum_size`` bytes when the client accepts it.

    Skipped: responses already encoded, media that is already compressed,
    server-sent event streams (they must reach the client event by event),
    ``Cache-Control: no-transform`` and bodies smaller than ``minimum_size``.
    Streaming bodies are compressed chunk by chunk.
    """

    def __init__(self, app: ASGIApp, minimum_size: int = 500, compresslevel: int = 6) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _accepts_gzip(
            Headers(raw=scope["headers"]).get("accept-encoding", "")
        ):
            await _GZipResponder(self, send).run(scope, receive)
        else:
            await self.app(scope, receive, send)


def _accepts_gzip(accept_encoding: str) -> bool:
    """True when ``gzip`` (or ``*``) is listed with a non-zero quality."""
    qualities: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        qualities[coding.strip()] = quality
    return qualities.get("gzip", qualities.get("*", 0.0)) > 0


class _GZipResponder:
    def __init__(self, middleware: GZipMiddleware, send: Send) -> None:
        self.app = middleware.app
        self.minimum_size = middleware.minimum_size
        self.level = middleware.compresslevel
        self.send = send
        self.start: Message | None = None
        self.passthrough = False
        self.compressor: zlib._Compress | None = None

    async def run(self, scope: Scope, receive: Receive) -> None:
        await self.app(scope, receive, self.on_send)

    async def on_send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = Headers(raw=message.get("headers", []))
            ctype = headers.get("content-type", "")
            self.passthrough = (
                "content-encoding" in headers
                or ctype.startswith(_SKIP_TYPES)
                or "no-transform" in headers.get("cache-control", "")
            )
            self.start = message
            return
        if message["type"] != "http.response.body":
            await self.send(message)
            return
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if self.passthrough:
            await self._flush_start()
            await self.send(message)
            return
        if self.compressor is None:
            if not more and len(body) < self.minimum_size:
                self.passthrough = True
                await self._flush_start()
                await self.send(message)
                return
            if self.start is None:
                raise RuntimeError("The app sent a response body before http.response.start.")
            start = self.start
            self.compressor = zlib.compressobj(self.level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            headers = MutableHeaders(raw=list(start.get("headers", [])))
            headers["content-encoding"] = "gzip"
            headers.append("vary", "Accept-Encoding")
            if more:
                del headers["content-length"]
            else:
                body = gzip.compress(body, self.level)
                headers["content-length"] = str(len(body))
                self.start = {**start, "headers": headers.raw}
                await self._flush_start()
                await self.send({"type": "http.response.body", "body": body})
                return
            self.start = {**start, "headers": headers.raw}
            await self._flush_start()
        data = self.compressor.compress(body)
        data += self.compressor.flush(zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH)
        await self.send({"type": "http.response.body", "body": data, "more_body": more})

    async def _flush_start(self) -> None:
        if self.start is not None:
            await self.send(self.start)
            self.start = None
