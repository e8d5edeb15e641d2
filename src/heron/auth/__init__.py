"""heron.auth: users, groups, permissions, logins, password reset and API tokens.

A component: ``App(components=["heron.auth"])`` adds the user tables (migrations
ship with heron), ``request.user``, and the pages under ``/auth/`` (login,
logout, password change and reset, optional sign-up).  API clients get sign-up
and token login endpoints from :func:`heron.auth.api.token_router`.  See docs/auth.md.

    from heron.auth import login_required

    @app.get("/account")
    @login_required
    def account(request):
        return f"Hello {request.user.username}"
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from heron._lazy import lazy_exports

if TYPE_CHECKING:
    from heron.app import App
    from heron.auth._login import AnonymousUser, alogin, login, logout, update_session_auth_hash
    from heron.auth._plugin import plugin as plugin
    from heron.auth.guards import login_required, permission_required, safe_next, staff_required
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
    from heron.routing import Router

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


def component_router(app: App) -> Router | None:
    """heron.auth's pages for ``app``: those ``auth_pages`` names, under
    ``auth_url_prefix`` (``None`` when it names none)."""
    from heron.auth.views import component_router as pages

    return pages(app)

DEFAULT_USER_MODEL = "heron.auth.user:User"
HERE = Path(__file__).parent

# The names load SQLAlchemy and the models on first use, not when the package is
# imported: its settings section (heron.auth.settings) is part of every app's settings.
_EXPORTS = {
    "AbstractBaseUser": "heron.auth.models",
    "AbstractUser": "heron.auth.models",
    "AnonymousUser": "heron.auth._login",
    "Group": "heron.auth.models",
    "Permission": "heron.auth.models",
    "PermissionsMixin": "heron.auth.models",
    "Throttled": "heron.auth.throttle",
    "aauthenticate": "heron.auth.users",
    "acreate_user": "heron.auth.users",
    "alogin": "heron.auth._login",
    "authenticate": "heron.auth.users",
    "create_user": "heron.auth.users",
    "get_user_model": "heron.auth.users",
    "login": "heron.auth._login",
    "login_required": "heron.auth.guards",
    "logout": "heron.auth._login",
    "new_token": "heron.auth.tokens",
    "permission_required": "heron.auth.guards",
    "revoke": "heron.auth.tokens",
    "safe_next": "heron.auth.guards",
    "staff_required": "heron.auth.guards",
    "update_session_auth_hash": "heron.auth._login",
    "plugin": "heron.auth._plugin",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
