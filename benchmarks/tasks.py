"""Background tasks: what enqueueing costs a request, and how many jobs workers run.

Starts a throwaway PostgreSQL (heron.testing.servers.PostgresServer), migrates an app
with ``tasks_backend = "procrastinate"``, and measures:

1. enqueue cost inside a request, in process (heron's AsyncTestClient, no socket): the
   time per request of a view that enqueues one job, minus the same view without the
   enqueue; for the ``immediate``, ``local`` and ``procrastinate`` backends, and for
   procrastinate inside a transaction that writes a row (against the same transaction
   without the job);
2. throughput: ``--jobs`` no-op jobs queued, then drained by one ``heron worker --once``
   process, then (jobs queued again) by two at once; jobs per second, wall clock.

    python benchmarks/tasks.py
    python benchmarks/tasks.py --jobs 5000 --requests 2000 --concurrency 8

Needs PostgreSQL's server binaries (Debian: postgresql) and ``heron[tasks]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

APP = '''
import os

from sqlalchemy import text

from heron import App
from heron.db import db
from heron.tasks import task


@task(name="bench.noop")
def noop(n: int) -> int:
    return n


app = App(debug=False, secret_key="bench" * 8, allowed_hosts=["testserver"],
          database_url=os.environ["BENCH_DATABASE_URL"],
          tasks_backend=os.environ.get("BENCH_TASKS_BACKEND", "procrastinate"))


@app.get("/plain")
async def plain():
    return {"ok": True}


@app.get("/enqueue")
async def enqueue():
    await noop.aenqueue(n=1)
    return {"ok": True}


@app.get("/write")
async def write():
    await db.async_session.execute(text("INSERT INTO bench_row (n) VALUES (1)"))
    await db.async_session.commit()
    return {"ok": True}


@app.get("/write-enqueue")
async def write_enqueue():
    await db.async_session.execute(text("INSERT INTO bench_row (n) VALUES (1)"))
    await noop.aenqueue(n=1)
    await db.async_session.commit()
    return {"ok": True}
'''


def load_app(root: Path, backend: str):  # type: ignore[no-untyped-def]
    os.environ["BENCH_TASKS_BACKEND"] = backend
    sys.modules.pop("bench_tasks_app", None)
    sys.path.insert(0, str(root))
    import bench_tasks_app

    return bench_tasks_app


async def per_request(app, path: str, requests: int) -> float:  # type: ignore[no-untyped-def]
    from heron.testing import AsyncTestClient

    times = []
    async with AsyncTestClient(app) as client:
        for _ in range(50):
            await client.get(path)
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(requests // 5):
                response = await client.get(path)
                assert response.status_code == 200, response.text
            times.append((time.perf_counter() - started) / (requests // 5) * 1e6)
    return min(times)


def queue_jobs(module, jobs: int) -> None:  # type: ignore[no-untyped-def]
    from heron.tasks.backends import backend_for

    backend = backend_for(module.app)
    papp = backend.sync_app()
    papp.tasks["bench.noop"].batch_defer(*({"n": n} for n in range(jobs)))


def drain(root: Path, workers: int, concurrency: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(root), BENCH_TASKS_BACKEND="procrastinate")
    command = [sys.executable, "-m", "heron", "--app", "bench_tasks_app:app", "worker",
               "--once", "--concurrency", str(concurrency)]
    started = time.perf_counter()
    processes = [subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for _ in range(workers)]
    for process in processes:
        process.wait(timeout=600)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    options = parser.parse_args()

    from heron.testing.servers import PostgresServer

    server = PostgresServer()
    server.start()
    root = Path(tempfile.mkdtemp(prefix="heron-bench-tasks-"))
    (root / "bench_tasks_app.py").write_text(textwrap.dedent(APP))
    try:
        server.execute("CREATE DATABASE bench")
        os.environ["BENCH_DATABASE_URL"] = server.url_for("bench")
        module = load_app(root, "procrastinate")
        from heron.db.migrations import Migrations

        Migrations(module.app).migrate()
        server.execute("CREATE TABLE bench_row (n int)", database="bench")

        print(f"### Background tasks ({options.requests} requests per measure, best of 5; "
              f"{options.jobs} jobs)\n")
        print("| request | µs per request | enqueue cost |")
        print("|---|---:|---:|")
        for backend in ("immediate", "local", "procrastinate"):
            module = load_app(root, backend)
            plain = asyncio.run(per_request(module.app, "/plain", options.requests))
            queued = asyncio.run(per_request(module.app, "/enqueue", options.requests))
            print(f"| `{backend}`: a view that enqueues one job | {queued:.1f} | "
                  f"+{queued - plain:.1f} µs |")
        module = load_app(root, "procrastinate")
        write = asyncio.run(per_request(module.app, "/write", options.requests))
        both = asyncio.run(per_request(module.app, "/write-enqueue", options.requests))
        print(f"| `procrastinate`: an INSERT and a job in one transaction | {both:.1f} | "
              f"+{both - write:.1f} µs |")

        print("\n| workers | concurrency each | jobs | seconds | jobs per second |")
        print("|---:|---:|---:|---:|---:|")
        for workers in (1, 2):
            rates = []
            for _ in range(2):
                server.execute("DELETE FROM procrastinate_jobs", database="bench")
                queue_jobs(module, options.jobs)
                seconds = drain(root, workers, options.concurrency)
                rates.append(options.jobs / seconds)
            best = max(rates)
            print(f"| {workers} | {options.concurrency} | {options.jobs} | "
                  f"{options.jobs / best:.2f} | {best:,.0f} (runs: "
                  f"{', '.join(f'{r:,.0f}' for r in rates)}) |")
        print(f"\nmachine: {os.cpu_count()} CPUs, PostgreSQL on the same machine; the jobs "
              "are `def` no-ops, so this is the queue's own cost; best of 2 runs each")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
