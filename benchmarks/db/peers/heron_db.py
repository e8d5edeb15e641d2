"""heron peer, async views: ``db.async_session`` (SQLAlchemy 2 ``AsyncSession`` on psycopg 3).

Configured as in production: ``debug`` off, a ``secret_key``, ``allowed_hosts``,
no access log; the pool holds ``BENCH_DB_POOL`` connections (no overflow), as
every other pooled peer. Served by uvicorn, one worker.

    GET /db                    one random World, as JSON
    GET /queries?queries=N     N random Worlds, one SELECT each (N clamped to 1..500)
    GET /fortunes              every Fortune + one added at request time, sorted,
                               rendered with heron.render (Jinja2, autoescaped)
    GET /updates?queries=N     N distinct random Worlds read one by one, new random
                               numbers, one commit; the updated Worlds as JSON
"""

from __future__ import annotations

import random
from operator import attrgetter

from _heron_models import Fortune, World
from _tfb import (
    ADDED_FORTUNE,
    ALLOWED_HOSTS,
    DB_URL,
    POOL_SIZE,
    SECRET_KEY,
    WORLD_ROWS,
    queries_param,
)
from sqlalchemy import select

from heron import App, HTMLResponse, Request, render
from heron.db import db

app = App(
    secret_key=SECRET_KEY,
    allowed_hosts=ALLOWED_HOSTS,
    access_log=False,
    debug=False,
    database_url=DB_URL,
    database_pool_size=POOL_SIZE,
    database_max_overflow=0,
)

randint = random.randint


@app.get("/db")
async def single_query() -> dict[str, int]:
    world = await db.async_session.get(World, randint(1, WORLD_ROWS))
    return {"id": world.id, "randomNumber": world.randomnumber}


@app.get("/queries")
async def multiple_queries(request: Request) -> list[dict[str, int]]:
    count = queries_param(request.query_params.get("queries"))
    session = db.async_session
    worlds = []
    for _ in range(count):
        world = await session.get(World, randint(1, WORLD_ROWS))
        worlds.append({"id": world.id, "randomNumber": world.randomnumber})
    return worlds


@app.get("/fortunes")
async def fortunes(request: Request) -> HTMLResponse:
    rows = list(await db.async_session.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message=ADDED_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return render(request, "fortunes.html", fortunes=rows)


@app.get("/updates")
async def updates(request: Request) -> list[dict[str, int]]:
    count = queries_param(request.query_params.get("queries"))
    session = db.async_session
    # Read every World first, then change them: SQLAlchemy's autoflush would otherwise
    # send each UPDATE on its own before the next SELECT; this way the commit flushes
    # them together (one executemany, ordered by primary key).
    worlds = [await session.get(World, ident)
              for ident in random.sample(range(1, WORLD_ROWS + 1), count)]
    answer = []
    for world in worlds:
        world.randomnumber = randint(1, WORLD_ROWS)
        answer.append({"id": world.id, "randomNumber": world.randomnumber})
    await session.commit()  # built before: a sync session expires the objects on commit
    return answer
