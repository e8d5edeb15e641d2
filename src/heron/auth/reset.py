"""Password-reset links: signed, expiring, and good for one use.

The token signs the user's id and a fingerprint of their password hash and
last login (itsdangerous, with ``secret_key``; its fallbacks still verify).
Setting the new password changes the hash, so the link stops working once
used, and so does any other link sent before; logging in or changing the email
address stops it too.  It
also stops after ``password_reset_timeout`` seconds.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from heron.app import App
    from heron.auth.models import AbstractBaseUser

__all__ = ["make_reset_token", "read_reset_token", "reset_token_matches"]

_SALT = "heron.auth.password-reset"


def _serializer(app: App) -> Any:
    from heron.signing import timed_serializer

    return timed_serializer(app, _SALT)


def _fingerprint(user: AbstractBaseUser) -> str:
    last = ""
    if user.last_login is not None:  # naive UTC from SQLite, aware from PostgreSQL
        moment = user.last_login
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        last = moment.replace(microsecond=0).isoformat()
    # The address too: a link mailed before the email changed stops working.
    email = user.get_email().lower()
    return hashlib.sha256(f"{user.password}|{last}|{user.is_active}|{email}".encode()
                          ).hexdigest()[:32]


def make_reset_token(app: App, user: AbstractBaseUser) -> str:
    """A token for the reset link of ``user``."""
    return str(_serializer(app).dumps([user.id, _fingerprint(user)]))  # type: ignore[attr-defined]


def read_reset_token(app: App, token: str) -> tuple[int, str] | None:
    """``(user id, fingerprint)`` from a well-signed token that has not expired."""
    from itsdangerous import BadData

    try:
        user_id, fingerprint = _serializer(app).loads(
            token, max_age=app.settings.password_reset_timeout)
    except (BadData, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or not isinstance(fingerprint, str):
        return None
    return user_id, fingerprint


def reset_token_matches(user: AbstractBaseUser | None, fingerprint: str) -> bool:
    """Whether the link is still good for ``user``: same password, same last login."""
    if user is None or not user.is_active:
        return False
    return hmac.compare_digest(_fingerprint(user), fingerprint)
