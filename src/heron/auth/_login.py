"""Who is making the request: ``request.user``, logging in and out.

The user is found on first use, from an API token or a JWT in the
``Authorization`` header (a scheme of ``auth_token_schemes``) or else from the
session, and kept in the request's scope.  Sync views load it
with ``db.session`` (their thread may block), async code with
``await request.auser()``; the guards (``login_required``...) load it before
the view runs, so ``request.user`` is then ready in both.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from heron import signals
from heron.auth.models import utcnow
from heron.auth.users import get_user_model
from heron.db._steps import COMMIT, Steps, run_steps_async, run_steps_sync

if TYPE_CHECKING:
    from sqlalchemy import Select

    from heron.auth.models import AbstractBaseUser
    from heron.requests import HTTPConnection

__all__ = [
    "ANONYMOUS",
    "AnonymousUser",
    "aget_user",
    "alogin",
    "get_user",
    "login",
    "logout",
    "update_session_auth_hash",
]

USER_KEY = "_auth_user_id"
HASH_KEY = "_auth_user_hash"
SCOPE_KEY = "heron.user"
#: The scheme, set in the scope when ``request.user`` comes from a token: the answer is private.
TOKEN_KEY = "heron.auth.token"


class AnonymousUser:
    """``request.user`` when nobody is logged in: no permissions, not staff."""

    id = None
    pk = None
    username = ""
    is_active = False
    is_staff = False
    is_superuser = False
    is_authenticated = False
    is_anonymous = True

    def get_username(self) -> str:
        return ""

    def get_all_permissions(self) -> set[str]:
        return set()

    async def aget_all_permissions(self) -> set[str]:
        return set()

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    async def ahas_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perms: Any, obj: Any = None) -> bool:
        return False

    async def ahas_perms(self, perms: Any, obj: Any = None) -> bool:
        return False

    def __str__(self) -> str:
        return "AnonymousUser"

    def __repr__(self) -> str:
        return "<AnonymousUser>"

    def __bool__(self) -> bool:
        return False


ANONYMOUS = AnonymousUser()

User = Any  # a user model instance or ANONYMOUS


def _require_auth(conn: HTTPConnection) -> None:
    if conn.app.plugin("heron.auth") is None:
        raise RuntimeError("request.user needs the heron.auth component: "
                           "App(components=['heron.auth', ...])")


def _claim(conn: HTTPConnection) -> tuple[Any, Any] | None:
    """The user id and password-hash fingerprint the session holds, if any."""
    if conn.app.settings.session_cookie_name not in conn.cookies \
            and conn.scope.get("heron.session") is None:
        return None  # no session: nothing to read (and no session to open)
    session = conn.session
    user_id = session.get(USER_KEY)
    if user_id is None:
        return None
    return user_id, session.get(HASH_KEY)


def _accept(conn: HTTPConnection, user: AbstractBaseUser | None, claimed: Any) -> User:
    """The session's user if it still matches: active, and the same password."""
    if user is not None and user.is_active and isinstance(claimed, str):
        from heron.signing import secret_keys

        keys = secret_keys(conn.app)[::-1]  # the current key first
        for index, key in enumerate(keys):
            if hmac.compare_digest(user.session_auth_hash(key), claimed):
                if index:  # signed with an old key: move the session to the current one
                    conn.session[HASH_KEY] = user.session_auth_hash(keys[0])
                return user
    # A deleted or deactivated user, or a password changed elsewhere: end the session.
    conn.session.flush()
    return ANONYMOUS


def _fingerprint(conn: HTTPConnection, user: AbstractBaseUser) -> str:
    from heron.signing import secret_keys

    return user.session_auth_hash(secret_keys(conn.app)[-1])


def _credentials(conn: HTTPConnection) -> tuple[str, str] | None:
    """The ``Authorization`` header's scheme (as configured) and token, if it has one
    of ``auth_token_schemes``; ``None`` without one or with an ignored scheme.

    Raises:
        HTTPException: 401 naming the accepted schemes, for any other scheme.
    """
    value = (conn.headers.get("authorization") or "").strip()
    if not value:
        return None
    given, _, token = value.partition(" ")
    settings = conn.app.settings
    for scheme in settings.auth_token_schemes:
        if scheme.lower() == given.lower():
            return scheme, token.strip()
    if given.lower() in {s.lower() for s in settings.auth_ignored_schemes}:
        return None
    from heron.exceptions import HTTPException

    accepted = ", ".join(settings.auth_token_schemes)
    # A scheme heron does not read must not pass as "anonymous": the client would
    # never learn why it is refused.
    raise HTTPException(401, f"The Authorization scheme {given[:20]!r} is not accepted: "
                             f"send the token as {' or '.join(settings.auth_token_schemes)}.",
                        {"www-authenticate": accepted})


def _bearer(conn: HTTPConnection) -> str | None:
    """The request's token (API token or JWT) in an accepted scheme, if any."""
    credentials = _credentials(conn)
    return None if credentials is None else credentials[1]


