"""``heron check --deploy``: every deployment check id, triggered and not, through the
real command on an app file; errors fail the command, warnings only with
``--fail-level WARNING``; plugins add their own through ``Plugin.deploy_checks``."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from heron.cli import main

GOOD_KEY = secrets.token_urlsafe(50)

#: An app ready for production: every deployment check passes.
READY: dict[str, Any] = {
    "secret_key": GOOD_KEY,
    "allowed_hosts": ["shop.example.com"],
    "secure_redirect": True,
    "session_cookie_secure": True,
    "trusted_proxies": ["127.0.0.1"],
    "access_log": False,
}

APP_SOURCE = """
from pydantic import BaseModel

from heron import App
{imports}

class Book(BaseModel):
    title: str


app = App(**{settings!r})


@app.get("/")
def index():
    return "<h1>Shop</h1>"

{routes}
"""

API_ROUTE = """
@app.post("/api/books")
async def add_book(book: Book) -> Book:
    return book
"""

ID = re.compile(r"^(heron\.[a-z_]+\.[EW]\d{3}|acme\.[a-z]+\.[EW]\d{3}):", re.M)


@dataclass
class Case:
    """An app that differs from READY by ``settings``, and what ``--deploy`` reports."""

    settings: dict[str, Any] = field(default_factory=dict)
    ids: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    routes: str = API_ROUTE
    imports: str = ""
    #: A text every message of the problem must hold (what the case is about).
    says: str = ""


def write_app(folder: Path, case: Case) -> None:
    settings = {**READY, **case.settings}
    settings = {k: v for k, v in settings.items() if v is not _DROP}
    (folder / "app.py").write_text(textwrap.dedent(APP_SOURCE).format(
        imports=case.imports, settings=settings, routes=case.routes))


_DROP: Any = object()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder made the current one, where app.py is imported afresh."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("HERON_APP", raising=False)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delitem(sys.modules, "app", raising=False)
    return tmp_path


def check(case: Case, *args: str) -> tuple[Result, list[str]]:
    result = CliRunner().invoke(main, ["check", *args], env=case.env or None)
    return result, ID.findall(result.output)


# Each case triggers exactly its ids on an otherwise ready app.
TRIGGERED = {
    "debug on": Case({"debug": True}, ("heron.deploy.E001",), says="debug is on"),
    "the secret key from the docs": Case(
        {"secret_key": "dev"}, ("heron.deploy.E002",), says="placeholder 'dev'"),
    "a long placeholder": Case(
        {"secret_key": "change-me-" + "q" * 60}, ("heron.deploy.E002",),
        says="starts with the placeholder 'change-me'"),
    "a short secret key": Case(
        {"secret_key": secrets.token_urlsafe(30)}, ("heron.deploy.E002",),
        says="a production key needs at least 50"),
    "a low-entropy secret key": Case(
        {"secret_key": "abcd" * 20}, ("heron.deploy.E002",), says="only 4 distinct characters"),
    "a weak fallback key": Case(
        {"secret_key_fallbacks": [GOOD_KEY + "x", "old-key"]}, ("heron.deploy.E003",),
        says="secret_key_fallbacks[1] is the placeholder 'old-key'"),
    "any host": Case({"allowed_hosts": ["example.com", "*"]}, ("heron.security.W001",),
                     says="allowed_hosts contains '*'"),
    "no HTTPS redirect": Case({"secure_redirect": False}, ("heron.security.W003",)),
    "HSTS off": Case({"hsts_seconds": 0}, ("heron.security.W004",)),
    "HSTS for an hour": Case({"hsts_seconds": 3600}, ("heron.security.W005",),
                             says="hsts_seconds is 3600"),
    "proxies: *": Case({"trusted_proxies": ["*"]}, ("heron.middleware.W001",)),
    "proxies: every IPv4 address": Case(
        {"trusted_proxies": ["10.0.0.1", "0.0.0.0/0"]}, ("heron.middleware.W001",),
        says="'0.0.0.0/0'"),
    "proxies: every IPv6 address": Case({"trusted_proxies": ["::/0"]},
                                        ("heron.middleware.W001",)),
    "session cookie Secure only over HTTPS": Case(
        {"session_cookie_secure": None}, ("heron.sessions.W001",),
        says="session_cookie_secure is None"),
    "session cookie never Secure": Case(
        {"session_cookie_secure": False}, ("heron.sessions.W001",), says="never marked Secure"),
    "CSRF off": Case({"csrf": False}, ("heron.csrf.W001",)),
    "a plain-HTTP trusted origin": Case(
        {"csrf_trusted_origins": ["https://a.example", "http://partner.example"]},
        ("heron.csrf.W002",), says="'http://partner.example'"),
    "API docs turned on without an API": Case(
        {"openapi_enabled": True}, routes="", ids=("heron.openapi.W001",),
        says="/openapi.json and the docs page /docs"),
    "the OpenAPI document alone without an API": Case(
        {"docs_url": None, "openapi_enabled": True}, routes="", ids=("heron.openapi.W001",),
        says="(/openapi.json)"),
    "SQLite with several workers": Case(
        env={"WEB_CONCURRENCY": "4"}, imports="from heron.db import db",
        ids=("heron.db.W001",), says="WEB_CONCURRENCY=4"),
    "a SQLite bind with several workers": Case(
        {"database_url": "postgresql://shop@db.internal/shop",
         "database_binds": {"reports": "sqlite:///reports.sqlite3"}},
        env={"WEB_CONCURRENCY": "3"}, imports="from heron.db import db",
        ids=("heron.db.W001",), says="The 'reports' database is SQLite"),
    "the admin at /admin/": Case(
        {"components": ["heron.auth", "heron.admin"]}, ("heron.admin.W001",),
        says="The admin is at '/admin/'"),
}

# Each case is a fix (or a near miss) of a triggered one: nothing is reported.
NOT_TRIGGERED = {
    "a ready app": Case(),
    "a generated secret key and fallback": Case({"secret_key_fallbacks": [GOOD_KEY[::-1]]}),
    "a long hex key": Case({"secret_key": secrets.token_hex(32)}),
    "named hosts and subdomains": Case({"allowed_hosts": ["example.com", ".example.org"]}),
    "HSTS for two years": Case({"hsts_seconds": 2 * 31536000}),
    "named proxies and networks": Case({"trusted_proxies": ["127.0.0.1", "10.0.0.0/8",
                                                             "fd00::/8"]}),
    "no proxies": Case({"trusted_proxies": []}),
    "HTTPS trusted origins": Case({"csrf_trusted_origins": ["https://partner.example"]}),
    "no API and no API docs": Case({"openapi_url": None}, routes=""),
    "no API, API docs left to the default (not served)": Case(routes=""),
    "API docs turned off": Case({"openapi_enabled": False}, routes=""),
    "an API router without typed routes": Case({"openapi_enabled": True}, routes="""
