"""The ceiling: TechEmpower's tests as a hand-written ASGI app on psycopg 3.

No framework and no ORM: psycopg's ``AsyncConnectionPool`` (``TFB_POOL``
connections, autocommit, opened at lifespan startup), SQL strings, psycopg's
automatic prepared statements, orjson, the fortunes table built with
``html.escape``, a dict for the cached Worlds. It does the database work the
heron app does -- one SELECT per World, the UPDATEs of ``/updates`` in one
transaction, ordered by id -- so it is the ceiling for that work, not the
fastest way to answer TechEmpower's tests. No host check, no security headers;
uvicorn adds ``Server`` and ``Date``.

    TFB_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/hello_world \
        uvicorn raw_app:app --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

import os
import random
from collections.abc import Awaitable, Callable, MutableMapping
from html import escape
from typing import Any
from urllib.parse import parse_qsl

import orjson
from psycopg_pool import AsyncConnectionPool

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Header = tuple[bytes, bytes]

WORLD_ROWS = 10_000
ADDED_FORTUNE = "Additional fortune added at request time."
JSON = [(b"content-type", b"application/json")]
HTML = [(b"content-type", b"text/html; charset=utf-8")]
TEXT = [(b"content-type", b"text/plain; charset=utf-8")]

SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = %s"
SELECT_WORLDS = "SELECT id, randomnumber FROM world WHERE id = ANY(%s)"
SELECT_FORTUNES = "SELECT id, message FROM fortune"
UPDATE_WORLD = "UPDATE world SET randomnumber = %s WHERE id = %s"
FORTUNES_HEAD = ("<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
                 "<tr><th>id</th><th>message</th></tr>")
FORTUNES_TAIL = "</table></body></html>\n"

pool = AsyncConnectionPool(
    os.environ.get("TFB_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/hello_world"),
    min_size=int(os.environ.get("TFB_POOL", "16")), max_size=int(os.environ.get("TFB_POOL", "16")),
    open=False, kwargs={"autocommit": True},
)
cached: dict[int, dict[str, int]] = {}
randint = random.randint


def clamp(scope: Scope, name: str) -> int:
    """``queries`` (or ``count``) clamped to 1..500; 1 when missing or not an integer."""
    for key, value in parse_qsl(scope["query_string"].decode("latin-1")):
        if key == name:
            try:
                return min(max(int(value), 1), 500)
            except ValueError:
                return 1
    return 1


async def json_view(scope: Scope) -> bytes:
    return orjson.dumps({"message": "Hello, World!"})


async def plaintext(scope: Scope) -> bytes:
    return b"Hello, World!"


async def single_query(scope: Scope) -> bytes:
    async with pool.connection() as conn:
        cursor = await conn.execute(SELECT_WORLD, (randint(1, WORLD_ROWS),))
        ident, number = await cursor.fetchone()  # type: ignore[misc]
    return orjson.dumps({"id": ident, "randomNumber": number})


async def queries(scope: Scope) -> bytes:
    worlds = []
    async with pool.connection() as conn:
        cursor = conn.cursor()
        for _ in range(clamp(scope, "queries")):
            await cursor.execute(SELECT_WORLD, (randint(1, WORLD_ROWS),))
            ident, number = await cursor.fetchone()  # type: ignore[misc]
            worlds.append({"id": ident, "randomNumber": number})
    return orjson.dumps(worlds)


async def fortunes(scope: Scope) -> bytes:
    async with pool.connection() as conn:
        cursor = await conn.execute(SELECT_FORTUNES)
        rows = await cursor.fetchall()
    rows.append((0, ADDED_FORTUNE))
    rows.sort(key=lambda row: row[1])
    body = "".join(f"<tr><td>{ident}</td><td>{escape(message)}</td></tr>"
                   for ident, message in rows)
    return (FORTUNES_HEAD + body + FORTUNES_TAIL).encode()


async def updates(scope: Scope) -> bytes:
    worlds = []
    async with pool.connection() as conn, conn.transaction():
        cursor = conn.cursor()
        for ident in random.sample(range(1, WORLD_ROWS + 1), clamp(scope, "queries")):
            await cursor.execute(SELECT_WORLD, (ident,))
            ident, _ = await cursor.fetchone()  # type: ignore[misc]
            worlds.append({"id": ident, "randomNumber": randint(1, WORLD_ROWS)})
        # Ordered by id: concurrent transactions lock rows in the same order.
        await cursor.executemany(UPDATE_WORLD, sorted(
            ((w["randomNumber"], w["id"]) for w in worlds), key=lambda pair: pair[1]))
    return orjson.dumps(worlds)


async def cached_queries(scope: Scope) -> bytes:
    ids = [randint(1, WORLD_ROWS) for _ in range(clamp(scope, "count"))]
    missing = [ident for ident in set(ids) if ident not in cached]
    if missing:
        async with pool.connection() as conn:
            cursor = await conn.execute(SELECT_WORLDS, (missing,))
            for ident, number in await cursor.fetchall():
                cached[ident] = {"id": ident, "randomNumber": number}
    return orjson.dumps([cached[ident] for ident in ids])


ROUTES: dict[str, tuple[Callable[[Scope], Awaitable[bytes]], list[Header]]] = {
    "/json": (json_view, JSON),
    "/plaintext": (plaintext, TEXT),
    "/db": (single_query, JSON),
    "/queries": (queries, JSON),
    "/fortunes": (fortunes, HTML),
    "/updates": (updates, JSON),
    "/cached-queries": (cached_queries, JSON),
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
    """The ASGI entry point."""
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    route = ROUTES.get(scope["path"])
    if route is None:
        status, headers, body = 404, TEXT, b"Not Found"
    else:
        status, headers, body = 200, route[1], await route[0](scope)
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})
