"""HTTP benchmark runner: each peer app behind a real server, loaded with ``wrk``.

For every selected framework the runner starts the app on 127.0.0.1 (free
port, one worker), waits until it answers, checks every endpoint returns the
right thing, warms up, drives each endpoint with ``wrk --latency``, stops the
server, and prints a markdown table with the median over ``--rounds``.

    python benchmarks/run.py                                   # all peers, uvicorn
    python benchmarks/run.py --frameworks heron,starlette --duration 3
    python benchmarks/run.py --server granian
    python benchmarks/run.py --routes 10,500,1000              # routing flatness
    python benchmarks/run.py --endpoints template,session   # site scenarios

See ``benchmarks/README.md`` for what is measured and the caveats.
"""

from __future__ import annotations

import argparse
import http.client
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
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO

from _shared import (
    BASELINE,
    DEFAULT_ROUTES,
    ENDPOINTS,
    HERON,
    PEERS,
    PEERS_DIR,
    Peer,
    check_response,
    check_session_pair,
    cookie_pair,
    endpoint_path,
    parse_names,
    parse_route_counts,
)

HOST = "127.0.0.1"
SERVER_CPU = 0
WRK_CPU = 1
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
VERSIONED_PACKAGES = (
    "heron",
    "uvicorn",
    "granian",
    "gunicorn",
    "starlette",
    "fastapi",
    "litestar",
    "flask",
    "django",
    "uvloop",
    "httptools",
    "jinja2",
    "itsdangerous",
    "werkzeug",
    "orjson",
)


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    """Parsed command line."""

    frameworks: list[str]
    endpoints: list[str]
    duration: int
    warmup: int
    connections: int
    threads: int
    server: str
    routes: list[int] | None
    rounds: int
    output: Path | None
    pin: bool


def parse_args(argv: Sequence[str] | None = None) -> Options:
    """Parse the command line into :class:`Options`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--frameworks",
        default=",".join(PEERS),
        help=f"comma-separated peers (default: all: {','.join(PEERS)}); "
        f"'{BASELINE}' is always added as the baseline",
    )
    parser.add_argument(
        "--endpoints", default=",".join(ENDPOINTS), help="comma-separated endpoints"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per endpoint")
    parser.add_argument("--connections", type=int, default=64, help="wrk -c")
    parser.add_argument("--threads", type=int, default=1, help="wrk -t")
    parser.add_argument(
        "--server",
        choices=("uvicorn", "granian"),
        default="uvicorn",
        help="server for ASGI apps (WSGI apps always use gunicorn, 1 sync worker)",
    )
    parser.add_argument(
        "--routes",
        help="routing-flatness mode: comma-separated route counts, e.g. 10,500,1000; "
        "only the route endpoint is measured",
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat and report the median")
    parser.add_argument("--output", type=Path, help="append the markdown results to this file")
    parser.add_argument("--no-pin", action="store_true", help="do not pin with taskset")
    args = parser.parse_args(argv)

    frameworks = parse_names(args.frameworks, tuple(PEERS), "framework")
    if BASELINE not in frameworks:
        frameworks.insert(0, BASELINE)
    if args.rounds < 1 or args.duration < 1 or args.connections < 1 or args.threads < 1:
        parser.error("--rounds, --duration, --connections and --threads must be >= 1")
    return Options(
        frameworks=frameworks,
        endpoints=parse_names(args.endpoints, ENDPOINTS, "endpoint"),
        duration=args.duration,
        warmup=max(args.warmup, 0),
        connections=args.connections,
        threads=args.threads,
        server=args.server,
        routes=parse_route_counts(args.routes) if args.routes else None,
        rounds=args.rounds,
        output=args.output,
        pin=not args.no_pin,
    )


# --------------------------------------------------------------------------- pinning


@dataclass(frozen=True)
class Pinning:
    """Command prefixes that pin the server and wrk to separate CPUs."""

    server: list[str]
    wrk: list[str]
    description: str


def detect_pinning(enabled: bool) -> Pinning:
    """Pin the server to CPU 0 and wrk to CPU 1 when ``taskset`` and 2 CPUs are available."""
    if not enabled:
        return Pinning([], [], "none (--no-pin): server and wrk share all CPUs")
    taskset = shutil.which("taskset")
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if taskset is None or not {SERVER_CPU, WRK_CPU} <= cpus:
        return Pinning([], [], "none (taskset or CPUs 0/1 unavailable): processes unpinned")
    return Pinning(
        [taskset, "-c", str(SERVER_CPU)],
        [taskset, "-c", str(WRK_CPU)],
        f"server on CPU {SERVER_CPU}, wrk on CPU {WRK_CPU} (taskset)",
    )


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    """Ask the kernel for an unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_label(peer: Peer, server: str) -> str:
    """Human-readable server name for a peer."""
    return "gunicorn-sync" if peer.interface == "wsgi" else server