from heron import Router

api = Router("/api", api=True)


@api.get("/ping")
async def ping():
    return {"pong": True}


app.include(api)
"""),
    "an API of response models only": Case(routes="""
@app.get("/api/books")
async def books() -> list[Book]:
    return [Book(title="Dune")]
"""),
    "SQLite with one worker": Case(env={"WEB_CONCURRENCY": "1"},
                                   imports="from heron.db import db"),
    "PostgreSQL with several workers": Case(
        {"database_url": "postgresql://shop@db.internal/shop"},
        env={"WEB_CONCURRENCY": "8"}, imports="from heron.db import db"),
    "the admin elsewhere": Case({"components": ["heron.auth", "heron.admin"],
                                 "admin_url": "/staff-7f3a/"}),
}


@pytest.mark.parametrize("case", TRIGGERED.values(), ids=TRIGGERED.keys())
def test_each_problem_is_reported_with_its_id(project: Path, case: Case) -> None:
    write_app(project, case)
    result, ids = check(case, "--deploy")
    assert ids == list(case.ids), result.output
    assert case.says in result.output
    errors = [i for i in case.ids if ".E" in i]
    assert result.exit_code == (1 if errors else 0), result.output
    assert f"{len(case.ids)} problem(s) found in app:app." in result.output
    if not errors:
        assert "warnings fail the check only with --fail-level WARNING" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("case", NOT_TRIGGERED.values(), ids=NOT_TRIGGERED.keys())
def test_a_ready_app_passes(project: Path, case: Case) -> None:
    write_app(project, case)
    result, ids = check(case, "--deploy")
    assert ids == [], result.output
    assert result.exit_code == 0, result.output
    assert "No problems found in app:app, deployment checks included." in result.output


def test_the_plain_check_leaves_deployment_problems_alone(project: Path) -> None:
    """`heron check` without --deploy passes an app with "dev" as its key and debug on."""
    case = Case({"debug": True, "secret_key": "dev", "allowed_hosts": ["*"]})
    write_app(project, case)
    result, ids = check(case)
    assert (result.exit_code, ids) == (0, [])
    result, ids = check(case, "--deploy")
    assert result.exit_code == 1
    assert ids == ["heron.deploy.E001", "heron.deploy.E002", "heron.security.W001"]


def test_usual_problems_come_first_and_all_at_once(project: Path) -> None:
    case = Case({"secret_key": _DROP, "allowed_hosts": [], "hsts_seconds": 0})
    write_app(project, case)
    result, ids = check(case, "--deploy")
    assert result.exit_code == 1
    # No key and no hosts outside debug are the usual errors; deploy does not repeat them.
    assert ids == ["heron.settings.E001", "heron.security.E001", "heron.security.W004"]
    assert "1 warning(s)" in result.output


def test_debug_hides_no_missing_key_or_hosts(project: Path) -> None:
    case = Case({"debug": True, "secret_key": _DROP, "allowed_hosts": []})
    write_app(project, case)
    result, ids = check(case, "--deploy")
    assert result.exit_code == 1
    assert ids == ["heron.deploy.E001", "heron.deploy.E002", "heron.security.W002"]
    assert "secret_key is not set" in result.output
    assert "allowed_hosts is empty" in result.output
    fixed = Case({"debug": True, "secret_key": _DROP})
    project.joinpath("app.py").unlink()
    sys.modules.pop("app", None)
    write_app(project, fixed)
    result, ids = check(fixed, "--deploy")
    assert ids == ["heron.deploy.E001", "heron.deploy.E002"]


def test_warnings_fail_with_fail_level_warning(project: Path) -> None:
    case = Case({"secure_redirect": False, "csrf": False})
    write_app(project, case)
    result, ids = check(case, "--deploy")
    assert (result.exit_code, ids) == (0, ["heron.security.W003", "heron.csrf.W001"])
    assert "0 error(s), 2 warning(s)" in result.output
    result, _ = check(case, "--deploy", "--fail-level", "WARNING")
    assert result.exit_code == 1
    result, _ = check(case, "--deploy", "--fail-level", "warning")
    assert result.exit_code == 1
    result, _ = check(case, "--deploy", "--fail-level", "ERROR")
    assert result.exit_code == 0


def test_a_plugins_deploy_checks_are_reported(project: Path) -> None:
    """A third party's plugin adds its own, warnings and errors by their ids."""
    routes = API_ROUTE + '''
from heron.exceptions import ImproperlyConfigured
from heron.plugins import Plugin


class Audit(Plugin):
    name = "acme.audit"

    def deploy_checks(self, app):
        return [ImproperlyConfigured("audit goes to memory", id="acme.audit.W001"),
                ImproperlyConfigured("audit has no key", id="acme.audit.E001")]


app.add_plugin(Audit())
'''
    case = Case(routes=routes)
    write_app(project, case)
    result, ids = check(case, "--deploy")
    assert ids == ["acme.audit.W001", "acme.audit.E001"]
    assert "1 error(s), 1 warning(s)" in result.output
    assert result.exit_code == 1
    result, ids = check(case)
    assert (result.exit_code, ids) == (0, [])


