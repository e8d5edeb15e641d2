"""Error responses: JSON problem details for API clients, HTML pages for browsers."""

from __future__ import annotations

import html
import re
from typing import Any

from heron.exceptions import _phrase as phrase
from heron.plugins import GETTEXT_KEY, LANGUAGE_KEY
from heron.requests import HTTPConnection
from heron.responses import HTMLResponse, JSONResponse, Response


def _(message: str) -> str:
    # Marks heron's own text for its catalog (``heron i18n extract``); the core
    # imports no battery, so a translation plug-in translates it (error_response).
    return message


#: The status titles heron's pages show, for the catalog (the core's text itself
#: comes from http.HTTPStatus).
_TITLES = (
    _("Bad Request"), _("Unauthorized"), _("Forbidden"), _("Not Found"),
    _("Method Not Allowed"), _("Not Acceptable"), _("Request Timeout"), _("Conflict"),
    _("Gone"), _("Content Too Large"), _("Request Entity Too Large"), _("URI Too Long"),
    _("Request-URI Too Long"),
    _("Unsupported Media Type"), _("Unprocessable Content"), _("Unprocessable Entity"),
    _("Too Many Requests"), _("Request Header Fields Too Large"),
    _("Internal Server Error"), _("Not Implemented"), _("Bad Gateway"),
    _("Service Unavailable"), _("Gateway Timeout"), _("Error"),
)
#: The core's details that hold a value, matched back to their message to translate.
_DETAILS = (
    (re.compile(r"Nothing is found at (?P<path>.*)\.", re.S),
     _("Nothing is found at %(path)s.")),
    (re.compile(r"Method (?P<method>\S+) is not allowed here\."),
     _("Method %(method)s is not allowed here.")),
    (re.compile(r"Request body is larger than (?P<limit>\d+) bytes\."),
     _("Request body is larger than %(limit)s bytes.")),
)
_STATIC_DETAILS = (
    _("The server could not answer this request."), _("Refused before routing."),
    _("Too many request headers."), _("The Host header is malformed."),
    _("An HTTP/1.1 request must send a Host header."),
    _("The Host header names a host this site does not serve."),
)


def _translated(gettext: Any, text: str) -> str:
    """``text`` in the request's language: a message as it is, or one of the core's
    details with a value (``Nothing is found at /x.``) through its message."""
    found: str = gettext(text)
    if found != text:
        return found
    for pattern, message in _DETAILS:
        match = pattern.fullmatch(text)
        if match is not None:
            translated: str = gettext(message)
            return translated % match.groupdict() if translated != message else text
    return text


_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{status} {title}</title>
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
    # A translation plugin (heron.i18n) leaves the request's gettext in the scope.
    gettext = conn.scope.get(GETTEXT_KEY)
    if gettext is not None:
        text = _translated(gettext, text) if text and text != title else ""
        title = gettext(title)
    label = gettext("Reference:") if gettext is not None else "Reference:"
    extra = f'<p class="ref">{html.escape(label)} {html.escape(reference)}</p>' \
        if reference else ""
    page = _PAGE.format(
        lang=html.escape(conn.scope.get(LANGUAGE_KEY, "en")),
        status=status,
        title=html.escape(title),
        detail=html.escape(text if text != title else ""),
        extra=extra,
    )
    return HTMLResponse(page, status, headers)
