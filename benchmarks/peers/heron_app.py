"""heron peer: the framework under test, written the way its docs suggest."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

from heron import App, PlainTextResponse

ROUTE_COUNT = int(os.environ.get("BENCH_ROUTES", "500"))

app = App(secret_key="bench", allowed_hosts=["127.0.0.1", "localhost"], access_log=False)


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    """``GET /plaintext``."""
    return PlainTextResponse("Hello, World!")


@app.get("/json")
async def json_view() -> dict[str, Any]:
    """``GET /json``."""
    return {"message": "Hello, World!"}


def make_numbered(index: int) -> Callable[..., Awaitable[dict[str, int]]]:
    """Build the handler for ``/r{index}/{id:int}``."""

    async def numbered(id: int) -> dict[str, int]:
        return {"route": index, "id": id}

    return numbered


for _i in range(ROUTE_COUNT):
    app.get(f"/r{_i}/{{id:int}}", name=f"r{_i}")(make_numbered(_i))