def test_deploy_checks_never_run_at_startup(tmp_path: Path) -> None:
    from heron import App
    from heron.testing import TestClient

    app = App(debug=True, secret_key="dev", allowed_hosts=["*"], csrf=False, root=tmp_path,
              access_log=False)

    @app.get("/")
    def index() -> str:
        return "up"

    with TestClient(app) as client:
        assert client.get("/").text == "up"
    assert [p.id for p in app.check(deploy=True)][:2] == ["heron.deploy.E001",
                                                           "heron.deploy.E002"]
    assert app.check() == []


def test_heron_run_reads_its_workers_from_web_concurrency() -> None:
    """What the SQLite check reads is what `heron run` starts."""
    result = CliRunner().invoke(main, ["run", "--help"])
    assert "WEB_CONCURRENCY" in result.output


def test_the_heron_executable(tmp_path: Path) -> None:
    """The installed command, in its own process: exit statuses, and the SQLite check
    silent for an app that does not use heron.db."""
    heron = str(Path(sys.executable).with_name("heron"))
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path),
           "WEB_CONCURRENCY": "4"}
    write_app(tmp_path, Case())

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([heron, "check", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60, check=False)

    ready = run("--deploy")
    assert ready.returncode == 0, ready.stderr
    assert "No problems found in app:app, deployment checks included." in ready.stdout
    write_app(tmp_path, Case({"secret_key": "dev", "hsts_seconds": 60}))
    weak = run("--deploy")
    assert weak.returncode == 1
    assert ID.findall(weak.stderr) == ["heron.deploy.E002", "heron.security.W005"]
    write_app(tmp_path, Case({"hsts_seconds": 60}))
    assert run("--deploy").returncode == 0
    assert run("--deploy", "--fail-level", "WARNING").returncode == 1
