"""A third-party battery written only against heron's public plug-in interface
(heron.plugins): a check, a gate, a response finalizer, a route wrapper, a
template global, a command and startup/shutdown hooks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click

from heron import HTTPException, PlainTextResponse, Request, Response
from heron.exceptions import ImproperlyConfigured
from heron.plugins import Finalizer, Gate, Handler, Plugin
from heron.routing import Route
from heron.settings import settings_section

#: What the hooks saw, for the tests to read.
EVENTS: list[str] = []


@settings_section
class AuditSettings:
    #: The token audit records are signed with (HERON_AUDIT_TOKEN).
    audit_token: str = "t0ken"
    #: Answer 503 to everything but /health (HERON_AUDIT_MAINTENANCE).
    audit_maintenance: bool = False


class AuditPlugin(Plugin):
    name = "acme.audit"
    route_options = frozenset({"audited"})
    settings = AuditSettings

    def checks(self, app: Any) -> Iterable[ImproperlyConfigured]:
        if len(app.settings.audit_token) < 5:
            return [ImproperlyConfigured("acme.audit needs a token of 5 characters or more",
                                         id="acme.audit.E001")]
        return []

    def gates(self, app: Any) -> Iterable[Gate]:
        def maintenance(scope: dict[str, Any]) -> Response | None:
            if app.settings.audit_maintenance and scope["path"] != "/health":
                return PlainTextResponse("Down for maintenance", 503)
            if scope["path"] == "/forbidden":
                raise HTTPException(403, "Not here.")
            return None

        return [maintenance]

    def finalizers(self, app: Any) -> Iterable[Finalizer]:
        def stamp(scope: dict[str, Any], response: Response, route: Route | None) -> None:
            response.headers["x-audited"] = route.name if route is not None else "-"

        return [stamp]

    def wrap_route(self, app: Any, route: Route, handler: Handler) -> Handler:
        if not route.options.get("audited"):
            return handler

        async def audited(request: Request) -> Any:
            EVENTS.append(f"view {route.name}")
            return await handler(request)

        return audited

    def template_globals(self, app: Any) -> dict[str, Any]:
        return {"audit_banner": "Audited by ACME"}

    def commands(self, app: Any) -> Iterable[click.Command]:
        @click.command("audit-report")
        @click.option("--since", default="today")
        def report(since: str) -> None:
            """Print the audit report."""
            click.echo(f"audit report since {since} for {len(app.routes())} routes")

        return [report]

    async def on_startup(self, app: Any) -> None:
        EVENTS.append("startup")

    async def on_shutdown(self, app: Any) -> None:
        EVENTS.append("shutdown")


plugin = AuditPlugin
