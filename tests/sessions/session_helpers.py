"""Helpers for the session tests: an app with session views, and Set-Cookie parsing."""

from __future__ import annotations

from typing import Any

import httpx

from heron import App, Request, WebSocket


def add_session_views(app: App) -> App:
    """``/read`` (session as JSON), ``/noop`` (session untouched), ``/set?k=v`` (writes
    strings), ``/login`` (user + cycle_key), ``/logout`` (flush), ``/ws`` (a websocket that
    sends the session)."""

    @app.get("/read")
    def read(request: Request) -> dict[str, Any]:
        session = request.session
        return {"data": dict(session), "is_new": session.is_new}

    @app.get("/noop")
    def noop() -> str:
        return "noop"

    @app.get("/set")
    def set_values(request: Request) -> str:
        for name, value in request.query_params.items():
            request.session[name] = value
        return "set"

    @app.get("/login")
    def login(request: Request) -> str:
        request.session["user"] = request.query_params.get("user", "ada")
        request.session.cycle_key()
        return "logged in"

    @app.get("/logout")
    def logout(request: Request) -> str:
        request.session.flush()
        return "logged out"

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"data": dict(websocket.session),
                                   "is_new": websocket.session.is_new})
        await websocket.close()

    return app


def set_cookie_headers(response: httpx.Response, name: str = "heron_session") -> list[str]:
    """The Set-Cookie headers of ``response`` for the cookie ``name``."""
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(name + "=")]


def set_cookie(response: httpx.Response, name: str = "heron_session") -> str:
    """The single Set-Cookie header for ``name`` (fails if there is not exactly one)."""
    headers = set_cookie_headers(response, name)
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    return headers[0]


def cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def cookie_attributes(header: str) -> dict[str, str]:
    """Attributes of a Set-Cookie header, names lowercased (flags map to "")."""
    attributes = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def is_deletion(header: str) -> bool:
    attributes = cookie_attributes(header)
    return cookie_value(header) in ("", "\"\"") and attributes.get("max-age") == "0"