def _lookup(conn: HTTPConnection) -> tuple[Select[Any] | None, Callable[[Any], User]]:
    """The one query that finds the request's user (``None``: no query needed), and
    what turns its row into ``request.user``; the sync and async loaders run it."""
    credentials = _credentials(conn)
    if credentials is not None:
        scheme, token = credentials
        conn.scope[TOKEN_KEY] = scheme
        app = conn.app
        if app.settings.jwt_keys and token.count(".") == 2:  # a JWT, not an API token
            from heron.auth.jwt import access_lookup

            return access_lookup(app, token, scheme)
        from heron.auth.tokens import token_query, token_user

        return token_query(app, token), lambda found: token_user(app, found, scheme)
    claim = _claim(conn)
    if claim is None:
        return None, lambda _: ANONYMOUS
    user_id, claimed = claim
    try:
        ident = int(user_id)
    except (TypeError, ValueError):
        return None, lambda _: _accept(conn, None, claimed)
    model: Any = get_user_model(conn.app)
    return select(model).where(model.id == ident), lambda found: _accept(conn, found, claimed)


def get_user(conn: HTTPConnection) -> User:
    """``request.user`` in sync code: loads the user with ``db.session`` once.

    Raises:
        RuntimeError: on the event loop (async code): ``await request.auser()``.
        HTTPException: 401 for a token that is unknown, revoked or expired, or in a
            scheme that is not accepted.
    """
    user = conn.scope.get(SCOPE_KEY)
    if user is not None:
        return user
    _require_auth(conn)
    from heron.concurrency import _on_loop_thread

    if _on_loop_thread():
        raise RuntimeError(
            "request.user is not loaded yet, and this is async code where loading "
            "would block the event loop: `await request.auser()` first (login_required "
            "and the other guards do it), or make the view a plain `def`."
        )
    from heron.db import db

    return run_steps_sync(_user_steps(conn), lambda: db.session)


async def aget_user(conn: HTTPConnection) -> User:
    """``await request.auser()``: :func:`get_user` for async code (``db.async_session``)."""
    user = conn.scope.get(SCOPE_KEY)
    if user is not None:
        return user
    _require_auth(conn)
    from heron.db import db

    if _credentials(conn) is None and conn.scope.get("heron.session") is None and \
            conn.app.settings.session_cookie_name in conn.cookies:
        await conn.load_session()  # a server-side store: read it without blocking
    return await run_steps_async(_user_steps(conn), lambda: db.async_session)


def _user_steps(conn: HTTPConnection) -> Steps[User]:
    statement, finish = _lookup(conn)
    found = None if statement is None else (yield statement).scalar_one_or_none()
    user = conn.scope[SCOPE_KEY] = finish(found)
    return user


# -- logging in and out ---------------------------------------------------------


def _start(conn: HTTPConnection, user: AbstractBaseUser) -> Any:
    """The session part of a login; returns the ``last_login`` UPDATE to run."""
    if not user.is_active:
        raise ValueError("An inactive user cannot log in.")
    session = conn.session
    if session.get(USER_KEY) not in (None, str(user.id)):  # type: ignore[attr-defined]
        session.flush()  # another user's data must not carry over
    session.cycle_key()  # a new session key: no session fixation
    session[USER_KEY] = str(user.id)  # type: ignore[attr-defined]
    session[HASH_KEY] = _fingerprint(conn, user)
    now = utcnow()
    set_committed_value(user, "last_login", now)
    conn.scope[SCOPE_KEY] = user
    model = type(user)
    return update(model).where(model.id == user.id).values(last_login=now)  # type: ignore[attr-defined]


def login(conn: HTTPConnection, user: AbstractBaseUser) -> None:
    """Log ``user`` in for this session (sync views).

    The session gets a new key (so a key planted before the login is useless),
    and ``last_login`` is stored and committed with the user's database session.
    """
    from sqlalchemy.orm import object_session

    from heron.db import db

    run_steps_sync(_login_steps(conn, user), lambda: object_session(user) or db.session)


async def alogin(conn: HTTPConnection, user: AbstractBaseUser) -> None:
    """:func:`login` for async views."""
    from sqlalchemy.ext.asyncio import async_object_session

    from heron.db import db

    await run_steps_async(_login_steps(conn, user),
                          lambda: async_object_session(user) or db.async_session)


def _login_steps(conn: HTTPConnection, user: AbstractBaseUser) -> Steps[None]:
    yield _start(conn, user)
    yield COMMIT
    signals.user_logged_in.send(type(user), request=conn, user=user)


def logout(conn: HTTPConnection) -> None:
    """End the session: its data and key are dropped, the user is anonymous.

    :data:`heron.signals.user_logged_out` gets the user when it was loaded
    (``request.user`` read before); else ``None``.
    """
    user = conn.scope.get(SCOPE_KEY)
    conn.session.flush()
    conn.scope[SCOPE_KEY] = ANONYMOUS
    if user is None or not user.is_authenticated:
        user = None
    signals.user_logged_out.send(type(user) if user is not None else None, request=conn,
                                 user=user)


def update_session_auth_hash(conn: HTTPConnection, user: AbstractBaseUser) -> None:
    """After ``user`` changed their own password: keep *this* session logged in
    (with a new key); their other sessions have ended."""
    session = conn.session
    session.cycle_key()
    session[HASH_KEY] = _fingerprint(conn, user)
