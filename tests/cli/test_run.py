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


# -- max_header_size under each server (issue 20) ----------------------------------------


def head_status(server: AppServer, header_bytes: int) -> int:
    """The status of ``GET /`` carrying one header of ``header_bytes``; 0 when the server
    closed the connection without an answer."""
    import socket

    request = (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Big: "
               + b"a" * header_bytes + b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return int(answer.split(b" ", 2)[1]) if answer else 0


@pytest.mark.parametrize("server_name", ["uvicorn", "granian"])
def test_max_header_size_is_enforced_by_each_server(tmp_path: Path, server_name: str) -> None:
    (tmp_path / "site_app.py").write_text(textwrap.dedent(APP_SOURCE.format(debug=False)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env["HERON_MAX_HEADER_SIZE"] = "16384"  # granian cannot go below 8 KiB
    server = AppServer("site_app:app", cwd=tmp_path, env=env,
                       args=("--server", server_name)).start()
    try:
        assert head_status(server, 12_000) == 200
        assert head_status(server, 20_000) == 431
        assert head_status(server, 4 * 1024 * 1024) in (0, 431)
        assert httpx.get(server.url + "/").status_code == 200
    finally:
        server.stop()


def test_heron_run_gives_uvicorn_the_limit_and_the_fast_parser(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    import uvicorn
    from click.testing import CliRunner

    from heron.cli import main, serve

    (tmp_path / "site_app.py").write_text(textwrap.dedent(APP_SOURCE.format(debug=False)))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("HERON_MAX_HEADER_SIZE", "10000")
    monkeypatch.setenv("HERON_RUN_APP", "")  # heron run sets it: restored after the test
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    result = CliRunner().invoke(main, ["run", "site_app:app"])
    assert result.exit_code == 0, result.output
    assert calls[0]["http"] == "heron.cli._protocol:HttpToolsProtocol"
    assert calls[0]["h11_max_incomplete_event_size"] == 10000
    # Without httptools uvicorn's h11 parser enforces the same number itself.
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "httptools" else find_spec(name, *a))
    assert serve.uvicorn_http() == "h11"
