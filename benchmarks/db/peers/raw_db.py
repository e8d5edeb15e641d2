"""Hand-written ASGI app on psycopg 3's ``AsyncConnectionPool``: the ceiling.

No framework and no ORM: the pool (``BENCH_DB_POOL`` connections, opened at
lifespan startup), SQL strings, psycopg's automatic prepared statements,
orjson, and the fortunes table built with ``html.escape``. It does the same
database work as the frameworks -- one SELECT per World, one transaction with
the UPDATEs for ``/updates`` -- without pipelining or batching the SELECTs,
so it is the ceiling for that work on this server, not the fastest way to
answer TechEmpower's tests. No host check, no security headers.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, MutableMapping
from html import escape
from typing import Any
from urllib.parse import parse_qsl

import orjson
from _tfb import ADDED_FORTUNE, DB_URL, POOL_SIZE, WORLD_ROWS, queries_param
from psycopg_pool import AsyncConnectionPool

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

JSON_HEADERS = [(b"content-type", b"application/json")]
HTML_HEADERS = [(b"content-type", b"text/html; charset=utf-8")]
TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]

SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = %s"
SELECT_FORTUNES = "SELECT id, message FROM fortune"
UPDATE_WORLD = "UPDATE world SET randomnumber = %s WHERE id = %s"

FORTUNES_HEAD = (
    "<!DOCTYPE html>\n<html>\n<head><title>Fortunes</title></head>\n<body>\n<table>\n"
    "<tr><th>id</th><th>message</th></tr>\n"
)
FORTUNES_TAIL = "</table>\n</body>\n</html>\n"

# Autocommit: a read is one round trip; /updates opens its own transaction.
pool = AsyncConnectionPool(
    DB_URL, min_size=POOL_SIZE, max_size=POOL_SIZE, open=False, kwargs={"autocommit": True}
)
randint = random.randint


async def respond(send: Send, status: int, headers: list[tuple[bytes, bytes]],
                  body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


def queries_of(scope: Scope) -> int:
    for key, value in parse_qsl(scope["query_string"].decode("latin-1")):
        if key == "queries":
            return queries_param(value)
    return 1


async def single_query(scope: Scope) -> bytes:
    async with pool.connection() as conn:
        cursor = await conn.execute(SELECT_WORLD, (randint(1, WORLD_ROWS),))
        ident, number = await cursor.fetchone()
    return orjson.dumps({"id": ident, "randomNumber": number})


async def multiple_queries(scope: Scope) -> bytes:
    count = queries_of(scope)
    worlds = []
    async with pool.connection() as conn:
        cursor = conn.cursor()
        for _ in range(count):
            await cursor.execute(SELECT_WORLD, (randint(1, WORLD_ROWS),))
            ident, number = await cursor.fetchone()
            worlds.append({"id": ident, "randomNumber": number})
    return orjson.dumps(worlds)


async def fortunes(scope: Scope) -> bytes:
    async with pool.connection() as conn:
        cursor = await conn.execute(SELECT_FORTUNES)
        rows = await cursor.fetchall()
    rows.append((0, ADDED_FORTUNE))
    rows.sort(key=lambda row: row[1])
    body = "".join(f"<tr><td>{ident}</td><td>{escape(message)}</td></tr>\n"
                   for ident, message in rows)
    return (FORTUNES_HEAD + body + FORTUNES_TAIL).encode()


async def updates(scope: Scope) -> bytes:
    count = queries_of(scope)
    worlds = []
    async with pool.connection() as conn, conn.transaction():
        cursor = conn.cursor()
        for ident in random.sample(range(1, WORLD_ROWS + 1), count):
            await cursor.execute(SELECT_WORLD, (ident,))
            ident, _ = await cursor.fetchone()
            worlds.append({"id": ident, "randomNumber": randint(1, WORLD_ROWS)})
        # Ordered by id, as SQLAlchemy's flush does: concurrent transactions lock rows in
        # the same order and cannot deadlock.
        await cursor.executemany(
            UPDATE_WORLD, sorted(((w["randomNumber"], w["id"]) for w in worlds),
                                 key=lambda p: p[1]))
    return orjson.dumps(worlds)


ROUTES: dict[str, tuple[Callable[[Scope], Awaitable[bytes]], list[tuple[bytes, bytes]]]] = {
    "/db": (single_query, JSON_HEADERS),
    "/queries": (multiple_queries, JSON_HEADERS),
    "/fortunes": (fortunes, HTML_HEADERS),
    "/updates": (updates, JSON_HEADERS),
}


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await pool.open(wait=True)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    route = ROUTES.get(scope["path"])
    if route is None:
        await respond(send, 404, TEXT_HEADERS, b"Not Found")
        return
    view, headers = route
    await respond(send, 200, headers, await view(scope))
