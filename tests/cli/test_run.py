"""``heron run`` against a real server: ``--debug`` and ``--no-debug`` win over the
code's ``App(debug=...)``, in every worker process."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import httpx
import pytest
from app_server import AppServer

APP_SOURCE = """
import os
from heron import App

app = App(debug={debug}, secret_key="k" * 40, allowed_hosts=["127.0.0.1"])

@app.get("/")
async def index():
    return "home"

@app.get("/pid")
async def pid():
    return {{"pid": os.getpid(), "debug": app.settings.debug}}

@app.get("/boom")
async def boom():
    raise RuntimeError("a secret detail")
"""


def serve(tmp_path: Path, *, code_debug: bool, args: tuple[str, ...]) -> AppServer:
    (tmp_path / "site_app.py").write_text(textwrap.dedent(APP_SOURCE.format(debug=code_debug)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    return AppServer("site_app:app", cwd=tmp_path, env=env, args=args).start()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_no_debug_wins_over_debug_true_in_code(tmp_path: Path, workers: str) -> None:
    server = serve(tmp_path, code_debug=True, args=("--no-debug", "--workers", workers))
    try:
        # every worker process answers with debug off: no traceback to the client
        seen = set()
        for _ in range(20):
            answer = httpx.get(server.url + "/pid").json()
            assert answer["debug"] is False
            seen.add(answer["pid"])
        response = httpx.get(server.url + "/boom")
        assert response.status_code == 500
        assert "a secret detail" not in response.text
        assert "Traceback" not in response.text
    finally:
        server.stop()
    assert "--no-debug overrides debug=True set in the app's code" in server.output()
    assert "(debug)" not in server.output()


def test_debug_wins_over_debug_false_in_code(tmp_path: Path) -> None:
    server = serve(tmp_path, code_debug=False, args=("--debug",))
    try:
        assert httpx.get(server.url + "/pid").json()["debug"] is True
        response = httpx.get(server.url + "/boom")
        assert response.status_code == 500
        assert "a secret detail" in response.text  # the debug page
    finally:
        server.stop()
    assert "--debug overrides debug=False" in server.output()


def test_without_a_flag_the_code_decides(tmp_path: Path) -> None:
    server = serve(tmp_path, code_debug=True, args=("--app", "site_app:app"))
    try:
        assert httpx.get(server.url + "/pid").json()["debug"] is True
    finally:
        server.stop()
    assert "overrides" not in server.output()
