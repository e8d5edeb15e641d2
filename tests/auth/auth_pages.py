"""Helpers of the tests of heron.auth's pages (test_views, test_reset_mail, test_signup).

Each test module builds its app with :func:`build_app` in its own ``app`` fixture,
on one SQLite file per module that ``db_clean`` prepares (migrations once) and
empties after each test: the views are async, so the data must really commit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from heron import App, Request
from heron.auth import create_user, login_required
from heron.db import db
from heron.testing import TestClient, extract_csrf_token

#: Cheap argon2 parameters: the tests hash many passwords.
FAST_HASHING: dict[str, Any] = {"password_time_cost": 1, "password_memory_cost": 8 * 1024,
                                "password_parallelism": 1}
PASSWORD = "a sturdy passphrase 42"
NEW_PASSWORD = "another fine passphrase 7"
WRONG_LOGIN = "Please enter a correct username and password."
COOKIE = "heron_session"


def build_app(root: Path, database_url: str, **settings: Any) -> App:
    """An app with heron.auth, fast hashing, the memory mail outbox and two pages:
    ``/`` for everybody, ``/private`` (JSON with the username) behind ``login_required``."""
    options: dict[str, Any] = {
        "secret_key": "test-secret-key", "allowed_hosts": ["testserver"], "access_log": False,
        "mail_backend": "memory", "database_url": database_url, **FAST_HASHING,
    }
    options.update(settings)
    app = App(root=root, components=["heron.auth"], **options)

    @app.get("/")
    def home() -> str:
        return "home"

    @app.get("/private")
    @login_required
    async def private(request: Request) -> dict[str, str]:
        return {"username": request.user.get_username()}

    return app


def add_user(app: App, username: str, password: str | None = PASSWORD, **fields: Any) -> int:
    """Create and commit a user; returns its id."""
    fields.setdefault("email", f"{username.lower()}@example.com")
    with db.context(app):
        user = create_user(db.session, app, username, password, **fields)
        db.session.commit()
        return user.id  # type: ignore[attr-defined, no-any-return]


def token_of(client: httpx.Client, url: str) -> str:
    """GET a page with a form; the CSRF token of the form."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    return extract_csrf_token(page.text)


def log_in(client: httpx.Client, username: str, password: str = PASSWORD,
           **fields: str) -> httpx.Response:
    """Post the login form (after getting it, for the CSRF token)."""
    data = {"csrf_token": token_of(client, "/auth/login"), "username": username,
            "password": password, **fields}
    return client.post("/auth/login", data=data)


def whoami(app: App, cookie: str | None) -> str | None:
    """The username that a browser sending only this session cookie is logged in as."""
    headers = {"accept": "text/html"}
    if cookie is not None:
        headers["cookie"] = f"{COOKIE}={cookie}"
    fresh = TestClient(app)  # no cookie jar shared with the test's client, no lifespan
    try:
        answer = fresh.get("/private", headers=headers)
    finally:
        fresh.close()
    if answer.status_code == 302:
        assert answer.headers["location"].startswith("/auth/login?next=")
        return None
    assert answer.status_code == 200, answer.text
    return str(answer.json()["username"])


def count_users(app: App) -> int:
    from sqlalchemy import func, select

    from heron.auth import get_user_model

    with db.context(app):
        return int(db.session.scalar(select(func.count()).select_from(get_user_model(app))) or 0)
