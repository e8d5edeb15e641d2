"""Sign-up and token login for API clients (a mobile app, a script, a single-page app).

:func:`token_router` gives a :class:`~heron.Router` of three JSON endpoints that an
app mounts where its API lives; the app needs the ``heron.auth`` component::

    from heron import App
    from heron.auth.api import token_router

    app = App(components=["heron.auth"])
    app.include(token_router(), prefix="/api")

- ``POST /auth/register`` (``auth_api:register``): 201 and a token; 409 when the
  login is taken; 422 for a weak password;
- ``POST /auth/token`` (``auth_api:token``): a token; 400 for wrong credentials; 429
  after too many;
- ``POST /auth/token/revoke`` (``auth_api:revoke``): 204, and the request's token
  stops working.

With ``token_router(jwt=True)`` (and ``jwt_keys`` set, ``pip install "heron[jwt]"``)
three more serve JWT access and refresh tokens (:mod:`heron.auth.jwt`):

- ``POST /auth/jwt`` (``auth_api:jwt``): a login and password for a token pair;
- ``POST /auth/jwt/refresh`` (``auth_api:jwt_refresh``): a refresh token for a new
  pair; the old refresh token stops working;
- ``POST /auth/jwt/revoke`` (``auth_api:jwt_revoke``): 204, and the refresh token's
  login ends (its access tokens too).

Each token is :func:`~heron.auth.tokens.new_token`'s: the secret is in the answer
once, the database keeps its hash, it expires after ``api_token_lifetime``.  The
client sends it as ``Authorization: Bearer <token>``.  Requests that carry no
cookie pass the CSRF check (JSON, or a bearer token); a browser page that has a
session cookie sends its CSRF token as for any other post (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from heron.auth._accounts import (
    WRONG_LOGIN,
    email_error,
    login_error,
    login_label,
    password_errors,
    signup_fields,
    taken_message,
)
from heron.auth.guards import login_required
from heron.auth.models import utcnow
from heron.auth.throttle import Throttle
from heron.auth.tokens import new_token, revoke, token_query
from heron.auth.users import (
    aauthenticate,
    acreate_user,
    find_user,
    get_user_model,
    normalize_username,
)
from heron.exceptions import HTTPException, abort_invalid
from heron.requests import Request
from heron.responses import Response
from heron.routing import Router

if TYPE_CHECKING:
    from heron.app import App
    from heron.auth.models import AbstractBaseUser
    from heron.settings import Settings

__all__ = ["LoginIn", "RefreshIn", "RegisterIn", "TokenOut", "TokenPairOut", "token_router"]

_TOKEN_NAME = Field("API", min_length=1, max_length=100,
                    description="What the token is for (the device or the app), shown to "
                                "the user and the site's staff.")


class RegisterIn(BaseModel):
    """A new account."""

    username: str = Field(min_length=1, max_length=254,
                          description="The login: a username, or an email address when "
                                      "the user model logs in with one.")
    password: str = Field(min_length=1, max_length=1024,
                          description="Checked by the site's password validators.")
    email: str | None = Field(None, max_length=254,
                              description="The email address, when the user model has one "
                                          "besides the login (ignored otherwise).")
    token_name: str = _TOKEN_NAME


class LoginIn(BaseModel):
    """Credentials to exchange for a token."""

    username: str = Field(min_length=1, max_length=254, description="The login.")
    password: str = Field(min_length=1, max_length=1024)
    token_name: str = _TOKEN_NAME


class TokenOut(BaseModel):
    """A new API token. The secret is shown this once: keep it."""

    token: str = Field(description="Send it as `Authorization: Bearer <token>`.")
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime | None = Field(description="When it stops working (null: never).")


class TokenPairOut(BaseModel):
    """A new JWT access token and refresh token."""

    access_token: str = Field(description="Send it as `Authorization: Bearer <token>`.")
    refresh_token: str = Field(description="Post it to the refresh endpoint for a new pair; "
                                           "it works once.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the access token works.")
    refresh_expires_at: datetime = Field(description="When the refresh token stops working.")


class RefreshIn(BaseModel):
    """A refresh token, to exchange or to revoke."""

    refresh_token: str = Field(min_length=1, max_length=4096)


def token_router(prefix: str = "/auth", *, name: str = "auth_api", register: bool = True,
                 tags: Sequence[str] = ("auth",), jwt: bool = False) -> Router:
    """A router of the token endpoints, to include in an app with heron.auth.

    Args:
        prefix: the router's path prefix; the endpoints are ``{prefix}/register``,
            ``{prefix}/token`` and ``{prefix}/token/revoke``.
        name: the namespace of their route names (``auth_api:token``).
        register: serve ``/register``, open to anyone; ``False`` when accounts are
            made another way.
        tags: the OpenAPI tags of the operations.
        jwt: serve the JWT endpoints too (``{prefix}/jwt``, ``{prefix}/jwt/refresh``,
            ``{prefix}/jwt/revoke``); the app needs ``jwt_keys`` (heron.auth.E011)
            and PyJWT (``pip install "heron[jwt]"``).

    Returns:
        A new :class:`~heron.Router` (one per call, so it may be included twice).
    """
    router = Router(prefix, name=name, tags=list(tags))
    router.after_request(_never_stored)
    if register:
        router.add_route("/register", register_view, ["POST"], "register", status_code=201,
                         responses={409: {"description": "The login is taken."},
                                    429: {"description": "Too many refused sign-ups from this "
                                                         "address; see Retry-After."}})
    router.add_route("/token", token_view, ["POST"], "token", responses={
        400: {"description": "Wrong login or password (the answer does not say which)."},
        429: {"description": "Too many failed attempts; see Retry-After."}})
    router.add_route("/token/revoke", revoke_view, ["POST"], "revoke", responses={
        400: {"description": "The request authenticated without a token."}})
    if jwt:
        router.extensions["heron.auth.jwt"] = True  # read by the startup check
        invalid = {401: {"description": "The refresh token is not valid (or was already "
                                        "used: its login is then revoked)."}}
        router.add_route("/jwt", jwt_view, ["POST"], "jwt", responses={
            400: {"description": "Wrong login or password."},
            429: {"description": "Too many failed attempts; see Retry-After."}})
        router.add_route("/jwt/refresh", jwt_refresh_view, ["POST"], "jwt_refresh",
                         responses=invalid)
        router.add_route("/jwt/revoke", jwt_revoke_view, ["POST"], "jwt_revoke",
                         responses=invalid)
    return router


async def _never_stored(request: Request, response: Response) -> None:
    # A token in a body must not be kept by any cache (RFC 6749, section 5.1).
    response.headers.setdefault("cache-control", "no-store")


def _register_throttle(app: App) -> Throttle:
    throttle = app.extensions.get("heron.auth.register_throttle")
    if throttle is None:
        settings = app.settings
        throttle = app.extensions["heron.auth.register_throttle"] = Throttle(
            app.cache, "register-ip", settings.login_throttle_ip_limit,
            settings.login_throttle_window)
    return throttle  # type: ignore[no-any-return]


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _account_errors(settings: Settings, model: type[AbstractBaseUser], login: str,
                    email: str, password: str) -> dict[str, list[str]]:
    _, email_field, email_required = signup_fields(model)
    errors: dict[str, list[str]] = {}
    problem = login_error(model, login)
    if problem is not None:
        errors["username"] = [problem]
    if email_field and (email or email_required):
        problem = email_error(email)
        if problem is not None:
            errors["email"] = [problem]
    attributes = {model.USERNAME_FIELD: login, **({email_field: email} if email_field else {})}
    weak = password_errors(password, settings, attributes)
    if weak:
        errors["password"] = weak
    return errors


async def _issue(app: App, user: AbstractBaseUser, token_name: str) -> TokenOut:
    """A new token of ``user``, committed with the session that holds the user."""
    from heron.db import db

    token, secret = new_token(app, user, token_name)
    session = db.async_session
    session.add(token)
    await session.commit()
    return TokenOut(token=secret, expires_at=token.expires_at)


async def register_view(request: Request, account: RegisterIn) -> TokenOut:
    """Create an account and get its first API token.

    The login is unique whatever its case (409 when it is taken); the password must
    pass the site's validators (422, in the format of validation errors).  Answers
    of 409 count against the client's address, as failed logins do (429 past
    ``login_throttle_ip_limit`` within ``login_throttle_window``).
    """
    from heron.db import db

    app = request.app
    model = get_user_model(app)
    throttle = _register_throttle(app)
    ip = _client_ip(request)
    await throttle.check(ip)
    login = normalize_username(account.username)
    _, email_field, _ = signup_fields(model)
    email = (account.email or "").strip() if email_field else ""
    errors = _account_errors(app.settings, model, login, email, account.password)
    if errors:
        abort_invalid(errors)
    session = db.async_session
    fields = {email_field: email} if email_field and email else {}
    user = None
    if await session.scalar(find_user(model, login)) is None:
        try:
            user = await acreate_user(session, app, login, account.password, **fields)
        except IntegrityError:  # the same login, registered a moment ago
            await session.rollback()
    if user is None:
        await throttle.fail(ip)
        raise HTTPException(409, taken_message(model))
    return await _issue(app, user, account.token_name)


async def _log_in(request: Request, credentials: LoginIn) -> AbstractBaseUser:
    """The user of ``credentials``, ``last_login`` updated (not committed yet)."""
    from heron.db import db

    user = await aauthenticate(request, credentials.username, credentials.password)
    if user is None:
        raise HTTPException(400, WRONG_LOGIN.format(
            login_label(get_user_model(request.app)).lower()))
    now = utcnow()
    model = type(user)
    await db.async_session.execute(
        update(model).where(model.id == user.id).values(last_login=now))  # type: ignore[attr-defined]
    set_committed_value(user, "last_login", now)
    return user


async def token_view(request: Request, credentials: LoginIn) -> TokenOut:
    """Exchange a login and password for a new API token.

    Wrong credentials answer 400 with one message that does not say which part was
    wrong; failures are throttled as on the login page (429 with ``Retry-After``).
    """
    user = await _log_in(request, credentials)
    return await _issue(request.app, user, credentials.token_name)


def _pair_out(tokens: Any) -> TokenPairOut:
    return TokenPairOut(access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                        expires_in=tokens.expires_in,
                        refresh_expires_at=tokens.refresh_expires_at)


async def jwt_view(request: Request, credentials: LoginIn) -> TokenPairOut:
    """Exchange a login and password for a JWT access token and refresh token.

    Errors as for the API token endpoint (400, 429); ``token_name`` names the login.
    """
    from heron.auth.jwt import new_login, pair
    from heron.db import db

    user = await _log_in(request, credentials)
    row, jti = new_login(request.app, user, credentials.token_name)
    session = db.async_session
    session.add(row)
    await session.flush()
    tokens = pair(request.app, row, jti)
    await session.commit()
    return _pair_out(tokens)


async def _login_row(request: Request, refresh_token: str) -> tuple[Any, dict[str, Any]]:
    from heron.auth.jwt import decode, login_query
    from heron.db import db

    claims = decode(request.app, refresh_token, "refresh")
    row = (await db.async_session.execute(
        login_query(request.app, claims["sid"]))).scalar_one_or_none()
    return row, claims


async def jwt_refresh_view(request: Request, body: RefreshIn) -> TokenPairOut:
    """A new token pair for a refresh token, which stops working (rotation).

    401 for a refresh token that is not valid, expired, revoked, of a user who is
    inactive or changed their password; a refresh token used a second time revokes
    its login (someone else may hold a copy).
    """
    from heron.auth.jwt import pair, rotate
    from heron.db import db

    row, claims = await _login_row(request, body.refresh_token)
    session = db.async_session
    try:
        jti = rotate(request.app, row, claims)
    finally:
        await session.commit()  # the new refresh token, or a replayed login revoked
    return _pair_out(pair(request.app, row, jti))


async def jwt_revoke_view(request: Request, body: RefreshIn) -> None:
    """End the login of a refresh token: it and the login's access tokens stop
    working (204; 401 for a token heron did not sign or that has expired)."""
    from heron.db import db

    row, claims = await _login_row(request, body.refresh_token)
    if row is not None and str(row.user_id) == str(claims["sub"]):
        revoke(row)
        await db.async_session.commit()


@login_required
async def revoke_view(request: Request) -> None:
    """Revoke the API token (or the JWT login) this request is authenticated with
    (a logout): 204."""
    from heron.auth._login import _bearer
    from heron.db import db

    secret = _bearer(request)
    if secret is None:
        raise HTTPException(400, "This request carries no API token to revoke.")
    app = request.app
    if app.settings.jwt_keys and secret.count(".") == 2:
        from heron.auth.jwt import decode, login_query

        query = login_query(app, decode(app, secret, "access")["sid"])
    else:
        query = token_query(app, secret)
    session = db.async_session
    token: Any = (await session.execute(query)).scalar_one()
    revoke(token)
    await session.commit()