def server_command(peer: Peer, server: str, port: int) -> list[str]:
    """The command line that serves ``peer`` with one worker, without access logs."""
    python = sys.executable
    if peer.interface == "wsgi":
        return [
            python, "-m", "gunicorn", peer.target,
            "--bind", f"{HOST}:{port}",
            "--workers", "1", "--worker-class", "sync",
            "--log-level", "warning",
        ]  # fmt: skip
    if server == "granian":
        return [
            python, "-m", "granian", peer.target,
            "--interface", "asgi",
            "--host", HOST, "--port", str(port),
            "--workers", "1", "--loop", "uvloop", "--no-ws",
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
    return [
        python, "-m", "uvicorn", peer.target,
        "--host", HOST, "--port", str(port),
        "--no-access-log", "--log-level", "warning",
        "--loop", "uvloop", "--http", "httptools",
    ]  # fmt: skip


def fetch(
    port: int, path: str, timeout: float = 5.0, headers: dict[str, str] | None = None
) -> tuple[int, str, bytes, str | None]:
    """GET ``path``; return status, content type, body and the first Set-Cookie (or None)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return (
            response.status,
            response.getheader("content-type", ""),
            response.read(),
            response.getheader("set-cookie"),
        )
    finally:
        conn.close()


def tail(log: IO[bytes], limit: int = 3000) -> str:
    """The end of a server's captured output, for error messages."""
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")[-limit:]


def wait_ready(proc: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> None:
    """Poll until the server answers HTTP, or raise with its output."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{tail(log)}")
        try:
            fetch(port, "/plaintext", timeout=1.0)
        except OSError:
            time.sleep(0.1)
        else:
            return
    raise RuntimeError(f"server not ready after {READY_TIMEOUT:.0f}s:\n{tail(log)}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server with SIGTERM, then clean up its process group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    try:  # workers left behind by a master process (granian, gunicorn)
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def running_server(peer: Peer, server: str, routes: int, pinning: Pinning) -> Iterator[int]:
    """Start ``peer`` on a free port, yield the port once it answers, then stop it."""
    port = free_port()
    env = {**os.environ, **peer.env, "BENCH_ROUTES": str(routes), "PYTHONPATH": str(PEERS_DIR)}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [*pinning.server, *server_command(peer, server, port)],
            cwd=PEERS_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_ready(proc, port, log)
            yield port
        finally:
            stop(proc)


def validate(port: int, endpoints: Sequence[str], routes: int) -> dict[str, list[str]]:
    """Raise if any endpoint does not return the expected response.

    Returns the extra request headers wrk must send per endpoint: for
    ``session``, the cookie from a first request, so that every wrk request
    carries a valid session that the app decodes, changes and signs again.
    """
    extra: dict[str, list[str]] = {}
    for endpoint in endpoints:
        path = endpoint_path(endpoint, routes)
        if endpoint == "session":
            first = fetch(port, path)
            cookie = cookie_pair(first[3] or "")
            second = fetch(port, path, headers={"Cookie": cookie})
            problem = check_session_pair(first, second)
            extra[endpoint] = [f"Cookie: {cookie}"]
        else:
            status, content_type, body, _ = fetch(port, path)
            problem = check_response(endpoint, routes, status, content_type, body)
        if problem is not None:
            raise RuntimeError(f"{endpoint}: {problem}")
    return extra


# --------------------------------------------------------------------------- wrk


@dataclass(frozen=True)
class WrkResult:
    """What we keep from one wrk run."""

    requests_per_sec: float
    p99_ms: float
    errors: int


_UNIT_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_RPS_RE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_P99_RE = re.compile(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_SOCKET_RE = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON_2XX_RE = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")


def parse_wrk(output: str) -> WrkResult:
    """Extract req/s, p99 latency (ms) and the error count from ``wrk --latency`` output."""
    rps = _RPS_RE.search(output)
    p99 = _P99_RE.search(output)
    if rps is None or p99 is None:
        raise RuntimeError(f"cannot parse wrk output:\n{output}")
    socket_errors = _SOCKET_RE.search(output)
    non_2xx = _NON_2XX_RE.search(output)
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return WrkResult(float(rps.group(1)), float(p99.group(1)) * _UNIT_TO_MS[p99.group(2)], errors)


def wrk_command(
    port: int, path: str, seconds: int, opts: Options, headers: Sequence[str] = ()
) -> list[str]:
    """The wrk command line (without the pinning prefix)."""
    return [
        "wrk",
        f"-t{opts.threads}", f"-c{opts.connections}", f"-d{seconds}s",
        "--timeout", "10s", "--latency",
        *(arg for header in headers for arg in ("-H", header)),
        f"http://{HOST}:{port}{path}",
    ]  # fmt: skip


def run_wrk(
    port: int,
    path: str,
    seconds: int,
    opts: Options,
    pinning: Pinning,
    headers: Sequence[str] = (),
) -> WrkResult:
    """Drive ``path`` with wrk for ``seconds`` (sending ``headers``) and parse the result."""
    command = [*pinning.wrk, *wrk_command(port, path, seconds, opts, headers)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}):\n{completed.stderr}")
    return parse_wrk(completed.stdout)


# --------------------------------------------------------------------------- running


# (framework, endpoint, route count) -> one WrkResult per round
Key = tuple[str, str, int]
Results = dict[Key, list[WrkResult]]


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays pure markdown."""
    print(message, file=sys.stderr, flush=True)


def bench_peer(
    peer: Peer, endpoints: Sequence[str], routes: int, opts: Options, pinning: Pinning
) -> dict[str, WrkResult]:
    """Serve one peer and measure every endpoint it serves.

    API endpoints and site endpoints (``template``, ``session``) live in
    different apps of the peer; each app gets its own server, one after the other.
    """
    results: dict[str, WrkResult] = {}
    groups: dict[str, tuple[Peer, list[str]]] = {}
    for endpoint in endpoints:
        if peer.serves(endpoint):
            app = peer.app_for(endpoint)
            groups.setdefault(app.target, (app, []))[1].append(endpoint)
    for app, served in groups.values():
        with running_server(app, opts.server, routes, pinning) as port:
            extra_headers = validate(port, served, routes)
            for endpoint in served:
                path = endpoint_path(endpoint, routes)
                headers = extra_headers.get(endpoint, [])
                if opts.warmup:
                    run_wrk(port, path, opts.warmup, opts, pinning, headers)
                result = run_wrk(port, path, opts.duration, opts, pinning, headers)
                results[endpoint] = result
                errors = f", {result.errors} errors" if result.errors else ""
                log(
                    f"  {peer.name:<12} {endpoint:<9} routes={routes:<5} "
                    f"{result.requests_per_sec:>10.0f} req/s  p99 {result.p99_ms:.2f} ms{errors}"
                )
    return results


def rotated(items: Sequence[str], shift: int) -> list[str]:
    """Rotate the framework order each round so no peer always runs first or last."""
    shift %= len(items)
    return [*items[shift:], *items[:shift]]


def run_all(opts: Options, pinning: Pinning) -> tuple[Results, dict[str, str]]:
    """Run every round; return the results and the peers that failed (with the reason)."""
    route_counts = opts.routes or [DEFAULT_ROUTES]
    endpoints = ["route"] if opts.routes else opts.endpoints
    results: Results = {}
    failures: dict[str, str] = {}
    for round_no in range(opts.rounds):
        log(f"round {round_no + 1}/{opts.rounds}")
        for routes in route_counts:
            for name in rotated(opts.frameworks, round_no):
                if name in failures:
                    continue
                try:
                    measured = bench_peer(PEERS[name], endpoints, routes, opts, pinning)
                except RuntimeError as exc:
                    failures[name] = str(exc).strip()
                    log(f"  {name}: FAILED: {failures[name]}")
                    continue
                for endpoint, result in measured.items():
                    results.setdefault((name, endpoint, routes), []).append(result)
    return results, failures


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Summary:
    """Median over the rounds for one (framework, endpoint, routes)."""

    rps: float
    p99_ms: float
    errors: int


def summarize(runs: list[WrkResult]) -> Summary:
    """Median req/s and median p99 over rounds (computed independently)."""
    return Summary(
        statistics.median(r.requests_per_sec for r in runs),
        statistics.median(r.p99_ms for r in runs),
        sum(r.errors for r in runs),
    )


def ratio(runs: list[WrkResult] | None, reference: list[WrkResult] | None) -> str:
    """req/s of ``runs`` relative to ``reference``, formatted as ``0.42x``.

    Rounds are paired (round *i* of both ran minutes apart at most), so the
    median of the per-round ratios is used: it cancels most of the machine's
    drift between rounds. If a peer missed a round, fall back to the ratio of
    medians.
    """
    if not runs or not reference:
        return "n/a"
    if len(runs) == len(reference):
        value = statistics.median(
            run.requests_per_sec / ref.requests_per_sec
            for run, ref in zip(runs, reference, strict=True)
        )
    else:
        value = summarize(runs).rps / summarize(reference).rps
    return f"{value:.2f}x"


def spread(runs: list[WrkResult]) -> str:
    """(max - min) / median of req/s over the rounds: how noisy the row was."""
    values = [run.requests_per_sec for run in runs]
    return f"{(max(values) - min(values)) / statistics.median(values):.0%}"


def package_versions() -> str:
    """Installed versions of the servers and frameworks involved."""
    found = []
    for name in VERSIONED_PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def header(opts: Options, pinning: Pinning) -> list[str]:
    """The markdown preamble describing how the numbers were produced."""
    if opts.routes:
        mode = f"routing flatness ({', '.join(map(str, opts.routes))} routes)"
    else:
        mode = f"endpoints ({DEFAULT_ROUTES} routes registered)"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"### HTTP benchmark: {mode}, ASGI server {opts.server} ({stamp})",
        "",
        f"- machine: {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}",
        f"- CPU pinning: {pinning.description}",
        f"- load: `wrk -t{opts.threads} -c{opts.connections} -d{opts.duration}s --timeout 10s "
        "--latency`, "
        f"{opts.warmup}s warm-up per endpoint, median of {opts.rounds} round(s)",
        f"- one worker per server; ASGI apps on {opts.server}, WSGI apps on gunicorn "
        "(1 sync worker); 'vs raw' = req/s relative to the raw ASGI app on "
        f"{opts.server} in this run (median of per-round ratios); "
        "'spread' = (max - min) / median req/s over the rounds",
        f"- versions: {package_versions()}",
        *site_notes(opts),
        "",
    ]


def site_notes(opts: Options) -> list[str]:
    """What the report needs to say about the site endpoints, when they were run."""
    notes = []
    if "template" in opts.endpoints and not opts.routes:
        notes.append(
            "- `template`: `GET /page`, a base layout + a 10-row loop with autoescaping, "
            "about 2 KB (Jinja2 for raw, heron and Flask; the Django template language for "
            "Django); `*_site.py` apps"
        )
    if "session" in opts.endpoints and not opts.routes:
        notes.append(
            "- `session`: `GET /counter` with the cookie of a first request sent by wrk "
            "(`-H 'Cookie: ...'`), so every request verifies, decodes, increments, re-signs "
            "and sets the signed-cookie session (Django: `signed_cookies` engine)"
        )
    if "heron" in opts.frameworks and not opts.routes:
        notes.append(
            "- 'heron / this' = heron's req/s divided by this row's (median of per-round "
            "ratios): above 1.00x heron is faster"
        )
    return notes


def endpoint_table(opts: Options, results: Results) -> list[str]:
    """Table for the normal mode: one row per framework and endpoint."""
    with_heron = HERON in opts.frameworks
    lines = [
        "| framework | server | endpoint | req/s | spread | p99 (ms) | vs raw "
        + ("| heron / this " if with_heron else "")
        + "| errors |",
        "|---|---|---|---:|---:|---:|---:|" + ("---:|" if with_heron else "") + "---:|",
    ]
    for endpoint in opts.endpoints:
        base = results.get((BASELINE, endpoint, DEFAULT_ROUTES))
        heron = results.get((HERON, endpoint, DEFAULT_ROUTES))
        for name in opts.frameworks:
            runs = results.get((name, endpoint, DEFAULT_ROUTES))
            if not runs:
                continue
            s = summarize(runs)
            heron_ratio = f"| {ratio(heron, runs)} " if with_heron else ""
            lines.append(
                f"| {name} | {server_label(PEERS[name], opts.server)} | {endpoint} "
                f"| {s.rps:,.0f} | {spread(runs)} | {s.p99_ms:.2f} | {ratio(runs, base)} "
                f"{heron_ratio}| {s.errors} |"
            )
    return lines


def routes_table(opts: Options, results: Results) -> list[str]:
    """Table for routing-flatness mode: one row per framework and route count."""
    assert opts.routes is not None
    fewest = min(opts.routes)
    lines = [
        "| framework | server | routes | req/s | spread | p99 (ms) | vs raw "
        f"| vs {fewest} routes | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in opts.frameworks:
        first = results.get((name, "route", fewest))
        for routes in opts.routes:
            runs = results.get((name, "route", routes))
            if not runs:
                continue
            s = summarize(runs)
            base = results.get((BASELINE, "route", routes))
            lines.append(
                f"| {name} | {server_label(PEERS[name], opts.server)} | {routes} "
                f"| {s.rps:,.0f} | {spread(runs)} | {s.p99_ms:.2f} | {ratio(runs, base)} "
                f"| {ratio(runs, first)} | {s.errors} |"
            )
    return lines


def render(opts: Options, pinning: Pinning, results: Results, failures: dict[str, str]) -> str:
    """The full markdown report."""
    table = routes_table(opts, results) if opts.routes else endpoint_table(opts, results)
    lines = header(opts, pinning) + table
    if failures:
        lines.append("")
        lines.extend(
            f"- **{name} failed**: {why.splitlines()[-1]}" for name, why in failures.items()
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    opts = parse_args(argv)
    if shutil.which("wrk") is None:
        log("wrk not found on PATH (apt-get install wrk)")
        return 2
    pinning = detect_pinning(opts.pin)
    log(f"CPU pinning: {pinning.description}")
    results, failures = run_all(opts, pinning)
    report = render(opts, pinning, results, failures)
    print(report)
    if opts.output is not None:
        with opts.output.open("a", encoding="utf-8") as out:
            out.write(report + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
