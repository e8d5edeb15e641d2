"""The pages of heron.auth, under ``auth_url_prefix`` (``/auth``; URL names in the
``auth:`` namespace).  ``auth_pages`` chooses which groups are served: ``login``
(login and logout), ``password_change``, ``password_reset``, ``signup`` and
``two_factor``.

========================  ===============================  =================================
URL                       name                             template
========================  ===============================  =================================
``/auth/login``           ``auth:login``                   ``auth/login.html``
``/auth/logout`` (POST)   ``auth:logout``                  (redirects)
``/auth/password/change`` ``auth:password_change``         ``auth/password_change.html``
``.../change/done``       ``auth:password_change_done``    ``auth/password_change_done.html``
``/auth/password/reset``  ``auth:password_reset``          ``auth/password_reset.html``
``.../reset/done``        ``auth:password_reset_done``     ``auth/password_reset_done.html``
``.../reset/{token}``     ``auth:password_reset_confirm``  ``auth/password_reset_confirm.html``
``/auth/signup``          ``auth:signup``                  ``auth/signup.html``
``/auth/two-factor``      ``auth:two_factor``              ``auth/two_factor.html``
``/auth/security``        ``auth:security``                ``auth/security.html``
========================  ===============================  =================================

The ``two_factor`` group also serves ``auth:totp_setup``, ``auth:totp_disable`` and
``auth:recovery_codes`` (heron.auth._two_factor_views).

A bad reset link shows ``auth/password_reset_invalid.html``.  Every page extends
``auth/base.html`` (blocks ``title``, ``content``, ``stylesheets``, ``header``) and
imports its form helpers from ``auth/_macros.html``; a project replaces any of them
by writing a template of the same name in its own ``templates/`` folder (the
stylesheet is the static file ``auth/auth.css``).  The reset mail is
``auth/mail/password_reset`` (``.subject.txt``, ``.txt``, ``.html``).

Answers: a form with invalid input comes back with 422 and the errors on its
fields; a wrong login with 400 and one message that does not say which part was
wrong (``auth_messages`` may reword the login messages); too many attempts with
429 and ``Retry-After``; a reset link that is bad, expired or used with 400.
Every successful POST redirects (303).  Every answer carries
``Cache-Control: no-store``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from heron import signals
from heron.auth._accounts import (
    email_error,
    login_error,
    login_label,
    login_word,
    password_errors,
    signup_fields,
    taken_message,
    user_attributes,
)
from heron.auth._login import alogin, logout
from heron.auth._login import update_session_auth_hash as keep_session
from heron.auth.guards import login_required, resolve_url, safe_next
from heron.auth.reset import make_reset_token, read_reset_token, reset_token_matches
from heron.auth.throttle import Throttle, Throttled
from heron.auth.users import (
    aauthenticate,
    acreate_user,
    find_user,
    get_user_model,
    normalize_username,
)
from heron.concurrency import run_in_threadpool
from heron.exceptions import HTTPException
from heron.flash import flash
from heron.i18n import gettext, ngettext
from heron.requests import HTTPConnection, Request
from heron.responses import RedirectResponse, Response
from heron.routing import Router
from heron.templating import render_async

if TYPE_CHECKING:
    from heron.app import App
    from heron.auth.models import AbstractBaseUser
    from heron.datastructures import FormData

__all__ = ["LOGIN_MESSAGES", "PAGES", "component_router", "pages_router", "router"]

logger = logging.getLogger("heron.auth")

_login_pages, _password_change_pages = Router(), Router()
_password_reset_pages, _signup_pages = Router(), Router()
_two_factor_pages = Router()  # its routes: heron.auth._two_factor_views
#: The groups of pages ``auth_pages`` can name.
PAGES: dict[str, Router] = {
    "login": _login_pages,
    "password_change": _password_change_pages,
    "password_reset": _password_reset_pages,
    "signup": _signup_pages,
    "two_factor": _two_factor_pages,
}
def _(message: str) -> str:
    # Marks a message for heron's catalog (heron i18n extract); _message translates it.
    return message


#: The login page's messages, by their key in ``auth_messages``; ``throttled``
#: is the too-many-attempts message of every page.
#: They are shown in the request's language (heron's catalog translates them);
#: a message set in ``auth_messages`` is shown as it is given.
LOGIN_MESSAGES: dict[str, str] = {
    "wrong_login": _("Please enter a correct {login_label} and password."),
    "username_required": _("Enter your {login_label}."),
    "password_required": _("Enter your password."),
    "throttled": _("Too many attempts. Please try again in {wait}."),
}


async def _never_stored(request: Request, response: Response) -> None:
    # Login, password and signup pages carry a CSRF token, a reset token or the
    # user's name: no cache, private or shared, may keep them (Django's login
    # views are never_cache too).  A page that chose its own policy keeps it.
    response.headers.setdefault("cache-control", "no-store")


def pages_router(pages: Iterable[str] = PAGES, prefix: str = "/auth") -> Router:
    """A router serving the groups of pages named in ``pages`` under ``prefix``
    (unknown names are left out: the startup checks report them)."""
    prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
    built = Router(prefix=prefix)
    built.after_request(_never_stored)
    for name in dict.fromkeys(pages):
        if name in PAGES:
            built.include(PAGES[name])
    return built


def component_router(app: App) -> Router | None:
    """The pages ``auth_pages`` names, under ``auth_url_prefix`` (none: ``None``)."""
    settings = app.settings
    if not settings.auth_pages:
        return None
    return pages_router(settings.auth_pages, settings.auth_url_prefix)


#: Every page under ``/auth`` (for ``app.include(router)`` without the component).
router = pages_router()

#: Reset mails per address within ``login_throttle_window`` (it stops mail floods).
RESET_MAILS_PER_ADDRESS = 3
Errors = dict[str, list[str]]


# -- helpers --------------------------------------------------------------------


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""  # an upload is no text


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, 303)


def _next(conn: HTTPConnection, form: FormData | None = None) -> str | None:
    """The safe ``next`` of the form's hidden field, or else of the query string."""
    wanted = _text(form, "next") if form is not None else ""
    return safe_next(conn, wanted or conn.query_params.get("next"))


