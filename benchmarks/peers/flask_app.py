"""Flask peer (WSGI): ``add_url_rule`` with ``<int:id>`` converters."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from flask import Flask, Response

ROUTE_COUNT = int(os.environ.get("BENCH_ROUTES", "500"))

app = Flask(__name__)


@app.get("/plaintext")
def plaintext() -> Response:
    """``GET /plaintext``."""
    return Response("Hello, World!", mimetype="text/plain")


@app.get("/json")
def json_view() -> dict[str, Any]:
    """``GET /json``."""
    return {"message": "Hello, World!"}


def make_numbered(index: int) -> Callable[[int], dict[str, int]]:
    """Build the view for ``/r{index}/<int:id>``."""

    def numbered(id: int) -> dict[str, int]:
        return {"route": index, "id": id}

    return numbered


for _i in range(ROUTE_COUNT):
    app.add_url_rule(f"/r{_i}/<int:id>", endpoint=f"r{_i}", view_func=make_numbered(_i))
