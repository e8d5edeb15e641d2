"""In-process ASGI harness: framework overhead without a server or a socket.

Each ASGI peer is imported and called directly, ``await app(scope, receive,
send)``, many times in a loop with a prebuilt scope per endpoint. Lifespan
startup is run first through the app's own lifespan protocol. WSGI peers
(Flask, Django-WSGI) can be added with ``--frameworks``; they are called as
``app(environ, start_response)`` and their body iterated. The result is
microseconds per request (median over repetitions, peers interleaved within
each repetition), and the overhead relative to the raw ASGI app.

    python benchmarks/inprocess.py
    python benchmarks/inprocess.py --frameworks heron,starlette --iterations 20000
    python benchmarks/inprocess.py --routes 10,500,1000     # heron's routing cost
    python benchmarks/inprocess.py --frameworks heron --endpoints template,session
    python benchmarks/inprocess.py --frameworks heron,flask,django-wsgi --endpoints template,session

See ``benchmarks/README.md`` for caveats.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import io
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from _shared import (
    BASELINE,
    DEFAULT_ROUTES,
    ENDPOINTS,
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

Message = MutableMapping[str, Any]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]

ASGI_PEERS = tuple(name for name, peer in PEERS.items() if peer.interface == "asgi")
REQUEST_MESSAGE: Message = {"type": "http.request", "body": b"", "more_body": False}
DISCONNECT_MESSAGE: Message = {"type": "http.disconnect"}


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    """Parsed command line."""

    frameworks: list[str]
    endpoints: list[str]
    iterations: int
    repeat: int
    warmup: int
    routes: list[int] | None
    loop: str
    cpu: int | None


def parse_args(argv: Sequence[str] | None = None) -> Options:
    """Parse the command line into :class:`Options`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--frameworks",
        help=f"comma-separated peers (default: the ASGI ones: {','.join(ASGI_PEERS)}; "
        "with --routes: heron); the raw baseline is always added; WSGI peers "
        "(flask, django-wsgi) are called directly as WSGI apps",
    )
    parser.add_argument(
        "--endpoints", default=",".join(ENDPOINTS), help="comma-separated endpoints"
    )
    parser.add_argument("--iterations", type=int, default=2000, help="requests per repetition")
    parser.add_argument("--repeat", type=int, default=15, help="repetitions (median reported)")
    parser.add_argument("--warmup", type=int, default=1000, help="untimed requests first")
    parser.add_argument(
        "--routes", help="flat-routing mode: comma-separated route counts, e.g. 10,500,1000"
    )
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--cpu", type=int, default=0, help="pin this process to this CPU")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to a CPU")
    args = parser.parse_args(argv)

    default = "heron" if args.routes else ",".join(ASGI_PEERS)
    frameworks = parse_names(args.frameworks or default, tuple(PEERS), "framework")
    if BASELINE not in frameworks:
        frameworks.insert(0, BASELINE)
    if args.routes and {"django", "django-wsgi"} & set(frameworks):
        parser.error("--routes cannot include django: its settings are global to the process")
    if args.iterations < 1 or args.repeat < 1 or args.warmup < 0:
        parser.error("--iterations and --repeat must be >= 1, --warmup >= 0")
    return Options(
        frameworks=frameworks,
        endpoints=["route"] if args.routes else parse_names(args.endpoints, ENDPOINTS, "endpoint"),
        iterations=args.iterations,
        repeat=args.repeat,
        warmup=args.warmup,
        routes=parse_route_counts(args.routes) if args.routes else None,
        loop=args.loop,
        cpu=None if args.no_pin else args.cpu,
    )


# --------------------------------------------------------------------------- loading


def load_app(peer: Peer, routes: int) -> Any:
    """Import a fresh copy of ``peer``'s module with ``BENCH_ROUTES=routes``.

    Each (peer, route count) gets its own module name so several route counts
    can live side by side in one process.
    """
    os.environ.update(peer.env)
    os.environ["BENCH_ROUTES"] = str(routes)
    if str(PEERS_DIR) not in sys.path:  # the site apps import _site_data
        sys.path.insert(0, str(PEERS_DIR))
    module_name = f"{peer.module}__bench_r{routes}"
    spec = importlib.util.spec_from_file_location(module_name, peer.path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {peer.path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return getattr(module, peer.attr)


@dataclass
class Lifespan:
    """A running lifespan task, or a note that the app does not support lifespan."""

    supported: bool
    state: dict[str, Any] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    to_app: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)
    from_app: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)


