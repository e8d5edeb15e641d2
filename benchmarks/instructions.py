"""Instructions per request under uvicorn, counted by valgrind's callgrind.

Throughput on a small shared VM moves by 30% or more between runs; the number
of instructions the server executes per request does not.  This harness runs
uvicorn (one worker, uvloop, httptools) under callgrind for a few hundred and
then a few thousand keep-alive requests, and divides the difference by the
extra requests, which cancels start-up and shutdown.  heron's overhead is its
count minus the raw ASGI app's, and ``raw / heron`` is the throughput ratio a
CPU-bound server would show.

    python benchmarks/instructions.py --frameworks raw,heron --endpoints plaintext,json,route
    python benchmarks/instructions.py --frameworks raw,heron --endpoints template,session
    python benchmarks/instructions.py --http heron.cli._protocol:HttpToolsProtocol

``--http`` names uvicorn's HTTP protocol (``httptools`` by default); the last line
measures the one ``heron run`` uses, httptools with heron's request-head limit.

``template`` and ``session`` are served by the site apps (``raw_site.py``,
``heron_site.py``); for ``session`` every counted request carries the cookie
that an earlier request received, so each one decodes and re-signs it.

Needs ``valgrind`` (Debian package).  Each framework and endpoint takes about
half a minute.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
TARGETS = {
    "raw": "raw_asgi:app",
    "heron": "heron_app:app",
    "starlette": "starlette_app:app",
    "fastapi": "fastapi_app:app",
    "litestar": "litestar_app:app",
}
# The site endpoints are served by each framework's site app.
SITE_TARGETS = {"raw": "raw_site:app", "heron": "heron_site:app"}
ENDPOINTS = {
    "plaintext": "/plaintext",
    "json": "/json",
    "route": "/r250/123",
    "template": "/page",
    "session": "/counter",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _connect(port: int, path: str, deadline: float) -> http.client.HTTPConnection:
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("GET", path)
            conn.getresponse().read()
            return conn
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def total_instructions(target: str, path: str, requests: int, http: str = "httptools") -> int:
    """Instructions the server process executed to start, answer and stop."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        env = {**os.environ, "PYTHONPATH": str(PEERS), "PYTHONHASHSEED": "0"}
        server = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             sys.executable, "-m", "uvicorn", target, "--port", str(port),
             "--no-access-log", "--log-level", "warning", "--loop", "uvloop",
             "--http", http],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        failure = ""
        try:
            conn = _connect(port, path, time.monotonic() + 300)
            headers = {}
            if path == ENDPOINTS["session"]:  # carry the session the first request started
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                set_cookie = response.getheader("set-cookie") or ""
                headers["Cookie"] = set_cookie.split(";", 1)[0]
            for _ in range(requests):
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failure = f"{target} answered {response.status} for {path}"
                    break
            conn.close()
        finally:
            server.send_signal(signal.SIGINT)
            _, err = server.communicate(timeout=600)
        if failure:
            log = b"\n".join(line for line in err.splitlines() if not line.startswith(b"=="))
            raise RuntimeError(f"{failure}; server output:\n{log[-3000:].decode(errors='replace')}")
        found = re.search(rb"Collected : (\d+)", err)
        if found is None:
            raise RuntimeError(f"callgrind printed no total for {target}: {err[-500:]!r}")
        return int(found.group(1))


def per_request(target: str, path: str, low: int, high: int, http: str = "httptools") -> float:
    return (total_instructions(target, path, high, http)
            - total_instructions(target, path, low, http)) / (high - low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frameworks", default="raw,heron")
    parser.add_argument("--endpoints", default="plaintext,json,route")
    parser.add_argument("--low", type=int, default=300)
    parser.add_argument("--high", type=int, default=2300)
    parser.add_argument("--http", default="httptools",
                        help="uvicorn's HTTP protocol: httptools, h11 or module:Class")
    args = parser.parse_args()
    frameworks = ["raw", *[f for f in args.frameworks.split(",") if f != "raw"]]
    print("| framework | endpoint | instructions/request | overhead vs raw | raw / framework |")
    print("|---|---|---:|---:|---:|")
    for endpoint in args.endpoints.split(","):
        path = ENDPOINTS[endpoint]
        targets = SITE_TARGETS if endpoint in ("template", "session") else TARGETS
        raw = per_request(targets["raw"], path, args.low, args.high, args.http)
        for name in frameworks:
            if name not in targets:
                continue
            count = raw if name == "raw" else per_request(targets[name], path, args.low,
                                                          args.high, args.http)
            print(f"| {name} | {endpoint} | {count:,.0f} | {count - raw:+,.0f} | "
                  f"{raw / count:.3f}x |", flush=True)


if __name__ == "__main__":
    main()
