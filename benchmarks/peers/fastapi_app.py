"""FastAPI peer: decorators, a typed ``id: int`` parameter, dicts returned as JSON."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

ROUTE_COUNT = int(os.environ.get("BENCH_ROUTES", "500"))

app = FastAPI()


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    """``GET /plaintext``."""
    return "Hello, World!"


@app.get("/json")
async def json_view() -> dict[str, str]:
    """``GET /json``."""
    return {"message": "Hello, World!"}


def make_numbered(index: int) -> Callable[[int], Awaitable[dict[str, int]]]:
    """Build the handler for ``/r{index}/{id}``."""

    async def numbered(id: int) -> dict[str, int]:
        return {"route": index, "id": id}

    return numbered


for _i in range(ROUTE_COUNT):
    app.get(f"/r{_i}/{{id}}", name=f"r{_i}", operation_id=f"r{_i}")(make_numbered(_i))
