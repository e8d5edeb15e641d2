"""Load: sync and async views reading and writing the same tables at once.

Thousands of requests, in concurrent batches: every answer is a 2xx, every
write is there at the end, and every connection is back in its pool.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from typing import Any

from db_test_helpers import checked_out
from models_for_tests import TCounter, TEntry
from sqlalchemy import func, select, update

from heron import App, Request
from heron.db import db
from heron.testing import AsyncTestClient

BATCHES = 16
#: One batch: (method, path) -> how many, all sent at once.  More sync requests
#: than the thread pool has threads (40) and than the pool has connections (15).
BATCH = {
    ("POST", "/sync/entries"): 30,
    ("POST", "/async/entries"): 20,
    ("POST", "/sync/counter"): 15,
    ("POST", "/async/counter"): 15,
    ("GET", "/sync/summary"): 30,
    ("GET", "/async/summary"): 20,
}
PER_BATCH = sum(BATCH.values())  # 130


def add_views(app: App) -> App:
    @app.post("/sync/entries")
    def sync_entry(request: Request) -> dict[str, Any]:
        entry = TEntry(origin="sync", payload=request.query_params.get("n", ""))
        db.session.add(entry)
        db.session.commit()
        return {"id": entry.id}

    @app.post("/async/entries")
    async def async_entry(request: Request) -> dict[str, Any]:
        entry = TEntry(origin="async", payload=request.query_params.get("n", ""))
        db.async_session.add(entry)
        await db.async_session.commit()
        return {"id": entry.id}

    @app.post("/sync/counter")
    def sync_counter() -> dict[str, Any]:
        with db.transaction() as session:
            session.execute(update(TCounter).where(TCounter.name == "hits")
                            .values(value=TCounter.value + 1))
        return {"ok": True}

    @app.post("/async/counter")
    async def async_counter() -> dict[str, Any]:
        async with db.atransaction() as session:
            await session.execute(update(TCounter).where(TCounter.name == "hits")
                                  .values(value=TCounter.value + 1))
        return {"ok": True}

    summary = select(
        select(func.count(TEntry.id)).scalar_subquery(),
        select(TCounter.value).where(TCounter.name == "hits").scalar_subquery(),
    )
    latest = select(TEntry).order_by(TEntry.id.desc()).limit(3)

    @app.get("/sync/summary")
    def sync_summary() -> dict[str, Any]:
        entries, hits = db.session.execute(summary).one()
        recent = [e.origin for e in db.session.scalars(latest)]
        return {"entries": entries, "hits": hits, "recent": recent}

    @app.get("/async/summary")
    async def async_summary() -> dict[str, Any]:
        entries, hits = (await db.async_session.execute(summary)).one()
        recent = [e.origin for e in await db.async_session.scalars(latest)]
        return {"entries": entries, "hits": hits, "recent": recent}

    return app


async def test_thousands_of_mixed_requests(db_app, backend: str) -> None:
    app = add_views(db_app(csrf=False))
    with db.context(app), db.transaction() as session:
        session.add(TCounter(name="hits", value=0))
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    numbers = itertools.count()
    plan = [key for key, count in BATCH.items() for _ in range(count)]
    started = time.monotonic()
    async with AsyncTestClient(app, timeout=60) as client:

        async def send(method: str, path: str) -> None:
            response = await client.request(method, f"{path}?n={next(numbers)}")
            statuses[response.status_code] += 1
            if not 200 <= response.status_code < 300:
                failures.append(f"{method} {path}: {response.status_code} {response.text[:200]}")

        for _ in range(BATCHES):
            await asyncio.gather(*(send(method, path) for method, path in plan))
            assert not failures, failures[:5]
        last = (await client.get("/async/summary")).json()
        assert not any(checked_out(app).values()), checked_out(app)
        assert {"sync:None", "async:None"} <= set(checked_out(app))  # both kinds were used
    elapsed = time.monotonic() - started

    total = BATCHES * PER_BATCH
    assert sum(statuses.values()) == total
    assert statuses == {200: total}
    writes = BATCHES * (BATCH["POST", "/sync/entries"] + BATCH["POST", "/async/entries"])
    increments = BATCHES * (BATCH["POST", "/sync/counter"] + BATCH["POST", "/async/counter"])
    assert last["entries"] == writes
    assert last["hits"] == increments
    with db.context(app):
        by_origin = dict(db.session.execute(
            select(TEntry.origin, func.count()).group_by(TEntry.origin)).all())
        assert by_origin == {"sync": BATCHES * BATCH["POST", "/sync/entries"],
                             "async": BATCHES * BATCH["POST", "/async/entries"]}
        payloads = db.session.scalars(select(TEntry.payload)).all()
        assert len(set(payloads)) == writes  # each write exactly once
        assert db.session.scalar(select(TCounter.value)) == increments
    print(f"{backend}: {total} requests in {elapsed:.1f} s ({total / elapsed:.0f}/s)")
