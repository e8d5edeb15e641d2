"""Typed API endpoints (issue 7): heron against FastAPI and Litestar, in the same run.

Two endpoints, the same in every peer (``peers/``): pydantic models, constraints,
typed parameters, and a response model.

- ``post``: ``POST /items?count=3`` with ``{"name": "Widget", "price": 9.99, "tags":
  ["a", "b"]}``: the body validated against ``Item`` (name 1-50 characters, price > 0,
  tags a list of strings), ``count`` an int in 1..100; answers 201 with the item and
  the count.
- ``get``: ``GET /items/42?q=hello``: ``id: int`` from the path, ``q`` a string of at
  most 50 characters; answers ``{"id": 42, "q": "hello"}``.

Two measurements:

1. wrk against each app under uvicorn (one worker, uvloop, httptools, 127.0.0.1),
   server on CPU 0 and wrk on CPU 1, POST bodies from a wrk Lua script.  Rounds are
   interleaved (every peer once per round, in a rotated order) and each row reports
   medians; ``heron / this`` is the median of the per-round ratios.  The server's own
   CPU time per request (from /proc) is reported too: on a noisy machine it moves
   much less than req/s.
2. in-process: ``await app(scope, receive, send)`` in a loop with the same requests,
   no server and no socket (the harness of ``benchmarks/inprocess.py``), peers
   interleaved within each repetition; microseconds per request, median.

Before measuring, every app's answers are checked (status, content type, body) and an
invalid request must be refused with a 4xx.

    python benchmarks/api/run_api.py                        # everything, about 7 minutes
    python benchmarks/api/run_api.py --rounds 1 --duration 3 --no-inprocess
    python benchmarks/api/run_api.py --inprocess-only --profile heron   # + cProfile of heron
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import http.client
import importlib
import json
import os
import platform
import pstats
import re
import shutil
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
from typing import Any

API_DIR = Path(__file__).resolve().parent
PEERS_DIR = API_DIR / "peers"
sys.path[:0] = [str(API_DIR.parent), str(PEERS_DIR)]

from inprocess import Lifespan, build_scope, start_lifespan, stop_lifespan  # noqa: E402
from run import HOST, Pinning, detect_pinning, free_port, parse_wrk, stop, tail  # noqa: E402

PEERS = {  # name -> module in peers/ (each defines ``app``)
    "heron": "heron_api",
    "fastapi": "fastapi_api",
    "litestar": "litestar_api",
    "litestar-msgspec": "litestar_msgspec_api",
}
HERON = "heron"
READY_TIMEOUT = 60.0
VERSIONED = ("heron", "fastapi", "starlette", "litestar", "pydantic", "pydantic-core", "msgspec",
             "orjson", "uvicorn", "uvloop", "httptools")


@dataclass(frozen=True)
class Endpoint:
    """One benchmarked request, what a right answer is, and an invalid twin."""

    name: str
    method: str
    path: str
    body: bytes | None
    status: int
    expected: dict[str, Any]
    invalid_path: str
    invalid_body: bytes | None = None


ITEM = {"name": "Widget", "price": 9.99, "tags": ["a", "b"]}
ENDPOINTS = {
    "post": Endpoint("post", "POST", "/items?count=3", json.dumps(ITEM).encode(), 201,
                     {**ITEM, "count": 3}, "/items?count=3",
                     json.dumps({"name": "", "price": 0, "tags": []}).encode()),
    "get": Endpoint("get", "GET", "/items/42?q=hello", None, 200, {"id": 42, "q": "hello"},
                    "/items/42?q=" + "x" * 51),
}


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    frameworks: list[str]
    endpoints: list[str]
    rounds: int
    duration: int
    warmup: int
    connections: int
    wrk: bool
    inprocess: bool
    iterations: int
    repeat: int
    profile: list[str]
    output: Path | None
    pin: bool


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frameworks", default=",".join(PEERS))
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--rounds", type=int, default=5, help="wrk rounds (interleaved)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per endpoint")
    parser.add_argument("--connections", type=int, default=64, help="wrk -c")
    parser.add_argument("--no-inprocess", action="store_true", help="wrk only")
    parser.add_argument("--inprocess-only", action="store_true", help="no wrk")
    parser.add_argument("--iterations", type=int, default=2000, help="in-process batch size")
    parser.add_argument("--repeat", type=int, default=15, help="in-process repetitions")
    parser.add_argument("--profile", default="",
                        help="comma-separated peers to profile in-process with cProfile")
    parser.add_argument("--output", type=Path, help="append the markdown report to this file")
    parser.add_argument("--no-pin", action="store_true", help="do not pin with taskset")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.frameworks.split(",") if n.strip()]
    endpoints = [n.strip() for n in args.endpoints.split(",") if n.strip()]
    profile = [n.strip() for n in args.profile.split(",") if n.strip()]
    unknown = [n for n in names + profile if n not in PEERS] + \
        [e for e in endpoints if e not in ENDPOINTS]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")
    if HERON not in names:
        names.insert(0, HERON)
    return Options(names, endpoints, args.rounds, args.duration, max(args.warmup, 0),
                   args.connections, not args.inprocess_only, not args.no_inprocess,
                   args.iterations, args.repeat, profile, args.output, not args.no_pin)


# --------------------------------------------------------------------------- checks


def check(endpoint: Endpoint, status: int, content_type: str, body: bytes) -> str | None:
    """What is wrong with an answer to ``endpoint``, or None."""
    if status != endpoint.status:
        return f"status {status}, body {body[:200]!r}"
    if not content_type.startswith("application/json"):
        return f"content-type {content_type!r}"
    try:
        decoded = json.loads(body)
    except ValueError:
        return f"invalid JSON {body[:200]!r}"
    return None if decoded == endpoint.expected else f"JSON {decoded!r}"


def request(port: int, method: str, path: str, body: bytes | None) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        headers = {"content-type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheader("content-type", ""), response.read()
    finally:
        conn.close()


def validate(port: int, endpoints: Sequence[Endpoint]) -> None:
    for endpoint in endpoints:
        problem = check(endpoint, *request(port, endpoint.method, endpoint.path, endpoint.body))
        status = request(port, endpoint.method, endpoint.invalid_path,
                         endpoint.invalid_body or endpoint.body)[0]
        if problem is None and not 400 <= status < 500:
            problem = f"an invalid request got {status}, not a 4xx"
        if problem is not None:
            raise RuntimeError(f"{endpoint.name}: {problem}")


# --------------------------------------------------------------------------- wrk


@dataclass(frozen=True)
class Run:
    rps: float
    p99_ms: float
    errors: int
    cpu_us: float | None  # server CPU time per request


_REQUESTS_RE = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def lua_script(endpoint: Endpoint, folder: Path) -> Path | None:
    """The wrk script that makes ``endpoint``'s request (None for a plain GET)."""
    if endpoint.body is None:
        return None
    script = folder / f"{endpoint.name}.lua"
    script.write_text(
        f'wrk.method = "{endpoint.method}"\n'
        f"wrk.body = {json.dumps(endpoint.body.decode())}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    return script


def run_wrk(port: int, endpoint: Endpoint, seconds: int, opts: Options, pinning: Pinning,
            script: Path | None, pid: int) -> Run:
    command = [*pinning.wrk, "wrk", "-t1", f"-c{opts.connections}", f"-d{seconds}s",
               "--timeout", "10s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(f"http://{HOST}:{port}{endpoint.path}")
    before = cpu_seconds(pid)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    after = cpu_seconds(pid)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stderr}")
    parsed = parse_wrk(done.stdout)
    count = _REQUESTS_RE.search(done.stdout)
    cpu = None
    if count and int(count[1]) and before is not None and after is not None:
        cpu = (after - before) / int(count[1]) * 1e6
    return Run(parsed.requests_per_sec, parsed.p99_ms, parsed.errors, cpu)


@contextmanager
def serving(module: str, pinning: Pinning) -> Iterator[tuple[int, int]]:
    """uvicorn serving ``module:app``; yields (port, pid) once it answers."""
    port = free_port()
    command = [*pinning.server, sys.executable, "-m", "uvicorn", f"{module}:app",
               "--host", HOST, "--port", str(port), "--no-access-log", "--log-level",
               "warning", "--loop", "uvloop", "--http", "httptools"]
    env = {**os.environ, "PYTHONPATH": str(PEERS_DIR)}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, cwd=PEERS_DIR, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{module} exited:\n{tail(log)}")
                try:
                    request(port, "GET", "/", None)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{module} not ready:\n{tail(log)}") from None
                    time.sleep(0.1)
            yield port, proc.pid
        finally:
            stop(proc)


Results = dict[tuple[str, str], list[Run]]


def run_rounds(opts: Options, pinning: Pinning) -> Results:
    results: Results = {}
    endpoints = [ENDPOINTS[e] for e in opts.endpoints]
    with tempfile.TemporaryDirectory() as folder:
        scripts = {e.name: lua_script(e, Path(folder)) for e in endpoints}
        for round_no in range(opts.rounds):
            log(f"round {round_no + 1}/{opts.rounds}")
            shift = round_no % len(opts.frameworks)
            for name in [*opts.frameworks[shift:], *opts.frameworks[:shift]]:
                with serving(PEERS[name], pinning) as (port, pid):
                    validate(port, endpoints)
                    for endpoint in endpoints:
                        script = scripts[endpoint.name]
                        if opts.warmup:
                            run_wrk(port, endpoint, opts.warmup, opts, pinning, script, pid)
                        run = run_wrk(port, endpoint, opts.duration, opts, pinning, script, pid)
                        results.setdefault((name, endpoint.name), []).append(run)
                        log(f"  {name:<17} {endpoint.name:<5} {run.rps:>8.0f} req/s  "
                            f"p99 {run.p99_ms:6.2f} ms  cpu {run.cpu_us or 0:6.0f} µs/req"
                            + (f"  {run.errors} errors" if run.errors else ""))
    return results


# --------------------------------------------------------------------------- in-process


@dataclass
class Target:
    name: str
    endpoint: Endpoint
    app: Any
    scope: dict[str, Any]
    samples: list[float] = field(default_factory=list)


def scope_for(endpoint: Endpoint, span: Lifespan) -> dict[str, Any]:
    path, _, query = endpoint.path.partition("?")
    scope = build_scope(path, span)
    scope["method"] = endpoint.method
    scope["query_string"] = query.encode()
    if endpoint.body is not None:
        scope["headers"] = [*scope["headers"], (b"content-type", b"application/json"),
                            (b"content-length", str(len(endpoint.body)).encode())]
    return scope


async def call(app: Any, scope: dict[str, Any], body: bytes) -> tuple[int, bytes, bytes]:
    """One request as a server makes it; returns status, content type and body."""
    sent = False
    status, content_type, chunks = 0, b"", []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, content_type
        if message["type"] == "http.response.start":
            status = message["status"]
            content_type = dict(message.get("headers", [])).get(b"content-type", b"")
        else:
            chunks.append(message.get("body", b""))

    await app(dict(scope), receive, send)
    return status, content_type, b"".join(chunks)


async def time_batch(target: Target, iterations: int) -> float:
    gc.collect()
    app, scope, body = target.app, target.scope, target.endpoint.body or b""
    start = time.perf_counter_ns()
    for _ in range(iterations):
        await call(app, scope, body)
    return (time.perf_counter_ns() - start) / iterations / 1000


async def run_inprocess(opts: Options) -> dict[tuple[str, str], float]:
    targets: list[Target] = []
    spans: list[Lifespan] = []
    for name in opts.frameworks:
        app = importlib.import_module(PEERS[name]).app
        span = await start_lifespan(app)
        spans.append(span)
        for endpoint_name in opts.endpoints:
            endpoint = ENDPOINTS[endpoint_name]
            target = Target(name, endpoint, app, scope_for(endpoint, span))
            status, ctype, body = await call(app, target.scope, endpoint.body or b"")
            problem = check(endpoint, status, ctype.decode(), body)
            if problem is not None:
                raise RuntimeError(f"in-process {name} {endpoint_name}: {problem}")
            targets.append(target)
    for target in targets:  # warm-up
        await time_batch(target, max(opts.iterations // 2, 1))
    for repetition in range(opts.repeat):
        shift = repetition % len(targets)
        for target in [*targets[shift:], *targets[:shift]]:
            target.samples.append(await time_batch(target, opts.iterations))
    for name in opts.profile:
        for target in (t for t in targets if t.name == name):
            await profile(target, opts.iterations * 5)
    for span in spans:
        await stop_lifespan(span)
    return {(t.name, t.endpoint.name): statistics.median(t.samples) for t in targets}


async def profile(target: Target, iterations: int) -> None:
    """cProfile ``iterations`` requests; print the functions with the most own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    await time_batch(target, iterations)
    profiler.disable()
    log(f"\ncProfile: {target.name} {target.endpoint.name}, {iterations} requests")
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("tottime").print_stats(25)


# --------------------------------------------------------------------------- report


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def versions() -> str:
    found = []
    for name in VERSIONED:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def median_ratio(runs: list[Run], heron: list[Run]) -> str:
    """heron's req/s over ``runs``': the median of per-round ratios (rounds are paired)."""
    if len(runs) == len(heron):
        value = statistics.median(h.rps / r.rps for h, r in zip(heron, runs, strict=True))
    else:  # a round is missing: the ratio of the medians
        value = statistics.median(r.rps for r in heron) / statistics.median(r.rps for r in runs)
    return f"{value:.2f}x"


def wrk_table(opts: Options, results: Results) -> list[str]:
    lines = ["| endpoint | framework | req/s | spread | p99 (ms) | heron / this | "
             "server CPU µs/req | heron CPU / this | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for endpoint in opts.endpoints:
        heron = results.get((HERON, endpoint), [])
        heron_cpu = [r.cpu_us for r in heron if r.cpu_us]
        for name in opts.frameworks:
            runs = results.get((name, endpoint), [])
            if not runs:
                continue
            rps = [r.rps for r in runs]
            cpu = [r.cpu_us for r in runs if r.cpu_us]
            cpu_cell = f"{statistics.median(cpu):,.0f}" if cpu else "n/a"
            cpu_ratio = (f"{statistics.median(heron_cpu) / statistics.median(cpu):.2f}x"
                         if cpu and heron_cpu else "n/a")
            lines.append(
                f"| {ENDPOINTS[endpoint].method} {ENDPOINTS[endpoint].path} | {name} "
                f"| {statistics.median(rps):,.0f} "
                f"| {(max(rps) - min(rps)) / statistics.median(rps):.0%} "
                f"| {statistics.median(r.p99_ms for r in runs):.2f} "
                f"| {median_ratio(runs, heron) if heron else 'n/a'} | {cpu_cell} | {cpu_ratio} "
                f"| {sum(r.errors for r in runs)} |")
    return lines


def inprocess_table(opts: Options, timings: dict[tuple[str, str], float]) -> list[str]:
    lines = ["| endpoint | framework | µs/request | this / heron |", "|---|---|---:|---:|"]
    for endpoint in opts.endpoints:
        heron = timings.get((HERON, endpoint))
        for name in opts.frameworks:
            value = timings.get((name, endpoint))
            if value is None:
                continue
            relative = f"{value / heron:.2f}x" if heron else "n/a"
            lines.append(f"| {ENDPOINTS[endpoint].method} {ENDPOINTS[endpoint].path} | {name} "
                         f"| {value:.1f} | {relative} |")
    return lines


def render(opts: Options, pinning: Pinning | None, results: Results,
           timings: dict[tuple[str, str], float]) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"### Typed API endpoints, {stamp}", "",
             f"- machine: {os.cpu_count()} CPUs, {platform.platform()}, "
             f"Python {platform.python_version()}",
             f"- versions: {versions()}"]
    if results and pinning is not None:
        lines += [
            f"- wrk: uvicorn (1 worker, uvloop, httptools) on 127.0.0.1; CPU pinning: "
            f"{pinning.description}; `wrk -t1 -c{opts.connections} -d{opts.duration}s "
            f"--timeout 10s --latency` (POST body from a Lua script), {opts.warmup}s warm-up "
            f"per endpoint, {opts.rounds} interleaved round(s); medians; 'heron / this' = "
            "median of per-round req/s ratios (above 1.00x heron is faster); 'spread' = "
            "(max - min) / median req/s; 'server CPU µs/req' = the uvicorn process's user + "
            "system CPU time during the measured run / requests completed ('heron CPU / "
            "this' below 1.00x: heron uses less CPU per request)",
            "", *wrk_table(opts, results), ""]
    if timings:
        lines += [f"- in-process: `await app(scope, receive, send)` on uvloop, no server; "
                  f"median of {opts.repeat} batches of {opts.iterations} requests, peers "
                  "interleaved; 'this / heron' above 1.00x: heron is faster", "",
                  *inprocess_table(opts, timings), ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    results: Results = {}
    pinning = None
    if opts.wrk:
        if shutil.which("wrk") is None:
            log("wrk not found on PATH (apt-get install wrk)")
            return 2
        pinning = detect_pinning(opts.pin)
        log(f"CPU pinning: {pinning.description}")
        results = run_rounds(opts, pinning)
    timings: dict[tuple[str, str], float] = {}
    if opts.inprocess:
        import uvloop

        if opts.pin and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {0})
        timings = uvloop.run(run_inprocess(opts))
    report = render(opts, pinning, results, timings)
    print(report)
    if opts.output is not None:
        with opts.output.open("a", encoding="utf-8") as out:
            out.write(report + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
