"""The two-factor pages (the ``two_factor`` group of ``auth_pages``).

========================================  ===========================  ========================
URL                                       name                         template
========================================  ===========================  ========================
``/auth/two-factor``                      ``auth:two_factor``          ``auth/two_factor.html``
``/auth/security``                        ``auth:security``            ``auth/security.html``
``/auth/security/totp``                   ``auth:totp_setup``          ``auth/totp_setup.html``
``/auth/security/totp/disable`` (POST)    ``auth:totp_disable``        (redirects)
``/auth/security/recovery-codes`` (POST)  ``auth:recovery_codes``      ``auth/recovery_codes.html``
========================================  ===========================  ========================

The security pages ask for the password again unless the session proved it
recently (:data:`RECENT_SECONDS`).  Recovery codes are shown once, in the answer
to the POST that made them (``Cache-Control: no-store``), and kept hashed.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from heron.auth import _totp
from heron.auth._login import alogin
from heron.auth.guards import login_required, resolve_url
from heron.auth.models import utcnow
from heron.auth.throttle import Throttle, Throttled
from heron.auth.two_factor import (
    SATISFIED_KEY,
    VERIFIED_KEY,
    abegin_second_step,
    achanged,
    afactor_removed,
    afactors,
    afinish_second_step,
    apending_user,
    requires_two_factor,
)
from heron.auth.users import aauthenticate
from heron.auth.views import _next, _page, _see_other, _text, _throttled, _two_factor_pages
from heron.flash import flash
from heron.i18n import gettext as _
from heron.i18n import ngettext
from heron.requests import Request
from heron.responses import Response

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["RECENT_SECONDS", "alogin_or_second_step", "mark_verified"]

#: Seconds after a login (or the password typed again) during which the security
#: pages do not ask for the password.
RECENT_SECONDS = 600


def _throttles(app: App) -> tuple[Throttle, Throttle]:
    throttles = app.extensions.get("heron.auth.two_factor_throttles")
    if throttles is None:
        settings = app.settings
        throttles = app.extensions["heron.auth.two_factor_throttles"] = (
            Throttle(app.cache, "two-factor", settings.login_throttle_limit,
                     settings.login_throttle_window),
            Throttle(app.cache, "two-factor-ip", settings.login_throttle_ip_limit,
                     settings.login_throttle_window),
        )
    return throttles  # type: ignore[no-any-return]


def mark_verified(request: Request) -> None:
    """The session just proved who it is (a password typed): the security pages do
    not ask for it for :data:`RECENT_SECONDS`."""
    request.session[VERIFIED_KEY] = int(time.time())


def _recent(request: Request) -> bool:
    verified = request.session.get(VERIFIED_KEY)
    return isinstance(verified, int) and 0 <= time.time() - verified <= RECENT_SECONDS


async def _totp_row(user: Any, create: bool = False) -> Any:
    from heron.db import db

    session = db.async_session
    model = type(user).totp_model
    query = select(model).where(model.user_id == user.id)
    row = await session.scalar(query)
    if row is None and create:
        row = model(user_id=user.id, last_used_step=0)
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:  # made by a request of the same user a moment ago
            await session.rollback()
            row = await session.scalar(query)
    return row


# -- after the password ------------------------------------------------------------


async def alogin_or_second_step(request: Request, user: Any, next_url: str | None) -> Response:
    """What the login page does once the password is right: the second step when
    ``user`` has a second factor, else the login (and, when
    ``auth_two_factor_required`` concerns the user, a reminder and the setup page)."""
    app = request.app
    pages = app.settings.auth_pages
    factors = await afactors(user) if "two_factor" in pages else None
    if factors is not None and factors.any:
        await abegin_second_step(request, user)
        url = resolve_url(request, "auth:two_factor")
        return _see_other(url + (f"?next={_quote(next_url)}" if next_url else ""))
    await alogin(request, user)
    mark_verified(request)
    target = next_url or resolve_url(request, app.settings.login_redirect_url)
    if factors is not None and requires_two_factor(app.settings, user):
        until = await agrace_until(request, user)
        days = max(0, math.ceil((until - time.time()) / 86400))
        text = ngettext("Please set up two-factor login: it is required for your account "
                        "(in %(days)d day).",
                        "Please set up two-factor login: it is required for your account "
                        "(in %(days)d days).", days) % {"days": days} if days else \
            _("Please set up two-factor login: it is required for your account today.")
        flash(request, text, "warning")
        url = resolve_url(request, "auth:security")
        return _see_other(url + f"?next={_quote(target)}")
    return _see_other(target)


def _quote(url: str) -> str:
    from urllib.parse import quote

    return quote(url, safe="")


async def agrace_until(request: Request, user: Any) -> float:
    """When ``user``'s grace period ends (it starts, and is stored, the first time
    it is asked); kept in the session so that requests need no query."""
    from heron.auth.two_factor import grace_ends
    from heron.db import db

    row = await _totp_row(user, create=True)
    if row.grace_started_at is None:
        row.grace_started_at = utcnow()
        await db.async_session.commit()
    until = grace_ends(request.app, _totp_aware(row.grace_started_at).timestamp())
    from heron.auth._two_factor_required import GRACE_KEY

    request.session[GRACE_KEY] = int(until)
    return until


def _totp_aware(value: Any) -> Any:
    from heron.auth.models import _aware

    return _aware(value)


# -- the second step ----------------------------------------------------------------


@_two_factor_pages.route("/two-factor", ["GET", "POST"], name="two_factor",
                         include_in_schema=False)
async def two_factor(request: Request) -> Response:
    """The second login step: a code of the authenticator app or a recovery code.

    Without a pending login (none, or older than five minutes) it goes back to the
    login page.  Wrong codes count against the same limits as wrong passwords (429
    with ``Retry-After``); a code is accepted once.
    """
    user = await apending_user(request)
    form = await request.form() if request.method == "POST" else None
    next_url = _next(request, form)
    if user is None:
        flash(request, _("Your login expired before the second step. Please log in again."),
              "error")
        url = resolve_url(request, request.app.settings.login_url)
        return _see_other(url + (f"?next={_quote(next_url)}" if next_url else ""))
    factors = await afactors(user)
    values: dict[str, Any] = {"next": next_url or "", "factors": factors,
                              "pending_user": user}
    if form is None:  # GET
        return await _page(request, "auth/two_factor.html", **values)
    raw = _text(form, "code")
    code = _totp.clean_code(raw)
    if not raw.strip():
        return await _page(request, "auth/two_factor.html", 422,
                           errors={"code": [_("Enter a code.")]}, **values)
    by_user, by_ip = _throttles(request.app)
    ip = request.client.host if request.client else "unknown"
    try:
        await by_user.take(str(user.id))
        await by_ip.take(ip)
    except Throttled as exc:
        message, headers = _throttled(request, exc)
        return await _page(request, "auth/two_factor.html", 429, headers, error=message,
                           **values)
    method = await _check_code(request, user, code)
    if method is None:
        return await _page(request, "auth/two_factor.html", 400,
                           errors={"code": [_("This code is not valid. Check your "
                                              "authenticator app, or use a recovery code.")]},
                           **values)
    await by_user.reset(str(user.id))
    await by_ip.give_back(ip)
    await afinish_second_step(request, user, method)
    if method == "recovery_code":
        left = factors.recovery_codes - 1
        flash(request, ngettext("You used a recovery code; %(left)d left. Make new ones on "
                                "the security page when they run low.",
                                "You used a recovery code; %(left)d left. Make new ones on "
                                "the security page when they run low.", left) % {"left": left},
              "info")
    return _see_other(next_url or resolve_url(request, request.app.settings.login_redirect_url))


async def _check_code(request: Request, user: Any, code: str) -> str | None:
    """``"totp"`` or ``"recovery_code"`` when ``code`` is right (and now used), else None."""
    from heron.db import db

    if not code:
        return None
    session = db.async_session
    if _totp.is_totp_code(code):
        row = await _totp_row(user)
        if row is not None and row.is_confirmed and \
                await _totp.use_totp(session, request.app, row, code):
            return "totp"
        return None
    if await _totp.use_recovery_code(session, user, code):
        await achanged(request, user, "recovery_codes", "removed", "one recovery code used")
        return "recovery_code"
    return None


# -- the security page ----------------------------------------------------------------


@_two_factor_pages.get("/security", name="security", include_in_schema=False)
@login_required
async def security(request: Request) -> Response:
    """The account's second factors: the authenticator app (add, remove), recovery
    codes (how many are left, make new ones) and the passkeys' part."""
    user = await request.auser()
    factors = await afactors(user)
    required = requires_two_factor(request.app.settings, user)
    return await _page(request, "auth/security.html", factors=factors, required=required,
                       next=_next(request) or "", ask_password=not _recent(request))