def _message(request: Request, key: str, **values: str) -> str:
    text = request.app.settings.auth_messages.get(key) or gettext(LOGIN_MESSAGES[key])
    return text.format(**values)  # checked at startup (heron.auth.E021)


async def _page(request: Request, template: str, status: int = 200,
                headers: Mapping[str, str] | None = None, **values: Any) -> Response:
    await request.auser()  # templates may show request.user
    # The links between pages: only to those this app serves.
    values.setdefault("auth_pages", frozenset(request.app.settings.auth_pages))
    values.setdefault("errors", {})
    values.setdefault("error", "")
    return await render_async(request, template, status_code=status, headers=headers,
                              **values)


def _new_password_errors(request: Request, form: FormData,
                         attributes: Mapping[str, str]) -> Errors:
    """Errors of the "new password, twice" fields ``password1`` and ``password2``."""
    first, second = _text(form, "password1"), _text(form, "password2")
    if not first:
        return {"password1": [gettext("Enter a new password.")]}
    if first != second:
        return {"password2": [gettext("The two passwords do not match.")]}
    problems = password_errors(first, request.app.settings, attributes)
    return {"password1": problems} if problems else {}


def _throttled(request: Request, exc: Throttled) -> tuple[str, dict[str, str]]:
    minutes = max(1, (exc.retry_after + 59) // 60)
    wait = ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    return (_message(request, "throttled", wait=wait),
            {"retry-after": str(exc.retry_after)})


def _help_texts(request: Request) -> list[str]:
    from heron.auth.validators import password_help_texts

    return [t for t in password_help_texts(request.app.settings) if t]


# -- logging in and out -----------------------------------------------------------


@_login_pages.route("/login", ["GET", "POST"], name="login", include_in_schema=False)
async def login_view(request: Request) -> Response:
    """The login form; on success, a new session and a redirect to ``next``.

    ``next`` (query string, carried in a hidden field) is followed only when it
    is a URL of this site; else ``login_redirect_url``.  A user who is already
    logged in sees the form too (to log in as someone else).
    """
    model = get_user_model(request.app)
    values: dict[str, Any] = {"login_label": login_label(model),
                              "signup": request.app.settings.auth_signup}
    if request.method == "GET":
        return await _page(request, "auth/login.html", username="",
                           next=_next(request) or "", **values)
    form = await request.form()
    username, password = _text(form, "username"), _text(form, "password")
    next_url = _next(request, form)
    values.update(username=username, next=next_url or "")
    errors: Errors = {}
    label = login_word(model)
    if not username.strip():
        errors["username"] = [_message(request, "username_required", login_label=label)]
    if not password:
        errors["password"] = [_message(request, "password_required", login_label=label)]
    if errors:
        return await _page(request, "auth/login.html", 422, errors=errors, **values)
    try:
        user = await aauthenticate(request, username, password)
    except Throttled as exc:
        message, headers = _throttled(request, exc)
        return await _page(request, "auth/login.html", 429, headers, error=message, **values)
    if user is None:
        message = _message(request, "wrong_login", login_label=label)
        return await _page(request, "auth/login.html", 400, error=message, **values)
    from heron.auth._two_factor_views import alogin_or_second_step

    return await alogin_or_second_step(request, user, next_url)


@_login_pages.post("/logout", name="logout", include_in_schema=False)
async def logout_view(request: Request) -> Response:
    """End the session (POST only: a link or an image cannot log anyone out)."""
    if request.app.settings.session_cookie_name in request.cookies:
        if signals.user_logged_out.receivers:
            await request.auser()  # the signal names who logged out
        logout(request)
    return _see_other(resolve_url(request, request.app.settings.logout_redirect_url))


# -- changing the password ----------------------------------------------------------


@_password_change_pages.route("/password/change", ["GET", "POST"], name="password_change",
                              include_in_schema=False)
@login_required
async def password_change(request: Request) -> Response:
    """Change one's own password: the current one, then the new one twice.

    The other sessions of the user end (their stored password fingerprint no
    longer matches); this one continues under a new key.  Wrong current
    passwords count as failed logins (the same throttle, 429).
    """
    from heron.db import db

    user = await request.auser()
    values: dict[str, Any] = {"help_texts": _help_texts(request)}
    if request.method == "GET":
        return await _page(request, "auth/password_change.html", **values)
    form = await request.form()
    old = _text(form, "old_password")
    errors = _new_password_errors(request, form, user_attributes(user))
    if not old:
        errors["old_password"] = [gettext("Enter your current password.")]
    else:
        try:
            same = await aauthenticate(request, user.get_username(), old)
        except Throttled as exc:
            message, headers = _throttled(request, exc)
            return await _page(request, "auth/password_change.html", 429, headers,
                               error=message, **values)
        if same is None or same.id != user.id:
            errors["old_password"] = [
                gettext("Your current password was entered incorrectly.")]
    if errors:
        return await _page(request, "auth/password_change.html", 422, errors=errors, **values)
    await run_in_threadpool(user.set_password, _text(form, "password1"), request.app.settings)
    await db.async_session.commit()
    keep_session(request, user)
    return _see_other(resolve_url(request, "auth:password_change_done"))


@_password_change_pages.get("/password/change/done", name="password_change_done",
                            include_in_schema=False)
@login_required
async def password_change_done(request: Request) -> Response:
    return await _page(request, "auth/password_change_done.html")


# -- resetting a forgotten password ----------------------------------------------------


def _reset_throttles(app: App) -> tuple[Throttle, Throttle]:
    throttles = app.extensions.get("heron.auth.reset_throttles")
    if throttles is None:
        settings = app.settings
        throttles = app.extensions["heron.auth.reset_throttles"] = (
            Throttle(app.cache, "reset-mail", RESET_MAILS_PER_ADDRESS,
                     settings.login_throttle_window),
            Throttle(app.cache, "reset-ip", settings.login_throttle_ip_limit,
                     settings.login_throttle_window),
        )
    return throttles  # type: ignore[no-any-return]


async def _count_reset(conn: HTTPConnection, email: str) -> None:
    """Count a reset request per address and per client; raise Throttled past the limits.

    Every request counts, whether or not an account has the address, so the
    429 tells nothing about accounts.
    """
    by_address, by_ip = _reset_throttles(conn.app)
    address = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    ip = conn.client.host if conn.client else "unknown"
    await by_address.take(address)
    await by_ip.take(ip)


async def _users_with_email(app: App, email: str) -> list[AbstractBaseUser]:
    """Active users with ``email`` (any case) and a password they could have forgotten."""
    from heron.db import db

    model = get_user_model(app)
    table = model.__table__  # type: ignore[attr-defined]
    if model.EMAIL_FIELD not in table.c:
        return []
    column = table.c[model.EMAIL_FIELD]
    query = select(model).where(func.heron_lower(column) == func.heron_lower(email),
                                model.is_active.is_(True))
    users = (await db.async_session.scalars(query)).all()
    return [user for user in users if user.has_usable_password()]


async def _send_reset_mail(request: Request, user: AbstractBaseUser) -> None:
    from heron.mail import mailer, render_mail

    app = request.app
    token = make_reset_token(app, user)
    context = {
        "user": user,
        "username": user.get_username(),
        "reset_url": request.url_for("auth:password_reset_confirm", token=token),
        "site": request.url.netloc,
        "valid_minutes": max(1, app.settings.password_reset_timeout // 60),
    }
    message = render_mail(app, "auth/mail/password_reset", context, [user.get_email()])
    try:
        if app.plugin("heron.tasks") is not None and app.settings.tasks_backend != "immediate":
            from heron.mail.tasks import asend_later

            # A task: the SMTP server's latency and failures are kept out of the request,
            # and a failed send is retried.
            await asend_later(message)
        else:
            await mailer(app).send(message)
    except Exception:  # the page must not tell whether a mail was due
        logger.exception("The password reset mail for user %s could not be sent",
                         user.get_username())


@_password_reset_pages.route("/password/reset", ["GET", "POST"], name="password_reset",
                             include_in_schema=False)
async def password_reset(request: Request) -> Response:
    """Ask for a reset link by email.

    The answer is the same whether or not an account has the address (no
    account enumeration).  Every active user with that address (whatever its
    case) and a usable password gets a mail with a link that works once, until
    ``password_reset_timeout`` seconds have passed.  A mail that cannot be sent
    is logged (``heron.auth``), not shown.
    """
    if request.method == "GET":
        return await _page(request, "auth/password_reset.html", email="")
    form = await request.form()
    email = _text(form, "email").strip()
    error = email_error(email)
    if error is not None:
        return await _page(request, "auth/password_reset.html", 422, email=email,
                           errors={"email": [error]})
    try:
        await _count_reset(request, email)
    except Throttled as exc:
        message, headers = _throttled(request, exc)
        return await _page(request, "auth/password_reset.html", 429, headers, email=email,
                           error=message)
    for user in await _users_with_email(request.app, email):
        await _send_reset_mail(request, user)
    return _see_other(resolve_url(request, "auth:password_reset_done"))


@_password_reset_pages.get("/password/reset/done", name="password_reset_done",
                           include_in_schema=False)
async def password_reset_done(request: Request) -> Response:
    return await _page(request, "auth/password_reset_done.html")


async def _user_of_token(request: Request, token: str) -> AbstractBaseUser | None:
    from heron.db import db

    found = read_reset_token(request.app, token)
    if found is None:
        return None
    user = await db.async_session.get(get_user_model(request.app), found[0])
    return user if reset_token_matches(user, found[1]) else None


@_password_reset_pages.route("/password/reset/{token}", ["GET", "POST"],
                             name="password_reset_confirm", include_in_schema=False)
async def password_reset_confirm(request: Request, token: str) -> Response:
    """Set a new password from a reset link, then go to the login page.

    The link is good once: the new password changes what the token signed
    (an atomic conditional update, so two concurrent uses cannot both
    succeed).  It does not log the user in.  The page is sent with
    ``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store``: the
    token must not travel on.
    """
    from heron.auth.hashing import make_password
    from heron.db import db

    headers = {"referrer-policy": "no-referrer", "cache-control": "no-store"}
    user = await _user_of_token(request, token)
    if user is None:
        return await _page(request, "auth/password_reset_invalid.html", 400, headers)
    values: dict[str, Any] = {"help_texts": _help_texts(request),
                              "username": user.get_username()}
    if request.method == "GET":
        return await _page(request, "auth/password_reset_confirm.html", 200, headers, **values)
    form = await request.form()
    errors = _new_password_errors(request, form, user_attributes(user))
    if errors:
        return await _page(request, "auth/password_reset_confirm.html", 422, headers,
                           errors=errors, **values)
    new_hash = await run_in_threadpool(make_password, _text(form, "password1"),
                                       request.app.settings)
    model = type(user)
    session = db.async_session
    result = await session.execute(
        update(model).where(model.id == user.id, model.password == user.password)  # type: ignore[attr-defined]
        .values(password=new_hash))
    if result.rowcount != 1:  # type: ignore[attr-defined]  # used meanwhile: nothing changed
        return await _page(request, "auth/password_reset_invalid.html", 400, headers)
    await session.commit()
    set_committed_value(user, "password", new_hash)
    flash(request, gettext("Your password has been set. You may log in now."), "success")
    return _see_other(resolve_url(request, request.app.settings.login_url))


# -- signing up ---------------------------------------------------------------------


async def _signup_errors(request: Request, form: FormData, model: type[AbstractBaseUser],
                         username: str, email: str) -> Errors:
    from heron.db import db

    login_field, email_field, email_required = signup_fields(model)
    errors: Errors = {}
    problem = login_error(model, username)
    if problem is None and await db.async_session.scalar(find_user(model, username)) is not None:
        problem = taken_message(model)
    if problem is not None:
        errors["username"] = [problem]
    email_problem = email_error(email) if email_field and (email or email_required) else None
    if email_problem is not None:
        errors["email"] = [email_problem]
    attributes = {login_field: username, **({email_field: email} if email_field else {})}
    errors.update(_new_password_errors(request, form, attributes))
    return errors


@_signup_pages.route("/signup", ["GET", "POST"], name="signup", include_in_schema=False)
async def signup(request: Request) -> Response:
    """Create an account and log in (only when the ``auth_signup`` setting is on; else 404).

    Asks for the login field (the username), the email (when the user model
    has one apart from the login) and the password twice.  Logins are unique
    whatever their case; a model with more required fields needs a view of
    the project's own.
    """
    from heron.db import db

    if not request.app.settings.auth_signup:
        raise HTTPException(404)
    model = get_user_model(request.app)
    _, email_field, email_required = signup_fields(model)
    values: dict[str, Any] = {"login_label": login_label(model), "ask_email": bool(email_field),
                              "email_required": email_required,
                              "help_texts": _help_texts(request)}
    if request.method == "GET":
        return await _page(request, "auth/signup.html", username="", email="",
                           next=_next(request) or "", **values)
    form = await request.form()
    username = normalize_username(_text(form, "username"))
    email = _text(form, "email").strip() if email_field else ""
    next_url = _next(request, form)
    values.update(username=username, email=email, next=next_url or "")
    errors = await _signup_errors(request, form, model, username, email)
    if not errors:
        fields = {email_field: email} if email_field else {}
        session = db.async_session
        try:
            user = await acreate_user(session, request.app, username,
                                      _text(form, "password1"), **fields)
        except IntegrityError:  # the same name, signed up a moment ago
            await session.rollback()
            errors["username"] = [taken_message(model)]
        else:
            await alogin(request, user)  # commits the new user too
            from heron.auth._two_factor_views import mark_verified

            mark_verified(request)  # the password was just typed: no need to ask again
            return _see_other(next_url or resolve_url(request,
                                                       request.app.settings.login_redirect_url))
    return await _page(request, "auth/signup.html", 422, errors=errors, **values)


# The two-factor pages join _two_factor_pages (they use this module's helpers).
from heron.auth import _two_factor_views  # noqa: E402, F401

# Passkeys (heron.auth._passkey_views): the passwordless login goes with the login
# pages, the second step and the security page's part with the two-factor pages.
from heron.auth._passkey_views import factor_router, login_router  # noqa: E402

_login_pages.include(login_router)
_two_factor_pages.include(factor_router)
