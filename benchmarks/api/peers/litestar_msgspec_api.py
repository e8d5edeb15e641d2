"""Litestar with msgspec structs (its native, fastest way): the same endpoints
and constraints as the pydantic peers."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Litestar, get, post
from litestar.params import Parameter


class Item(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    price: Annotated[float, msgspec.Meta(gt=0)]
    tags: list[str] = []


class CreatedItem(msgspec.Struct):
    name: str
    price: float
    tags: list[str]
    count: int


class Found(msgspec.Struct):
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
