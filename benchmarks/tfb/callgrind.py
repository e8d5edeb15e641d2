"""Instructions per request for each TechEmpower test type, heron's app against raw psycopg.

Starts the throwaway PostgreSQL of ``verify.py`` once, then serves each app
under valgrind's callgrind exactly as ``benchmarks/instructions.py`` does
(uvicorn, one worker, uvloop, httptools, one keep-alive connection), a short
and a long run per endpoint; the difference over the extra requests is the
cost of one request, repeatable to about 1%. It counts the app process only:
PostgreSQL's work and the kernel's share of each round trip are not in it.

    python benchmarks/tfb/callgrind.py
    python benchmarks/tfb/callgrind.py --types db,fortunes --apps heron

Needs ``valgrind``. The database types take a few minutes each.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import instructions  # noqa: E402 (benchmarks/instructions.py: the callgrind runner)
from _database import postgres  # noqa: E402

APPS = {"raw": "raw_app:app", "heron": "heron_tfb:app",
        # heron.db's defaults changed in the measuring process only (heron_tfb_variants.py)
        "heron-noping": "heron_tfb_variants:app", "heron-autocommit": "heron_tfb_variants:app"}
# path, short run, long run (requests)
TYPES = {
    "plaintext": ("/plaintext", 300, 1300),
    "json": ("/json", 300, 1300),
    "db": ("/db", 100, 600),
    "fortunes": ("/fortunes", 100, 600),
    "queries": ("/queries?queries=20", 20, 120),
    "updates": ("/updates?queries=20", 20, 120),
    "cached_queries": ("/cached-queries?count=20", 300, 1300),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--types", default=",".join(TYPES))
    parser.add_argument("--apps", default="raw,heron")
    args = parser.parse_args()
    apps = args.apps.split(",")
    instructions.PEERS = os.pathsep.join([str(HERE), str(HERE / "peers")])  # type: ignore[assignment]
    with postgres() as (_, dsn):
        os.environ["TFB_DATABASE_URL"] = dsn
        print("| test type | " + " | ".join(apps) + " | raw / heron |")
        print("|---|" + "---:|" * (len(apps) + 1))
        for name in args.types.split(","):
            path, low, high = TYPES[name]
            counts = {}
            for app in apps:
                os.environ["TFB_VARIANT"] = app.removeprefix("heron-")
                counts[app] = instructions.per_request(APPS[app], path, low, high)
            ratio = (f"{counts['raw'] / counts['heron']:.3f}x"
                     if "raw" in counts and "heron" in counts else "")
            print(f"| {name} | " + " | ".join(f"{counts[a]:,.0f}" for a in apps)
                  + f" | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
