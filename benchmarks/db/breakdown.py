"""Cost per request of each database peer, and of heron variants, in-process (no HTTP server).

Each app is called directly -- ``await app(scope, receive, send)`` for ASGI apps,
``app(environ, start_response)`` for WSGI apps -- against the same throwaway,
seeded PostgreSQL as ``run_db.py``. ASGI apps run on uvloop with
``--concurrency`` tasks (default 10, the pool size); WSGI apps one request at a
time, as gunicorn's sync worker does. So the number is the framework + ORM +
driver cost of a request, without the HTTP server.

Two measures:

- default: the process's CPU time per request (``os.times()``, user + system, and
  each part), median of ``--repeat`` repetitions. Moves by 30% or more on this
  shared VM; the system part is the kernel's share of the round trips.
- ``--instructions``: instructions per request, counted by valgrind's callgrind
  as the difference between a short and a long run (start-up, imports and
  warm-up cancel). Repeatable to about 1%; about a minute per row.

Variants (``--variants``): the five peers of ``run_db.py`` (``raw``, ``heron``,
``heron-sync``, ``flask``, ``django``), and, to put a number on each cost of heron's
async path (only /db and /queries):

  heron-noping     heron_db.py with pool_pre_ping off (patched in this process only)
  heron-autocommit no pre-ping and the engine in AUTOCOMMIT: no BEGIN/ROLLBACK round trips
  sqla-orm         no heron: a bare ASGI app, an AsyncSession per request, engine options
                   as heron's (pool_pre_ping on, pool of 10)
  sqla-orm-noping  the same with pool_pre_ping off (SQLAlchemy's default)
  sqla-core        no ORM: AsyncEngine.connect() and a Core select, pre-ping off

    python benchmarks/db/breakdown.py --instructions                    # everything (~1 h)
    python benchmarks/db/breakdown.py --instructions --variants heron,sqla-orm --endpoints db
    python benchmarks/db/breakdown.py --variants raw,heron,flask --repeat 7   # CPU time

Nothing in src/ is changed: the patched variants exist only in their own process.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import run_db

PEER_VARIANTS = ("raw", "heron", "heron-sync", "flask", "django")
DIAGNOSTIC_VARIANTS = ("heron-noping", "heron-autocommit", "sqla-orm", "sqla-orm-noping",
                       "sqla-core")
VARIANTS = PEER_VARIANTS + DIAGNOSTIC_VARIANTS
WSGI_VARIANTS = ("flask", "django")
ENDPOINTS = run_db.ENDPOINTS
WARMUP_PER_TASK = 5

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def serves(variant: str, endpoint: str) -> bool:
    return variant in PEER_VARIANTS or endpoint in ("db", "queries")


# --------------------------------------------------------------------------- the apps


def patch_heron(no_ping: bool, autocommit: bool) -> None:
    """Change the engine options heron builds (in this process only)."""
    from heron.db.database import DatabaseState

    original = DatabaseState._options

    def options(self: DatabaseState, url: str) -> dict[str, Any]:
        opts = original(self, url)
        if no_ping:
            opts["pool_pre_ping"] = False
        if autocommit:
            opts["isolation_level"] = "AUTOCOMMIT"
        return opts

    DatabaseState._options = options  # type: ignore[method-assign]


def bare_sqlalchemy_app(kind: str) -> ASGIApp:
    """A minimal ASGI app on SQLAlchemy's asyncio extension, no framework."""
    import orjson
    from _heron_models import World  # the same mapped class as heron's peer
    from _tfb import DB_URL, POOL_SIZE, WORLD_ROWS, queries_param
    from sqlalchemy import bindparam, select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine(
        DB_URL.replace("postgresql://", "postgresql+psycopg://", 1),
        pool_size=POOL_SIZE, max_overflow=0, pool_pre_ping=(kind == "sqla-orm"),
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    by_id = select(World.id, World.randomnumber).where(World.id == bindparam("ident"))

    async def worlds(count: int) -> list[dict[str, int]]:
        out = []
        if kind == "sqla-core":
            async with engine.connect() as conn:
                for _ in range(count):
                    row = (await conn.execute(
                        by_id, {"ident": random.randint(1, WORLD_ROWS)})).one()
                    out.append({"id": row[0], "randomNumber": row[1]})
            return out
        async with sessions() as session:
            for _ in range(count):
                world = await session.get(World, random.randint(1, WORLD_ROWS))
                out.append({"id": world.id, "randomNumber": world.randomnumber})
        return out

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await engine.dispose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["path"] == "/db":
            body = orjson.dumps((await worlds(1))[0])
        else:
            query = dict(p.split("=", 1) for p in scope["query_string"].decode().split("&") if p)
            body = orjson.dumps(await worlds(queries_param(query.get("queries"))))
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    return app


def load(variant: str) -> Any:
    """The ASGI or WSGI app of ``variant``."""
    if variant == "raw":
        import raw_db

        return raw_db.app
    if variant == "heron-sync":
        import heron_db_sync

        return heron_db_sync.app
    if variant == "flask":
        import flask_db

        return flask_db.app
    if variant == "django":
        import django_db

        return django_db.application
    if variant.startswith("heron"):
        if variant != "heron":
            patch_heron(no_ping=True, autocommit=variant == "heron-autocommit")
        import heron_db

        return heron_db.app
    return bare_sqlalchemy_app(variant)


# --------------------------------------------------------------------------- ASGI driving


class Lifespan:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Future[None] | None = None

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.ensure_future(self.app(scope, self.to_app.get, self.from_app.put))
        await self.to_app.put({"type": "lifespan.startup"})
        message = await self.from_app.get()
        assert message["type"] == "lifespan.startup.complete", message

    async def shutdown(self) -> None:
        await self.to_app.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(self.from_app.get(), 30)


def build_scope(path: str) -> Scope:
    """A scope like the one uvicorn builds for a wrk request."""
    route, _, query = path.partition("?")
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
        "scheme": "http", "method": "GET", "root_path": "", "path": route,
        "raw_path": route.encode(), "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"),
                    (b"accept", b"*/*")],
    }


