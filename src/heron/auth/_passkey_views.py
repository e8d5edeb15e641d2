"""The passkey endpoints of heron.auth (``auth:passkey_*``), served when the
``auth_passkeys`` setting is on; the ceremonies are in :mod:`heron.auth.passkeys`.

=====================================  ==================================  ===========
URL (all POST)                         name                                group
=====================================  ==================================  ===========
``/auth/passkeys/login/options``       ``auth:passkey_login_options``      login
``/auth/passkeys/login``               ``auth:passkey_login``              login
``/auth/passkeys/second/options``      ``auth:passkey_second_options``     two_factor
``/auth/passkeys/second``              ``auth:passkey_second``             two_factor
``/auth/passkeys/register/options``    ``auth:passkey_register_options``   two_factor
``/auth/passkeys/register``            ``auth:passkey_register``           two_factor
``/auth/passkeys/{id}/rename``         ``auth:passkey_rename``             two_factor
``/auth/passkeys/{id}/remove``         ``auth:passkey_remove``             two_factor
=====================================  ==================================  ===========

The ``options`` and ceremony endpoints speak JSON (the browser script
``auth/passkeys.js`` calls them with the CSRF token in its header): a refusal is
``{"error": "..."}`` with 400 (429 when throttled), a success of a login
``{"redirect": url}``.  Rename and remove are plain form posts from the
security page (``auth:security``), which they redirect back to (303).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heron.auth.guards import login_required, resolve_url, safe_next
from heron.auth.passkeys import (
    PasskeyError,
    aauthenticate_passkey,
    aauthentication_options,
    aregister_passkey,
    aregistration_options,
    aremove_passkey,
    arename_passkey,
)
from heron.auth.throttle import Throttled
from heron.exceptions import HTTPException
from heron.i18n import gettext as _
from heron.responses import JSONResponse, RedirectResponse, Response
from heron.routing import Router

if TYPE_CHECKING:
    from heron.requests import Request

__all__ = ["factor_router", "login_router", "template_globals"]

#: The passwordless login (served with the ``login`` pages).
login_router = Router()
#: The second step and the security page's passkeys (served with ``two_factor``).
factor_router = Router()

#: On every JSON answer: challenges and verdicts belong to this session alone.
_NO_STORE = {"cache-control": "no-store"}


def _refused(exc: HTTPException) -> JSONResponse:
    headers = dict(_NO_STORE)
    headers.update(exc.headers or {})
    detail = exc.detail if isinstance(exc.detail, str) else _("The request was refused.")
    return JSONResponse({"error": detail}, status_code=exc.status_code, headers=headers)


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object posted (an empty body: ``{}``).

    Raises:
        PasskeyError: not JSON, or not an object.
    """
    if not await request.body():
        return {}
    try:
        data = await request.json()
    except HTTPException as exc:  # 415 or 400, with the reason
        raise PasskeyError(str(exc.detail), exc.status_code) from None
    if not isinstance(data, dict):
        raise PasskeyError(_("Send a JSON object."))
    return data


def _json(payload: dict[str, Any]) -> JSONResponse:
    return JSONResponse(payload, headers=_NO_STORE)


def _after_login(request: Request, data: dict[str, Any]) -> str:
    wanted = data.get("next")
    target = safe_next(request, wanted if isinstance(wanted, str) else None)
    return target or resolve_url(request, request.app.settings.login_redirect_url)


# -- logging in without a password ---------------------------------------------------


@login_router.post("/passkeys/login/options", name="passkey_login_options",
                   include_in_schema=False)
async def login_options(request: Request) -> Response:
    """Options for a passwordless login: any passkey of this site may answer."""
    try:
        await _body(request)
        return _json(await aauthentication_options(request))
    except PasskeyError as exc:
        return _refused(exc)


@login_router.post("/passkeys/login", name="passkey_login", include_in_schema=False)
async def login_with_passkey(request: Request) -> Response:
    """Verify a passkey and log its owner in (with a new session key).

    Body: ``{"credential": <the PublicKeyCredential as JSON>, "next": "/path"}``;
    answers ``{"redirect": url}``.  The passkey must have verified the user (a
    PIN, a fingerprint): it then stands for both factors.
    """
    from heron.auth.two_factor import afinish_second_step

    try:
        data = await _body(request)
        login = await aauthenticate_passkey(request, data.get("credential"))
    except (PasskeyError, Throttled) as exc:
        return _refused(exc)
    # Both factors at once: logged in as after a second step (a new session key, the
    # requirement met, two_factor.second_factor_used() says "passkey").
    await afinish_second_step(request, login.user, "passkey")
    return _json({"redirect": _after_login(request, data)})


# -- the second step after a password ---------------------------------------------------


async def _pending(request: Request) -> Any:
    from heron.auth.two_factor import apending_user

    user = await apending_user(request)
    if user is None:
        raise PasskeyError(_("No login is waiting for a second step (it may have expired): "
                           "log in again."))
    return user


@factor_router.post("/passkeys/second/options", name="passkey_second_options",
                    include_in_schema=False)
