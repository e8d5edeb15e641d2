"""heron peer for the server-rendered-site scenarios: a template page and a session counter.

Configured as in production: ``debug`` off (the default), a ``secret_key``,
``allowed_hosts`` and no access log.  Templates come from ``templates/`` next
to this file (the app's root); sessions use the default signed-cookie backend.

    GET /page      render(request, "page.html", ...): base layout + a 10-row loop, autoescaped
    GET /counter   request.session["counter"] += 1, the new value as text/plain
    GET /cached    /page behind ``@cache_page(60)`` (the memory cache)
"""

from __future__ import annotations

from _site_data import ALLOWED_HOSTS, FOOTER, ITEMS, SECRET_KEY, TITLE, USER

from heron import App, HTMLResponse, PlainTextResponse, Request, render
from heron.cache import cache_page

app = App(secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS, access_log=False, debug=False)


@app.get("/page")
async def page(request: Request) -> HTMLResponse:
    """``GET /page``: the Jinja2 page."""
    return render(request, "page.html", title=TITLE, user=USER, footer=FOOTER, items=ITEMS)


@app.get("/counter")
async def counter(request: Request) -> PlainTextResponse:
    """``GET /counter``: read, increment and store a counter in the session."""
    value = request.session.get("counter", 0) + 1
    request.session["counter"] = value
    return PlainTextResponse(str(value))


@app.get("/cached")
@cache_page(60)
async def cached(request: Request) -> HTMLResponse:
    """``GET /cached``: the Jinja2 page, kept for a minute by the page cache."""
    return render(request, "page.html", title=TITLE, user=USER, footer=FOOTER, items=ITEMS)
