"""Helpers the browser tests share: a site served by ``heron run`` on a fresh SQLite
database that ``heron db migrate`` prepared, and a click that waits for its page."""

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


def serve_migrated(tmp_path_factory: pytest.TempPathFactory,
                   serve_app: Callable[..., AppServer], app: str,
                   **settings: str) -> AppServer:
    """Serve ``app`` (debug off, fast password hashing, sign-up on) on a new SQLite file
    after migrating it; ``settings`` are more ``HERON_*`` variables by setting name
    (``auth_totp_issuer="Heron demo"``)."""
    database = tmp_path_factory.mktemp("site-db") / "site.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env.update({
        "HERON_SECRET_KEY": secrets.token_urlsafe(32),
        "HERON_DEBUG": "0",
        "HERON_ALLOWED_HOSTS": "127.0.0.1",
        "HERON_DATABASE_URL": f"sqlite:///{database}",
        "HERON_AUTH_SIGNUP": "true",
        "HERON_PASSWORD_TIME_COST": "1",
        "HERON_PASSWORD_MEMORY_COST": str(8 * 1024),
        "HERON_PASSWORD_PARALLELISM": "1",
        # heron runs in an empty folder: the site's package goes on the path.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    })
    env.update({f"HERON_{name.upper()}": value for name, value in settings.items()})
    heron = Path(sys.executable).with_name("heron")
    migrate = subprocess.run([str(heron), "db", "--app", app, "migrate"], cwd=database.parent,
                             env=env, capture_output=True, text=True, timeout=60, check=False)
    if migrate.returncode != 0:
        pytest.fail(f"`heron db migrate` failed:\n{migrate.stdout}{migrate.stderr}",
                    pytrace=False)
    return serve_app(app, env)


def click_and_wait(page: Page, name: str) -> Response:
    """Click the button or link ``name``; the response of the page it leads to."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=name, exact=True).or_(
            page.get_by_role("link", name=name, exact=True)).click()
    response = navigation.value
    assert response is not None
    return response
