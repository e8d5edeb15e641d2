"""FastAPI: the two typed endpoints, written the way FastAPI's tutorial suggests
(pydantic models, ``Query`` constraints, return annotations as response models;
the default docs routes are kept)."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

app = FastAPI()


class Item(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    price: Annotated[float, Field(gt=0)]
    tags: list[str] = []


class CreatedItem(Item):
    count: int


class Found(BaseModel):
    id: int
    q: str | None


@app.post("/items", status_code=201)
async def create_item(item: Item,
                      count: Annotated[int, Query(ge=1, le=100)] = 1) -> CreatedItem:
    return CreatedItem(name=item.name, price=item.price, tags=item.tags, count=count)


@app.get("/items/{id}")
async def read_item(id: int, q: Annotated[str | None, Query(max_length=50)] = None) -> Found:
    return Found(id=id, q=q)
