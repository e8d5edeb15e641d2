"""HTTP responses, and the coercion of a view's return value into one."""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import AsyncIterable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import orjson

from heron.concurrency import iterate_in_threadpool
from heron.datastructures import MutableHeaders
from heron.types import Receive, Scope, Send

__all__ = [
    "EventStreamResponse",
    "FileResponse",  # noqa: F822 (lazily, from heron._files, by __getattr__ below)
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "ServerSentEvent",
    "StreamingResponse",
    "make_response",
]

_NO_BODY_STATUS = frozenset({204, 304})
_CONTENT_TYPES: dict[tuple[str, str], tuple[bytes, bytes]] = {}


def _content_type(media_type: str, charset: str) -> tuple[bytes, bytes]:
    """The ``content-type`` header pair, with ``charset`` for text types (cached)."""
    header = _CONTENT_TYPES.get((media_type, charset))
    if header is None:
        value = media_type
        if media_type.startswith("text/") and "charset=" not in media_type:
            value += "; charset=" + charset
        header = _CONTENT_TYPES[(media_type, charset)] = (b"content-type", value.encode("latin-1"))
    return header
HeadersArg = Mapping[str, str] | None
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# The characters http.cookies leaves unquoted; anything else is quoted as it does.
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~:]+")


def _quote_cookie(value: str) -> str:
    from http.cookies import _quote  # type: ignore[attr-defined]

    quoted: str = _quote(value)
    return quoted


