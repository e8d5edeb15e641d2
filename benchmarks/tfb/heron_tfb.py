"""TechEmpower's six test types (and cached queries) on heron's own stack.

Written as docs/database.md and docs/cache.md teach: heron.db models,
``db.async_session`` in ``async def`` views, ``heron.render`` for the fortunes
page, dicts and lists returned as JSON, ``app.cache`` for the cached queries.
Configured as in production (``debug`` off, a secret key, ``allowed_hosts``),
so the host check and the security headers run on every request.

    TFB_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/hello_world \
        uvicorn heron_tfb:app --loop uvloop --http httptools --no-access-log

    GET /json                      {"message": "Hello, World!"}
    GET /plaintext                 Hello, World!
    GET /db                        one random World
    GET /queries?queries=N         N random Worlds, one SELECT each (N clamped to 1..500)
    GET /fortunes                  every Fortune + one added at request time, sorted, escaped
    GET /updates?queries=N         N random Worlds read, given new numbers, written back
    GET /cached-queries?count=N    N random Worlds from heron.cache (read through on a miss)

uvicorn adds the ``Server`` and ``Date`` headers TechEmpower asks for.
"""

from __future__ import annotations

import os
import random
from operator import attrgetter

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from heron import App, HTMLResponse, PlainTextResponse, Request, render
from heron.db import Model, db

WORLD_ROWS = 10_000
ADDED_FORTUNE = "Additional fortune added at request time."

app = App(
    secret_key=os.environ.get("TFB_SECRET_KEY", "tfb-secret-key-not-for-production-0123456789"),
    allowed_hosts=["127.0.0.1", "localhost", "tfb-server"],
    access_log=False,
    debug=False,
    database_url=os.environ.get("TFB_DATABASE_URL",
                                "postgresql://postgres@127.0.0.1:5432/hello_world"),
    database_pool_size=int(os.environ.get("TFB_POOL", "16")),
    database_max_overflow=0,
)


class World(Model):
    """TechEmpower's ``World`` table (``integer`` keys, as its create script has them)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    randomnumber: Mapped[int]


class Fortune(Model):
    """TechEmpower's ``Fortune`` table."""

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(2048))


def clamp(value: str | None) -> int:
    """TechEmpower's rule for ``queries``: an integer clamped to 1..500; 1 when missing
    or not an integer."""
    try:
        count = int(value or "")
    except ValueError:
        return 1
    return min(max(count, 1), 500)


def random_id() -> int:
    return random.randint(1, WORLD_ROWS)


@app.get("/json")
async def json_view() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


@app.get("/db")
async def single_query() -> dict[str, int]:
    world = await db.async_session.get(World, random_id())
    return {"id": world.id, "randomNumber": world.randomnumber}


@app.get("/queries")
async def queries(request: Request) -> list[dict[str, int]]:
    answer = []
    for _ in range(clamp(request.query_params.get("queries"))):
        world = await db.async_session.get(World, random_id())
        answer.append({"id": world.id, "randomNumber": world.randomnumber})
    return answer


@app.get("/fortunes")
async def fortunes(request: Request) -> HTMLResponse:
    rows = list(await db.async_session.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message=ADDED_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return render(request, "fortunes.html", fortunes=rows)


@app.get("/updates")
async def updates(request: Request) -> list[dict[str, int]]:
    count = clamp(request.query_params.get("queries"))
    # Read them all, then change them: the commit sends the UPDATEs together, ordered
    # by id (no autoflush between the SELECTs, no deadlock between requests).
    worlds = [await db.async_session.get(World, ident)
              for ident in random.sample(range(1, WORLD_ROWS + 1), count)]
    answer = []
    for world in worlds:
        world.randomnumber = random_id()
        answer.append({"id": world.id, "randomNumber": world.randomnumber})
    await db.async_session.commit()
    return answer


@app.get("/cached-queries")
async def cached_queries(request: Request) -> list[dict[str, int]]:
    ids = [random_id() for _ in range(clamp(request.query_params.get("count")))]
    found = await app.cache.aget_many([f"world:{ident}" for ident in set(ids)])
    missing = [ident for ident in set(ids) if f"world:{ident}" not in found]
    if missing:
        rows = await db.async_session.scalars(select(World).where(World.id.in_(missing)))
        loaded = {f"world:{w.id}": {"id": w.id, "randomNumber": w.randomnumber} for w in rows}
        await app.cache.aset_many(loaded, ttl=None)
        found.update(loaded)
    return [found[f"world:{ident}"] for ident in ids]
