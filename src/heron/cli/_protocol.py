"""uvicorn's httptools protocol with a limit on the size of a request's head.

httptools (llhttp) has no limit of its own, and uvicorn sets none: a header
line of 100 MB is buffered whole (by repeated concatenation, so slower and
slower) before the app sees anything, and the worker's memory grows meanwhile.
An app cannot refuse it, since it runs only once the whole head has arrived.
This protocol answers 431 and closes the connection instead, counting what it
reads from the socket rather than what the parser hands over, since a header
line still arriving is out of sight inside httptools:

- a head still unfinished after more than the limit of reads that fell wholly
  inside it is refused at once (h11's rule, give or take the one read in which
  the head began): the flood stops there, whatever its size;
- a read that may complete a head over the limit (the head's reads so far plus
  this one pass it) sends the requests it completes through
  :meth:`HttpToolsProtocol._check_head`, which measures each head exactly and
  answers 431 to one over the limit instead of running the app.

A normal request, whose head fits in one small read, only pays for adding up
and comparing two numbers.  ``data_received`` repeats uvicorn's own few lines
(uvicorn 0.30 to 0.55) rather than calling them through ``super()``, which
would cost a Python call per read.

The limit is uvicorn's ``h11_max_incomplete_event_size``, the number h11
enforces when it is the parser: ``heron run`` sets it to the app's
``max_header_size``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, HTTPScope
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpToolsProtocol
from uvicorn.server import ServerState

__all__ = ["DEFAULT_MAX_HEAD_SIZE", "HttpToolsProtocol"]

#: The limit when uvicorn's config sets none (heron's ``max_header_size`` default).
DEFAULT_MAX_HEAD_SIZE = 64 * 1024
_TOO_LARGE = b"Request header fields too large."
_HEADERS_431 = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(_TOO_LARGE)).encode("ascii")),
    (b"connection", b"close"),
]


class HttpToolsProtocol(_HttpToolsProtocol):
    """uvicorn's :class:`~uvicorn.protocols.http.httptools_impl.HttpToolsProtocol`
    that answers 431 and closes the connection when a request's head (request
    line and headers) passes ``config.h11_max_incomplete_event_size`` bytes."""

    # Slots, not instance attributes: uvicorn's protocol already has 28 of those, and
    # past 30 CPython 3.11 stops sharing the instance dict's keys, which slows every
    # attribute access of uvicorn's own code (about 6,000 instructions per request).
    __slots__ = ("head_inside", "head_reads", "max_head_size", "served_app")

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limit = config.h11_max_incomplete_event_size
        self.max_head_size = limit if limit is not None else DEFAULT_MAX_HEAD_SIZE
        self.served_app = self.app
        #: The reads since the one in which the unfinished head began (at least its size).
        self.head_reads = 0
        #: The reads that fell wholly inside the unfinished head (at most its size).
        self.head_inside = 0

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        # The request being read: its head is unfinished while its scope has no method.
        reading = self.scope
        # A read that may complete a head over the limit: the requests it completes
        # are measured before they run (on_headers_complete starts ``self.app``).
        large = self.head_reads + len(data) > self.max_head_size
        if large:
            self.app = self._check_head
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        finally:
            if large:
                self.app = self.served_app
        scope = self.scope
        if scope is not None and "method" not in scope:  # a head is still arriving
            if scope is reading:  # and all of this read belongs to it
                self.head_reads += len(data)
                self.head_inside += len(data)
                if self.head_inside > self.max_head_size:
                    self._send_431()
            else:  # it began within this read
                self.head_reads = len(data)
                self.head_inside = 0
        elif large:
            self.head_reads = 0

    async def _check_head(self, scope: HTTPScope, receive: ASGIReceiveCallable,
                          send: ASGISendCallable) -> None:
        """The app, behind an exact measure of the request's head."""
        size = len(scope["method"]) + len(scope["raw_path"]) + len(scope["query_string"]) + 12
        for name, value in scope["headers"]:
            size += len(name) + len(value) + 4  # ": " and CRLF
        if size <= self.max_head_size:
            await self.served_app(scope, receive, send)  # type: ignore[arg-type]
            return
        self.logger.warning("Request header fields too large (%d bytes, over %d).", size,
                            self.max_head_size)
        await send({"type": "http.response.start", "status": 431, "headers": _HEADERS_431})
        await send({"type": "http.response.body", "body": _TOO_LARGE})

    def _send_431(self) -> None:
        self.logger.warning("Request header fields too large (over %d bytes).",
                            self.max_head_size)
        content = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        for name, value in _HEADERS_431:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([b"\r\n", _TOO_LARGE])
        self.transport.write(b"".join(content))
        self.transport.close()