async def _password_problem(request: Request, user: Any, password: str,
                            always: bool = False) -> str | None:
    """Why the password typed again is not accepted, or None (``always``: even right
    after a login).  Raises Throttled."""
    if _recent(request) and not password and not always:
        return None
    if not password:
        return _("Enter your password.")
    same = await aauthenticate(request, user.get_username(), password)
    if same is None or same.id != user.id:
        return _("Your password was entered incorrectly.")
    mark_verified(request)
    return None


@_two_factor_pages.route("/security/totp", ["GET", "POST"], name="totp_setup",
                         include_in_schema=False)
@login_required
async def totp_setup(request: Request) -> Response:
    """Add an authenticator app: scan the QR code (or type the key), confirm with a
    first code; the answer shows the recovery codes, once."""
    from heron.db import db

    user = await request.auser()
    row = await _totp_row(user, create=True)
    if row.is_confirmed:
        flash(request, _("Two-factor login is already on. Remove the authenticator "
                         "first to set up another one."), "info")
        return _see_other(resolve_url(request, "auth:security"))
    app = request.app
    secret = _totp.decrypt_secret(app, row.secret) if row.secret else None
    if secret is None:  # a first visit (or a key the app can no longer read)
        secret = _totp.new_secret()
        row.secret = _totp.encrypt_secret(app, secret)
        row.confirmed_at = None
        await db.async_session.commit()
    account = user.get_username()
    uri = _totp.provisioning_uri(secret, account, _totp.issuer(app, request.url.netloc))
    values: dict[str, Any] = {"qr_svg": _markup(_totp.qr_svg(uri)),
                              "secret": _totp.grouped(secret), "account": account,
                              "ask_password": not _recent(request),
                              "next": _next(request) or ""}
    if request.method == "GET":
        return await _page(request, "auth/totp_setup.html", **values)
    form = await request.form()
    values["next"] = _next(request, form) or ""
    errors: dict[str, list[str]] = {}
    try:
        problem = await _password_problem(request, user, _text(form, "password"))
    except Throttled as exc:
        message, headers = _throttled(request, exc)
        return await _page(request, "auth/totp_setup.html", 429, headers, error=message,
                           **values)
    if problem:
        errors["password"] = [problem]
    raw = _text(form, "code")
    code = _totp.clean_code(raw)
    if not raw.strip():
        errors["code"] = [_("Enter the code your app shows.")]
    elif problem is None and (not _totp.is_totp_code(code) or not await _totp.use_totp(
            db.async_session, app, row, code)):
        # (with a wrong password the code is not tried: it stays good for the next try)
        errors["code"] = [_("This code is not right. Check the time on your phone, "
                            "and type the code the app shows now.")]
    if errors:
        status = 422 if not raw.strip() or "password" in errors else 400
        return await _page(request, "auth/totp_setup.html", status, errors=errors, **values)
    row.confirmed_at = utcnow()
    await db.async_session.commit()
    await achanged(request, user, "totp", "added")
    codes = await _totp.replace_recovery_codes(db.async_session, user,
                                               app.settings.auth_recovery_codes)
    await achanged(request, user, "recovery_codes", "regenerated")
    request.session[SATISFIED_KEY] = 1
    return await _page(request, "auth/recovery_codes.html", codes=codes, first=True,
                       next=values["next"])


