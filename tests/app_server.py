"""``heron run`` in a subprocess, for tests that need a real server (browser tests,
schemathesis): :class:`AppServer` serves an app on a free port of 127.0.0.1, keeps
its output in a log file, and :meth:`AppServer.stop` always ends it.

Import it as ``from app_server import AppServer`` (``tests/`` is on ``sys.path``
because of ``tests/conftest.py``).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx
import pytest

__all__ = ["AppServer", "free_port"]


class AppServer:
    """``heron run APP`` in a subprocess on 127.0.0.1; :meth:`stop` always ends it."""

    def __init__(self, app: str, *, cwd: Path, env: Mapping[str, str],
                 ready_path: str = "/", start_timeout: float = 30.0,
                 args: tuple[str, ...] = ()) -> None:
        self.app = app
        self.args = args
        self.cwd = cwd
        self.env = dict(env)
        self.ready_path = ready_path
        self.start_timeout = start_timeout
        self.log = cwd / "server.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """What the server printed so far (stdout and stderr)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self) -> AppServer:
        for attempt in range(3):  # another process may take the free port first
            self.port = free_port()
            self._spawn()
            if self._wait_ready():
                return self
            if attempt < 2 and "address already in use" in self.output().lower():
                continue
            break
        output = self.output()
        self.stop()
        pytest.fail(f"`heron run {self.app}` did not come up on {self.url}:\n{output}",
                    pytrace=False)

    def _spawn(self) -> None:
        heron = Path(sys.executable).with_name("heron")
        command = [str(heron), "run", self.app, "--host", "127.0.0.1", "--port", str(self.port),
                   *self.args]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent(),
            )

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(self.url + self.ready_path, timeout=1).status_code < 500:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """SIGTERM (uvicorn's graceful shutdown), then SIGKILL after 10 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, have the kernel SIGTERM the server if pytest itself is killed."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)

    return preexec
