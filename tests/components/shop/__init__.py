"""A component with its router in the package, templates, static files and a setup hook."""

from __future__ import annotations

from typing import Any

from heron import Request, Router

router = Router(prefix="/shop")
setup_calls: list[Any] = []


@router.get("/", name="index")
async def index(request: Request) -> str:
    return request.url_for(".product", id=1)


@router.get("/products/{id:int}", name="product")
async def product(id: int) -> dict[str, int]:
    return {"id": id}


def setup(app: Any) -> None:
    setup_calls.append(app)
    app.extensions["shop"] = {"currency": "EUR"}

    @app.on_startup
    def open_till() -> None:
        app.state.till_open = True
