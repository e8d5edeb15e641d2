"""heron's public surface is a curated list, and importing it stays light."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import heron

EXPECTED = [
    "URL",
    "App",
    "Body",
    "Converter",
    "Cookie",
    "Depends",
    "EventStreamResponse",
    "FileResponse",
    "FormData",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "Headers",
    "ImproperlyConfigured",
    "JSONResponse",
    "Middleware",
    "MissingDependency",
    "PlainTextResponse",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "Router",
    "ServerSentEvent",
    "ServiceUnavailable",
    "Settings",
    "State",
    "StaticFiles",
    "StreamingResponse",
    "URLBuildError",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "__version__",
    "abort",
    "csrf_exempt",
    "flash",
    "get_flashed_messages",
    "render",
    "render_async",
    "run_async",
    "run_in_threadpool",
]

HEAVY = [
    "jinja2",
    "sqlalchemy",
    "alembic",
    "argon2",
    "multipart",
    "python_multipart",
    "pydantic",
    "heron.cli",
    "heron._debug",
    "itsdangerous",
    "redis",
    "heron.templating",
    "heron.auth",
    "heron.forms",
    "heron.storage",
]

AUTH_EXPECTED = [
    "AbstractBaseUser",
    "AbstractUser",
    "AnonymousUser",
    "Group",
    "Permission",
    "PermissionsMixin",
    "Throttled",
    "aauthenticate",
    "acreate_user",
    "alogin",
    "authenticate",
    "create_user",
    "get_user_model",
    "login",
    "login_required",
    "logout",
    "new_token",
    "permission_required",
    "revoke",
    "safe_next",
    "staff_required",
    "update_session_auth_hash",
]


def test_all_is_exactly_the_curated_list() -> None:
    assert heron.__all__ == EXPECTED


def test_auth_exports_are_the_curated_list() -> None:
    import heron.auth

    assert heron.auth.__all__ == AUTH_EXPECTED
    for name in AUTH_EXPECTED:
        assert getattr(heron.auth, name).__module__.startswith("heron.auth."), name


def test_every_exported_name_exists_and_belongs_to_heron() -> None:
    for name in heron.__all__:
        member = getattr(heron, name)
        if name != "__version__":
            assert member.__module__.startswith("heron."), name


def test_hello_world_imports_nothing_heavy() -> None:
    script = textwrap.dedent(
        """
        import json, sys
        from heron import App
        from heron.testing import TestClient

        app = App(secret_key="x", access_log=False)

        @app.get("/")
        async def hello():
            return {"hello": "world"}

        @app.get("/boom")
        async def boom():
            raise ValueError("production error")

        with TestClient(app) as client:
            assert client.get("/").json() == {"hello": "world"}
            assert client.get("/missing").status_code == 404
            assert client.get("/boom").status_code == 500

        heavy = json.loads(sys.argv[1])
        print(json.dumps([m for m in heavy if m in sys.modules]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
