"""A small site with heron.auth, served by ``heron run`` for the Chromium test
(tests/browser/test_auth_browser.py): a home page, and a page for members only.

Its settings come from ``HERON_*`` variables (the test sets the secret key, the
database, ``auth_signup`` and cheap password hashing); its tables come from
``heron db migrate`` (heron.auth's shipped migrations).
"""

from __future__ import annotations

from pathlib import Path

from heron import App, Request, Response, Settings, render_async
from heron.auth import login_required

app = App(Settings(), components=["heron.auth"], root=Path(__file__).parent)


@app.get("/")
async def home(request: Request) -> Response:
    await request.auser()
    return await render_async(request, "home.html")


@app.get("/favicon.ico")
def favicon() -> Response:
    return Response(status_code=204)  # none: but no 404 in the browser's console


@app.get("/private")
@login_required
async def private(request: Request) -> Response:
    return await render_async(request, "private.html")
