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

The writes need an API token (heron.auth): the fixture signs a user up through the
API, and schemathesis logs in as that user through ``/api/auth/token`` (its
documented dynamic authentication, configured in :data:`CONFIG`), sends the token
to every operation that declares ``bearerAuth``, checks that those operations
refuse requests without it (``ignored_auth``), and logs in again when one is
refused, as happens after it fuzzed ``/api/auth/token/revoke`` with it.

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

import httpx
import pytest
from app_server import AppServer

ROOT = Path(__file__).resolve().parents[2]
APP = "examples.api.app:app"
BIN = Path(sys.executable).parent
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261124")
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "30")
#: The whole schemathesis run; it takes about 10 s on a small machine.
RUN_TIMEOUT = 150
#: The user schemathesis logs in as (signed up by the fixture).
USERNAME, PASSWORD = "schemathesis", "correct horse battery"
#: schemathesis.toml: the login that gives the bearer token, and what the login and
#: sign-up endpoints may answer to data that fits their schema: no schema can say
#: which password is right (400), strong enough (422) or a login taken (409), so
#: schemathesis's own warning that they mostly refuse what it generates is off too.
#: No NUL characters: heron refuses them in any request (400, as PostgreSQL cannot
#: store them), which the schema does not say; test_api_example.py checks those 400s.
CONFIG = """\
[generation]
allow-x00 = false

[auth.dynamic.openapi.bearerAuth]
path = "/api/auth/token"
payload = { username = "${API_USERNAME}", password = "${API_PASSWORD}" }
extract_selector = "/token"
retry_on = [401]

[[operations]]
include-path = ["/api/auth/register", "/api/auth/token"]
checks.positive_data_acceptance.expected-statuses = ["2XX", 400, 409, 422, 429]
warnings = false
"""


def server_env(database_url: str) -> dict[str, str]:
    """The served app's environment: production mode, its own database, no HERON_*
    variables of the developer's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env.update(HERON_DATABASE_URL=database_url, HERON_SECRET_KEY="schemathesis-secret",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
               # Quick password hashing for the logins; and every request comes from
               # 127.0.0.1, so the wrong logins schemathesis makes up must not lock its
               # own login out (heron.auth throttles failures per address).
               HERON_PASSWORD_TIME_COST="1", HERON_PASSWORD_MEMORY_COST="8",
               HERON_PASSWORD_PARALLELISM="1", HERON_LOGIN_THROTTLE_IP_LIMIT="1000000")
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
        signup = httpx.post(f"{server.url}/api/auth/register", timeout=10, json={
            "username": USERNAME, "password": PASSWORD, "email": "fuzz@example.com"})
        assert signup.status_code == 201, signup.text
        yield server
    finally:
        server.stop()


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
        api_server: AppServer) -> None:
    config = api_server.cwd / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        str(BIN / "schemathesis"), "--config-file", str(config),
        "run", f"{api_server.url}/openapi.json",
        "--checks", "all", "--max-examples", MAX_EXAMPLES, "--seed", SEED,
        "--request-timeout", "10", "--no-color",
    ]
    try:
        run = subprocess.run(command, cwd=api_server.cwd, capture_output=True, text=True,
                             timeout=RUN_TIMEOUT, check=False,
                             env={**os.environ, "NO_COLOR": "1", "API_USERNAME": USERNAME,
                                  "API_PASSWORD": PASSWORD})
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"schemathesis ran over {RUN_TIMEOUT} s:\n{exc.stdout}", pytrace=False)
    report = f"{run.stdout}\n{run.stderr}\n--- server output ---\n{api_server.output()}"
    assert run.returncode == 0, report
    assert "No issues found" in run.stdout, report
    # Every operation of the example was loaded and tested (a broken schema loads none).
    assert re.search(r"Operations:\s+9 selected / 9 total", run.stdout), report
    assert re.search(r"Tested: 9\b", run.stdout), report
    generated = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert generated, report
    assert int(generated[1]) >= 100, report  # it really sent requests
    assert "Traceback" not in api_server.output(), report
    # With the token, writes went through; without it, they were refused.
    for access in (r'"POST /api/tasks" 201', r'"DELETE /api/tasks/\d+" 204',
                   r'"POST /api/tasks" 401'):
        assert re.search(access, api_server.output()), report
