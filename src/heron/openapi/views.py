"""The views behind the ``openapi_url`` and ``docs_url`` settings.

- :func:`openapi_document`: the app's OpenAPI 3.1 document as JSON.
- :func:`docs_page`: a small HTML page that loads heron's viewer
  (``static/docs.js`` and ``docs.css``, shipped with heron: no CDN, nothing
  inline, so it works under the default Content-Security-Policy).
- :func:`docs_asset`: those two files, and nothing else.

The app adds them (as ``heron_openapi``, ``heron_docs`` and
``heron_docs_asset``) unless it has a route of its own at those paths.
"""

from __future__ import annotations

import hashlib
import html
import weakref
from functools import cache
from pathlib import Path
from typing import Any

from heron.concurrency import run_in_threadpool
from heron.exceptions import HTTPException
from heron.openapi import openapi_schema
from heron.requests import Request
from heron.responses import HTMLResponse, Response, json_dumps

__all__ = ["docs_asset", "docs_page", "openapi_document"]

STATIC = Path(__file__).with_name("static")
#: The files the docs page may load, with their content types.
ASSETS = {"docs.js": "text/javascript", "docs.css": "text/css"}
#: For an asset asked with its current ``?v=`` hash: the URL changes with the file.
IMMUTABLE = "public, max-age=31536000, immutable"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · API docs</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{css}">
<script src="{js}" defer></script>
{csrf}</head>
<body>
<a class="hd-skip" href="#hd-main">Skip to the operations</a>
<header class="hd-header">
<h1>{title}</h1>
<p>OpenAPI document: <a href="{openapi}">{openapi_text}</a></p>
</header>
<main id="hd-main" class="hd-main" data-openapi-url="{openapi}" tabindex="-1">
<p class="hd-status" role="status">Loading the API description…</p>
<noscript><p>This page needs JavaScript to show the API; the
<a href="{openapi}">OpenAPI document</a> has it all.</p></noscript>
</main>
</body>
</html>
"""


@cache
def _asset(name: str) -> tuple[bytes, str]:
    """The bytes of a shipped asset and a short hash of them (read once)."""
    body = (STATIC / name).read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:16]


def _not_modified(request: Request, etag: str) -> bool:
    given = request.headers.get("if-none-match", "")
    return any(tag.strip() in (etag, f"W/{etag}", "*") for tag in given.split(","))


# The encoded document of each started app, by root path; forgotten with the app.
_encoded: weakref.WeakKeyDictionary[Any, dict[str, tuple[bytes, str]]] = \
    weakref.WeakKeyDictionary()


async def openapi_document(request: Request) -> Response:
    """``GET {openapi_url}``: the OpenAPI 3.1 document (``application/json``).

    Made once the app has started (in the thread pool: it may take a moment for
    a large app), then served from memory with an ``ETag``.  Behind a mount or a
    proxy prefix (``root_path``) the document gets ``servers: [{url: prefix}]``.
    """
    app = request.app
    root_path: str = request.scope.get("root_path", "")
    cached = _encoded.get(app, {}).get(root_path)
    if cached is None:
        document = await run_in_threadpool(openapi_schema, app)
        if root_path:
            document = {**document, "servers": [{"url": root_path}]}
        body = json_dumps(document)
        cached = (body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        if app.started:  # started: the routes are fixed
            _encoded.setdefault(app, {})[root_path] = cached
    body, etag = cached
    headers = {"cache-control": "no-cache", "etag": etag}
    if _not_modified(request, etag):
        return Response(None, 304, headers)
    return Response(body, 200, headers, media_type="application/json")


async def docs_page(request: Request) -> Response:
    """``GET {docs_url}``: the API docs page.

    An HTML shell that loads heron's viewer script and stylesheet by URL.  With
    CSRF protection on, it carries this session's token in
    ``<meta name="csrf-token">`` for the viewer's "Try it" requests, so it is
    sent with ``Cache-Control: no-store``.
    """
    app = request.app
    settings = app.settings
    root: str = request.scope.get("root_path", "")
    openapi = root + (settings.openapi_url or "")

    def asset_url(name: str) -> str:
        return root + app.url_path_for("heron_docs_asset", name=name) + f"?v={_asset(name)[1]}"

    csrf = ""
    if settings.csrf:
        from heron.csrf import get_token

        csrf = (f'<meta name="csrf-token" content="{html.escape(get_token(request))}" '
                f'data-header="{html.escape(settings.csrf_header_name)}">\n')
    page = _PAGE.format(
        title=html.escape(settings.openapi_title), css=html.escape(asset_url("docs.css")),
        js=html.escape(asset_url("docs.js")), openapi=html.escape(openapi),
        openapi_text=html.escape(settings.openapi_url or ""), csrf=csrf,
    )
    cache_control = "no-store" if csrf else "no-cache"
    return HTMLResponse(page, 200, {"cache-control": cache_control})


async def docs_asset(request: Request, name: str) -> Response:
    """``GET {docs_url}/assets/{name}``: ``docs.js`` or ``docs.css``; 404 for any
    other name.

    Asked with its current hash (``?v=``, as the page does) a file may be cached
    for a year; otherwise it is revalidated with its ``ETag``.

    Raises:
        HTTPException: 404 for a name that is not one of the viewer's files.
    """
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404)
    body, digest = _asset(name)
    etag = f'"{digest}"'
    immutable = request.query_params.get("v") == digest
    headers = {"cache-control": IMMUTABLE if immutable else "no-cache", "etag": etag}
    if _not_modified(request, etag):
        return Response(None, 304, headers)
    return Response(body, 200, headers, media_type=media_type)
