"""Litestar: the two typed endpoints with pydantic models (Litestar's pydantic
plugin), like heron and FastAPI; ``litestar_msgspec_api.py`` is the same with
msgspec structs, Litestar's own fastest path."""

from __future__ import annotations

from typing import Annotated

from litestar import Litestar, get, post
from litestar.params import Parameter
from pydantic import BaseModel, Field


class Item(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    price: Annotated[float, Field(gt=0)]
    tags: list[str] = []


class CreatedItem(Item):
    count: int


class Found(BaseModel):
    id: int
    q: str | None


@post("/items")  # 201 by default
async def create_item(data: Item,
                      count: Annotated[int, Parameter(ge=1, le=100)] = 1) -> CreatedItem:
    return CreatedItem(name=data.name, price=data.price, tags=data.tags, count=count)


@get("/items/{id:int}")
async def read_item(id: int, q: Annotated[str | None, Parameter(max_length=50)] = None) -> Found:
    return Found(id=id, q=q)


app = Litestar(route_handlers=[create_item, read_item])
