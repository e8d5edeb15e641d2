"""The admin's change list over a large table: latency per page and queries per page.

Seeds ``--rows`` books (default 100,000) by ``--authors`` authors, registers them in
heron.admin (related column, search across the relation, filters, sortable columns),
logs a superuser in, and requests change-list pages in process (heron's TestClient,
no socket), on SQLite and on a throwaway PostgreSQL:

- the first page as it opens;
- a search (``q``) with a filter (``status``) and a sort on a column (``o``);
- a search across the relation (``^author__name``) with a filter on another relation;
- page 500 of the unfiltered list, sorted by a related column.

Prints p50 and p95 in milliseconds over ``--requests`` requests, and the number of SQL
statements each page ran (counted on the engine).

    python benchmarks/admin.py
    python benchmarks/admin.py --rows 100000 --requests 50 --databases sqlite,postgresql
    python benchmarks/admin.py --databases sqlite --compare-one-pass

PostgreSQL needs its server binaries (Debian: postgresql) and ``heron[postgres]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import ForeignKey, String, event, insert
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heron import App
from heron.admin import ModelAdmin, register
from heron.db import Model, db

PASSWORD = "bench password 123"


class Status(enum.Enum):
    draft = "draft"
    live = "live"
    archived = "archived"


class BenchAuthor(Model):
    name: Mapped[str] = mapped_column(String(100), index=True)

    def __str__(self) -> str:
        return self.name


class BenchCategory(Model):
    name: Mapped[str] = mapped_column(String(50))

    def __str__(self) -> str:
        return self.name


class BenchBook(Model):
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[Status] = mapped_column(index=True)
    published: Mapped[dt.date] = mapped_column(index=True)
    price: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("bench_author.id"), index=True)
    author: Mapped[BenchAuthor] = relationship()
    category_id: Mapped[int] = mapped_column(ForeignKey("bench_category.id"), index=True)
    category: Mapped[BenchCategory] = relationship()

    def __str__(self) -> str:
        return self.title


@register(BenchAuthor)
class BenchAuthorAdmin(ModelAdmin):
    search_fields = ["name"]


@register(BenchBook)
class BenchBookAdmin(ModelAdmin):
    list_display = ["title", "author__name", "category", "status", "published", "price"]
    search_fields = ["title", "^author__name"]
    list_filter = ["status", "category", "published"]
    autocomplete_fields = ["author"]
    list_per_page = 100


PAGES = {
    "first page": "",
    "search + filter + sort": "?q=book+42&status=live&o=-5",
    "related search + related filter": "?q=author+7&category=8",
    "page 500, sorted by relation": "?p=500&o=2",
}


def make_app(url: str) -> App:
    return App(components=["heron.auth", "heron.admin"], database_url=url,
               secret_key="bench" * 10, debug=False, allowed_hosts=["testserver"],
               password_time_cost=1, password_memory_cost=8 * 1024, password_parallelism=1)


def seed(app: App, rows: int, authors: int) -> None:
    from heron.auth.users import get_user_model
    from heron.testing.database import prepare_schema

    prepare_schema(app)
    with db.context(app):
        session = db.session
        user_model = get_user_model(app)
        user = user_model(username="admin", is_staff=True, is_superuser=True)
        user.set_password(PASSWORD, app.settings)
        session.add(user)
        session.execute(insert(BenchAuthor), [{"name": f"author {n}"} for n in range(authors)])
        session.execute(insert(BenchCategory), [{"name": f"category {n}"} for n in range(20)])
        statuses = list(Status)
        start = dt.date(2000, 1, 1)
        batch = []
        for n in range(rows):
            batch.append({"title": f"book {n}", "status": statuses[n % 3],
                          "published": start + dt.timedelta(days=n % 9000),
                          "price": n % 5000, "author_id": 1 + n % authors,
                          "category_id": 1 + n % 20})
            if len(batch) == 10_000:
                session.execute(insert(BenchBook), batch)
                batch = []
        if batch:
            session.execute(insert(BenchBook), batch)
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            session.connection().exec_driver_sql("ANALYZE")
            session.commit()


def measure(app: App, requests: int) -> dict[str, tuple[float, float, int]]:
    from heron.testing.client import TestClient, extract_csrf_token

    counted = {"n": 0}
    engine = db.state(app).async_engine().sync_engine

    @event.listens_for(engine, "before_cursor_execute")
    def count(*args: Any) -> None:
        counted["n"] += 1

    results = {}
    with TestClient(app) as client:
        token = extract_csrf_token(client.get("/auth/login").text)
        answer = client.post("/auth/login", data={"username": "admin", "password": PASSWORD,
                                                  "csrf_token": token})
        assert answer.status_code == 303, answer.text
        base = "/admin/app/bench_book/"
        for label, query in PAGES.items():
            answer = client.get(base + query)
            assert answer.status_code == 200, (label, answer.status_code, answer.text[:500])
            timings = []
            queries = 0
            for _ in range(requests):
                counted["n"] = 0
                started = time.perf_counter()
                answer = client.get(base + query)
                timings.append((time.perf_counter() - started) * 1000)
                queries = counted["n"]
            timings.sort()
            p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
            results[label] = (statistics.median(timings), p95, queries)
    return results


def compare_one_pass(app: App, rounds: int = 6, requests: int = 10) -> None:
    """A/B in one process: the change list with SQLite's one-pass page-and-count where the
    plan sorts every match, against always a count and a page, alternating each round."""
    from heron.admin.changelist import ChangeList
    from heron.testing.client import TestClient, extract_csrf_token

    one_pass = ChangeList._page_and_count_in_one_pass
    timings: dict[str, dict[str, list[float]]] = {"one pass": {}, "two queries": {}}
    with TestClient(app) as client:
        token = extract_csrf_token(client.get("/auth/login").text)
        client.post("/auth/login", data={"username": "admin", "password": PASSWORD,
                                         "csrf_token": token})
        try:
            for _ in range(rounds):
                for way in timings:
                    ChangeList._page_and_count_in_one_pass = (  # type: ignore[method-assign]
                        one_pass if way == "one pass" else lambda *args: False)
                    for label, query in PAGES.items():
                        client.get("/admin/app/bench_book/" + query)
                        for _ in range(requests):
                            started = time.perf_counter()
                            client.get("/admin/app/bench_book/" + query)
                            timings[way].setdefault(label, []).append(
                                (time.perf_counter() - started) * 1000)
        finally:
            ChangeList._page_and_count_in_one_pass = one_pass  # type: ignore[method-assign]
    print(f"{'page (p50 ms)':<34} {'one pass':>9} {'two queries':>12}")
    for label in PAGES:
        print(f"{label:<34} {statistics.median(timings['one pass'][label]):>9.1f} "
              f"{statistics.median(timings['two queries'][label]):>12.1f}")


def run(database: str, rows: int, authors: int, requests: int, folder: Path,
        compare: bool = False) -> None:
    server = None
    if database == "sqlite":
        url = f"sqlite:///{folder / 'admin-bench.sqlite3'}"
    else:
        from heron.testing.servers import PostgresServer

        server = PostgresServer()
        server.start()
        url = str(server.create_database("admin_bench"))
    try:
        app = make_app(url)
        started = time.perf_counter()
        seed(app, rows, authors)
        print(f"\n{database}: {rows:,} books seeded in {time.perf_counter() - started:.1f} s")
        print(f"{'page':<34} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
        if compare:
            compare_one_pass(app)
            return
        for label, (p50, p95, queries) in measure(app, requests).items():
            print(f"{label:<34} {p50:>8.1f} {p95:>8.1f} {queries:>8}")
    finally:
        if server is not None:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--authors", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--compare-one-pass", action="store_true",
                        help="A/B the SQLite one-pass page and count against two queries")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for database in args.databases.split(","):
            run(database, args.rows, args.authors, args.requests, Path(folder),
                args.compare_one_pass)


if __name__ == "__main__":
    sys.exit(main())
