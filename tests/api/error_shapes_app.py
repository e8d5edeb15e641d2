"""A small API that declares its own error shapes (issue 18 item 4), served by
``heron run`` for schemathesis (tests/api/test_error_shapes.py) and used in process.

- 422: ``{"errors": {field: [message, ...]}}``;
- every other HTTP error: ``{"error": message, "status": status}``;
- the admin router checks an ``X-API-Key`` header in a router dependency (401);
- lookups declare their 404 with ``raises=[404]``;
- fields are camelCase on the wire (``alias_generator``), as documented.
"""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from heron import App, Depends, Header, HTTPException, RequestValidationError, Router, abort
from heron.requests import Request


class ShapeFieldErrors(BaseModel):
    """422: the invalid fields, each with its messages."""

    errors: dict[str, list[str]]


class ShapeError(BaseModel):
    """Any other error."""

    error: str
    status: int


class ShapeItemIn(BaseModel):
    # heron refuses NUL characters in JSON (allow_nul_in_text): the schema says so too.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True,
                              extra="forbid")

    name: str = Field(min_length=1, max_length=50, pattern=r"^[^\x00]*$")
    unit_price: int = Field(ge=0, le=1_000_000)


class ShapeItemOut(ShapeItemIn):
    id: int


app = App(secret_key=os.environ.get("HERON_SECRET_KEY", "error-shapes-" + "x" * 40),
          openapi_title="Error shapes")
admin = Router("/admin", name="admin", tags=["admin"])
items: dict[int, ShapeItemOut] = {1: ShapeItemOut(id=1, name="heron", unit_price=12)}


@app.on_error(RequestValidationError, model=ShapeFieldErrors)
def invalid(request: Request, exc: RequestValidationError) -> ShapeFieldErrors:
    found: dict[str, list[str]] = {}
    for error in exc.errors:
        found.setdefault(error["field"] or error["location"], []).append(error["message"])
    return ShapeFieldErrors(errors=found)


@app.on_error(HTTPException, model=ShapeError)
def http_error(request: Request, exc: HTTPException) -> ShapeError:
    return ShapeError(error=str(exc.detail), status=exc.status_code)


def require_key(x_api_key: Annotated[str, Header(description="The admin key")]) -> None:
    if x_api_key != "sesame":
        abort(401, "A valid X-API-Key header is required.",
              headers={"www-authenticate": 'ApiKey realm="admin"'})


admin.dependencies.append(Depends(require_key))


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/items")
async def list_items(limit: Annotated[int, Field(ge=1, le=50)] = 10) -> list[ShapeItemOut]:
    """The items, oldest first."""
    return list(items.values())[:limit]


@app.get("/items/{item_id:int}", raises=[404])
async def get_item(item_id: int) -> ShapeItemOut:
    """One item."""
    item = items.get(item_id)
    if item is None:
        abort(404, "No such item.")
    return item


@admin.post("/items", status_code=201, raises=[401])
async def add_item(body: ShapeItemIn) -> ShapeItemOut:
    """Add an item."""
    item = ShapeItemOut(id=max(items, default=0) + 1, **body.model_dump())
    if len(items) < 1000:
        items[item.id] = item
    return item


@admin.delete("/items/{item_id:int}", status_code=204, raises=[401, 404])
async def delete_item(item_id: int) -> None:
    """Remove an item (not the first)."""
    if item_id == 1 or items.pop(item_id, None) is None:
        abort(404, "No such item.")


app.include(admin)