def _markup(svg: str) -> Any:
    from markupsafe import Markup

    return Markup(svg)  # segno's own SVG: no user input in it but the escaped URI


@_two_factor_pages.post("/security/recovery-codes", name="recovery_codes",
                        include_in_schema=False)
@login_required
async def recovery_codes(request: Request) -> Response:
    """Make new recovery codes (the old ones stop working), shown once."""
    from heron.db import db

    user = await request.auser()
    form = await request.form()
    factors = await afactors(user)
    if not factors.any:
        flash(request, _("Set up an authenticator app or a passkey first."), "error")
        return _see_other(resolve_url(request, "auth:security"))
    response = await _confirm_password(request, user, form, factors)
    if response is not None:
        return response
    codes = await _totp.replace_recovery_codes(db.async_session, user,
                                               request.app.settings.auth_recovery_codes)
    await achanged(request, user, "recovery_codes", "regenerated")
    return await _page(request, "auth/recovery_codes.html", codes=codes, first=False,
                       next="")


async def _confirm_password(request: Request, user: Any, form: Any,
                            factors: Any, always: bool = False) -> Response | None:
    """The security page again with an error when the password typed is not right."""
    try:
        problem = await _password_problem(request, user, _text(form, "password"), always)
    except Throttled as exc:
        message, headers = _throttled(request, exc)
        return await _page(request, "auth/security.html", 429, headers, error=message,
                           factors=factors, required=requires_two_factor(
                               request.app.settings, user), next="", ask_password=True)
    if problem is None:
        return None
    return await _page(request, "auth/security.html", 400, error=problem, factors=factors,
                       required=requires_two_factor(request.app.settings, user), next="",
                       ask_password=True)


@_two_factor_pages.post("/security/totp/disable", name="totp_disable", include_in_schema=False)
@login_required
async def totp_disable(request: Request) -> Response:
    """Remove the authenticator app (the password is asked for every time).  The
    recovery codes go too when no passkey is left for them to back up."""

    from heron.db import db

    user = await request.auser()
    form = await request.form()
    factors = await afactors(user)
    response = await _confirm_password(request, user, form, factors, always=True)
    if response is not None:
        return response
    row = await _totp_row(user)
    if row is not None and row.secret is not None:
        row.secret, row.confirmed_at, row.last_used_step = None, None, 0
        await db.async_session.commit()
        await achanged(request, user, "totp", "removed")
    await afactor_removed(request, user)
    flash(request, _("The authenticator app was removed from your account."), "success")
    return _see_other(resolve_url(request, "auth:security"))
