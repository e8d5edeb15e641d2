"""Litestar peer: ``@get`` route handlers registered on a ``Litestar`` app."""

from __future__ import annotations

import os
from typing import Any

from litestar import Litestar, MediaType, get
from litestar.handlers import HTTPRouteHandler

ROUTE_COUNT = int(os.environ.get("BENCH_ROUTES", "500"))


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    """``GET /plaintext``."""
    return "Hello, World!"


@get("/json")
async def json_view() -> dict[str, str]:
    """``GET /json``."""
    return {"message": "Hello, World!"}


def make_numbered(index: int) -> HTTPRouteHandler:
    """Build the route handler for ``/r{index}/{id:int}``."""

    async def numbered(id: int) -> dict[str, int]:
        return {"route": index, "id": id}

    return get(f"/r{index}/{{id:int}}", name=f"r{index}")(numbered)


route_handlers: list[Any] = [plaintext, json_view]
route_handlers.extend(make_numbered(i) for i in range(ROUTE_COUNT))

app = Litestar(route_handlers=route_handlers)
