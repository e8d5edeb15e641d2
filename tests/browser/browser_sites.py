"""Helpers the browser tests share: a site served by ``heron run`` on a fresh SQLite
database (migrated, or seeded by a module), the viewport sizes, a CSP-violation
reporter, and a click that waits for its page."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from app_server import AppServer

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

HERE = Path(__file__).resolve().parent


#: The viewport sizes the screenshots are taken at.
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 800}
#: An init script that reports each Content-Security-Policy violation to
#: ``window.reportViolation`` (expose it with ``page.expose_function``).
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});"""


def site_env(database: Path, **settings: str) -> dict[str, str]:
    """The environment of a site served from the SQLite file ``database``: debug off, fast
    password hashing, the test sites' packages on the path; ``settings``
    are more ``HERON_*`` variables by setting name (``auth_totp_issuer="Heron demo"``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env.update({
        "HERON_SECRET_KEY": secrets.token_urlsafe(32),
        "HERON_DEBUG": "0",
        "HERON_ALLOWED_HOSTS": "127.0.0.1",
        "HERON_DATABASE_URL": f"sqlite:///{database}",
        "HERON_PASSWORD_TIME_COST": "1",
        "HERON_PASSWORD_MEMORY_COST": str(8 * 1024),
        "HERON_PASSWORD_PARALLELISM": "1",
        # heron runs in an empty folder: the site's package goes on the path.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    })
    env.update({f"HERON_{name.upper()}": value for name, value in settings.items()})
    return env


def _prepare(command: list[str], what: str, folder: Path, env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"`{what}` failed:\n{done.stdout}{done.stderr}", pytrace=False)


def serve_migrated(tmp_path_factory: pytest.TempPathFactory,
                   serve_app: Callable[..., AppServer], app: str,
                   **settings: str) -> AppServer:
    """Serve ``app`` (see :func:`site_env`; sign-up on) on a new SQLite file
    ``heron db migrate`` prepared."""
    settings.setdefault("auth_signup", "true")
    database = tmp_path_factory.mktemp("site-db") / "site.sqlite3"
    env = site_env(database, **settings)
    heron = Path(sys.executable).with_name("heron")
    _prepare([str(heron), "db", "--app", app, "migrate"], "heron db migrate",
             database.parent, env)
    return serve_app(app, env)


def serve_seeded(tmp_path_factory: pytest.TempPathFactory,
                 serve_app: Callable[..., AppServer], app: str, seed_module: str,
                 **settings: str) -> AppServer:
    """Serve ``app`` (see :func:`site_env`) on a new SQLite file that
    ``python -m seed_module`` prepared (tables and rows)."""
    database = tmp_path_factory.mktemp("site-db") / "site.sqlite3"
    env = site_env(database, **settings)
    _prepare([sys.executable, "-m", seed_module], f"python -m {seed_module}",
             database.parent, env)
    return serve_app(app, env)


def click_and_wait(page: Page, name: str) -> Response:
    """Click the button or link ``name``; the response of the page it leads to."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=name, exact=True).or_(
            page.get_by_role("link", name=name, exact=True)).click()
    response = navigation.value
    assert response is not None
    return response