async def asgi_call(app: ASGIApp, template: Scope) -> int:
    done = asyncio.Event()
    status = 0
    sent_body = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif not message.get("more_body"):
            done.set()

    await app(dict(template), receive, send)
    return status


async def asgi_measure(app: ASGIApp, path: str, requests: int, concurrency: int,
                       repeat: int) -> list[list[float]]:
    """[CPU, user, system] µs per request for each repetition."""
    template = build_scope(path)
    per_task = max(1, requests // concurrency)

    async def worker(count: int) -> None:
        for _ in range(count):
            status = await asgi_call(app, template)
            if status != 200:
                raise RuntimeError(f"{path}: status {status}")

    # A fixed warm-up, so two runs of different lengths differ by the measured requests only.
    await asyncio.gather(*(worker(WARMUP_PER_TASK) for _ in range(concurrency)))
    out = []
    for _ in range(repeat):
        start = os.times()
        await asyncio.gather(*(worker(per_task) for _ in range(concurrency)))
        out.append(cpu_split(start, os.times(), per_task * concurrency))
    return out


async def asgi_run(app: ASGIApp, path: str, requests: int, concurrency: int,
                   repeat: int) -> list[list[float]]:
    span = Lifespan(app)
    await span.startup()
    try:
        return await asgi_measure(app, path, requests, concurrency, repeat)
    finally:
        await span.shutdown()


# --------------------------------------------------------------------------- WSGI driving


def build_environ(path: str) -> dict[str, Any]:
    """An environ like the one gunicorn builds for a wrk request."""
    route, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": route, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": "bench",
        "HTTP_ACCEPT": "*/*", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def wsgi_call(app: Any, template: dict[str, Any]) -> int:
    environ = dict(template)
    environ["wsgi.input"] = io.BytesIO(b"")
    status: list[str] = []

    def start_response(line: str, headers: Any, exc_info: Any = None) -> Any:
        status.append(line)
        return lambda data: None

    body = app(environ, start_response)
    try:
        for _chunk in body:
            pass
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return int(status[0][:3])


def cpu_split(start: os.times_result, end: os.times_result, requests: int) -> list[float]:
    """[user + system, user, system] CPU µs per request between two ``os.times()``."""
    user, system = end.user - start.user, end.system - start.system
    return [(user + system) / requests * 1e6, user / requests * 1e6, system / requests * 1e6]


def wsgi_measure(app: Any, path: str, requests: int, repeat: int) -> list[list[float]]:
    template = build_environ(path)

    def many(count: int) -> None:
        for _ in range(count):
            status = wsgi_call(app, template)
            if status != 200:
                raise RuntimeError(f"{path}: status {status}")

    many(WARMUP_PER_TASK)
    out = []
    for _ in range(repeat):
        start = os.times()
        many(requests)
        out.append(cpu_split(start, os.times(), requests))
    return out


# --------------------------------------------------------------------------- child process


def child(variant: str, path: str, requests: int, concurrency: int, repeat: int,
          pin: bool, profile_out: str | None = None) -> None:
    if pin:
        os.sched_setaffinity(0, {run_db.SERVER_CPU})
    app = load(variant)
    profiler = None
    if profile_out:
        import cProfile

        # CPU time, not wall time: a send() that lets PostgreSQL run is not our cost.
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    if variant in WSGI_VARIANTS:
        result = wsgi_measure(app, path, requests, repeat)
    else:
        import uvloop

        result = uvloop.run(asgi_run(app, path, requests, concurrency, repeat))
    if profiler is not None and profile_out:
        profiler.disable()
        profiler.dump_stats(profile_out)
    print(json.dumps(result))


#: Where a function's own time goes: the first matching fragment of its file path.
LAYERS = (
    ("/heron/", "heron"), ("/sqlalchemy/", "SQLAlchemy"), ("/psycopg_pool/", "psycopg_pool"),
    ("/psycopg/", "psycopg"), ("/greenlet/", "greenlet"), ("/asyncio/", "asyncio"),
    ("/uvloop/", "uvloop"), ("/jinja2/", "Jinja2"), ("/markupsafe/", "Jinja2"),
    ("/flask/", "Flask/Werkzeug"), ("/werkzeug/", "Flask/Werkzeug"), ("/django/", "Django"),
    ("/concurrent/", "threads"), ("threading.py", "threads"),
    ("/benchmarks/db/peers/", "the view"), ("breakdown.py", "harness"),
)


def layer_of(filename: str, function: str) -> str:
    for fragment, name in LAYERS:
        if fragment in filename:
            return name
    if filename == "~":  # built-ins: by the object they belong to
        if "greenlet" in function:
            return "greenlet"
        if "psycopg" in function or "pgconn" in function.lower():
            return "psycopg"
        return "built-ins (dict, isinstance, ...)"
    return "other Python"


def profile_layers(variant: str, path: str, args: argparse.Namespace,
                   env: dict[str, str]) -> list[tuple[str, float]]:
    """cProfile (CPU timer) of one run; own time per layer, in µs per request (under the
    profiler, so inflated; the shares are what counts)."""
    import pstats

    queries = 1 if path in ("/db", "/fortunes") else args.queries
    requests = max(args.concurrency, args.requests // queries)
    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/profile.pstats"
        command = [*child_command(variant, path, requests, args, 1, True), "--profile-out", out]
        run_child(command, env)
        stats = pstats.Stats(out).stats  # type: ignore[attr-defined]
    layers: dict[str, float] = {}
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.items():
        name = layer_of(filename, function)
        layers[name] = layers.get(name, 0.0) + tottime
    total_requests = requests + WARMUP_PER_TASK * (
        1 if variant in WSGI_VARIANTS else args.concurrency)
    return sorted(((n, t / total_requests * 1e6) for n, t in layers.items()),
                  key=lambda item: -item[1])


def child_command(variant: str, path: str, requests: int, args: argparse.Namespace,
                  repeat: int, pin: bool) -> list[str]:
    return [sys.executable, __file__, "--child", variant, "--endpoints",
            path.split("?")[0].lstrip("/"), "--queries", str(args.queries),
            "--requests", str(requests), "--concurrency", str(args.concurrency),
            "--repeat", str(repeat), *([] if pin else ["--no-pin"])]


def run_child(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(command, cwd=run_db.PEERS_DIR, env=env, capture_output=True,
                               text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:6])}: {completed.stderr[-3000:]}")
    return completed


def cpu_per_request(variant: str, path: str, args: argparse.Namespace,
                    env: dict[str, str]) -> float:
    """Median CPU µs per request; the median user and system parts go to SPLITS."""
    queries = 1 if path in ("/db", "/fortunes") else args.queries
    requests = max(args.concurrency, args.requests // queries)
    completed = run_child(child_command(variant, path, requests, args, args.repeat, True), env)
    runs = json.loads(completed.stdout)
    SPLITS[(variant, path)] = (statistics.median(r[1] for r in runs),
                               statistics.median(r[2] for r in runs))
    return float(statistics.median(r[0] for r in runs))


#: (variant, path) -> (user µs, system µs) per request, CPU mode.
SPLITS: dict[tuple[str, str], tuple[float, float]] = {}


def instructions_per_request(variant: str, path: str, args: argparse.Namespace,
                             env: dict[str, str]) -> float:
    """Two runs under callgrind after the same start-up and warm-up; the difference in
    instructions divided by the difference in requests."""
    queries = 1 if path in ("/db", "/fortunes") else args.queries
    tasks = 1 if variant in WSGI_VARIANTS else args.concurrency
    short = tasks * 2
    long = short + max(tasks * 2, args.instruction_requests // queries)
    long -= long % tasks
    totals = []
    for requests in (short, long):
        with tempfile.TemporaryDirectory() as tmp:
            command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
                       *child_command(variant, path, requests, args, 1, False)]
            completed = run_child(command, {**env, "PYTHONHASHSEED": "0"})
        found = re.search(r"Collected : (\d+)", completed.stderr)
        if found is None:
            raise RuntimeError(f"{variant} {path}: no callgrind total: {completed.stderr[-500:]}")
        totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) / (long - short)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--requests", type=int, default=3000,
                        help="CPU mode: requests per repetition for /db (divided by "
                        "--queries for /queries and /updates)")
    parser.add_argument("--concurrency", type=int, default=10, help="ASGI apps: tasks")
    parser.add_argument("--repeat", type=int, default=5, help="CPU mode: repetitions")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions per request with callgrind (repeatable, slow)")
    parser.add_argument("--instruction-requests", type=int, default=1000,
                        help="--instructions: extra requests of the long run for /db "
                        "(divided by --queries for /queries and /updates)")
    parser.add_argument("--jobs", type=int, default=2,
                        help="--instructions: rows counted in parallel (counts do not depend "
                        "on CPU contention)")
    parser.add_argument("--json", type=str, dest="json_out", help="also write the numbers here")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile (CPU timer) each row and print its own time per layer "
                        "(heron, SQLAlchemy, psycopg, asyncio, ...)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    parser.add_argument("--no-pin", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    endpoints = run_db.parse_names(args.endpoints, ENDPOINTS, "endpoint")
    paths = [run_db.endpoint_path(e, args.queries) for e in endpoints]
    if args.child:
        child(args.child, paths[0], args.requests, args.concurrency, args.repeat,
              not args.no_pin, args.profile_out)
        return 0
    variants = run_db.parse_names(args.variants, VARIANTS, "variant")
    rows = [(v, e, p) for e, p in zip(endpoints, paths, strict=True) for v in variants
            if serves(v, e)]
    results: dict[tuple[str, str], float] = {}
    profiles: dict[tuple[str, str], list[tuple[str, float]]] = {}
    with run_db.postgres("1") as database:
        env = {**os.environ, "BENCH_DB_URL": database.url, "BENCH_DB_POOL": "10",
               "PYTHONPATH": os.pathsep.join([str(run_db.PEERS_DIR), str(run_db.DB_DIR)])}

        def measure(row: tuple[str, str, str]) -> None:
            variant, _endpoint, path = row
            if args.profile:
                profiles[(variant, path)] = profile_layers(variant, path, args, env)
                results[(variant, path)] = sum(t for _, t in profiles[(variant, path)])
            elif args.instructions:
                results[(variant, path)] = instructions_per_request(variant, path, args, env)
            else:
                results[(variant, path)] = cpu_per_request(variant, path, args, env)
            run_db.log(f"  {variant:<17} {path:<22} {results[(variant, path)]:>14,.0f}")

        jobs = args.jobs if args.instructions else 1
        with ThreadPoolExecutor(jobs) as pool:
            for future in [pool.submit(measure, row) for row in rows]:
                future.result()
    command = " ".join(sys.argv[1:] if argv is None else argv)
    if args.profile:
        print(f"`python benchmarks/db/breakdown.py {command}`\n")
        print("cProfile with a CPU-time clock, in-process; own time per layer in µs per request "
              "(inflated by the profiler: compare shares)\n")
        for (variant, path), layers in profiles.items():
            total = sum(t for _, t in layers)
            print(f"**{variant} {path}** (total {total:,.0f} µs/request under cProfile)\n")
            print("| layer | µs/request | share |")
            print("|---|---:|---:|")
            for name, value in layers:
                if value / total >= 0.01:
                    print(f"| {name} | {value:,.0f} | {value / total:.0%} |")
            print()
        return 0
    unit = "instructions/request" if args.instructions else "CPU µs/request"
    print(f"`python benchmarks/db/breakdown.py {command}`\n")
    print(f"In-process (no HTTP server): ASGI apps on uvloop with {args.concurrency} concurrent "
          "tasks, WSGI apps one request at a time; pools of 10; "
          + ("instructions counted by callgrind (long run minus short run)"
             if args.instructions else f"median of {args.repeat} repetitions of CPU time")
          + "\n")
    split = not args.instructions
    print(f"| endpoint | variant | {unit} | vs heron | heron / this |"
          + (" user µs | system µs |" if split else ""))
    print("|---|---|---:|---:|---:|" + ("---:|---:|" if split else ""))
    for endpoint, path in zip(endpoints, paths, strict=True):
        heron = results.get(("heron", path))
        for variant in variants:
            if not serves(variant, endpoint):
                continue
            value = results[(variant, path)]
            versus = f"{value - heron:+,.0f}" if heron else "n/a"
            ratio = f"{value / heron:.2f}x" if heron else "n/a"
            extra = ""
            if split:
                user, system = SPLITS[(variant, path)]
                extra = f" {user:,.0f} | {system:,.0f} |"
            print(f"| {path} | {variant} | {value:,.0f} | {versus} | {ratio} |{extra}")
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as out:
            json.dump({f"{v} {p}": n for (v, p), n in results.items()}, out, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
