"""A throwaway PostgreSQL holding TechEmpower's ``hello_world`` database.

The tables, their rows and the 12 fortunes are those of TechEmpower's
``toolset/databases/postgres/create-postgres.sql`` (lower-case ``world`` and
``fortune``, as its unquoted names become). The server loads
``pg_stat_statements``, which the verifier reads to count the queries and rows
an endpoint costs, as TechEmpower's own verifier does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from heron.testing.servers import PostgresServer

__all__ = ["DATABASE", "FORTUNES", "TfbPostgres", "postgres", "seed"]

DATABASE = "hello_world"
WORLD_ROWS = 10_000
FORTUNES = [
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. \u2014 Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"),
]


class TfbPostgres(PostgresServer):
    """heron's throwaway PostgreSQL with ``pg_stat_statements`` preloaded."""

    def _command(self) -> list[str]:
        return [*super()._command(), "-c", "shared_preload_libraries=pg_stat_statements",
                "-c", "pg_stat_statements.track=all", "-c", "max_connections=200"]


def seed(conn: Any) -> None:
    """Create and fill ``world`` and ``fortune`` as TechEmpower's script does."""
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    conn.execute("CREATE TABLE world (id integer NOT NULL, "
                 "randomnumber integer NOT NULL DEFAULT 0, PRIMARY KEY (id))")
    conn.execute("INSERT INTO world (id, randomnumber) "
                 "SELECT x.id, least(floor(random() * 10000 + 1), 10000) "
                 "FROM generate_series(1, 10000) AS x(id)")
    conn.execute("CREATE TABLE fortune (id integer NOT NULL, "
                 "message varchar(2048) NOT NULL, PRIMARY KEY (id))")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO fortune (id, message) VALUES (%s, %s)", FORTUNES)
    conn.execute("VACUUM ANALYZE world")
    conn.execute("VACUUM ANALYZE fortune")


@contextmanager
def postgres() -> Iterator[tuple[TfbPostgres, str]]:
    """Start the server, create and seed ``hello_world``; yield it and its libpq URL."""
    import psycopg

    with TfbPostgres() as server:
        server.create_database(DATABASE)
        url = server.url_for(DATABASE, driver=None)
        with psycopg.connect(url, autocommit=True) as conn:
            seed(conn)
        yield server, url
