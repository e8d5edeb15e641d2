"""Finding the user model, making users, and checking a login's credentials."""

from __future__ import annotations

import hashlib
import importlib
import re
import unicodedata
from operator import methodcaller
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from heron import signals
from heron.db._steps import COMMIT, FLUSH, Steps, in_thread, run_steps_async, run_steps_sync
from heron.exceptions import ImproperlyConfigured
from heron.i18n import gettext, ngettext

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    from heron.app import App
    from heron.auth.models import AbstractBaseUser
    from heron.auth.throttle import Throttle
    from heron.requests import HTTPConnection

__all__ = [
    "aauthenticate",
    "acreate_user",
    "authenticate",
    "create_user",
    "find_user",
    "get_user_model",
    "normalize_username",
    "validate_username",
]

_EXTENSION = "heron.auth.user_model"
_USERNAME = re.compile(r"[\w.@+-]+")


def get_user_model(app: App | None = None) -> type[AbstractBaseUser]:
    """The model the ``auth_user_model`` setting names (default ``heron.auth.user:User``).

    ``app`` defaults to the app of the current request (or ``db.context``).

    Raises:
        ImproperlyConfigured: the setting cannot be imported (heron.auth.E004) or
            does not name a concrete subclass of ``AbstractBaseUser`` (heron.auth.E006).
    """
    if app is None:
        from heron._context import current_scope

        scope = current_scope.get()
        if scope is None:
            raise RuntimeError("get_user_model() needs the app outside a request: "
                               "get_user_model(app)")
        app = scope["app"]
    model = app.extensions.get(_EXTENSION)
    if model is None:
        model = app.extensions[_EXTENSION] = _load_model(app.settings.auth_user_model)
    return model  # type: ignore[no-any-return]


def _load_model(spec: str) -> type[AbstractBaseUser]:
    from heron.auth.models import AbstractBaseUser

    module_name, _, name = spec.partition(":") if ":" in spec else spec.rpartition(".")
    try:
        model = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"auth_user_model {spec!r} cannot be loaded ({exc}); use 'package.module:Class'",
            id="heron.auth.E004",
        ) from None
    if not (isinstance(model, type) and issubclass(model, AbstractBaseUser)
            and "__table__" in model.__dict__):
        raise ImproperlyConfigured(
            f"auth_user_model {spec!r} is not a concrete model extending "
            "heron.auth.AbstractUser (or AbstractBaseUser)", id="heron.auth.E006")
    return model


def normalize_username(name: str) -> str:
    """NFKC, so that look-alike forms of one name are the same name; spaces trimmed."""
    return unicodedata.normalize("NFKC", name).strip()


def validate_username(name: str, max_length: int = 150) -> str | None:
    """What is wrong with a new username, or ``None``: letters, digits and ``@.+-_``."""
    if not name:
        return gettext("Enter a username.")
    if len(name) > max_length:
        return ngettext("Ensure the username has at most %(max)d character.",
                        "Ensure the username has at most %(max)d characters.",
                        max_length) % {"max": max_length}
    if not _USERNAME.fullmatch(name):
        return gettext("Enter a username of letters, digits and @ . + - _ only.")
    return None


def find_user(model: type[AbstractBaseUser], login: str) -> Select[Any]:
    """The query for the user whose login field is ``login``, whatever its case."""
    column = getattr(model, model.USERNAME_FIELD)
    # The database folds both sides, with the function its unique index is on.
    return select(model).where(
        func.heron_lower(column) == func.heron_lower(normalize_username(login)))


def _new_user(app: App, model: type[AbstractBaseUser], login: str, password: str | None,
              fields: dict[str, Any]) -> AbstractBaseUser:
    user = model(**{model.USERNAME_FIELD: normalize_username(login), **fields})
    user.set_password(password, app.settings)
    return user


def create_user(session: Session, app: App, login: str, password: str | None,
                **fields: Any) -> AbstractBaseUser:
    """Add a user to ``session`` with a hashed password (``None``: unusable) and flush.

    The login is NFKC-normalised; checks (uniqueness, password validators) are the
    caller's: the views and ``heron createsuperuser`` run them.
    """
    return run_steps_sync(_create_steps(app, login, password, fields), lambda: session)


async def acreate_user(session: AsyncSession, app: App, login: str, password: str | None,
                       **fields: Any) -> AbstractBaseUser:
    """:func:`create_user` for async code; hashing runs in the thread pool."""
    return await run_steps_async(_create_steps(app, login, password, fields), lambda: session)


