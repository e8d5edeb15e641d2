"""Start-up cost of a hello-world app: import time and memory, heron against Flask.

Each run is a fresh interpreter that imports a one-route app and reports its
own wall time for the import and its peak RSS.  Runs alternate between the
frameworks and the median is reported.

    python benchmarks/startup.py --runs 15
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

APPS = {
    "heron": "from heron import App\napp = App()\n@app.get('/')\nasync def index():\n"
             "    return 'Hello, World!'\n",
    "flask": "from flask import Flask\napp = Flask(__name__)\n@app.get('/')\ndef index():\n"
             "    return 'Hello, World!'\n",
}
PROBE = (
    "import resource, sys, time; t = time.perf_counter(); import hello_{name}; "
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, int]]] = {name: [] for name in APPS}
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in APPS.items():
            (Path(tmp) / f"hello_{name}.py").write_text(source)
        for _ in range(args.runs):
            for name in APPS:
                out = subprocess.run([sys.executable, "-c", PROBE.format(name=name)], cwd=tmp,
                                     capture_output=True, text=True, check=True).stdout
                seconds, rss = out.split()
                results[name].append((float(seconds), int(rss)))
    print("| app | import time (median) | peak RSS after import (median) |")
    print("|---|---:|---:|")
    for name, runs in results.items():
        ms = statistics.median(r[0] for r in runs) * 1000
        mb = statistics.median(r[1] for r in runs) / 1024
        print(f"| hello world, {name} | {ms:.0f} ms | {mb:.1f} MB |")


if __name__ == "__main__":
    main()
