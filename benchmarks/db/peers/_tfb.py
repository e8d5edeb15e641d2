"""What every database peer shares: the database URL, the TechEmpower rules, the host list.

The runner (``benchmarks/db/run_db.py``) starts a throwaway PostgreSQL, seeds it and
passes its URL to each app in ``BENCH_DB_URL`` (a plain ``postgresql://`` URL);
``BENCH_DB_POOL`` is the connection pool size every pooled peer uses (default 10).
"""

from __future__ import annotations

import os

#: postgresql://postgres@127.0.0.1:PORT/hello_world (set by the runner).
DB_URL = os.environ.get("BENCH_DB_URL", "postgresql://postgres@127.0.0.1:5432/hello_world")
POOL_SIZE = int(os.environ.get("BENCH_DB_POOL", "10"))

SECRET_KEY = "bench-db-secret-key-not-for-production-0123456789abcdef"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

WORLD_ROWS = 10_000
ADDED_FORTUNE = "Additional fortune added at request time."


def queries_param(value: str | None) -> int:
    """TechEmpower's ``queries`` parameter: an int clamped to 1..500; missing or not an int -> 1."""
    try:
        count = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1
    return 1 if count < 1 else 500 if count > 500 else count
