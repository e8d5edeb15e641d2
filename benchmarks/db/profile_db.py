"""Profile one database peer under load: where does its worker spend the time?

Starts the same throwaway, seeded PostgreSQL as ``run_db.py``, serves the peer
(uvicorn or gunicorn, one worker, pinned to CPU 0) under ``pyinstrument`` (a
sampling profiler) or ``cProfile``, drives one endpoint with wrk for
``--duration`` seconds (pinned to CPU 1), stops the server with SIGINT and
prints the profile.

    python benchmarks/db/profile_db.py heron db
    python benchmarks/db/profile_db.py heron queries --profiler cprofile --top 40
    python benchmarks/db/profile_db.py raw fortunes --output /tmp/raw-fortunes.txt

Profiled numbers are slower than unprofiled ones (the profiler costs CPU): compare
the *shares* of time between peers, not the req/s printed here.

Both profilers see the main thread only: for ``heron-sync``, whose views run in
heron's thread pool, the profile shows the event-loop side only. WSGI peers are
profiled inside gunicorn's worker (``_gunicorn_profile.py``).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import run_db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("peer", choices=tuple(run_db.PEERS))
    parser.add_argument("endpoint", choices=run_db.ENDPOINTS)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--profiler", choices=("pyinstrument", "cprofile"),
                        default="pyinstrument")
    parser.add_argument("--top", type=int, default=35, help="cProfile: rows to print")
    parser.add_argument("--output", type=Path, help="write the profile here too")
    args = parser.parse_args(argv)

    peer = run_db.PEERS[args.peer]
    python = sys.executable
    port = run_db.free_port()
    report = Path(tempfile.mkstemp(prefix="profile-db-", suffix=".txt")[1])
    stats = report.with_suffix(".pstats")
    server = run_db.server_command(peer, port)[1:]  # ["-m", "uvicorn" | "gunicorn", ...]
    extra_env = {}
    if peer.interface == "wsgi":
        # gunicorn forks its worker: profile inside it (_gunicorn_profile.py).
        command = [python, *server, "--config", str(run_db.DB_DIR / "_gunicorn_profile.py")]
        extra_env = {"BENCH_PROFILER": args.profiler,
                     "BENCH_PROFILE_OUT": str(stats if args.profiler == "cprofile" else report)}
    elif args.profiler == "pyinstrument":
        command = [python, "-m", "pyinstrument", "-r", "text", "-o", str(report), *server]
    else:
        command = [python, "-m", "cProfile", "-o", str(stats), *server]
    pinning = run_db.detect_pinning(True, "all")
    opts = run_db.Options(
        frameworks=[peer.name], endpoints=[args.endpoint], queries=args.queries,
        duration=args.duration, warmup=0, connections=args.connections, threads=1, rounds=1,
        pool=args.pool, pin=True, pg_cpu="all", check_only=False, output=None, json_out=None,
    )
    with run_db.postgres("1") as database:
        db_url = database.url
        env = {**os.environ, "BENCH_DB_URL": db_url, "BENCH_DB_POOL": str(args.pool),
               "PYTHONPATH": os.pathsep.join([str(run_db.PEERS_DIR), str(run_db.DB_DIR)]),
               **extra_env}
        with tempfile.TemporaryFile() as log_file:
            proc = subprocess.Popen([*pinning.server, *command], cwd=run_db.PEERS_DIR, env=env,
                                    stdout=log_file, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            try:
                run_db.wait_ready(proc, port, log_file)
                run_db.validate(port, [args.endpoint], args.queries, db_url)
                path = run_db.endpoint_path(args.endpoint, args.queries)
                result = run_db.run_wrk(opts, pinning, args.duration, port, path)
                run_db.log(f"{peer.name} {path}: {result.requests_per_sec:.0f} req/s "
                           "under the profiler")
            finally:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                time.sleep(0.2)
                if proc.returncode not in (0, -signal.SIGINT, 1, 130):
                    run_db.log(run_db.tail(log_file))
    if args.profiler == "cprofile":
        import io
        import pstats

        out = io.StringIO()
        pstats.Stats(str(stats), stream=out).sort_stats("tottime").print_stats(args.top)
        pstats.Stats(str(stats), stream=out).sort_stats("cumulative").print_stats(args.top)
        text = out.getvalue()
    else:
        text = report.read_text()
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
