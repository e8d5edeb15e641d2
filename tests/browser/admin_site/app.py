"""The app: heron.auth and heron.admin over the catalogue component.

Its settings come from ``HERON_*`` variables (the test sets the secret key, the
database and cheap password hashing).
"""

from __future__ import annotations

from heron import App, Response, Settings

app = App(Settings(), components=["heron.auth", "heron.admin", "admin_site"])


@app.get("/favicon.ico")
def favicon() -> Response:
    return Response(status_code=204)  # none: but no 404 in the browser's console
