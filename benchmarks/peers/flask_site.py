"""Flask peer (WSGI) for the server-rendered-site scenarios.

``render_template`` with the same Jinja2 templates as heron (``templates/``),
and ``flask.session``, Flask's default signed-cookie session (itsdangerous).
Debug is off and ``SECRET_KEY`` is set, as in production.

    GET /page      render_template("page.html", ...)
    GET /counter   session["counter"] += 1, the new value as text/plain
    GET /cached    /page behind Flask-Caching's ``@cache.cached(60)`` (SimpleCache, in memory)
"""

from __future__ import annotations

from _site_data import FOOTER, ITEMS, SECRET_KEY, TITLE, USER
from flask import Flask, Response, render_template, session
from flask_caching import Cache

app = Flask(__name__)
app.config.update(SECRET_KEY=SECRET_KEY, DEBUG=False, CACHE_TYPE="SimpleCache")
cache = Cache(app)


@app.get("/page")
def page() -> str:
    """``GET /page``: the Jinja2 page."""
    return render_template("page.html", title=TITLE, user=USER, footer=FOOTER, items=ITEMS)


@app.get("/counter")
def counter() -> Response:
    """``GET /counter``: read, increment and store a counter in the session."""
    value = session.get("counter", 0) + 1
    session["counter"] = value
    return Response(str(value), mimetype="text/plain")


@app.get("/cached")
@cache.cached(timeout=60)
def cached() -> str:
    """``GET /cached``: the Jinja2 page, kept for a minute by Flask-Caching."""
    return render_template("page.html", title=TITLE, user=USER, footer=FOOTER, items=ITEMS)
