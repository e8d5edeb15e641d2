"""Helpers of the heron.db tests (importable: conftest.py is not)."""

from __future__ import annotations

import asyncio

from models_for_tests import ANALYTICS_TABLES, DEFAULT_TABLES
from sqlalchemy import Engine, text

from heron import App
from heron.db import db

RESTART_ID = text("SELECT setval(pg_get_serial_sequence(:t, 'id'), 1, false)")


def empty_tables(engine: Engine) -> None:
    """Delete the rows of the test tables and restart their ids (PostgreSQL: its
    databases outlive the test; DELETE is much faster than TRUNCATE here)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL lock_timeout = '5s'"))  # a leak fails, never hangs
        existing = set(connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )).scalars())
        tables = [t for t in DEFAULT_TABLES + ANALYTICS_TABLES if t.name in existing]
        for table in reversed(tables):
            connection.execute(table.delete())
        for table in tables:
            if "id" in table.c and table.c.id.primary_key:
                connection.execute(RESTART_ID, {"t": table.name})


def dispose(app: App) -> None:
    """Close the app's pooled connections, sync and async, from sync code."""
    state = db.state(app)
    engines = list(state._async_engines.values())
    if engines:

        async def close() -> None:
            for engine in engines:
                await engine.dispose()

        asyncio.run(close())
        state._async_engines.clear()
    for engine in state._engines.values():
        engine.dispose()
    state._engines.clear()


def checked_out(app: App) -> dict[str, int]:
    """Connections each of the app's engines has lent out now (0 when all came back)."""
    state = db.state(app)
    counts = {f"sync:{key}": engine.pool.checkedout() for key, engine in state._engines.items()}
    counts.update({f"async:{key}": engine.pool.checkedout()  # type: ignore[attr-defined]
                   for key, engine in state._async_engines.items()})
    return counts


def all_checked_in(app: App) -> bool:
    return not any(checked_out(app).values())


JSON = {"accept": "application/json"}
