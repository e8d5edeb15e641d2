"""gunicorn config for profile_db.py: profile inside the (one) sync worker.

gunicorn forks its worker, so a profiler around the master sees nothing: this
starts pyinstrument or cProfile in the worker after it has loaded the app and
writes the profile when the worker exits (on SIGINT/SIGTERM to the master).
``BENCH_PROFILER`` is ``pyinstrument`` or ``cprofile``; ``BENCH_PROFILE_OUT``
the output file (text for pyinstrument, pstats for cProfile).
"""

from __future__ import annotations

import os
from typing import Any

_profiler: Any = None


def post_worker_init(worker: Any) -> None:
    global _profiler
    if os.environ.get("BENCH_PROFILER") == "cprofile":
        import cProfile

        _profiler = cProfile.Profile()
        _profiler.enable()
    else:
        from pyinstrument import Profiler

        _profiler = Profiler()
        _profiler.start()


def worker_exit(server: Any, worker: Any) -> None:
    out = os.environ["BENCH_PROFILE_OUT"]
    if _profiler is None:
        return
    if os.environ.get("BENCH_PROFILER") == "cprofile":
        _profiler.disable()
        _profiler.dump_stats(out)
    else:
        _profiler.stop()
        with open(out, "w", encoding="utf-8") as f:
            f.write(_profiler.output_text(show_all=False))
