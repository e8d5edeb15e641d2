"""heron peer, sync views: ``db.session`` (SQLAlchemy 2 ``Session`` on psycopg 3).

The same app as ``heron_db.py`` with ``def`` views: heron runs them in its
thread pool (``thread_pool_size``, default 40), each thread taking a
connection from the ``BENCH_DB_POOL``-sized pool. Served by uvicorn, one worker.
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
def single_query() -> dict[str, int]:
    world = db.session.get(World, randint(1, WORLD_ROWS))
    return {"id": world.id, "randomNumber": world.randomnumber}


@app.get("/queries")
def multiple_queries(request: Request) -> list[dict[str, int]]:
    count = queries_param(request.query_params.get("queries"))
    session = db.session
    worlds = []
    for _ in range(count):
        world = session.get(World, randint(1, WORLD_ROWS))
        worlds.append({"id": world.id, "randomNumber": world.randomnumber})
    return worlds


@app.get("/fortunes")
def fortunes(request: Request) -> HTMLResponse:
    rows = list(db.session.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message=ADDED_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return render(request, "fortunes.html", fortunes=rows)


@app.get("/updates")
def updates(request: Request) -> list[dict[str, int]]:
    count = queries_param(request.query_params.get("queries"))
    session = db.session
    # Read every World first, then change them: SQLAlchemy's autoflush would otherwise
    # send each UPDATE on its own before the next SELECT; this way the commit flushes
    # them together (one executemany, ordered by primary key).
    worlds = [session.get(World, ident)
              for ident in random.sample(range(1, WORLD_ROWS + 1), count)]
    answer = []
    for world in worlds:
        world.randomnumber = randint(1, WORLD_ROWS)
        answer.append({"id": world.id, "randomNumber": world.randomnumber})
    session.commit()  # built before: a sync session expires the objects on commit
    return answer
