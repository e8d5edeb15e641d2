from __future__ import annotations

from heron import Router

router = Router(prefix="/notes")


@router.get("/{id:int}", name="show")
async def show(id: int) -> str:
    return f"note {id}"


@router.get("/missing")
async def missing() -> None:
    return None


@router.on_error(404)
async def not_found(request: object, exc: Exception) -> tuple[str, int]:
    return "no such note", 404
