"""Views and helpers shared by the heron.auth tests: a JSON login API (sync and
async), ``/me`` pages that say who the user is, and users made in the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from heron import App, JSONResponse, Request, Response, run_async
from heron.auth import aauthenticate, alogin, authenticate, create_user, login, logout
from heron.csrf import get_token
from heron.db import db

AuthAppFactory = Callable[..., App]

#: argon2 at its cheapest, so that each hash takes about a millisecond.
FAST_HASHING: dict[str, Any] = {
    "password_time_cost": 1,
    "password_memory_cost": 8 * 1024,
    "password_parallelism": 1,
}

#: The password of the users the tests make (it passes the default validators).
PASSWORD = "correct horse battery"


def describe(user: Any) -> dict[str, Any]:
    return {"user": user.get_username(), "authenticated": bool(user.is_authenticated)}


def refused() -> Response:
    return JSONResponse({"error": "Wrong username or password."}, status_code=400)


def add_auth_views(app: App) -> App:
    """``/csrf``, ``/login`` (sync), ``/alogin`` (async), ``/logout``, ``/me`` (sync)
    and ``/ame`` (async)."""

    @app.get("/csrf")
    def csrf(request: Request) -> str:
        return get_token(request)

    @app.post("/login")
    def sync_login(request: Request) -> Any:
        data = run_async(request.json())
        user = authenticate(request, data["username"], data["password"])
        if user is None:
            return refused()
        login(request, user)
        return describe(request.user)

    @app.post("/alogin")
    async def async_login(request: Request) -> Any:
        data = await request.json()
        user = await aauthenticate(request, data["username"], data["password"])
        if user is None:
            return refused()
        await alogin(request, user)
        return describe(await request.auser())

    @app.post("/logout")
    def sync_logout(request: Request) -> dict[str, Any]:
        logout(request)
        return describe(request.user)

    @app.get("/me")
    def me(request: Request) -> dict[str, Any]:
        return describe(request.user)

    @app.get("/ame")
    async def ame(request: Request) -> dict[str, Any]:
        return describe(await request.auser())

    return app


def make_user(app: App, username: str = "alice", password: str | None = PASSWORD,
              **fields: Any) -> int:
    """Create and commit a user; returns its id."""
    with db.context(app):
        user = create_user(db.session, app, username, password, **fields)
        db.session.commit()
        return int(user.id)


def log_in(client: httpx.Client, username: str = "alice", password: str = PASSWORD,
           path: str = "/login") -> httpx.Response:
    """Post the credentials as JSON, with the session's CSRF token."""
    token = client.get("/csrf").text
    return client.post(path, json={"username": username, "password": password},
                       headers={"x-csrf-token": token})
