"""Definitions shared by ``run.py`` and ``inprocess.py``: peers, endpoints, checks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

BENCH_DIR = Path(__file__).resolve().parent
PEERS_DIR = BENCH_DIR / "peers"

DEFAULT_ROUTES = 500
ROUTE_ID = 12345
# API endpoints: served by every peer's main app (``module``).
API_ENDPOINTS = ("plaintext", "json", "route")
# Server-rendered-site endpoints: served by a peer's site app (``site_module``), if it has one.
SITE_ENDPOINTS = ("template", "session", "cached")
ENDPOINTS = API_ENDPOINTS + SITE_ENDPOINTS
BASELINE = "raw"
HERON = "heron"
# ``cached`` is /page behind each framework's page cache (heron's @cache_page, Django's
# cache_page, Flask-Caching), answered from memory after the first request.
SITE_PATHS = {"template": "/page", "session": "/counter", "cached": "/cached"}
# What every site app's /page must contain (escaped by the engine) and must not contain.
PAGE_MUST_HAVE = ("Widget #9 &lt;small&gt;", "Spring catalogue &amp; offers", "<p>10 items</p>")
PAGE_MUST_NOT_HAVE = ("<small>", "<ann@example.com>")
PAGE_ROWS = 10

Interface = Literal["asgi", "wsgi"]


@dataclass(frozen=True)
class Peer:
    """One benchmarked application: where it lives and how it is served."""

    name: str
    module: str
    attr: str
    interface: Interface
    env: dict[str, str] = field(default_factory=dict)
    site_module: str | None = None  # serves SITE_ENDPOINTS (same ``attr``), if any

    @property
    def target(self) -> str:
        """``module:attr`` as understood by uvicorn, granian and gunicorn."""
        return f"{self.module}:{self.attr}"

    def serves(self, endpoint: str) -> bool:
        """True if this peer takes part in ``endpoint``."""
        return endpoint in API_ENDPOINTS or self.site_module is not None

    def app_for(self, endpoint: str) -> Peer:
        """The peer whose ``module`` serves ``endpoint`` (``self``, or its site app)."""
        if endpoint in API_ENDPOINTS:
            return self
        if self.site_module is None:
            raise ValueError(f"{self.name} does not serve {endpoint!r}")
        return replace(self, module=self.site_module, site_module=None)

    @property
    def path(self) -> Path:
        """The source file of the app."""
        return PEERS_DIR / f"{self.module}.py"


PEERS: dict[str, Peer] = {
    peer.name: peer
    for peer in (
        Peer("raw", "raw_asgi", "app", "asgi", site_module="raw_site"),
        Peer("heron", "heron_app", "app", "asgi", site_module="heron_site"),
        Peer("starlette", "starlette_app", "app", "asgi"),
        Peer("fastapi", "fastapi_app", "app", "asgi"),
        Peer("litestar", "litestar_app", "app", "asgi"),
        Peer(
            "django",
            "django_app",
            "asgi_app",
            "asgi",
            {"BENCH_DJANGO_ASYNC": "1"},
            site_module="django_site",
        ),
        Peer("flask", "flask_app", "app", "wsgi", site_module="flask_site"),
        Peer(
            "django-wsgi",
            "django_app",
            "wsgi_app",
            "wsgi",
            {"BENCH_DJANGO_ASYNC": "0"},
            site_module="django_site",
        ),
    )
}


def route_index(routes: int) -> int:
    """The benchmarked numbered route: always the middle one."""
    return routes // 2


def endpoint_path(endpoint: str, routes: int = DEFAULT_ROUTES) -> str:
    """The request path for ``endpoint`` when the app registers ``routes`` routes."""
    if endpoint == "route":
        return f"/r{route_index(routes)}/{ROUTE_ID}"
    if endpoint in SITE_PATHS:
        return SITE_PATHS[endpoint]
    if endpoint in ENDPOINTS:
        return f"/{endpoint}"
    raise ValueError(f"unknown endpoint {endpoint!r}")


def check_response(
    endpoint: str, routes: int, status: int, content_type: str, body: bytes
) -> str | None:
    """Return a description of what is wrong with a response, or ``None`` if it is right."""
    if status != 200:
        return f"status {status}, body {body[:200]!r}"
    if endpoint in ("template", "cached"):
        return check_page(content_type, body)
    if endpoint == "session":
        if not content_type.startswith("text/plain"):
            return f"content-type {content_type!r}"
        return None if body.isdigit() else f"body {body[:200]!r}, expected the counter"
    if endpoint == "plaintext":
        if not content_type.startswith("text/plain"):
            return f"content-type {content_type!r}"
        return None if body == b"Hello, World!" else f"body {body[:200]!r}"
    if not content_type.startswith("application/json"):
        return f"content-type {content_type!r}"
    expected: dict[str, object] = (
        {"message": "Hello, World!"}
        if endpoint == "json"
        else {"route": route_index(routes), "id": ROUTE_ID}
    )
    try:
        decoded = json.loads(body)
    except ValueError:
        return f"invalid JSON {body[:200]!r}"
    return None if decoded == expected else f"JSON {decoded!r}, expected {expected!r}"


def check_page(content_type: str, body: bytes) -> str | None:
    """What is wrong with a ``/page`` response, or ``None``."""
    if not content_type.startswith("text/html"):
        return f"content-type {content_type!r}"
    text = body.decode("utf-8", errors="replace")
    missing = [s for s in PAGE_MUST_HAVE if s not in text]
    unescaped = [s for s in PAGE_MUST_NOT_HAVE if s in text]
    rows = text.count("<tr class=")
    if missing or unescaped or rows != PAGE_ROWS:
        return f"page: missing {missing}, unescaped {unescaped}, {rows} rows ({len(body)} bytes)"
    return None


def cookie_pair(set_cookie: str) -> str:
    """``name=value`` from a ``Set-Cookie`` header value (what a browser sends back)."""
    return set_cookie.split(";", 1)[0].strip()


def check_session_pair(
    first: tuple[int, str, bytes, str | None], second: tuple[int, str, bytes, str | None]
) -> str | None:
    """Check two ``/counter`` responses: without a cookie, then with the first's cookie.

    Each item is (status, content type, body, Set-Cookie value or ``None``).  The
    first must say 1 and set a cookie; the second, sent with that cookie, must
    say 2 and set a new one, i.e. the session was decoded and re-encoded.
    """
    for label, (status, content_type, body, set_cookie), expected in (
        ("first", first, b"1"),
        ("second", second, b"2"),
    ):
        problem = check_response("session", DEFAULT_ROUTES, status, content_type, body)
        if problem is None and body != expected:
            problem = f"counter {body!r}, expected {expected!r}"
        if problem is None and not set_cookie:
            problem = "no Set-Cookie"
        if problem is not None:
            return f"session ({label} request): {problem}"
    return None


def parse_names(raw: str, known: tuple[str, ...], what: str) -> list[str]:
    """Split a comma-separated CLI list and reject unknown names."""
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(known)})")
    return names


def parse_route_counts(raw: str) -> list[int]:
    """Parse ``--routes 10,500,1000``."""
    try:
        counts = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise SystemExit(f"--routes expects comma-separated integers, got {raw!r}") from None
    if not counts or any(count < 1 for count in counts):
        raise SystemExit("--routes expects positive integers")
    return counts
