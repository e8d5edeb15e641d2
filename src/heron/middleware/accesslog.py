"""One log line per request on the ``heron.access`` logger."""

from __future__ import annotations

import logging
import time

from heron._scope import full_path
from heron.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLogMiddleware"]


class AccessLogMiddleware:
    """Log ``client "METHOD path" status duration`` after each HTTP request.

    The query string is left out: it often carries tokens.  A request the
    client abandoned before any response is logged with status 499.  Configure the
    ``heron.access`` logger (level, handlers, format) like any other.
    """

    def __init__(self, app: ASGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or logging.getLogger("heron.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # until the app answers or returns without answering

        started = False

        async def send_and_record(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
            if not started:
                status = 499  # nginx's "client closed request": the client left first
        finally:
            client = scope.get("client")
            self.logger.info(
                '%s "%s %s" %d %.1fms',
                client[0] if client else "-",
                scope["method"],
                full_path(scope),
                status,
                (time.perf_counter() - start) * 1000,
            )
