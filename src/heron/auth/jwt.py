"""JWT access and refresh tokens (``pip install "heron[jwt]"``, on PyJWT).

A JWT login is one row of the user's token table (``kind = "jwt"``): its id is the
tokens' ``sid`` claim, and it keeps the hash of the one refresh token that works.
A short-lived access token (``jwt_access_lifetime``) is sent as
``Authorization: Bearer <jwt>``; a refresh token (``jwt_refresh_lifetime``) buys a
new pair, and the refresh token it was exchanged for stops working (rotation).  A
refresh token used twice means it was copied: the whole login is revoked.
Revoking the row (a logout, :func:`~heron.auth.tokens.revoke`), deactivating the
user or changing their password ends both tokens at their next use, since each
request reads the row with the user (one query, as API tokens do).

Tokens are signed with HS256 by the key ``jwt_key_id`` of ``jwt_keys`` and carry
its ``kid`` header; keep a retired key in ``jwt_keys`` until its tokens expired.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from heron.auth.models import utcnow
from heron.auth.tokens import hash_token, invalid_token, password_fingerprint, token_user
from heron.auth.users import get_user_model
from heron.exceptions import MissingDependency

try:
    import jwt as pyjwt
except ImportError:  # pragma: no cover - the extra is installed for the tests
    raise MissingDependency("PyJWT", "jwt") from None

if TYPE_CHECKING:
    from sqlalchemy import Select

    from heron.app import App
    from heron.auth.models import AbstractBaseUser

__all__ = [
    "ALGORITHM",
    "TokenPair",
    "access_lookup",
    "decode",
    "login_query",
    "new_login",
    "pair",
    "rotate",
    "signing_key",
]

#: The signature algorithm: an HMAC, with the keys of ``jwt_keys``.
ALGORITHM = "HS256"
#: Least bytes a key needs for HS256 (RFC 7518, section 3.2).
MIN_KEY_BYTES = 32
_CLAIMS = ["exp", "iat", "sub", "sid", "typ"]


class TokenPair:
    """A new access token and refresh token, as the JWT endpoints answer them."""

    __slots__ = ("access_token", "expires_in", "refresh_expires_at", "refresh_token")

    def __init__(self, access_token: str, refresh_token: str, expires_in: int,
                 refresh_expires_at: datetime) -> None:
        self.access_token = access_token
        self.refresh_token = refresh_token
        #: Seconds the access token works.
        self.expires_in = expires_in
        self.refresh_expires_at = refresh_expires_at


def signing_key(app: App) -> tuple[str, str]:
    """``(kid, key)`` of the key that signs new tokens.

    Raises:
        ImproperlyConfigured: heron.auth.E011 when ``jwt_keys`` is empty.
    """
    from heron.auth.checks import jwt_key_problems

    settings = app.settings
    problems = jwt_key_problems(app)
    if problems:
        raise problems[0]
    kid = settings.jwt_key_id or list(settings.jwt_keys)[-1]
    return kid, settings.jwt_keys[kid]


def _encode(app: App, claims: dict[str, Any]) -> str:
    kid, key = signing_key(app)
    return pyjwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})


def decode(app: App, token: str, typ: str, scheme: str = "Bearer") -> dict[str, Any]:
    """The claims of a JWT of type ``typ`` (``"access"`` or ``"refresh"``) that heron
    signed with one of ``jwt_keys`` and that has not expired.

    Raises:
        HTTPException: 401 ``invalid_token`` (in ``scheme``) for anything else.
    """
    keys = app.settings.jwt_keys
    try:
        kid = pyjwt.get_unverified_header(token).get("kid")
        key = keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise invalid_token(scheme, "The token is signed with an unknown key.")
        claims: dict[str, Any] = pyjwt.decode(token, key, algorithms=[ALGORITHM],
                                              options={"require": _CLAIMS})
    except pyjwt.ExpiredSignatureError:
        raise invalid_token(scheme, "The token has expired.") from None
    except pyjwt.InvalidTokenError:
        raise invalid_token(scheme, "The token is not valid.") from None
    if claims["typ"] != typ or not isinstance(claims["sid"], int):
        raise invalid_token(scheme, f"This is not a {typ} token.")
    return claims


def access_lookup(app: App, token: str, scheme: str) -> tuple[Select[Any], Any]:
    """For ``request.user``: the query of an access token's login row with its user,
    and what checks the row (usable, same user, same password) and gives the user."""
    claims = decode(app, token, "access", scheme)
    query = login_query(app, claims["sid"])

    def finish(row: Any) -> Any:
        if row is not None and str(row.user_id) != str(claims["sub"]):
            row = None
        return token_user(app, row, scheme)

    return query, finish


def login_query(app: App, sid: int) -> Select[Any]:
    """The query of the JWT login row ``sid``, with its user."""
    model = get_user_model(app).token_model
    return select(model).options(joinedload(model.user)).where(
        model.id == sid, model.kind == "jwt")


def _refresh_lifetime(app: App) -> timedelta:
    return timedelta(seconds=app.settings.jwt_refresh_lifetime)


def new_login(app: App, user: AbstractBaseUser, name: str) -> tuple[Any, str]:
    """A new JWT login row of ``user`` (add it to the session and flush, so that it has
    an id) and its refresh token id; :func:`pair` then makes the tokens."""
    jti = secrets.token_urlsafe(24)
    model = type(user).token_model
    row = model(user_id=user.id, name=name[:100], key_hash=hash_token(jti),  # type: ignore[attr-defined]
                prefix="jwt", kind="jwt", auth_hash=password_fingerprint(app, user),
                expires_at=utcnow() + _refresh_lifetime(app))
    return row, jti


def rotate(app: App, row: Any, claims: dict[str, Any]) -> str:
    """Exchange the refresh token of ``claims`` for a new one (its id is returned):
    the old one stops working.  A refresh token already exchanged revokes the login.

    Raises:
        HTTPException: 401 when the login is over or the token was already used.
    """
    if row is None or str(row.user_id) != str(claims["sub"]):
        raise invalid_token()
    token_user(app, row)  # revoked, expired, inactive user, or a new password: 401
    if not hmac.compare_digest(row.key_hash, hash_token(str(claims.get("jti", "")))):
        row.revoked_at = utcnow()  # the caller commits: a replayed token ends the login
        raise invalid_token(detail="The refresh token was already used: this login "
                                   "has been revoked.")
    jti = secrets.token_urlsafe(24)
    row.key_hash = hash_token(jti)
    row.expires_at = utcnow() + _refresh_lifetime(app)
    return jti


def pair(app: App, row: Any, jti: str) -> TokenPair:
    """The access and refresh tokens of the login ``row`` (flushed), refresh id ``jti``."""
    now = utcnow()
    lifetime = app.settings.jwt_access_lifetime
    common = {"sub": str(row.user_id), "sid": row.id, "iat": now}
    access = _encode(app, {**common, "typ": "access", "exp": now + timedelta(seconds=lifetime)})
    refresh = _encode(app, {**common, "typ": "refresh", "jti": jti, "exp": row.expires_at})
    return TokenPair(access, refresh, lifetime, row.expires_at)
