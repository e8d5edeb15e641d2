"""Database benchmark runner: TechEmpower-style /db, /queries, /fortunes, /updates on PostgreSQL.

Starts a throwaway PostgreSQL (``heron.testing.servers.PostgresServer``), creates
and fills the TechEmpower tables (``world``: 10,000 rows; ``fortune``: the 12
fortunes), then for every selected peer and round: serves the peer with one
worker, checks every endpoint's answers (status, content type, JSON shape,
query-parameter clamping, escaping, sort order, updates written), warms up,
drives each endpoint with ``wrk --latency`` and stops the server. Prints a
markdown report with the median over ``--rounds``.

    python benchmarks/db/run_db.py                             # all peers, 3 rounds
    python benchmarks/db/run_db.py --frameworks raw,heron,flask --duration 3 --rounds 1
    python benchmarks/db/run_db.py --check                     # validate only, no wrk

Self-contained on purpose (it does not import ``benchmarks/run.py``); its
conventions are the same: uvicorn (uvloop, httptools) for ASGI apps, gunicorn
with one sync worker for WSGI apps, no access logs, server on CPU 0 and wrk on
CPU 1. See ``benchmarks/db/README.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

DB_DIR = Path(__file__).resolve().parent
PEERS_DIR = DB_DIR / "peers"
sys.path.insert(0, str(PEERS_DIR))

from _tfb import ADDED_FORTUNE, WORLD_ROWS  # noqa: E402

HOST = "127.0.0.1"
SERVER_CPU = 0
WRK_CPU = 1
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
DATABASE = "hello_world"

FORTUNES = [
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal points, nobody gives a damn."),
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
EXPECTED_FORTUNES = sorted([*FORTUNES, (0, ADDED_FORTUNE)], key=lambda row: row[1])

ENDPOINTS = ("db", "queries", "fortunes", "updates")
VERSIONED_PACKAGES = (
    "heron", "sqlalchemy", "psycopg", "psycopg-binary", "psycopg-pool", "greenlet",
    "django", "flask", "werkzeug", "jinja2", "orjson",
    "uvicorn", "gunicorn", "uvloop", "httptools",
)  # fmt: skip


@dataclass(frozen=True)
class Peer:
    """One benchmarked app."""

    name: str
    target: str  # module:attr in peers/
    interface: str  # "asgi" (uvicorn) or "wsgi" (gunicorn, 1 sync worker)
    description: str


PEERS: dict[str, Peer] = {
    p.name: p
    for p in (
        Peer("raw", "raw_db:app", "asgi", "ASGI + psycopg AsyncConnectionPool, SQL, orjson"),
        Peer("heron", "heron_db:app", "asgi", "async views, db.async_session, heron.render"),
        Peer("heron-sync", "heron_db_sync:app", "asgi", "def views (thread pool), db.session"),
        Peer("flask", "flask_db:app", "wsgi", "Flask + SQLAlchemy 2 ORM (scoped_session)"),
        Peer("django", "django_db:application", "wsgi", "Django ORM, DTL, CONN_MAX_AGE=600"),
    )
}
BASELINE = "raw"
HERON = "heron"


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    frameworks: list[str]
    endpoints: list[str]
    queries: int
    duration: int
    warmup: int
    connections: int
    threads: int
    rounds: int
    pool: int
    pin: bool
    pg_cpu: str
    check_only: bool
    output: Path | None
    json_out: Path | None


def parse_names(raw: str, known: Sequence[str], what: str) -> list[str]:
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise SystemExit(f"unknown {what}(s) {unknown}; choose from {', '.join(known)}")
    return names


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frameworks", default=",".join(PEERS),
                        help=f"comma-separated peers (default: {','.join(PEERS)}); "
                        f"'{BASELINE}' is always added")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--queries", type=int, default=20,
                        help="the queries= parameter of /queries and /updates (default 20)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per endpoint")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c")
    parser.add_argument("--threads", type=int, default=1, help="wrk -t")
    parser.add_argument("--rounds", type=int, default=3, help="repeat and report the median")
    parser.add_argument("--pool", type=int, default=10, help="connection pool size of every peer")
    parser.add_argument("--no-pin", action="store_true", help="do not pin with taskset")
    parser.add_argument("--pg-cpu", default="1", choices=("all", "0", "1"),
                        help="CPUs for PostgreSQL: '1' (default: with wrk, so the app server "
                        "has CPU 0 to itself), 'all' (unpinned) or '0' (with the app server)")
    parser.add_argument("--check", action="store_true",
                        help="start every peer and validate its answers; no wrk")
    parser.add_argument("--output", type=Path, help="append the markdown report to this file")
    parser.add_argument("--json", type=Path, dest="json_out",
                        help="write every round's raw numbers to this JSON file")
    args = parser.parse_args(argv)
    frameworks = parse_names(args.frameworks, tuple(PEERS), "framework")
    if BASELINE not in frameworks:
        frameworks.insert(0, BASELINE)
    if min(args.rounds, args.duration, args.connections, args.threads, args.pool) < 1:
        parser.error("--rounds, --duration, --connections, --threads and --pool must be >= 1")
    if not 1 <= args.queries <= 500:
        parser.error("--queries must be within 1..500")
    return Options(
        frameworks=frameworks,
        endpoints=parse_names(args.endpoints, ENDPOINTS, "endpoint"),
        queries=args.queries,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        threads=args.threads,
        rounds=args.rounds,
        pool=args.pool,
        pin=not args.no_pin,
        pg_cpu=args.pg_cpu,
        check_only=args.check,
        output=args.output,
        json_out=args.json_out,
    )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class Database:
    """The running PostgreSQL: its libpq URL, version and postmaster's pid."""

    url: str
    version: str
    pid: int


