"""Hand-written ASGI callable for the site scenarios: the ceiling heron is compared against.

No framework: the same Jinja2 templates rendered by a bare ``jinja2.Environment``
(autoescaping and the compiled-template cache as heron configures them), and
the same signed-cookie session heron uses (itsdangerous ``URLSafeTimedSerializer``,
salt ``heron.sessions``, orjson, same cookie name and attributes), with a
minimal cookie parser.  No host check and no security headers.

    GET /page      the page template rendered with the shared context
    GET /counter   the signed session cookie decoded, the counter incremented, re-signed
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import jinja2
import orjson
from _site_data import FOOTER, ITEMS, SECRET_KEY, TITLE, USER
from itsdangerous import BadData, URLSafeTimedSerializer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_AGE = 14 * 24 * 3600
COOKIE = "heron_session"
COOKIE_PREFIX = COOKIE + "="
COOKIE_ATTRIBUTES = f"; HttpOnly; Max-Age={MAX_AGE}; Path=/; SameSite=Lax"
HTML_HEADERS = [(b"content-type", b"text/html; charset=utf-8")]
TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
    autoescape=jinja2.select_autoescape(("html", "htm", "xml", "jinja")),
    auto_reload=False,
    cache_size=1000,
)


class _JSON:
    @staticmethod
    def dumps(value: Any) -> str:
        return orjson.dumps(value).decode()

    @staticmethod
    def loads(value: str | bytes) -> Any:
        return orjson.loads(value)


serializer = URLSafeTimedSerializer([SECRET_KEY], salt="heron.sessions", serializer=_JSON)


def _session_cookie(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                part = part.strip()
                if part.startswith(COOKIE_PREFIX):
                    return part[len(COOKIE_PREFIX) :]
    return None


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


_PAGE: list[bytes] = []


def _cached_page() -> bytes:
    if not _PAGE:
        _PAGE.append(env.get_template("page.html").render(
            title=TITLE, user=USER, footer=FOOTER, items=ITEMS).encode())
    return _PAGE[0]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI entry point."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path = scope["path"]
    if path == "/page":
        body = env.get_template("page.html").render(
            title=TITLE, user=USER, footer=FOOTER, items=ITEMS
        )
        await _respond(send, 200, HTML_HEADERS, body.encode())
    elif path == "/cached":
        # The ceiling of any page cache: bytes rendered once, sent as they are.
        await _respond(send, 200, HTML_HEADERS, _cached_page())
    elif path == "/counter":
        data: dict[str, Any] = {}
        cookie = _session_cookie(scope)
        if cookie:
            try:
                loaded = serializer.loads(cookie, max_age=MAX_AGE)
            except (BadData, ValueError, TypeError):
                loaded = None
            if isinstance(loaded, dict):
                data = loaded
        data["counter"] = value = data.get("counter", 0) + 1
        set_cookie = COOKIE_PREFIX + serializer.dumps(data) + COOKIE_ATTRIBUTES
        headers = [*TEXT_HEADERS, (b"vary", b"Cookie"), (b"set-cookie", set_cookie.encode())]
        await _respond(send, 200, headers, str(value).encode())
    else:
        await _respond(send, 404, TEXT_HEADERS, b"Not Found")
