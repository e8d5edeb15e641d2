"""Startup checks of the auth settings (ids in docs/checks.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["check_user_model"]


def check_user_model(app: App) -> list[ImproperlyConfigured]:
    """Problems with ``auth_user_model``, for an app that uses heron.auth.

    The setting is loaded as :func:`heron.auth.get_user_model` loads it: it must
    import (heron.auth.E004) and name a concrete user model (heron.auth.E006).
    The model found is not cached on the app, so a check leaves the app as it was.
    """
    from heron.auth.users import _load_model  # imports SQLAlchemy: only when checked

    try:
        _load_model(app.settings.auth_user_model)
    except ImproperlyConfigured as exc:
        return [exc]
    return []
