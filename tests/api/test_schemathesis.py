"""schemathesis against the example API (examples/api), served by ``heron run``.

The example is served for real, on SQLite and on PostgreSQL: ``heron db migrate`` on a
fresh SQLite file (or PostgreSQL database), then
``heron run`` on a free port of 127.0.0.1 (:class:`app_server.AppServer`).  The
``schemathesis run`` CLI reads ``/openapi.json`` and sends generated requests,
valid and invalid, to every operation, then chains them (create, read, update,
delete) in its stateful phase.  Every check runs (``--checks all``): no 5xx, only
documented status codes, content types and headers, bodies that match their
schemas, invalid requests refused with a 4xx, valid ones accepted, deleted
resources gone.

The run is bounded (``--max-examples``) and seeded, so that CI is repeatable and
stays well under two minutes; ``SCHEMATHESIS_SEED=<n>`` tries another seed and
``SCHEMATHESIS_MAX_EXAMPLES=<n>`` a longer run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_server import AppServer

ROOT = Path(__file__).resolve().parents[2]
APP = "examples.api.app:app"
BIN = Path(sys.executable).parent
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261124")
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "30")
#: The whole schemathesis run; it takes about 10 s on a small machine.
RUN_TIMEOUT = 150


def server_env(database_url: str) -> dict[str, str]:
    """The served app's environment: production mode, its own database, no HERON_*
    variables of the developer's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env.update(HERON_DATABASE_URL=database_url, HERON_SECRET_KEY="schemathesis-secret",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    return env


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api_server(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The example served on a SQLite file, then on a real PostgreSQL, which refuses
    what SQLite takes (ids past 32 bits, NUL characters in text)."""
    if not (BIN / "schemathesis").exists():
        message = "schemathesis is not installed: pip install -e '.[testsuite]'"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(message + " (CI=true: failing instead of skipping)", pytrace=False)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{folder / 'api.sqlite3'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_server").create_database("schemathesis_api")
    env = server_env(url)
    migrated = subprocess.run([str(BIN / "heron"), "db", "--app", APP, "migrate"], cwd=folder,
                              env=env, capture_output=True, text=True, timeout=60, check=False)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    server = AppServer(APP, cwd=folder, env=env, ready_path="/api/health").start()
    try:
        yield server
    finally:
        server.stop()


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
        api_server: AppServer) -> None:
    command = [
        str(BIN / "schemathesis"), "run", f"{api_server.url}/openapi.json",
        "--checks", "all", "--max-examples", MAX_EXAMPLES, "--seed", SEED,
        "--request-timeout", "10", "--no-color",
    ]
    try:
        run = subprocess.run(command, cwd=api_server.cwd, capture_output=True, text=True,
                             timeout=RUN_TIMEOUT, check=False,
                             env={**os.environ, "NO_COLOR": "1"})
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"schemathesis ran over {RUN_TIMEOUT} s:\n{exc.stdout}", pytrace=False)
    report = f"{run.stdout}\n{run.stderr}\n--- server output ---\n{api_server.output()}"
    assert run.returncode == 0, report
    assert "No issues found" in run.stdout, report
    # Every operation of the example was loaded and tested (a broken schema loads none).
    assert re.search(r"Operations:\s+6 selected / 6 total", run.stdout), report
    assert re.search(r"Tested: 6\b", run.stdout), report
    generated = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert generated, report
    assert int(generated[1]) >= 100, report  # it really sent requests
    assert "Traceback" not in api_server.output(), report