@contextmanager
def postgres(pg_cpu: str) -> Iterator[Database]:
    """A throwaway PostgreSQL with the TechEmpower tables."""
    import psycopg

    from heron.testing.servers import PostgresServer

    with PostgresServer() as server:
        server.create_database(DATABASE)
        url = server.url_for(DATABASE, driver=None)
        with psycopg.connect(url, autocommit=True) as conn:
            seed(conn)
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        assert server.pid is not None
        if pg_cpu != "all":
            pin_tree(server.pid, {int(pg_cpu)})
        yield Database(url, version, server.pid)


def seed(conn: Any) -> None:
    """Create and fill ``world`` and ``fortune`` (the TechEmpower schema, lower-case names)."""
    conn.execute("CREATE TABLE world (id integer PRIMARY KEY, "
                 "randomnumber integer NOT NULL DEFAULT 0)")
    conn.execute("INSERT INTO world (id, randomnumber) "
                 f"SELECT i, floor(random() * {WORLD_ROWS})::int + 1 "
                 f"FROM generate_series(1, {WORLD_ROWS}) AS i")
    conn.execute("CREATE TABLE fortune (id integer PRIMARY KEY, message varchar(2048) NOT NULL)")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO fortune (id, message) VALUES (%s, %s)", FORTUNES)
    conn.execute("VACUUM ANALYZE world")
    conn.execute("VACUUM ANALYZE fortune")


def vacuum(url: str) -> None:
    """Clean up the dead rows the previous peer's /updates left, so every peer starts alike."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE world")


def pin_tree(pid: int, cpus: set[int]) -> None:
    """Pin a process and its children (PostgreSQL's postmaster and its workers) to ``cpus``;
    backends forked later inherit the postmaster's affinity."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        pids += [int(p) for p in task.read_text().split()]
    for p in pids:
        try:
            os.sched_setaffinity(p, cpus)
        except OSError:
            pass


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # fields from 3 (state) on


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) of ``root`` and all its live descendants, plus what its
    reaped children used (so PostgreSQL backends that have exited still count)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = int(fields[1])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    ticks = 0
    for pid in tree:
        fields = _stat(pid)
        if fields is None:
            continue
        # utime, stime, cutime, cstime are fields 14-17 (indices 11-14 here)
        ticks += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return ticks / _TICK


def row_values(url: str, ids: Sequence[int]) -> dict[int, int]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT id, randomnumber FROM world WHERE id = ANY(%s)",
                            (list(ids),)).fetchall()
    return dict(rows)


# --------------------------------------------------------------------------- servers


@dataclass(frozen=True)
class Pinning:
    server: list[str]
    wrk: list[str]
    description: str


