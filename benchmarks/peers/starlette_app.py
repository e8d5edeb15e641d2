"""Starlette peer: ``Route`` objects, ``PlainTextResponse`` / ``JSONResponse``."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

ROUTE_COUNT = int(os.environ.get("BENCH_ROUTES", "500"))

Endpoint = Callable[[Request], Awaitable[Response]]


async def plaintext(request: Request) -> Response:
    """``GET /plaintext``."""
    return PlainTextResponse("Hello, World!")


async def json_view(request: Request) -> Response:
    """``GET /json``."""
    return JSONResponse({"message": "Hello, World!"})


def make_numbered(index: int) -> Endpoint:
    """Build the endpoint for ``/r{index}/{id:int}``."""

    async def numbered(request: Request) -> Response:
        return JSONResponse({"route": index, "id": request.path_params["id"]})

    return numbered


routes = [
    Route("/plaintext", plaintext),
    Route("/json", json_view),
    *(Route(f"/r{i}/{{id:int}}", make_numbered(i), name=f"r{i}") for i in range(ROUTE_COUNT)),
]

app = Starlette(routes=routes)
