"""Error responses: JSON problem details for API clients, HTML pages for browsers."""

from __future__ import annotations

import html
from typing import Any

from heron.exceptions import _phrase as phrase
from heron.requests import HTTPConnection
from heron.responses import HTMLResponse, JSONResponse, Response

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{status} {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;
color:#222}}h1{{font-size:1.6rem}}p.ref{{color:#666;font-size:.9rem}}</style></head>
<body><h1>{status} {title}</h1><p>{detail}</p>{extra}</body></html>
"""


def wants_json(conn: HTTPConnection) -> bool:
    """True when the client prefers JSON: it accepts JSON but not HTML, sent JSON, or
    sent an ``Authorization`` header (an API client) without asking for HTML."""
    accept = conn.headers.get("accept", "")
    if "text/html" in accept:
        return False
    if "json" in accept or "authorization" in conn.headers:
        return True
    content_type = conn.headers.get("content-type", "")
    return "json" in content_type


def answers_json(conn: HTTPConnection) -> bool:
    """True when heron's errors for ``conn`` are problem JSON: the request is in API
    mode (:attr:`~heron.requests.HTTPConnection.api_mode`), or the client prefers JSON."""
    return conn.api_mode or wants_json(conn)


def validation_response(exc: Any) -> Response:
    """A 422 as problem JSON with its list of errors, whatever the client accepts."""
    body = {"type": "about:blank", "title": phrase(422), "status": 422, "detail": exc.detail,
            "errors": exc.errors}
    response = JSONResponse(body, 422, exc.headers or None)
    response.headers["content-type"] = "application/problem+json"
    return response


def error_response(
    conn: HTTPConnection,
    status: int,
    detail: Any = None,
    headers: dict[str, str] | None = None,
    reference: str | None = None,
) -> Response:
    """The default error answer: RFC 9457 problem JSON (API mode, or a client that
    prefers JSON) or a small HTML page."""
    title = phrase(status)
    if answers_json(conn):
        body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
        if detail is not None and detail != title:
            body["detail"] = detail
        if reference:
            body["reference"] = reference
        response: Response = JSONResponse(body, status, headers)
        response.headers["content-type"] = "application/problem+json"
        return response
    text = detail if isinstance(detail, str) else ("" if detail is None else repr(detail))
    extra = f'<p class="ref">Reference: {html.escape(reference)}</p>' if reference else ""
    page = _PAGE.format(
        status=status,
        title=html.escape(title),
        detail=html.escape(text if text != title else ""),
        extra=extra,
    )
    return HTMLResponse(page, status, headers)
