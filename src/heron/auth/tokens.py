"""Personal API tokens: ``Authorization: Bearer <token>`` makes ``request.user``.

A token is 256 random bits, shown once when made; the database keeps only its
SHA-256 hash and first characters.  Tokens expire (``api_token_lifetime``, or
per token) and can be revoked.  Requests authenticated by a token carry no
cookie, so the CSRF check lets them through (a browser never adds a bearer
token by itself).

    token, secret = new_token(app, user, "deploy script")
    db.session.add(token)
    db.session.commit()
    print(secret)  # give it to the user now: it cannot be shown again
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from heron.auth.models import utcnow
from heron.auth.users import get_user_model
from heron.exceptions import HTTPException

if TYPE_CHECKING:
    from sqlalchemy import Select

    from heron.app import App
    from heron.auth.models import AbstractBaseUser

__all__ = ["PREFIX", "hash_token", "new_token", "revoke", "token_query"]

#: Every token starts with it, so that secret scanners can recognise a leaked one.
PREFIX = "heron_"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_token(app: App, user: AbstractBaseUser, name: str,
              expires_in: timedelta | bool | None = True) -> tuple[Any, str]:
    """A new token for ``user`` (not yet added to a session) and its secret.

    Args:
        expires_in: how long it works; ``True`` (default) means the
            ``api_token_lifetime`` setting, ``None`` never expires.

    Returns:
        ``(token, secret)``: add ``token`` to the database session and commit;
        hand ``secret`` to the user, once.
    """
    if expires_in is True:
        lifetime = app.settings.api_token_lifetime
        expires_in = timedelta(seconds=lifetime) if lifetime > 0 else None
    elif expires_in is False:
        expires_in = None
    secret = PREFIX + secrets.token_urlsafe(32)
    model = type(user).token_model
    token = model(user_id=user.id, name=name[:100], key_hash=hash_token(secret),  # type: ignore[attr-defined]
                  prefix=secret[:12],
                  expires_at=utcnow() + expires_in if expires_in is not None else None)
    return token, secret


def revoke(token: Any) -> None:
    """Stop ``token`` working from now on (commit the session to keep it)."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def token_query(app: App, secret: str) -> Select[Any]:
    """The query for the token whose secret is ``secret``, with its user."""
    model = get_user_model(app).token_model
    return select(model).options(joinedload(model.user)).where(
        model.key_hash == hash_token(secret))


def token_user(token: Any) -> Any:
    """The active user of a usable token.

    Raises:
        HTTPException: 401 with ``WWW-Authenticate: Bearer error="invalid_token"``.
    """
    if token is None or not token.is_usable or not token.user.is_active:
        raise HTTPException(401, "The API token is not valid (unknown, revoked or expired).",
                            {"www-authenticate": 'Bearer error="invalid_token"'})
    return token.user