def detect_pinning(enabled: bool, pg_cpu: str) -> Pinning:
    pg = {"all": "PostgreSQL unpinned (both CPUs)",
          "0": "PostgreSQL on CPU 0", "1": "PostgreSQL on CPU 1"}[pg_cpu]
    if not enabled:
        return Pinning([], [], f"none (--no-pin); {pg}")
    taskset = shutil.which("taskset")
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if taskset is None or not {SERVER_CPU, WRK_CPU} <= cpus:
        return Pinning([], [], f"none (taskset or CPUs 0/1 unavailable); {pg}")
    return Pinning([taskset, "-c", str(SERVER_CPU)], [taskset, "-c", str(WRK_CPU)],
                   f"app server on CPU {SERVER_CPU}, wrk on CPU {WRK_CPU} (taskset); {pg}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_command(peer: Peer, port: int) -> list[str]:
    python = sys.executable
    if peer.interface == "wsgi":
        return [python, "-m", "gunicorn", peer.target, "--bind", f"{HOST}:{port}",
                "--workers", "1", "--worker-class", "sync", "--log-level", "warning"]
    return [python, "-m", "uvicorn", peer.target, "--host", HOST, "--port", str(port),
            "--no-access-log", "--log-level", "warning", "--loop", "uvloop",
            "--http", "httptools"]


def server_label(peer: Peer) -> str:
    return "gunicorn-sync" if peer.interface == "wsgi" else "uvicorn"


def fetch(port: int, path: str, timeout: float = 10.0) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("content-type", ""), response.read()
    finally:
        conn.close()


def tail(log_file: IO[bytes], limit: int = 3000) -> str:
    log_file.flush()
    log_file.seek(0)
    return log_file.read().decode(errors="replace")[-limit:]


def wait_ready(proc: subprocess.Popen[bytes], port: int, log_file: IO[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{tail(log_file)}")
        try:
            fetch(port, "/db", timeout=2.0)
        except OSError:
            time.sleep(0.1)
        else:
            return
    raise RuntimeError(f"server not ready after {READY_TIMEOUT:.0f}s:\n{tail(log_file)}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    try:  # gunicorn's worker
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def running_server(peer: Peer, db_url: str, pool: int,
                   pinning: Pinning) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = {**os.environ, "BENCH_DB_URL": db_url, "BENCH_DB_POOL": str(pool),
           "PYTHONPATH": str(PEERS_DIR)}
    with tempfile.TemporaryFile() as log_file:
        proc = subprocess.Popen(
            [*pinning.server, *server_command(peer, port)],
            cwd=PEERS_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_ready(proc, port, log_file)
            yield port, proc.pid
        finally:
            stop(proc)
            output = tail(log_file).strip()
            if output:
                log(f"    [{peer.name} server output] {output[-500:]}")


# --------------------------------------------------------------------------- checks


def endpoint_path(endpoint: str, queries: int) -> str:
    if endpoint in ("queries", "updates"):
        return f"/{endpoint}?queries={queries}"
    return f"/{endpoint}"


def get_json(port: int, path: str, content_type: str = "application/json") -> Any:
    status, ctype, body = fetch(port, path)
    if status != 200:
        raise RuntimeError(f"{path}: status {status}, body {body[:300]!r}")
    if not ctype.startswith(content_type):
        raise RuntimeError(f"{path}: content-type {ctype!r}")
    try:
        return json.loads(body)
    except ValueError:
        raise RuntimeError(f"{path}: invalid JSON {body[:300]!r}") from None


def check_world(path: str, value: Any) -> tuple[int, int]:
    if not (isinstance(value, dict) and set(value) == {"id", "randomNumber"}
            and all(type(v) is int for v in value.values())):
        raise RuntimeError(f"{path}: expected {{'id': int, 'randomNumber': int}}, got {value!r}")
    if not (1 <= value["id"] <= WORLD_ROWS and 1 <= value["randomNumber"] <= WORLD_ROWS):
        raise RuntimeError(f"{path}: out of range: {value!r}")
    return value["id"], value["randomNumber"]


def check_world_list(path: str, value: Any, count: int) -> list[tuple[int, int]]:
    if not isinstance(value, list) or len(value) != count:
        size = len(value) if isinstance(value, list) else "?"
        raise RuntimeError(f"{path}: expected a list of {count} worlds, got "
                           f"{type(value).__name__} of {size}")
    return [check_world(path, item) for item in value]


# The queries parameter: missing or not an int -> 1; clamped to 1..500.
CLAMPING = (("", 1), ("?queries=", 1), ("?queries=foo", 1), ("?queries=0", 1),
            ("?queries=-3", 1), ("?queries=1", 1), ("?queries=7", 7), ("?queries=501", 500))

_ROW_RE = re.compile(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", re.S)


def check_fortunes(port: int) -> None:
    status, ctype, body = fetch(port, "/fortunes")
    if status != 200:
        raise RuntimeError(f"/fortunes: status {status}, body {body[:300]!r}")
    if not (ctype.startswith("text/html") and "utf-8" in ctype.lower()):
        raise RuntimeError(f"/fortunes: content-type {ctype!r}")
    text = body.decode("utf-8")
    if "<script>" in text or "&lt;script&gt;" not in text:
        raise RuntimeError("/fortunes: the <script> fortune is not escaped")
    rows = [(int(i), html.unescape(m)) for i, m in _ROW_RE.findall(text)]
    if rows != EXPECTED_FORTUNES:
        raise RuntimeError(f"/fortunes: rows {rows!r}\nexpected {EXPECTED_FORTUNES!r}")
    if not text.lstrip().lower().startswith("<!doctype html>") or "<th>message</th>" not in text:
        raise RuntimeError("/fortunes: not the Fortunes page")


def validate(port: int, endpoints: Sequence[str], queries: int, db_url: str) -> None:
    """Raise if any endpoint answers wrongly."""
    if "db" in endpoints:
        ids = {check_world("/db", get_json(port, "/db"))[0] for _ in range(20)}
        if len(ids) < 10:
            raise RuntimeError(f"/db: ids not random: {sorted(ids)}")
    for endpoint in ("queries", "updates"):
        if endpoint not in endpoints:
            continue
        for suffix, count in CLAMPING:
            check_world_list(f"/{endpoint}{suffix}", get_json(port, f"/{endpoint}{suffix}"), count)
        path = endpoint_path(endpoint, queries)
        worlds = check_world_list(path, get_json(port, path), queries)
        if endpoint == "queries":
            stored = row_values(db_url, [i for i, _ in worlds])
            # No request changes the table meanwhile: a read must return the stored value.
            wrong = [(i, n, stored[i]) for i, n in worlds if stored[i] != n]
            if wrong:
                raise RuntimeError(f"{path}: values differ from the table: {wrong[:5]}")
        else:
            if len({i for i, _ in worlds}) != len(worlds):
                raise RuntimeError(f"{path}: ids repeat within one update: {worlds}")
            stored = row_values(db_url, [i for i, _ in worlds])
            wrong = [(i, n, stored[i]) for i, n in worlds if stored[i] != n]
            if wrong:
                raise RuntimeError(f"{path}: not written (id, answered, stored): {wrong[:5]}")
    if "fortunes" in endpoints:
        check_fortunes(port)


# --------------------------------------------------------------------------- wrk


@dataclass(frozen=True)
class WrkResult:
    requests_per_sec: float
    p99_ms: float
    errors: int
    requests: int = 0
    #: CPU seconds the app server (all its processes and threads) and PostgreSQL
    #: (postmaster + backends) used during the run.
    server_cpu_s: float = 0.0
    db_cpu_s: float = 0.0

    def cpu_us_per_request(self, which: str) -> float | None:
        used = self.server_cpu_s if which == "server" else self.db_cpu_s
        return used / self.requests * 1e6 if self.requests else None


_UNIT_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_RPS_RE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_P99_RE = re.compile(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_SOCKET_RE = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON_2XX_RE = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_REQUESTS_RE = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)


def parse_wrk(output: str) -> WrkResult:
    rps = _RPS_RE.search(output)
    p99 = _P99_RE.search(output)
    if rps is None or p99 is None:
        raise RuntimeError(f"cannot parse wrk output:\n{output}")
    socket_errors = _SOCKET_RE.search(output)
    non_2xx = _NON_2XX_RE.search(output)
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    errors += int(non_2xx.group(1)) if non_2xx else 0
    requests = _REQUESTS_RE.search(output)
    return WrkResult(float(rps.group(1)), float(p99.group(1)) * _UNIT_TO_MS[p99.group(2)], errors,
                     int(requests.group(1)) if requests else 0)


def wrk_command(opts: Options, seconds: int, url: str) -> list[str]:
    return ["/usr/bin/wrk" if os.path.exists("/usr/bin/wrk") else "wrk",
            f"-t{opts.threads}", f"-c{opts.connections}", f"-d{seconds}s",
            "--timeout", "10s", "--latency", url]


def run_wrk(opts: Options, pinning: Pinning, seconds: int, port: int, path: str,
            server_pid: int | None = None, db_pid: int | None = None) -> WrkResult:
    """Run wrk; with pids, also measure the CPU time the server and PostgreSQL used."""
    command = [*pinning.wrk, *wrk_command(opts, seconds, f"http://{HOST}:{port}{path}")]
    before = [tree_cpu_seconds(p) if p else 0.0 for p in (server_pid, db_pid)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    after = [tree_cpu_seconds(p) if p else 0.0 for p in (server_pid, db_pid)]
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}):\n{completed.stderr}")
    result = parse_wrk(completed.stdout)
    return dataclasses.replace(result, server_cpu_s=after[0] - before[0],
                               db_cpu_s=after[1] - before[1])


# --------------------------------------------------------------------------- running

Results = dict[tuple[str, str], list[WrkResult]]


@dataclass
class Run:
    results: Results = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def bench_peer(peer: Peer, opts: Options, pinning: Pinning,
               database: Database) -> dict[str, WrkResult]:
    vacuum(database.url)
    measured: dict[str, WrkResult] = {}
    with running_server(peer, database.url, opts.pool, pinning) as (port, server_pid):
        validate(port, opts.endpoints, opts.queries, database.url)
        if opts.check_only:
            log(f"  {peer.name:<11} answers correctly: {', '.join(opts.endpoints)}")
            return measured
        for endpoint in opts.endpoints:
            path = endpoint_path(endpoint, opts.queries)
            if opts.warmup:
                run_wrk(opts, pinning, opts.warmup, port, path)
            result = run_wrk(opts, pinning, opts.duration, port, path, server_pid, database.pid)
            measured[endpoint] = result
            errors = f", {result.errors} errors" if result.errors else ""
            log(f"  {peer.name:<11} {endpoint:<9} {result.requests_per_sec:>9.0f} req/s  "
                f"p99 {result.p99_ms:.2f} ms  server CPU "
                f"{result.cpu_us_per_request('server') or 0:.0f} us/req  PostgreSQL CPU "
                f"{result.cpu_us_per_request('db') or 0:.0f} us/req{errors}")
    return measured


def rotated(items: Sequence[str], shift: int) -> list[str]:
    shift %= len(items)
    return [*items[shift:], *items[:shift]]


def run_all(opts: Options, pinning: Pinning, database: Database) -> Run:
    run = Run()
    for round_no in range(1 if opts.check_only else opts.rounds):
        log(f"round {round_no + 1}/{opts.rounds}")
        for name in rotated(opts.frameworks, round_no):
            if name in run.failures:
                continue
            try:
                measured = bench_peer(PEERS[name], opts, pinning, database)
            except RuntimeError as exc:
                run.failures[name] = str(exc).strip()
                log(f"  {name}: FAILED: {run.failures[name]}")
                continue
            for endpoint, result in measured.items():
                run.results.setdefault((name, endpoint), []).append(result)
    return run


# --------------------------------------------------------------------------- report


def median_rps(runs: list[WrkResult]) -> float:
    return statistics.median(r.requests_per_sec for r in runs)


def ratio_value(runs: list[WrkResult] | None, reference: list[WrkResult] | None) -> float | None:
    """Median of per-round ratios (rounds ran close together); ratio of medians otherwise."""
    if not runs or not reference:
        return None
    if len(runs) == len(reference):
        return statistics.median(a.requests_per_sec / b.requests_per_sec
                                 for a, b in zip(runs, reference, strict=True))
    return median_rps(runs) / median_rps(reference)


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def median_cpu(runs: list[WrkResult], which: str) -> str:
    """Median CPU µs per request over the rounds (of the app server or of PostgreSQL)."""
    values = [v for r in runs if (v := r.cpu_us_per_request(which)) is not None]
    return f"{statistics.median(values):,.0f}" if values else "n/a"


def spread(runs: list[WrkResult]) -> str:
    values = [r.requests_per_sec for r in runs]
    return f"{(max(values) - min(values)) / statistics.median(values):.0%}"


def package_versions() -> str:
    found = []
    for name in VERSIONED_PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def command_line(argv: Sequence[str] | None) -> str:
    args = list(sys.argv[1:] if argv is None else argv)
    return " ".join(["python benchmarks/db/run_db.py", *args])


def render(opts: Options, pinning: Pinning, run: Run, pg_version: str,
           argv: Sequence[str] | None) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"### Database endpoints on PostgreSQL ({stamp})",
        "",
        f"`{command_line(argv)}`",
        "",
        f"- machine: {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}; PostgreSQL {pg_version} on the same machine "
        "(heron.testing.servers.PostgresServer: fsync off, synchronous_commit off)",
        f"- CPU pinning: {pinning.description}",
        f"- load: `wrk -t{opts.threads} -c{opts.connections} -d{opts.duration}s --timeout 10s "
        f"--latency`, {opts.warmup}s warm-up per endpoint, median of {opts.rounds} round(s); "
        f"`queries={opts.queries}` for /queries and /updates",
        f"- one worker per server: ASGI apps on uvicorn (uvloop, httptools), WSGI apps on "
        f"gunicorn (1 sync worker); connection pools of {opts.pool} (no overflow); "
        "Django: one persistent connection (CONN_MAX_AGE=600)",
        "- 'vs raw' = req/s relative to the raw psycopg ASGI app in this run, 'heron / this' = "
        "heron (async)'s req/s divided by this row's: both medians of per-round ratios; "
        "'spread' = (max - min) / median req/s over the rounds",
        "- 'server CPU µs/req' = CPU time (user + system) of the app server's processes during "
        "the measured wrk run divided by the requests wrk completed; 'PostgreSQL CPU µs/req' "
        "the same for the postmaster and its backends. Medians over the rounds. They leave "
        "out the time a process waited for a CPU, but still move with the machine's load",
        f"- versions: {package_versions()}",
        "",
    ]
    if opts.check_only:
        lines.append("(--check: validation only)")
    else:
        lines += [
            "| endpoint | framework | server | req/s | spread | p99 (ms) | vs raw "
            "| heron / this | server CPU µs/req | PostgreSQL CPU µs/req | errors |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for endpoint in opts.endpoints:
            base = run.results.get((BASELINE, endpoint))
            heron = run.results.get((HERON, endpoint))
            for name in opts.frameworks:
                runs = run.results.get((name, endpoint))
                if not runs:
                    continue
                label = f"/{endpoint}" + (f"?queries={opts.queries}"
                                          if endpoint in ("queries", "updates") else "")
                lines.append(
                    f"| {label} | {name} | {server_label(PEERS[name])} | {median_rps(runs):,.0f} "
                    f"| {spread(runs)} | {statistics.median(r.p99_ms for r in runs):.2f} "
                    f"| {fmt_ratio(ratio_value(runs, base))} "
                    f"| {fmt_ratio(ratio_value(heron, runs))} "
                    f"| {median_cpu(runs, 'server')} | {median_cpu(runs, 'db')} "
                    f"| {sum(r.errors for r in runs)} |"
                )
    if run.failures:
        lines.append("")
        lines += [f"- **{name} failed**: {why.splitlines()[-1]}"
                  for name, why in run.failures.items()]
    return "\n".join(lines) + "\n"


def dump_json(path: Path, opts: Options, run: Run, pg_version: str) -> None:
    data = {
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()},
        "postgresql": pg_version,
        "versions": package_versions(),
        "results": {f"{name} {endpoint}": [vars(r) for r in runs]
                    for (name, endpoint), runs in run.results.items()},
        "failures": run.failures,
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    if not opts.check_only and shutil.which("wrk") is None and not os.path.exists("/usr/bin/wrk"):
        log("wrk not found (apt-get install wrk)")
        return 2
    pinning = detect_pinning(opts.pin, opts.pg_cpu)
    log(f"CPU pinning: {pinning.description}")
    with postgres(opts.pg_cpu) as database:
        pg_version = database.version
        log(f"PostgreSQL {pg_version} at {database.url}")
        run = run_all(opts, pinning, database)
    report = render(opts, pinning, run, pg_version, argv)
    print(report)
    if opts.output is not None:
        with opts.output.open("a", encoding="utf-8") as out:
            out.write(report + "\n")
    if opts.json_out is not None:
        dump_json(opts.json_out, opts, run, pg_version)
    return 1 if run.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