class Response:
    """A complete HTTP response with a body of bytes.

    Args:
        content: ``bytes``, ``str`` (encoded as UTF-8) or ``None``.
        status_code: the HTTP status.
        headers: extra headers.
        media_type: the ``Content-Type`` without charset (added for ``text/*``).
    """

    media_type: ClassVar[str | None] = None
    charset: ClassVar[str] = "utf-8"

    _content_type_header: ClassVar[tuple[bytes, bytes]]
    #: True when ``render`` is not overridden, so a str body can be encoded inline.
    _plain_render: ClassVar[bool] = True
    #: ``Set-Cookie`` values that get ``Secure`` on HTTPS (values, not positions:
    #: editing other headers may rebuild the list).
    _secure_auto: list[bytes] | tuple[()] = ()

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: HeadersArg = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status_code
        if type(content) is str and self._plain_render:
            body = self.body = content.encode(self.charset)
        else:
            body = self.body = self.render(content)
        if headers is None:
            # The common case, kept short: it runs for nearly every response.
            if media_type is None:
                raw = [] if self.media_type is None else [self._content_type_header]
            else:
                raw = [_content_type(media_type, self.charset)]
            if status_code >= 200 and status_code not in _NO_BODY_STATUS:
                raw.append((b"content-length", b"%d" % len(body)))
            self.raw_headers = raw
            return
        self.raw_headers = []
        headers_view = MutableHeaders(raw=self.raw_headers)
        for key, value in headers.items():
            headers_view.append(key, value)
        self._add_entity_headers(media_type or self.media_type)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_render = cls.render is Response.render
        if cls.media_type is not None:
            cls._content_type_header = _content_type(cls.media_type, cls.charset)

    def render(self, content: Any) -> bytes:
        """Turn ``content`` into the body bytes (subclasses override this)."""
        if type(content) is str:
            return content.encode(self.charset)
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        if isinstance(content, (bytearray, memoryview)):
            return bytes(content)
        return str(content).encode(self.charset)

    def _add_entity_headers(self, media_type: str | None) -> None:
        names = {k for k, _ in self.raw_headers}
        if media_type is not None and b"content-type" not in names:
            self.raw_headers.append(_content_type(media_type, self.charset))
        sends_body = self.status_code not in _NO_BODY_STATUS and self.status_code >= 200
        if sends_body and b"content-length" not in names:
            self.raw_headers.append((b"content-length", b"%d" % len(self.body)))

    @property
    def headers(self) -> MutableHeaders:
        """The response headers; changes are sent with the response."""
        return MutableHeaders(raw=self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        max_age: int | None = None,
        expires: datetime | None = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool | None = None,
        httponly: bool = True,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Set a cookie.  Defaults are the safe ones: HttpOnly and SameSite=Lax.

        ``secure=None`` (the default) adds the ``Secure`` flag when the request
        came over HTTPS; pass ``True`` or ``False`` to force it.
        """
        if not _COOKIE_NAME.fullmatch(key):
            raise ValueError(f"Invalid cookie name {key!r}")
        if samesite is not None and samesite.lower() not in ("lax", "strict", "none"):
            raise ValueError("samesite must be 'lax', 'strict' or 'none'")
        # Attributes in the order http.cookies writes them (sorted by name),
        # formatted directly: a SimpleCookie costs ~40x more per cookie.
        parts = [f"{key}={value if _COOKIE_VALUE.fullmatch(value) else _quote_cookie(value)}"]
        if domain is not None:
            parts.append(f"Domain={domain}")
        if expires is not None:
            # A naive datetime is taken to be UTC, as Django does.
            expires = expires.replace(tzinfo=UTC) if expires.tzinfo is None else expires
            from email.utils import format_datetime

            parts.append(f"expires={format_datetime(expires.astimezone(UTC), usegmt=True)}")
        if httponly:
            parts.append("HttpOnly")
        if max_age is not None:
            parts.append(f"Max-Age={int(max_age)}")
        parts.append(f"Path={path}")
        forced_secure = bool(secure)
        if samesite is not None:
            parts.append(f"SameSite={samesite.capitalize()}")
            if samesite.lower() == "none" and secure is None:
                forced_secure = True  # browsers reject SameSite=None without Secure
        if forced_secure:
            parts.append("Secure")
        header = "; ".join(parts)
        if "\r" in header or "\n" in header or ";" in (domain or "") + path:
            raise ValueError("Cookie attributes must not contain ';' or line breaks")
        value_bytes = header.encode("latin-1")
        if secure is None and not forced_secure:
            self._secure_auto = [*self._secure_auto, value_bytes]
        self.raw_headers.append((b"set-cookie", value_bytes))

    def delete_cookie(self, key: str, *, path: str = "/", domain: str | None = None) -> None:
        """Tell the browser to forget a cookie."""
        self.set_cookie(key, "", max_age=0, expires=datetime(1970, 1, 1, tzinfo=UTC), path=path,
                        domain=domain, samesite=None)

    def _headers_for(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        if self._secure_auto and scope.get("scheme") == "https":
            auto = self._secure_auto
            return [(k, v + b"; Secure") if k == b"set-cookie" and v in auto else (k, v)
                    for k, v in self.raw_headers]
        return self.raw_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": self._headers_for(scope) if self._secure_auto else self.raw_headers,
            }
        )
        body = b"" if scope["method"] == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body})

    def __repr__(self) -> str:
        return f"<{type(self).__name__} status_code={self.status_code}>"


class HTMLResponse(Response):
    """An HTML page (``text/html; charset=utf-8``)."""

    media_type = "text/html"


class PlainTextResponse(Response):
    """Plain text (``text/plain; charset=utf-8``)."""

    media_type = "text/plain"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj)
    dump = getattr(obj, "model_dump", None)
    if dump is not None:
        return dump(mode="json", by_alias=True)  # the model's JSON form, as documented
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if isinstance(obj, PurePath):
        return str(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def json_dumps(content: Any) -> bytes:
    """Encode ``content`` as JSON bytes: datetimes, UUIDs, Decimals (as strings),
    Enums, dataclasses and pydantic models included."""
    try:
        return orjson.dumps(content, default=_json_default, option=_JSON_OPTIONS)
    except TypeError as exc:
        return _dumps_big_integers(content, exc)


def _dumps_big_integers(content: Any, error: TypeError) -> bytes:
    # orjson stops at 64-bit integers; JSON itself has no limit (Python's json has none).
    if "64-bit" not in str(error):
        raise error
    import json

    def default(obj: Any) -> Any:
        return orjson.loads(orjson.dumps(obj, default=_json_default, option=_JSON_OPTIONS))

    return json.dumps(content, default=default, separators=(",", ":"),
                      ensure_ascii=False).encode()


class JSONResponse(Response):
    """JSON encoded with orjson; see :func:`json_dumps` for the types it handles."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        # json_dumps inlined: one call less on every JSON response.
        try:
            return orjson.dumps(content, default=_json_default, option=_JSON_OPTIONS)
        except TypeError as exc:
            return _dumps_big_integers(content, exc)


class RedirectResponse(Response):
    """Redirect to ``url`` (302 by default; 301, 303, 307 or 308 as asked)."""

    def __init__(self, url: str, status_code: int = 302, headers: HeadersArg = None) -> None:
        super().__init__(b"", status_code, headers)
        self.headers["location"] = quote(str(url), safe=":/%#?=@[]!$&'()*+,;~")


class StreamingResponse(Response):
    """A body sent in chunks from a sync or async iterator.

    Sync iterators run in the thread pool.  Streaming stops when the client
    disconnects.
    """

    def __init__(
        self,
        content: AsyncIterable[Any] | Iterable[Any],
        status_code: int = 200,
        headers: HeadersArg = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = b""
        self.raw_headers = []
        if headers:
            self.headers.update(headers)
        self.content = content
        media = media_type or self.media_type
        if media is not None and "content-type" not in self.headers:
            if media.startswith("text/") and "charset=" not in media:
                media += "; charset=" + self.charset
            self.headers["content-type"] = media

    def _iterate(self) -> AsyncIterable[Any]:
        if isinstance(self.content, AsyncIterable):
            return self.content
        return iterate_in_threadpool(self.content)

    async def _stream(self, scope: Scope, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self._headers_for(scope)})
        if scope["method"] != "HEAD":
            async for chunk in self._iterate():
                data = chunk if isinstance(chunk, bytes) else str(chunk).encode(self.charset)
                await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        import asyncio

        streaming = asyncio.ensure_future(self._stream(scope, send))
        watching = asyncio.ensure_future(_wait_for_disconnect(receive))
        try:
            done, _ = await asyncio.wait({streaming, watching},
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (streaming, watching):
                task.cancel()
        if streaming in done:
            streaming.result()  # re-raise an error from the iterator


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


@dataclasses.dataclass
class ServerSentEvent:
    """One server-sent event; ``data`` that is not a str is sent as JSON."""

    data: Any = ""
    event: str | None = None
    id: str | None = None
    retry: int | None = None

    def encode(self) -> bytes:
        data = self.data if isinstance(self.data, str) else json_dumps(self.data).decode()
        lines = []
        if self.event is not None:
            lines.append(f"event: {_one_line(self.event)}")
        if self.id is not None:
            lines.append(f"id: {_one_line(self.id)}")
        if self.retry is not None:
            lines.append(f"retry: {int(self.retry)}")
        lines += [f"data: {line}" for line in data.splitlines() or [""]]
        return ("\n".join(lines) + "\n\n").encode()


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


class EventStreamResponse(StreamingResponse):
    """Server-sent events from an iterator of :class:`ServerSentEvent`, str or data.

    A comment line is sent every ``ping`` seconds of silence so that proxies
    keep the connection open.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        events: AsyncIterable[Any] | Iterable[Any],
        status_code: int = 200,
        headers: HeadersArg = None,
        ping: float | None = 15.0,
    ) -> None:
        super().__init__(events, status_code, headers)
        self.headers.setdefault("cache-control", "no-cache")
        self.headers.setdefault("x-accel-buffering", "no")
        self.ping = ping

    async def _iterate(self) -> Any:  # type: ignore[override]
        import asyncio

        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)
        done = object()

        async def produce() -> None:
            try:
                async for item in super(EventStreamResponse, self)._iterate():
                    await queue.put(item)
            finally:
                await queue.put(done)

        producer = asyncio.ensure_future(produce())
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), self.ping)
                except TimeoutError:
                    yield b": ping\n\n"
                    continue
                if item is done:
                    producer.result()
                    return
                if not isinstance(item, ServerSentEvent):
                    item = ServerSentEvent(item)
                yield item.encode()
        finally:
            producer.cancel()


def make_response(value: Any) -> Response:
    """Coerce a view's return value into a :class:`Response`.

    ``str`` -> HTML; ``dict``/``list``/dataclass/pydantic model -> JSON;
    ``bytes`` -> ``application/octet-stream``; ``None`` -> 204;
    ``(body, status)`` and ``(body, status, headers)`` tuples; a
    :class:`Response` (or any ASGI callable) is returned as is.
    """
    kind = type(value)
    if kind is dict or kind is list:
        return JSONResponse(value)
    if kind is str:
        return HTMLResponse(value)
    if isinstance(value, Response):
        return value
    if value is None:
        return Response(status_code=204)
    if kind is tuple:
        return _from_tuple(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Response(value, media_type="application/octet-stream")
    if isinstance(value, str):
        return HTMLResponse(value)
    if (isinstance(value, (dict, list)) or dataclasses.is_dataclass(value)
            or hasattr(value, "model_dump")):
        return JSONResponse(value)
    if callable(value) and inspect.iscoroutinefunction(getattr(value, "__call__", None)):  # noqa: B004
        return value  # type: ignore[no-any-return]  # an ASGI app used as a response
    raise TypeError(
        f"A view returned {kind.__name__}, which heron cannot turn into a response. "
        "Return a str, dict, list, dataclass, pydantic model, bytes, None, a tuple "
        "(body, status[, headers]) or a Response."
    )


def _from_tuple(value: tuple[Any, ...]) -> Response:
    if len(value) not in (2, 3) or not isinstance(value[1], int):
        raise TypeError("A view returned a tuple: use (body, status) or (body, status, headers).")
    if value[0] is None:
        response = Response(status_code=value[1])
    else:
        response = make_response(value[0])
        response.status_code = value[1]
    if value[1] in _NO_BODY_STATUS:
        response.raw_headers[:] = [(k, v) for k, v in response.raw_headers
                                   if k != b"content-length"]
        response.body = b""
    if len(value) == 3:
        response.headers.update(value[2])
    return response


def __getattr__(name: str) -> Any:
    if name == "FileResponse":  # defined in heron._files, which imports this module
        from heron._files import FileResponse

        return FileResponse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
