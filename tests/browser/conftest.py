"""Real-browser tests: Debian's Chromium driven by Playwright's sync API.

The browser is the system's ``/usr/bin/chromium`` (``apt-get install chromium``);
Playwright's own browser downloads (``playwright install``) are never used.  When
Chromium or the ``playwright`` package is missing the tests are skipped, or fail
when ``CI=true`` so that CI cannot skip them silently.

Also here: ``serve_app``, which serves an app with ``heron run`` in a subprocess on
a free port of 127.0.0.1 (:class:`app_server.AppServer`); the server's output is added
to the report of a failing test, and the server is always stopped.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from app_server import AppServer  # tests/app_server.py, shared with the schemathesis run

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
        unavailable("the playwright package is not installed: pip install -e '.[testsuite]' "
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