def _create_steps(app: App, login: str, password: str | None,
                  fields: dict[str, Any]) -> Steps[AbstractBaseUser]:
    model = get_user_model(app)
    user = yield in_thread(_new_user, app, model, login, password, fields)
    yield methodcaller("add", user)
    yield FLUSH
    return user  # type: ignore[no-any-return]


# -- checking credentials -------------------------------------------------------


def _throttles(app: App) -> tuple[Throttle, Throttle]:
    throttles = app.extensions.get("heron.auth.throttles")
    if throttles is None:
        from heron.auth.throttle import Throttle

        settings = app.settings
        throttles = app.extensions["heron.auth.throttles"] = (
            Throttle(app.cache, "login-user", settings.login_throttle_limit,
                     settings.login_throttle_window),
            Throttle(app.cache, "login-ip", settings.login_throttle_ip_limit,
                     settings.login_throttle_window),
        )
    return throttles  # type: ignore[no-any-return]


def _throttle_keys(conn: HTTPConnection, login: str) -> tuple[str, str]:
    # Hashed: the cache key must not carry what people type (nor be made too long).
    name = hashlib.sha256(normalize_username(login).lower().encode()).hexdigest()[:32]
    return name, conn.client.host if conn.client else "unknown"


async def _take_attempt(conn: HTTPConnection, login: str) -> None:
    """Count the attempt as a failure before the password is checked (Throttled
    past the limits), so that concurrent guesses cannot outrun the count."""
    by_user, by_ip = _throttles(conn.app)
    user_key, ip_key = _throttle_keys(conn, login)
    await by_user.take(user_key)
    await by_ip.take(ip_key)


async def _succeeded(conn: HTTPConnection, login: str) -> None:
    by_user, by_ip = _throttles(conn.app)
    user_key, ip_key = _throttle_keys(conn, login)
    await by_user.reset(user_key)
    await by_ip.give_back(ip_key)


def _findable(login: str) -> bool:
    # No login contains NUL, and PostgreSQL refuses it in a query (a 500): such a
    # name is an unknown user, checked (and timed) as one.
    return "\x00" not in login


def _verify(app: App, user: AbstractBaseUser | None, password: str) -> tuple[bool, str | None]:
    """argon2 work of the same cost whether or not the user exists."""
    from heron.auth.hashing import dummy_check, verify_and_update

    if user is None:
        dummy_check(password, app.settings)
        return False, None
    matches, new_hash = verify_and_update(password, user.password, app.settings)
    return matches and user.is_active, new_hash if matches else None


def _upgrade(model: type[AbstractBaseUser], user: AbstractBaseUser, new_hash: str) -> Any:
    from sqlalchemy.orm.attributes import set_committed_value

    set_committed_value(user, "password", new_hash)
    return update(model).where(model.id == user.id).values(password=new_hash)  # type: ignore[attr-defined]


async def aauthenticate(conn: HTTPConnection, login: str, password: str) -> AbstractBaseUser | None:
    """The active user whose login and password these are, or ``None``.

    - Failures are counted per login name and per client address in the cache
      store; past ``login_throttle_limit`` / ``login_throttle_ip_limit`` within
      ``login_throttle_window`` it raises :class:`~heron.auth.throttle.Throttled` (429).
    - An unknown name costs the same argon2 work as a wrong password.
    - A hash made with older cost settings is replaced by one at today's (committed).
    - Hashing runs in the thread pool, never on the event loop.
    """
    from heron.db import db

    return await run_steps_async(_authenticate_steps(conn, login, password),
                                 lambda: db.async_session)


def authenticate(conn: HTTPConnection, login: str, password: str) -> AbstractBaseUser | None:
    """:func:`aauthenticate` for sync views (it uses ``db.session``)."""
    from heron.db import db

    return run_steps_sync(_authenticate_steps(conn, login, password), lambda: db.session)


def _authenticate_steps(conn: HTTPConnection, login: str,
                        password: str) -> Steps[AbstractBaseUser | None]:
    yield _take_attempt(conn, login)
    model = get_user_model(conn.app)
    user = None
    if _findable(login):
        user = (yield find_user(model, login)).scalar_one_or_none()
    ok, new_hash = yield in_thread(_verify, conn.app, user, password)
    if new_hash is not None and user is not None:
        yield _upgrade(model, user, new_hash)
        yield COMMIT
    if ok:
        yield _succeeded(conn, login)
    else:
        signals.user_login_failed.send(model, request=conn, username=login)
    return user if ok else None
