"""Real-browser tests: Debian's Chromium driven by Playwright's sync API.

The browser is the system's ``/usr/bin/chromium`` (``apt-get install chromium``);
Playwright's own browser downloads (``playwright install``) are never used.  When
Chromium or the ``playwright`` package is missing the tests are skipped, or fail
when ``CI=true`` so that CI cannot skip them silently.

Also here: ``serve_app``, which serves an app with ``heron run`` in a subprocess on
a free port of 127.0.0.1 (:class:`AppServer`); the server's output is added to the
report of a failing test, and the server is always stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import httpx
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking"]
#: Playwright's wait for any one thing (a selector, a navigation), in milliseconds.
TIMEOUT_MS = 10_000


def unavailable(reason: str) -> NoReturn:
    """Skip the test for want of ``reason``, or fail it when ``CI=true``."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: a missing browser fails instead of skipping)",
                    pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    # Module scope, not session: the sync API runs an event loop of its own,
    # which must be gone before other modules' asyncio tests run.
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed: pip install -e '.[test]' "
                    "(heron uses the system's Chromium; `playwright install` is not needed)")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium, launched once per test module."""
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies from other tests)."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def console(page: Page) -> list[ConsoleMessage]:
    """Every console message of ``page`` (CSP violations are reported there)."""
    messages: list[ConsoleMessage] = []
    page.on("console", lambda message: messages.append(message))
    return messages


# -- an app served by `heron run` ------------------------------------------------


class AppServer:
    """``heron run APP`` in a subprocess on 127.0.0.1; :meth:`stop` always ends it."""

    def __init__(self, app: str, *, cwd: Path, env: Mapping[str, str],
                 ready_path: str = "/", start_timeout: float = 30.0) -> None:
        self.app = app
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
            self.port = _free_port()
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
        command = [str(heron), "run", self.app, "--host", "127.0.0.1", "--port", str(self.port)]
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


@pytest.fixture(scope="module")
def serve_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., AppServer]]:
    """``serve_app("pkg.module:app", env)``: start ``heron run`` in an empty folder with
    exactly ``env`` as its environment; the server is stopped after the module."""
    started: list[AppServer] = []

    def serve(app: str, env: Mapping[str, str]) -> AppServer:
        server = AppServer(app, cwd=tmp_path_factory.mktemp("served"), env=env)
        started.append(server)
        return server.start()

    try:
        yield serve
    finally:
        for server in started:
            server.stop()


def _free_port() -> int:
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    """Add the output of the test's app servers to the report of a failed test."""
    report = yield
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, AppServer):
                with contextlib.suppress(OSError):
                    report.sections.append((f"server output ({name}: heron run {value.app})",
                                            value.output() or "(nothing)"))
    return report
