"""heron: the two typed endpoints, written the way docs/api.md suggests.

Production settings, as in ``benchmarks/peers/heron_app.py``: a secret key, the
Host check, no access log; so each request also pays for the Host check, the
security headers and (on the POST) the CSRF check, which lets a cookie-less
JSON request through.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from heron import App

app = App(secret_key="bench", allowed_hosts=["127.0.0.1", "localhost"], access_log=False)


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
                      count: Annotated[int, Field(ge=1, le=100)] = 1) -> CreatedItem:
    return CreatedItem(name=item.name, price=item.price, tags=item.tags, count=count)


@app.get("/items/{id:int}")
async def read_item(id: int, q: Annotated[str | None, Field(max_length=50)] = None) -> Found:
    return Found(id=id, q=q)
