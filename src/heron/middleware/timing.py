"""``Server-Timing`` header with the app's own time (on in debug)."""

from __future__ import annotations

import time

from heron.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ServerTimingMiddleware"]


class ServerTimingMiddleware:
    """Add ``Server-Timing: app;dur=<ms>`` (time until the response started),
    which browsers show in their network panel."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def send_with_timing(message: Message) -> None:
            if message["type"] == "http.response.start":
                duration = (time.perf_counter() - start) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={duration:.2f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_timing)
