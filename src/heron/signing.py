"""The app's signing keys, for itsdangerous (sessions, CSRF, reset links)."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["secret_keys"]

_DEV_KEYS: dict[int, str] = {}


def secret_keys(app: App) -> list[str]:
    """Keys for itsdangerous: fallbacks first, the signing key (``secret_key``) last.

    In debug without a ``secret_key`` a random key is made per process, so
    sessions do not survive a restart; production refuses to start without one.
    """
    settings = app.settings
    key = settings.secret_key
    if not key:
        key = _DEV_KEYS.get(id(app))
        if key is None:
            key = _DEV_KEYS[id(app)] = secrets.token_urlsafe(32)
            logging.getLogger("heron").warning(
                "No secret_key is set: signing with a random key that lasts until this "
                "process stops (set HERON_SECRET_KEY to keep sessions across restarts)."
            )
    return [*settings.secret_key_fallbacks, key]