async def start_lifespan(app: ASGIApp) -> Lifespan:
    """Send ``lifespan.startup`` and wait for the app to complete (or refuse) it."""
    span = Lifespan(supported=True)
    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": span.state}
    span.task = asyncio.ensure_future(app(scope, span.to_app.get, span.from_app.put))
    await span.to_app.put({"type": "lifespan.startup"})
    reply = asyncio.create_task(span.from_app.get())
    await asyncio.wait({span.task, reply}, return_when=asyncio.FIRST_COMPLETED)
    if not reply.done():  # the app returned or raised without answering: unsupported
        reply.cancel()
        if not span.task.cancelled():
            span.task.exception()  # mark the (expected) error as retrieved
        span.supported = False
        return span
    message = reply.result()
    if message["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"lifespan startup failed: {message}")
    return span


async def stop_lifespan(span: Lifespan) -> None:
    """Send ``lifespan.shutdown`` and wait for the app to finish."""
    if not span.supported or span.task is None:
        return
    await span.to_app.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(span.from_app.get(), timeout=10)
    await asyncio.wait_for(span.task, timeout=10)


# --------------------------------------------------------------------------- requests


def build_scope(path: str, span: Lifespan, cookie: str | None = None) -> Scope:
    """A realistic HTTP scope, like the one uvicorn builds for a wrk request."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
    }
    if cookie is not None:
        scope["headers"].append((b"cookie", cookie.encode("latin-1")))
    if span.supported:
        scope["state"] = span.state
    return scope


async def call_once(app: ASGIApp, template: Scope) -> None:
    """One request, with the receive/send pair a server would provide.

    ``receive`` returns the (empty) request body once; a second call blocks
    until the response is complete and then reports a disconnect, which is
    what frameworks that listen for disconnects (Django) expect.
    """
    finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    pending = True

    async def receive() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return REQUEST_MESSAGE
        await finished
        return DISCONNECT_MESSAGE

    async def send(message: Message) -> None:
        if (
            message["type"] == "http.response.body"
            and not message.get("more_body", False)
            and not finished.done()
        ):
            finished.set_result(None)

    await app(dict(template), receive, send)


async def call_and_capture(app: ASGIApp, template: Scope) -> tuple[int, str, bytes, str | None]:
    """One request, returning status, content type, body and Set-Cookie (for validation)."""
    status = 0
    content_type = ""
    set_cookie: str | None = None
    body = bytearray()
    state = {"pending": True}

    async def receive() -> Message:
        if state["pending"]:
            state["pending"] = False
            return REQUEST_MESSAGE
        await asyncio.sleep(3600)
        return DISCONNECT_MESSAGE

    async def send(message: Message) -> None:
        nonlocal status, content_type, set_cookie
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = {k.lower(): v for k, v in message.get("headers", [])}
            content_type = headers.get(b"content-type", b"").decode()
            if b"set-cookie" in headers:
                set_cookie = headers[b"set-cookie"].decode("latin-1")
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await asyncio.wait_for(app(dict(template), receive, send), timeout=10)
    return status, content_type, bytes(body), set_cookie


def build_environ(path: str, cookie: str | None = None) -> dict[str, Any]:
    """The WSGI twin of :func:`build_scope` (what gunicorn passes for a wrk request)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "bench",
        "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    return environ


def wsgi_call(app: WSGIApp, template: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """One WSGI request as a server makes it: fresh environ and input, body iterated, closed."""
    environ = dict(template)
    environ["wsgi.input"] = io.BytesIO(b"")
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return started[0], started[1], body


def wsgi_capture(app: WSGIApp, template: dict[str, Any]) -> tuple[int, str, bytes, str | None]:
    """One WSGI request, returning status, content type, body and Set-Cookie."""
    status, headers, body = wsgi_call(app, template)
    lowered = {name.lower(): value for name, value in headers}
    return int(status.split()[0]), lowered.get("content-type", ""), body, lowered.get("set-cookie")


async def time_batch(target: Target, iterations: int) -> float:
    """Run ``iterations`` requests back to back; return microseconds per request."""
    gc.collect()
    app, template = target.app, target.scope
    start = time.perf_counter_ns()
    if target.interface == "wsgi":
        for _ in range(iterations):
            wsgi_call(app, template)
    else:
        for _ in range(iterations):
            await call_once(app, template)
    return (time.perf_counter_ns() - start) / iterations / 1000


# --------------------------------------------------------------------------- running


@dataclass
class Target:
    """One (framework, endpoint, route count) to time."""

    framework: str
    endpoint: str
    routes: int
    app: Any  # ASGIApp, or WSGIApp when interface == "wsgi"
    scope: Scope  # the scope, or the WSGI environ
    interface: str = "asgi"
    samples: list[float] = field(default_factory=list)


def app_groups(name: str, endpoints: Sequence[str]) -> list[tuple[Peer, list[str]]]:
    """The apps of peer ``name`` to load, each with the endpoints it serves here."""
    peer = PEERS[name]
    groups: dict[str, tuple[Peer, list[str]]] = {}
    for endpoint in endpoints:
        if peer.serves(endpoint):
            app = peer.app_for(endpoint)
            groups.setdefault(app.module, (app, []))[1].append(endpoint)
    return list(groups.values())


NOTES: list[str] = []
# Django's settings are global to the process: only the first Django app loaded
# (module and sync/async views) can run; the others are skipped with a note.
_django_owner: list[tuple[str, str]] = []


def django_conflict(name: str, peer: Peer, endpoints: Sequence[str]) -> bool:
    """True (and a note) when ``peer`` is a Django app that cannot share this process."""
    if not peer.module.startswith("django"):
        return False
    key = (peer.module, peer.env.get("BENCH_DJANGO_ASYNC", "0"))
    if not _django_owner:
        _django_owner.append(key)
    if _django_owner[0] == key:
        return False
    module, flag = _django_owner[0]
    NOTES.append(
        f"{name} {', '.join(endpoints)} not run: Django's settings are global to the process "
        f"and {module}.py ({'async' if flag == '1' else 'sync'} views) was loaded first; run it "
        f"on its own (`--frameworks {name} --endpoints {','.join(endpoints)}`)"
    )
    return True


async def request_scope(
    app: Any, endpoint: str, routes: int, span: Lifespan, interface: str = "asgi"
) -> tuple[Scope, str | None]:
    """The scope (or WSGI environ) to time for ``endpoint``, and what is wrong with its
    response (or None).

    For ``session`` the scope carries the cookie a first request got, so each
    timed request decodes, changes and re-signs the session.
    """

    def build(cookie: str | None = None) -> Scope:
        if interface == "wsgi":
            return build_environ(path, cookie)
        return build_scope(path, span, cookie)

    async def capture(scope: Scope) -> tuple[int, str, bytes, str | None]:
        if interface == "wsgi":
            return wsgi_capture(app, scope)
        return await call_and_capture(app, scope)

    path = endpoint_path(endpoint, routes)
    scope = build()
    if endpoint != "session":
        return scope, check_response(endpoint, routes, *(await capture(scope))[:3])
    first = await capture(scope)
    scope = build(cookie_pair(first[3] or ""))
    second = await capture(scope)
    return scope, check_session_pair(first, second)


async def prepare(opts: Options) -> tuple[list[Target], list[Lifespan], dict[str, str]]:
    """Load every app, run lifespan startup, validate each endpoint once."""
    targets: list[Target] = []
    spans: list[Lifespan] = []
    failures: dict[str, str] = {}
    for routes in opts.routes or [DEFAULT_ROUTES]:
        for name in opts.frameworks:
            for peer, endpoints in app_groups(name, opts.endpoints):
                if django_conflict(name, peer, endpoints):
                    continue
                try:
                    app = load_app(peer, routes)
                    if peer.interface == "wsgi":
                        span = Lifespan(supported=False)
                    else:
                        span = await start_lifespan(app)
                        spans.append(span)
                except Exception as exc:
                    failures[f"{peer.module} ({routes} routes)"] = f"{type(exc).__name__}: {exc}"
                    continue
                for endpoint in endpoints:
                    scope, problem = await request_scope(
                        app, endpoint, routes, span, peer.interface
                    )
                    if problem is not None:
                        failures[f"{name} {endpoint} ({routes} routes)"] = problem
                        continue
                    targets.append(
                        Target(name, endpoint, routes, app, scope, interface=peer.interface)
                    )
    return targets, spans, failures


async def measure(opts: Options) -> tuple[list[Target], dict[str, str]]:
    """Warm up, then time every target, interleaving targets within each repetition."""
    targets, spans, failures = await prepare(opts)
    for target in targets:
        if opts.warmup:
            await time_batch(target, opts.warmup)
    for rep in range(opts.repeat):
        print(f"repetition {rep + 1}/{opts.repeat}", file=sys.stderr, flush=True)
        for target in targets:
            target.samples.append(await time_batch(target, opts.iterations))
    for span in spans:
        await stop_lifespan(span)
    return targets, failures


def run(opts: Options) -> tuple[list[Target], dict[str, str]]:
    """Run :func:`measure` on the selected event loop."""
    if opts.loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(measure(opts))
    return asyncio.run(measure(opts))


# --------------------------------------------------------------------------- report


def header(opts: Options) -> list[str]:
    """Markdown preamble."""
    mode = "flat routing" if opts.routes else f"endpoints ({DEFAULT_ROUTES} routes registered)"
    pinned = f", pinned to CPU {opts.cpu}" if opts.cpu is not None else ", unpinned"
    return [
        f"### In-process ASGI benchmark: {mode}",
        "",
        f"- {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}, "
        f"{opts.loop} loop{pinned}",
        f"- {opts.iterations} requests x {opts.repeat} repetitions (+{opts.warmup} warm-up), "
        "targets interleaved in each repetition; µs/request: median and minimum over the "
        "repetitions (noise only adds time, so the minimum is the steadier estimate)",
        *(
            [
                "- WSGI peers are called directly as `app(environ, start_response)`, body joined "
                "and closed; their 'x raw' compares them with the raw ASGI app"
            ]
            if any(PEERS[name].interface == "wsgi" for name in opts.frameworks)
            else []
        ),
        "",
    ]


def endpoint_table(targets: list[Target]) -> list[str]:
    """Rows of framework x endpoint with the overhead against raw ASGI."""
    raw = {t.endpoint: t for t in targets if t.framework == BASELINE}
    lines = [
        "| framework | endpoint | µs/req median | µs/req min | overhead vs raw (median) "
        "| x raw (median) | x raw (min) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for target in sorted(targets, key=lambda t: ENDPOINTS.index(t.endpoint)):
        median, low = statistics.median(target.samples), min(target.samples)
        base = raw.get(target.endpoint)
        if base is None:
            overhead = by_median = by_min = "n/a"
        else:
            base_median, base_min = statistics.median(base.samples), min(base.samples)
            overhead = f"{median - base_median:+.1f} µs"
            by_median, by_min = f"{median / base_median:.1f}x", f"{low / base_min:.1f}x"
        lines.append(
            f"| {target.framework} | {target.endpoint} | {median:.1f} | {low:.1f} "
            f"| {overhead} | {by_median} | {by_min} |"
        )
    return lines


def routes_table(targets: list[Target]) -> list[str]:
    """Rows of framework x route count, with the change against the fewest routes."""
    smallest = min(t.routes for t in targets)
    reference = {t.framework: t for t in targets if t.routes == smallest}
    lines = [
        f"| framework | routes | µs/req median | µs/req min | vs {smallest} routes (median) "
        f"| vs {smallest} routes (min) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for target in sorted(targets, key=lambda t: (t.framework != BASELINE, t.framework, t.routes)):
        median, low = statistics.median(target.samples), min(target.samples)
        base = reference.get(target.framework)
        if base is None:
            by_median = by_min = "n/a"
        else:
            base_median, base_min = statistics.median(base.samples), min(base.samples)
            by_median = f"{median - base_median:+.1f} µs ({median / base_median:.2f}x)"
            by_min = f"{low - base_min:+.1f} µs ({low / base_min:.2f}x)"
        lines.append(
            f"| {target.framework} | {target.routes} | {median:.1f} | {low:.1f} "
            f"| {by_median} | {by_min} |"
        )
    return lines


def pin(opts: Options) -> Options:
    """Pin the process to ``opts.cpu`` if possible; return options saying what happened."""
    if opts.cpu is None:
        return opts
    if not hasattr(os, "sched_setaffinity") or opts.cpu not in os.sched_getaffinity(0):
        print(f"cannot pin to CPU {opts.cpu}; running unpinned", file=sys.stderr)
        return replace(opts, cpu=None)
    os.sched_setaffinity(0, {opts.cpu})
    return opts


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    opts = parse_args(argv)
    opts = pin(opts)
    targets, failures = run(opts)
    if not targets:
        table = ["(nothing was measured)"]
    else:
        table = routes_table(targets) if opts.routes else endpoint_table(targets)
    lines = header(opts) + table
    if failures or NOTES:
        lines.append("")
        lines.extend(f"- **{what} failed**: {why}" for what, why in failures.items())
        lines.extend(f"- {note}" for note in NOTES)
    print("\n".join(lines))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
