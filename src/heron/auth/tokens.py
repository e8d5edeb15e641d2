"""Personal API tokens: ``Authorization: Bearer <token>`` makes ``request.user``.

A token is 256 random bits, shown once when made; the database keeps only its
SHA-256 hash and first characters.  Tokens expire (``api_token_lifetime``, or
per token) and can be revoked.  Requests authenticated by a token carry no
cookie, so the CSRF check lets them through (a browser never adds a bearer
token by itself).  A token stops working when its user's password changes, as
sessions do; ``heron cleartokens`` deletes the expired and revoked ones.

    token, secret = new_token(app, user, "deploy script")
    db.session.add(token)
    db.session.commit()
    print(secret)  # give it to the user now: it cannot be shown again
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import joinedload

from heron.auth.models import utcnow
from heron.auth.users import get_user_model
from heron.exceptions import HTTPException

if TYPE_CHECKING:
    from sqlalchemy import Delete, Select

    from heron.app import App
    from heron.auth.models import AbstractBaseUser

__all__ = ["PREFIX", "expired_tokens", "hash_token", "new_token", "revoke", "token_query"]

#: Every token starts with it, so that secret scanners can recognise a leaked one.
PREFIX = "heron_"


def hash_token(secret: str) -> str:
    """The SHA-256 hex digest the database keeps of a token's secret."""
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
                  prefix=secret[:12], kind="api", auth_hash=password_fingerprint(app, user),
                  expires_at=utcnow() + expires_in if expires_in is not None else None)
    return token, secret


def revoke(token: Any) -> None:
    """Stop ``token`` working from now on (commit the session to keep it)."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def password_fingerprint(app: App, user: AbstractBaseUser) -> str:
    """A keyed hash of ``user``'s password hash (as sessions keep): a token made with
    it stops working once the password changes."""
    from heron.signing import secret_keys

    return user.session_auth_hash(secret_keys(app)[-1])


def same_password(app: App, user: AbstractBaseUser, fingerprint: str | None) -> bool:
    """Whether ``fingerprint`` was made from ``user``'s current password (with the
    current ``secret_key`` or one of its fallbacks); ``None`` (a token made before
    heron kept fingerprints) passes."""
    if fingerprint is None:
        return True
    from heron.signing import secret_keys

    return any(hmac.compare_digest(user.session_auth_hash(key), fingerprint)
               for key in secret_keys(app))


def token_query(app: App, secret: str) -> Select[Any]:
    """The query for the API token whose secret is ``secret``, with its user."""
    model = get_user_model(app).token_model
    return select(model).options(joinedload(model.user)).where(
        model.key_hash == hash_token(secret), model.kind == "api")


def invalid_token(scheme: str = "Bearer", detail: str | None = None) -> HTTPException:
    """401 with ``WWW-Authenticate: <scheme> error="invalid_token"`` (RFC 6750)."""
    return HTTPException(401, detail or "The API token is not valid (unknown, revoked or "
                                        "expired, or the password changed).",
                         {"www-authenticate": f'{scheme} error="invalid_token"'})


def token_user(app: App, token: Any, scheme: str = "Bearer") -> Any:
    """The active user of a usable token whose user kept the same password.

    Raises:
        HTTPException: 401 with ``WWW-Authenticate: <scheme> error="invalid_token"``,
            ``scheme`` being the one the client used.
    """
    if token is None or not token.is_usable or not token.user.is_active \
            or not same_password(app, token.user, token.auth_hash):
        raise invalid_token(scheme)
    return token.user


def expired_tokens(app: App) -> Delete:
    """The DELETE of every expired or revoked API token and JWT login (what
    ``heron cleartokens`` runs); execute it with a session and commit."""
    model = get_user_model(app).token_model
    return delete(model).where(or_(model.revoked_at.is_not(None), model.expires_at < utcnow()))
