"""heron.auth: users, groups, permissions, logins, password reset and API tokens.

A component: ``App(components=["heron.auth"])`` adds the user tables (migrations
ship with heron), ``request.user``, and the pages under ``/auth/`` (login,
logout, password change and reset, optional sign-up).  See docs/auth.md.

    from heron.auth import login_required

    @app.get("/account")
    @login_required
    def account(request):
        return f"Hello {request.user.username}"
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heron.auth.guards import login_required, permission_required, safe_next, staff_required
from heron.auth.login import (
    AnonymousUser,
    alogin,
    login,
    logout,
    update_session_auth_hash,
)
from heron.auth.models import (
    AbstractBaseUser,
    AbstractUser,
    Group,
    Permission,
    PermissionsMixin,
)
from heron.auth.throttle import Throttled
from heron.auth.tokens import new_token, revoke
from heron.auth.users import (
    aauthenticate,
    acreate_user,
    authenticate,
    create_user,
    get_user_model,
)
from heron.exceptions import ImproperlyConfigured
from heron.plugins import Plugin

if TYPE_CHECKING:
    from heron.app import App
    from heron.db.migrations import Owner

__all__ = [
    "AbstractBaseUser",
    "AbstractUser",
    "AnonymousUser",
    "Group",
    "Permission",
    "PermissionsMixin",
    "Throttled",
    "aauthenticate",
    "acreate_user",
    "alogin",
    "authenticate",
    "create_user",
    "get_user_model",
    "login",
    "login_required",
    "logout",
    "new_token",
    "permission_required",
    "revoke",
    "safe_next",
    "staff_required",
    "update_session_auth_hash",
]

component_name = "auth"
DEFAULT_USER_MODEL = "heron.auth.user:User"
HERE = Path(__file__).parent


class AuthPlugin(Plugin):
    """heron.auth as a plug-in: ``request.user``, and its checks (the user model,
    no app mounted below a guarded router)."""

    name = "heron.auth"

    def request_attributes(self, app: App) -> dict[str, Any]:
        from heron.auth.login import aget_user, get_user

        return {"user": get_user, "auser": aget_user}

    def commands(self, app: App) -> Iterable[Any]:
        from heron.auth.commands import changepassword_command, createsuperuser_command

        return [createsuperuser_command, changepassword_command]

    def migration_branches(self, app: App) -> Iterable[Any]:
        return _migration_branches(app)

    def post_migrate(self, app: App) -> None:
        _post_migrate(app)

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        from heron.auth.checks import check_user_model
        from heron.auth.guards import check_mounts

        problems = check_user_model(app)
        try:
            check_mounts(app.router)
        except ImproperlyConfigured as exc:  # heron.auth.E005
            problems.append(exc)
        return problems


plugin = AuthPlugin


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

