"""Flask + SQLAlchemy 2 peer (WSGI, sync, psycopg 3).

Plain SQLAlchemy wired the way Flask's docs show ("SQLAlchemy in Flask"): an
engine, a ``scoped_session`` and ``teardown_appcontext`` removing the session at
the end of each request. The pool holds ``BENCH_DB_POOL`` connections, no
overflow (gunicorn's sync worker only ever uses one). ``render_template`` with
the same Jinja2 ``fortunes.html`` as heron. Debug off, ``SECRET_KEY`` set.
Served by gunicorn, one sync worker, like the other Flask benchmarks.
"""

from __future__ import annotations

import random
from operator import attrgetter

from _tfb import ADDED_FORTUNE, DB_URL, POOL_SIZE, SECRET_KEY, WORLD_ROWS, queries_param
from flask import Flask, render_template, request
from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, scoped_session, sessionmaker

engine = create_engine(
    DB_URL.replace("postgresql://", "postgresql+psycopg://", 1),
    pool_size=POOL_SIZE,
    max_overflow=0,
)
db_session = scoped_session(sessionmaker(bind=engine))


class Base(DeclarativeBase):
    pass


class World(Base):
    __tablename__ = "world"
    id: Mapped[int] = mapped_column(primary_key=True)
    randomnumber: Mapped[int]


class Fortune(Base):
    __tablename__ = "fortune"
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(2048))


app = Flask(__name__)
app.config.update(SECRET_KEY=SECRET_KEY, DEBUG=False)

randint = random.randint


@app.teardown_appcontext
def remove_session(exception: BaseException | None = None) -> None:
    db_session.remove()


@app.get("/db")
def single_query() -> dict[str, int]:
    world = db_session.get(World, randint(1, WORLD_ROWS))
    return {"id": world.id, "randomNumber": world.randomnumber}


@app.get("/queries")
def multiple_queries() -> list[dict[str, int]]:
    count = queries_param(request.args.get("queries"))
    worlds = []
    for _ in range(count):
        world = db_session.get(World, randint(1, WORLD_ROWS))
        worlds.append({"id": world.id, "randomNumber": world.randomnumber})
    return worlds


@app.get("/fortunes")
def fortunes() -> str:
    rows = list(db_session.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message=ADDED_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return render_template("fortunes.html", fortunes=rows)


@app.get("/updates")
def updates() -> list[dict[str, int]]:
    count = queries_param(request.args.get("queries"))
    # Read every World first, then change them: SQLAlchemy's autoflush would otherwise
    # send each UPDATE on its own before the next SELECT; this way the commit flushes
    # them together (one executemany, ordered by primary key).
    worlds = [db_session.get(World, ident)
              for ident in random.sample(range(1, WORLD_ROWS + 1), count)]
    answer = []
    for world in worlds:
        world.randomnumber = randint(1, WORLD_ROWS)
        answer.append({"id": world.id, "randomNumber": world.randomnumber})
    db_session.commit()  # built before: a sync session expires the objects on commit
    return answer
