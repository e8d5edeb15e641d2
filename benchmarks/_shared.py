"""Definitions shared by ``run.py`` and ``inprocess.py``: peers, endpoints, checks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

BENCH_DIR = Path(__file__).resolve().parent
PEERS_DIR = BENCH_DIR / "peers"

DEFAULT_ROUTES = 500
ROUTE_ID = 12345
ENDPOINTS = ("plaintext", "json", "route")
BASELINE = "raw"

Interface = Literal["asgi", "wsgi"]


@dataclass(frozen=True)
class Peer:
    """One benchmarked application: where it lives and how it is served."""

    name: str
    module: str
    attr: str
    interface: Interface
    env: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """``module:attr`` as understood by uvicorn, granian and gunicorn."""
        return f"{self.module}:{self.attr}"

    @property
    def path(self) -> Path:
        """The source file of the app."""
        return PEERS_DIR / f"{self.module}.py"


PEERS: dict[str, Peer] = {
    peer.name: peer
    for peer in (
        Peer("raw", "raw_asgi", "app", "asgi"),
        Peer("heron", "heron_app", "app", "asgi"),
        Peer("starlette", "starlette_app", "app", "asgi"),
        Peer("fastapi", "fastapi_app", "app", "asgi"),
        Peer("litestar", "litestar_app", "app", "asgi"),
        Peer("django", "django_app", "asgi_app", "asgi", {"BENCH_DJANGO_ASYNC": "1"}),
        Peer("flask", "flask_app", "app", "wsgi"),
        Peer("django-wsgi", "django_app", "wsgi_app", "wsgi", {"BENCH_DJANGO_ASYNC": "0"}),
    )
}


def route_index(routes: int) -> int:
    """The benchmarked numbered route: always the middle one."""
    return routes // 2


def endpoint_path(endpoint: str, routes: int = DEFAULT_ROUTES) -> str:
    """The request path for ``endpoint`` when the app registers ``routes`` routes."""
    if endpoint == "route":
        return f"/r{route_index(routes)}/{ROUTE_ID}"
    if endpoint in ENDPOINTS:
        return f"/{endpoint}"
    raise ValueError(f"unknown endpoint {endpoint!r}")


def check_response(
    endpoint: str, routes: int, status: int, content_type: str, body: bytes
) -> str | None:
    """Return a description of what is wrong with a response, or ``None`` if it is right."""
    if status != 200:
        return f"status {status}, body {body[:200]!r}"
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
