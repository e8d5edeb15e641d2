"""Two-factor login: the step between a correct password and a logged-in session.

After the password, a user with a confirmed second factor (a TOTP authenticator,
a passkey) is not logged in yet: :func:`abegin_second_step` keeps a pending
marker in the session (who, a fingerprint of their password hash, when), and the
page ``auth:two_factor`` asks for the second factor.  :func:`afinish_second_step`
then logs the user in with a new session key.  The marker lasts
:data:`PENDING_SECONDS`; a password change, a deactivation or the end of that
time voids it.  See docs/auth.md, "Two-factor login".

    from heron.auth.two_factor import afactors

    factors = await afactors(user)
    if not factors.any:
        ...
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from heron import signals

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from heron.app import App
    from heron.requests import HTTPConnection
    from heron.settings import Settings

__all__ = [
    "FACTORS",
    "PENDING_SECONDS",
    "Factors",
    "abegin_second_step",
    "achanged",
    "afactors",
    "afinish_second_step",
    "apending_user",
    "areset_factors",
    "changed",
    "requires_two_factor",
    "second_factor_used",
]

logger = logging.getLogger("heron.auth")

#: Seconds between the password and the second factor before the login starts over.
PENDING_SECONDS = 300
#: The factors ``two_factor_changed`` names.
FACTORS = ("totp", "recovery_codes", "passkey")

PENDING_KEY = "_auth_2fa_pending"
#: Which second factor the session's login used ("totp", "recovery_code", "passkey").
METHOD_KEY = "_auth_2fa_method"
#: Set once the session is known to meet ``auth_two_factor_required``.
SATISFIED_KEY = "_auth_2fa_ok"
#: When the session last proved who it is (a login, a password typed again): Unix time.
VERIFIED_KEY = "_auth_verified_at"


@dataclass(frozen=True)
class Factors:
    """What a user has enrolled."""

    #: A confirmed TOTP authenticator.
    totp: bool = False
    #: Recovery codes not used yet.
    recovery_codes: int = 0
    #: Registered passkeys.
    passkeys: int = 0

    @property
    def any(self) -> bool:
        """Whether the login asks for a second factor (recovery codes alone do not count:
        they back up another factor)."""
        return self.totp or self.passkeys > 0


def _session_of(user: Any) -> AsyncSession:
    from sqlalchemy.ext.asyncio import async_object_session

    from heron.db import db

    return async_object_session(user) or db.async_session


async def afactors(user: Any, session: AsyncSession | None = None) -> Factors:
    """The second factors ``user`` has, in one query.

    Args:
        user: an instance of the app's user model.
        session: the async session to query with (default: the user's, else
            ``db.async_session``).
    """
    model = type(user)
    totp, codes, keys = model.totp_model, model.recovery_code_model, model.passkey_model
    query = select(
        select(func.count()).select_from(totp)
        .where(totp.user_id == user.id, totp.secret.is_not(None), totp.confirmed_at.is_not(None))
        .scalar_subquery(),
        select(func.count()).select_from(codes)
        .where(codes.user_id == user.id, codes.used_at.is_(None)).scalar_subquery(),
        select(func.count()).select_from(keys).where(keys.user_id == user.id).scalar_subquery(),
    )
    row = (await (session or _session_of(user)).execute(query)).one()
    return Factors(totp=bool(row[0]), recovery_codes=int(row[1]), passkeys=int(row[2]))


def requires_two_factor(settings: Settings, user: Any) -> bool:
    """Whether ``auth_two_factor_required`` concerns ``user`` (``"staff"``: staff and
    superusers; ``"all"``: everyone)."""
    required = settings.auth_two_factor_required
    if required == "all":
        return True
    if required == "staff":
        return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))
    return False


def _now() -> float:
    return time.time()  # (the tests move this clock)


def _fingerprint(conn: HTTPConnection, user: Any) -> str:
    from heron.auth._login import _fingerprint

    return _fingerprint(conn, user)


async def abegin_second_step(conn: HTTPConnection, user: Any) -> None:
    """Remember, in the session, that ``user`` gave a correct password and must now
    give a second factor.  Nobody is logged in by it: ``request.user`` stays what it
    was (anonymous after a logout).  The marker lasts :data:`PENDING_SECONDS`."""
    conn.session[PENDING_KEY] = {"id": str(user.id), "hash": _fingerprint(conn, user),
                                 "at": int(time.time())}


def _pending_claim(conn: HTTPConnection) -> tuple[int, str] | None:
    if conn.app.settings.session_cookie_name not in conn.cookies \
            and conn.scope.get("heron.session") is None:
        return None
    marker = conn.session.get(PENDING_KEY)
    if not isinstance(marker, dict):
        return None
    started, claimed = marker.get("at"), marker.get("hash")
    if not isinstance(started, int) or not isinstance(claimed, str) \
            or not 0 <= _now() - started <= PENDING_SECONDS:
        return None
    try:
        return int(marker.get("id")), claimed  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


async def apending_user(conn: HTTPConnection) -> Any:
    """The user waiting for their second step, or ``None`` (no marker, expired, the
    password changed since, the user inactive or deleted).  A void marker is
    dropped."""
    from heron.auth.users import get_user_model
    from heron.db import db
    from heron.signing import secret_keys

    if conn.app.settings.session_cookie_name in conn.cookies \
            and conn.scope.get("heron.session") is None:
        await conn.load_session()
    claim = _pending_claim(conn)
    user = None
    if claim is not None:
        found = await db.async_session.get(get_user_model(conn.app), claim[0])
        if found is not None and found.is_active and any(
                hmac.compare_digest(found.session_auth_hash(key), claim[1])
                for key in secret_keys(conn.app)):
            user = found
    if user is None and PENDING_KEY in conn.session:
        del conn.session[PENDING_KEY]
    return user


async def afinish_second_step(conn: HTTPConnection, user: Any, method: str) -> None:
    """The second factor was right: log ``user`` in (a new session key) and note
    ``method`` (``"totp"``, ``"recovery_code"``, ``"passkey"``) in the session
    (:func:`second_factor_used`).  :data:`heron.signals.user_logged_in` is sent, as
    for every login."""
    from heron.auth._login import alogin

    if PENDING_KEY in conn.session:
        del conn.session[PENDING_KEY]
    await alogin(conn, user)
    conn.session[METHOD_KEY] = method
    conn.session[SATISFIED_KEY] = 1
    conn.session[VERIFIED_KEY] = int(time.time())
    logger.info("User %s logged in with a second factor (%s)", user.id, method)


async def afactor_removed(conn: HTTPConnection, user: Any) -> None:
    """After one of ``user``'s factors was removed (from their own session): the
    session must pass the requirement check again, and when no factor is left the
    recovery codes go too (nothing is left for them to back up), recorded with
    :func:`achanged`."""
    from sqlalchemy import delete

    conn.session.pop(SATISFIED_KEY, None)
    left = await afactors(user)
    if left.any or not left.recovery_codes:
        return
    session = _session_of(user)
    model = type(user).recovery_code_model
    await session.execute(delete(model).where(model.user_id == user.id))
    await session.commit()
    await achanged(conn, user, "recovery_codes", "removed", "no factor left to back up",
                   session=session)


def second_factor_used(conn: HTTPConnection) -> str | None:
    """The second factor this session's login used (``"totp"``, ``"recovery_code"``,
    ``"passkey"``), or ``None``."""
    method = conn.session.get(METHOD_KEY)
    return method if isinstance(method, str) else None


def changed(conn: HTTPConnection | None, user: Any, factor: str, action: str,
            detail: str = "") -> None:
    """Send :data:`heron.signals.two_factor_changed` and log the change (never a
    secret or a code) on the ``heron.auth`` logger.  Receivers may add rows to the
    request's session (heron.admin's audit does): in async code prefer
    :func:`achanged`, which commits them."""
    logger.info("Two-factor change for user %s: %s %s%s", user.id, factor, action,
                f" ({detail})" if detail else "")
    signals.two_factor_changed.send(type(user), request=conn, user=user, factor=factor,
                                    action=action, detail=detail)


async def achanged(conn: HTTPConnection | None, user: Any, factor: str, action: str,
                   detail: str = "", session: AsyncSession | None = None) -> None:
    """:func:`changed`, then a commit of what its receivers added to the session
    (``db.async_session`` by default): heron.admin's audit entry, say.  Call it after
    the change itself is committed."""
    changed(conn, user, factor, action, detail)
    session = session or _session_of(user)
    if session.new or session.dirty or session.deleted:
        await session.commit()


async def areset_factors(user: Any, conn: HTTPConnection | None = None,
                         session: AsyncSession | None = None) -> Factors:
    """Remove every second factor of ``user`` (TOTP, recovery codes, passkeys), for
    a user locked out; commits, sends ``two_factor_changed`` (action ``"reset"``) for
    each kind that was there.  Returns what the user had."""
    from sqlalchemy import delete, update

    session = session or _session_of(user)
    had = await afactors(user, session)
    model = type(user)
    await session.execute(update(model.totp_model).where(model.totp_model.user_id == user.id)
                          .values(secret=None, confirmed_at=None, last_used_step=0))
    for table in (model.recovery_code_model, model.passkey_model):
        await session.execute(delete(table).where(table.user_id == user.id))
    await session.commit()
    for factor, present in (("totp", had.totp), ("recovery_codes", had.recovery_codes),
                            ("passkey", had.passkeys)):
        if present:
            await achanged(conn, user, factor, "reset", session=session)
    return had


def grace_ends(app: App, started: float) -> float:
    """When the grace period begun at ``started`` (Unix time) ends."""
    grace: int = app.settings.auth_two_factor_grace
    return started + max(0, grace)
