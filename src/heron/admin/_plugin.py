"""heron.admin as a plug-in: its pages under ``admin_url``, its checks, the audit
of every write when ``admin_audit_writes`` is on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from heron.admin.settings import AdminSettings
from heron.exceptions import ImproperlyConfigured
from heron.plugins import Plugin

if TYPE_CHECKING:
    from heron.admin.sites import BoundSite
    from heron.app import App

__all__ = ["AdminPlugin", "plugin"]


class AdminPlugin(Plugin):
    """The admin's pages, checks and audit log."""

    name = "heron.admin"
    settings = AdminSettings

    def __init__(self) -> None:
        self._bound: BoundSite | None = None

    def needs_request_context(self, app: App) -> bool:
        return True  # its pages use db.async_session

    def setup(self, app: App) -> None:
        # Installed when the app is made, so that commands and task workers are audited
        # too; apps that leave the setting off add no listener to their flushes.
        if app.settings.admin_audit_writes:
            from heron.admin.audit import install_write_audit

            install_write_audit(app)
        if "heron.auth" in app.plugins:
            from heron import signals

            # Every change of a user's second factors goes in the user's history.
            signals.two_factor_changed.connect(_audit_two_factor, weak=False)

    def bound_site(self, app: App) -> BoundSite:
        """The registry as this app serves it (made at startup)."""
        if self._bound is None:
            from heron.admin.auth_admin import register_auth_models
            from heron.admin.sites import site

            register_auth_models(app)
            self._bound = site.bind(app)
        return self._bound

    def routes(self, app: App) -> None:
        from heron.admin.views import add_routes
        from heron.auth.guards import staff_required
        from heron.routing import Router

        url = app.settings.admin_url
        if not url.startswith("/") or "{" in url:
            raise ImproperlyConfigured(
                f"admin_url {url!r} must be a path starting with '/' (such as '/admin/')",
                id="heron.admin.E002")
        router = Router(prefix=url.rstrip("/"), name="admin")
        options = {"include_in_schema": False} if app.plugin("heron.openapi") else {}
        add_routes(router, **options)
        from heron.admin.auth_admin import factors_page

        router.add_route("/{component}/{model}/{pk}/factors/", factors_page, ["GET", "POST"],
                         "user_factors", **options)
        staff_required(router)
        app.router.include(router)

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        if "heron.auth" not in app.plugins:
            return [ImproperlyConfigured(
                "heron.admin needs heron.auth for its users and permissions: "
                'App(components=["heron.auth", "heron.admin"])', id="heron.admin.E001")]
        from heron.admin.checks import check_site

        return check_site(self.bound_site(app))

    def deploy_checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        """The admin at its well-known address (heron.admin.W001)."""
        if app.settings.admin_url.strip("/") != "admin":
            return []
        return [ImproperlyConfigured(
            f"The admin is at {app.settings.admin_url!r}, the first address bots try with "
            "stolen and guessed passwords. Move it somewhere only staff know: "
            "HERON_ADMIN_URL=/staff-7f3a/", id="heron.admin.W001")]


plugin = AdminPlugin


def _audit_two_factor(sender: Any, *, request: Any = None, user: Any = None,
                      factor: str = "", action: str = "", detail: str = "",
                      **extra: Any) -> None:
    """A ``two_factor_changed`` as an entry of the user's history (the sender commits
    it: :func:`heron.auth.two_factor.achanged`); never a secret or a code."""
    if request is None or request.app.plugin("heron.admin") is None or user is None:
        return
    from heron.admin import audit
    from heron.db import db

    names = {"totp": "Authenticator app", "recovery_codes": "Recovery codes",
             "passkey": "Passkey"}
    message = f"Two-factor login: {names.get(factor, factor)} {action}"
    audit.record(db.async_session.sync_session, action="change", obj=user,
                 user=request.scope.get("heron.user"),
                 message=message + (f" ({detail})." if detail else "."),
                 source="request", app=request.app)