async def second_options(request: Request) -> Response:
    """Options for the second step: the passkeys of the user who gave their password."""
    try:
        await _body(request)
        return _json(await aauthentication_options(request, await _pending(request)))
    except PasskeyError as exc:
        return _refused(exc)


@factor_router.post("/passkeys/second", name="passkey_second", include_in_schema=False)
async def second_step(request: Request) -> Response:
    """Verify one of the pending user's passkeys and end their login.

    Body: ``{"credential": ..., "next": "/path"}``; answers ``{"redirect": url}``.
    """
    from heron.auth.two_factor import afinish_second_step

    try:
        data = await _body(request)
        user = await _pending(request)
        login = await aauthenticate_passkey(request, data.get("credential"), user)
    except (PasskeyError, Throttled) as exc:
        return _refused(exc)
    await afinish_second_step(request, login.user, "passkey")
    return _json({"redirect": _after_login(request, data)})


# -- the security page's passkeys ---------------------------------------------------------


@factor_router.post("/passkeys/register/options", name="passkey_register_options",
                    include_in_schema=False)
@login_required
async def register_options(request: Request) -> Response:
    """Options to add a passkey to the logged-in user.

    Body: ``{"password": "...", "name": "..."}``: the password is needed unless the
    session proved it recently (as for the security page's other changes); the
    name, when given, is checked now, before the device makes a passkey.
    """
    from heron.auth._two_factor_views import _password_problem
    from heron.auth.passkeys import _clean_name

    user = await request.auser()
    try:
        data = await _body(request)
        password = data.get("password")
        problem = await _password_problem(request, user,
                                          password if isinstance(password, str) else "")
        if problem is not None:
            raise PasskeyError(problem)
        if "name" in data:
            _clean_name(data["name"])
        return _json(await aregistration_options(request, user))
    except (PasskeyError, Throttled) as exc:
        return _refused(exc)


@factor_router.post("/passkeys/register", name="passkey_register", include_in_schema=False)
@login_required
async def register(request: Request) -> Response:
    """Verify and store a new passkey.

    Body: ``{"credential": ..., "name": "Laptop"}``; answers 201 with
    ``{"id": ..., "name": ..., "redirect": <the security page>}``.
    """
    from heron.auth.two_factor import afactors
    from heron.flash import flash

    user = await request.auser()
    try:
        data = await _body(request)
        passkey = await aregister_passkey(request, user, data.get("credential"),
                                          data.get("name"))
    except PasskeyError as exc:
        return _refused(exc)
    message = _("The passkey “%(name)s” was added.") % {"name": passkey.name}
    if not (await afactors(user)).recovery_codes:
        message += " " + _("Make recovery codes now, in case you lose it.")
    flash(request, message, "success")
    return JSONResponse({"id": passkey.id, "name": passkey.name,
                         "redirect": resolve_url(request, "auth:security")},
                        status_code=201, headers=_NO_STORE)


async def _form_text(request: Request, name: str) -> str | None:
    form = await request.form()
    value = form.get(name)
    return value if isinstance(value, str) else None


@factor_router.post("/passkeys/{id:int}/rename", name="passkey_rename", include_in_schema=False)
@login_required
async def rename(request: Request, id: int) -> Response:
    """Rename one of the user's passkeys (form field ``name``); back to the security page."""
    from heron.flash import flash

    passkey = await arename_passkey(request, await request.auser(), id,
                                    await _form_text(request, "name"))
    flash(request, _("The passkey is now called “%(name)s”.") % {"name": passkey.name},
          "success")
    return RedirectResponse(resolve_url(request, "auth:security"), 303)


@factor_router.post("/passkeys/{id:int}/remove", name="passkey_remove", include_in_schema=False)
@login_required
async def remove(request: Request, id: int) -> Response:
    """Remove one of the user's passkeys (form field ``password``: asked every time,
    as for every factor removed); back to the security page.

    The password stays.  Removing the last second factor also removes the
    recovery codes (nothing is left for them to back up); a user whom
    ``auth_two_factor_required`` concerns is then asked to set one up again.
    """
    from heron.auth._two_factor_views import _confirm_password
    from heron.auth.two_factor import afactor_removed, afactors
    from heron.flash import flash

    user = await request.auser()
    form = await request.form()
    response = await _confirm_password(request, user, form, await afactors(user),
                                       always=True)
    if response is not None:
        return response
    name = await aremove_passkey(request, user, id)
    await afactor_removed(request, user)
    flash(request, _("The passkey “%(name)s” was removed. You may delete it from the "
                     "device too.") % {"name": name}, "success")
    return RedirectResponse(resolve_url(request, "auth:security"), 303)


def template_globals(app: Any) -> dict[str, Any]:
    """``user_passkeys()``: the logged-in user's passkeys, for ``auth/_passkeys.html``
    (async templates only: the security page is rendered with ``render_async``)."""
    import jinja2

    from heron.templating import request_from_context

    @jinja2.pass_context
    async def user_passkeys(context: Any) -> list[Any]:
        from heron.auth.passkeys import apasskeys

        request = request_from_context(context)
        user = await request.auser()
        if not request.app.settings.auth_passkeys or not user.is_authenticated:
            return []
        return await apasskeys(request, user)

    return {"user_passkeys": user_passkeys}
