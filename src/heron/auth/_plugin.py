"""heron.auth as a plug-in: ``request.user``, its commands, checks and migrations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from heron.auth import DEFAULT_USER_MODEL, HERE
from heron.auth.models import Permission
from heron.auth.settings import AuthSettings
from heron.auth.users import get_user_model
from heron.exceptions import ImproperlyConfigured
from heron.plugins import Handler, Plugin, ResponseHook

if TYPE_CHECKING:
    from heron.app import App
    from heron.db.migrations import Owner
    from heron.requests import Request
    from heron.responses import Response
    from heron.routing import Route, Router

__all__ = ["AuthPlugin", "plugin"]


class AuthPlugin(Plugin):
    """heron.auth as a plug-in: ``request.user``, and its checks (the user model,
    no app mounted below a guarded router)."""

    name = "heron.auth"
    settings = AuthSettings

    def needs_request_context(self, app: App) -> bool:
        return True  # users are loaded with db.session

    def setup(self, app: App) -> None:
        # The reset mail's task: declared here so that a worker of this app knows it.
        import heron.mail.tasks  # noqa: F401

    def request_attributes(self, app: App) -> dict[str, Any]:
        from heron.auth._login import aget_user, get_user

        return {"user": get_user, "auser": aget_user}

    def response_hooks(self, app: App) -> Iterable[ResponseHook]:
        from heron.auth._login import TOKEN_KEY

        async def private_to_the_token(request: Request, response: Response,
                                       routers: Sequence[Router]) -> Response:
            # An answer for whoever holds the API token: no shared cache may keep it
            # (sessions do the same for pages that read the session).
            if TOKEN_KEY in request.scope:
                response.headers.setdefault("cache-control", "private")
            return response

        return [private_to_the_token]

    def template_globals(self, app: App) -> dict[str, Any]:
        from heron.auth._passkey_views import template_globals  # user_passkeys()

        return template_globals(app)

    def wrap_route(self, app: App, route: Route, handler: Handler) -> Handler:
        if app.settings.auth_two_factor_required not in ("staff", "all"):
            return handler  # the default: requests pay nothing
        from heron.auth._two_factor_required import exempt, wrap

        return handler if exempt(route) else wrap(app, route, handler)

    def commands(self, app: App) -> Iterable[Any]:
        from heron.auth._two_factor_commands import resetfactors_command
        from heron.auth.commands import (
            changepassword_command,
            cleartokens_command,
            createsuperuser_command,
        )

        return [createsuperuser_command, changepassword_command, cleartokens_command,
                resetfactors_command]

    def migration_branches(self, app: App) -> Iterable[Any]:
        return _migration_branches(app)

    def post_migrate(self, app: App) -> None:
        _post_migrate(app)

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        from heron.auth.checks import (
            check_pages,
            check_tokens,
            check_two_factor,
            check_user_model,
        )
        from heron.auth.guards import check_mounts

        problems = check_user_model(app)
        problems.extend(check_tokens(app, _serves_jwt(app.router)))
        problems.extend(check_pages(app))
        problems.extend(check_two_factor(app))
        from heron.auth.passkeys import check_settings as check_passkeys

        problems.extend(check_passkeys(app))  # heron.auth.E040, E041
        try:
            check_mounts(app.router)
        except ImproperlyConfigured as exc:  # heron.auth.E005
            problems.append(exc)
        return problems


plugin = AuthPlugin


def _serves_jwt(router: Router) -> bool:
    """Whether ``token_router(jwt=True)`` is included anywhere below ``router``."""
    return bool(router.extensions.get("heron.auth.jwt")) or any(
        _serves_jwt(child) for child, _ in router._children)


def _migration_branches(app: App) -> list[Owner]:
    """The user model's tables: heron's shipped ``auth_user`` branch when the
    default model is used; else they go with the project's model (nothing here)."""
    from heron.db.migrations import Owner

    model = get_user_model(app)  # imports it, so that its tables are known
    if app.settings.auth_user_model != DEFAULT_USER_MODEL:
        return []
    return [Owner("auth_user", model.__module__, HERE / "user_migrations", shipped=True)]


def _post_migrate(app: App) -> None:
    """After ``heron db migrate``: the permission rows of every model."""
    from sqlalchemy import inspect

    from heron.auth.permissions import sync_permissions
    from heron.db import db

    with db.context(app):
        if not inspect(db.session.connection()).has_table(Permission.__tablename__):
            return  # migrated to a target before heron.auth's tables
        sync_permissions(app, db.session)
        db.session.commit()

