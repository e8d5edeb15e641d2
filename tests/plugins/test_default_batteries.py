"""heron.db, heron.mail and heron.storage join an app through their plugins, as every
battery does: their checks run for the apps that have them, and the request context
``db.session`` reads is a decision of each app, not of an import."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from sqlalchemy import text

from heron import App
from heron._context import current_scope
from heron.app import App as CoreApp
from heron.db import db
from heron.testing import TestClient


def scope_seen(app: CoreApp) -> CoreApp:
    @app.get("/seen")
    def seen() -> dict[str, Any]:
        scope = current_scope.get()
        return {"has_scope": scope is not None,
                "same_app": scope is not None and scope.get("app") is app}

    return app


def test_each_app_decides_whether_it_keeps_the_request_in_context() -> None:
    # Two apps in one process, heron.db loaded: only the one with its plugin pays.
    with_db = scope_seen(App(debug=True))
    bare = scope_seen(CoreApp(debug=True))
    with TestClient(with_db) as client:
        assert client.get("/seen").json() == {"has_scope": True, "same_app": True}
    with TestClient(bare) as client:
        assert client.get("/seen").json() == {"has_scope": False, "same_app": False}
    assert current_scope.get() is None  # reset after each request


def test_a_core_app_gets_db_session_by_adding_the_plugin() -> None:
    app = CoreApp(debug=True)
    app.add_plugin("heron.db.plugin")
    app.settings.update(database_url="sqlite:///:memory:")

    @app.get("/one")
    def one() -> dict[str, int]:
        return {"one": db.session.scalar(text("select 1")) or 0}

    with TestClient(app) as client:
        assert client.get("/one").json() == {"one": 1}


def test_without_the_plugin_db_session_says_what_is_missing() -> None:
    app = CoreApp(debug=True)

    @app.get("/one")
    def one() -> dict[str, str]:
        try:
            db.session  # noqa: B018 (the property is the test)
        except RuntimeError as exc:
            return {"error": str(exc)}
        return {"error": ""}

    with TestClient(app) as client:
        error = client.get("/one").json()["error"]
    assert "heron.db.plugin" in error
    assert "db.context(app)" in error


def test_checks_come_from_the_plugins_of_the_app() -> None:
    bad = {"database_url": "nosuch://x", "mail_backend": "nosuch",
           "storage_backend": "s3"}
    ids = {problem.id for problem in App(debug=True, **bad).check()}
    assert {"heron.db.E004", "heron.mail.E001", "heron.storage.E001"} <= ids
    core = CoreApp(debug=True)
    assert not {p.id for p in core.check()} & {"heron.db.E004", "heron.mail.E001"}


PROBE = """
import json, sys
from heron import App
app = App(debug=True, database_url=sys.argv[1], mail_backend=sys.argv[2])
print(json.dumps({"ids": sorted({p.id for p in app.check()})}))
"""


def test_a_fresh_process_reports_them_without_importing_the_batteries() -> None:
    # Before, heron.db's and heron.mail's checks ran only once something had imported
    # heron.db.database or heron.mail.sending: an app that had not got no check at all.
    def probe(url: str, backend: str) -> dict[str, Any]:
        done = subprocess.run([sys.executable, "-c", PROBE, url, backend],
                              capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    found = probe("not a url", "nosuch")
    assert "heron.db.E002" in found["ids"]
    assert "heron.mail.E001" in found["ids"]
    # The default SQLite database is checked without loading SQLAlchemy.
    assert probe("sqlite:///:memory:", "console")["ids"] == []
    quiet = subprocess.run(
        [sys.executable, "-c", "import sys; from heron import App; App(debug=True).check(); "
                               "print('sqlalchemy' in sys.modules)"],
        capture_output=True, text=True, timeout=60, check=True)
    assert quiet.stdout.strip() == "False"


CONTEXT_PROBE = """
import sys
from heron import App
from heron._context import current_scope
from heron.testing import TestClient
if sys.argv[1] == "db":
    from heron.db import db  # an app that uses the database
app = App(debug=True)

@app.get("/")
def seen():
    return {"context": current_scope.get() is not None}

with TestClient(app) as client:
    print(client.get("/").json()["context"])
"""


def test_only_apps_that_use_the_database_pay_for_the_context() -> None:
    def context(kind: str) -> str:
        done = subprocess.run([sys.executable, "-c", CONTEXT_PROBE, kind], capture_output=True,
                              text=True, timeout=60, check=True)
        return done.stdout.strip()

    assert context("plain") == "False"
    assert context("db") == "True"
