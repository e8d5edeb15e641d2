"""Passkeys (WebAuthn): registering them, and logging in with one (docs/auth.md).

The ceremonies, on the ``webauthn`` library (imported only when a passkey is
used).  Each ceremony has two steps: the *options* (a random challenge, kept in
the session for :data:`CHALLENGE_LIFETIME` seconds and used once) that the
browser hands to ``navigator.credentials.create()`` or ``.get()``, and the
*verification* of what the authenticator answered.  The views of
:mod:`heron.auth._passkey_views` call them; a project's own views may too.

A passkey logs a user in on its own ("passwordless") only when the
authenticator verified the user (a PIN, a fingerprint): possession of the
device and that check are two factors.  As the second step after a password,
presence is enough.

Every refusal raises :class:`PasskeyError` (400) with a message that says what
went wrong; nothing a client sends gives a 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from heron.auth.models import utcnow
from heron.auth.users import get_user_model
from heron.exceptions import HTTPException
from heron.i18n import gettext as _
from heron.i18n import ngettext

if TYPE_CHECKING:
    from heron.app import App
    from heron.auth.models import AbstractBaseUser
    from heron.auth.throttle import Throttle
    from heron.requests import HTTPConnection

__all__ = [
    "CHALLENGE_LIFETIME",
    "PasskeyError",
    "PasskeyLogin",
    "aauthenticate_passkey",
    "aauthentication_options",
    "apasskeys",
    "aregister_passkey",
    "aregistration_options",
    "aremove_passkey",
    "arename_passkey",
    "check_settings",
    "expected_origins",
    "relying_party_id",
    "user_handle",
]

logger = logging.getLogger("heron.auth")

#: Seconds a ceremony's challenge stays good (the browser's own timeout is the same).
CHALLENGE_LIFETIME = 300
#: The longest passkey name (the column's length).
NAME_LENGTH = 100
_SESSION_KEY = "_auth_passkey"
_TRANSPORTS = frozenset({"ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"})


class PasskeyError(HTTPException):
    """400: a passkey step was refused; ``detail`` says why, for people."""

    def __init__(self, detail: str, status_code: int = 400) -> None:
        super().__init__(status_code, detail)


@dataclass(frozen=True)
class PasskeyLogin:
    """A verified passkey assertion: who, with which passkey, and whether the
    authenticator verified the user (a PIN or a fingerprint)."""

    user: Any
    passkey: Any
    user_verified: bool


# -- the relying party ------------------------------------------------------------


def relying_party_id(conn: HTTPConnection) -> str:
    """``auth_passkey_rp_id``, or else the host the request was made to (no port).

    Passkeys are bound to it: a passkey made for ``example.com`` works on
    ``example.com`` and its subdomains only.  An IP address is no valid RP ID:
    browse ``http://localhost:8000`` in development, not ``127.0.0.1``.
    """
    configured: str = conn.app.settings.auth_passkey_rp_id
    if configured:
        return configured
    return (conn.url.hostname or "localhost").lower()


def expected_origins(conn: HTTPConnection) -> list[str]:
    """``auth_passkey_origins``, or else the request's own origin (``scheme://host[:port]``)."""
    configured: list[str] = conn.app.settings.auth_passkey_origins
    if configured:
        return [origin.rstrip("/") for origin in configured]
    url = conn.url
    return [f"{url.scheme}://{url.netloc}"]


def user_handle(app: App, user: AbstractBaseUser) -> bytes:
    """The stable, opaque id of ``user`` that their passkeys keep (WebAuthn's user
    handle): an HMAC of the user's id under the app's current secret key, so it
    tells nothing about the account.  Logins find the account by the passkey's
    credential id, not by this handle: rotating the key breaks no passkey."""
    from heron.signing import secret_keys

    return _handle(secret_keys(app)[-1], user)


def _handle(key: str, user: AbstractBaseUser) -> bytes:
    table = type(user).__tablename__
    message = f"heron.auth.passkey:{table}:{user.id}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).digest()


def _rp_id_problem(rp_id: str) -> str | None:
    import ipaddress

    try:
        ipaddress.ip_address(rp_id.strip("[]"))
    except ValueError:
        pass
    else:
        return "an IP address, which browsers refuse as an RP ID"
    labels = rp_id.split(".")
    if any(c in rp_id for c in ":/@ ") or rp_id != rp_id.lower() or not all(labels):
        return "not a lower-case domain name (no scheme, port or path)"
    return None


def check_settings(app: App) -> list[Any]:
    """The problems of the passkey settings, for the startup checks: a bad
    ``auth_passkey_rp_id`` (heron.auth.E040), an ``auth_passkey_origins`` entry
    that browsers would never send or that is not on the RP ID (heron.auth.E041)."""
    from urllib.parse import urlsplit

    from heron.exceptions import ImproperlyConfigured

    settings = app.settings
    if not settings.auth_passkeys:
        return []
    problems = []
    rp_id: str = settings.auth_passkey_rp_id
    problem = _rp_id_problem(rp_id) if rp_id else None
    if problem:
        problems.append(ImproperlyConfigured(
            f"auth_passkey_rp_id is {rp_id!r}: {problem}; use the site's domain, such as "
            "'example.com'", id="heron.auth.E040"))
    wrong = []
    for origin in settings.auth_passkey_origins:
        try:
            parts = urlsplit(origin)
            host = parts.hostname or ""
            _ = parts.port  # raises for a port that is no number
        except ValueError:
            host, parts = "", urlsplit("")
        local = host == "localhost" or host.endswith(".localhost")
        if parts.scheme not in ("https", "http") or not host or parts.path.strip("/") \
                or parts.query or (parts.scheme == "http" and not local):
            wrong.append(f"{origin!r} is not an origin browsers allow passkeys on "
                         "(https://host[:port]; http only for localhost)")
        elif rp_id and not problem and host != rp_id and not host.endswith("." + rp_id):
            wrong.append(f"{origin!r} is not on auth_passkey_rp_id {rp_id!r}")
    if wrong:
        problems.append(ImproperlyConfigured("auth_passkey_origins: " + "; ".join(wrong),
                                             id="heron.auth.E041"))
    return problems


def _enabled(conn: HTTPConnection) -> None:
    if not conn.app.settings.auth_passkeys:
        raise PasskeyError(_("Passkeys are turned off on this site."), 404)


# -- the challenge, kept in the session --------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: object) -> bytes | None:
    if not isinstance(text, str) or len(text) > 4096:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        return None


def _keep_challenge(conn: HTTPConnection, purpose: str, challenge: bytes,
                    user_id: Any = None) -> None:
    conn.session[_SESSION_KEY] = {"purpose": purpose, "challenge": _b64(challenge),
                                  "user": user_id, "expires": time.time() + CHALLENGE_LIFETIME}


def _take_challenge(conn: HTTPConnection, purpose: str, user_id: Any = None) -> bytes:
    """The session's challenge for ``purpose``, removed (it serves once).

    Raises:
        PasskeyError: none is under way, it expired, or it was for something else.
    """
    kept = conn.session.pop(_SESSION_KEY, None)
    if not isinstance(kept, dict) or kept.get("purpose") != purpose or \
            kept.get("user") != user_id:
        raise PasskeyError(_("No passkey request is under way here (or it was already "
                           "answered): start again."))
    expires = kept.get("expires")
    challenge = _unb64(kept.get("challenge"))
    if not isinstance(expires, (int, float)) or expires < time.time() or challenge is None:
        raise PasskeyError(_("The passkey request expired: start again."))
    return challenge


def _options_dict(options: Any) -> dict[str, Any]:
    from webauthn import options_to_json

    parsed: dict[str, Any] = json.loads(options_to_json(options))
    return parsed


# -- the user's passkeys -------------------------------------------------------------


def _model(app: App) -> Any:
    return get_user_model(app).passkey_model


async def apasskeys(conn: HTTPConnection, user: AbstractBaseUser) -> list[Any]:
    """``user``'s passkeys, oldest first."""
    from heron.db import db

    model = _model(conn.app)
    query = select(model).where(model.user_id == user.id).order_by(model.id)
    return list((await db.async_session.scalars(query)).all())


def _descriptors(passkeys: list[Any]) -> list[Any]:
    from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

    found = []
    for passkey in passkeys:
        transports = [AuthenticatorTransport(t) for t in passkey.transports.split(",")
                      if t in {a.value for a in AuthenticatorTransport}]
        found.append(PublicKeyCredentialDescriptor(id=passkey.credential_id,
                                                   transports=transports or None))
    return found


def _clean_name(name: object) -> str:
    if not isinstance(name, str):
        raise PasskeyError(_("The passkey's name must be text."))
    name = " ".join(name.split())
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
        raise PasskeyError(_("A passkey's name cannot hold control characters."))
    if not name:
        raise PasskeyError(_("Give the passkey a name (for example the device it is on)."))
    if len(name) > NAME_LENGTH:
        raise PasskeyError(ngettext("A passkey's name has at most %(count)d character.",
                                    "A passkey's name has at most %(count)d characters.",
                                    NAME_LENGTH) % {"count": NAME_LENGTH})
    return name


async def _send_changed(conn: HTTPConnection, user: AbstractBaseUser, action: str,
                        name: str) -> None:
    from heron.auth.two_factor import achanged
    from heron.db import db

    # The signal and a line in the log; what receivers add (heron.admin's audit entry)
    # is committed too.
    await achanged(conn, user, "passkey", action, name, session=db.async_session)


# -- registration -----------------------------------------------------------------


async def aregistration_options(conn: HTTPConnection, user: AbstractBaseUser) -> dict[str, Any]:
    """The options for ``navigator.credentials.create()`` (as JSON-ready data) to add
    a passkey to ``user``; its challenge is kept in the session.

    The passkey is asked to be discoverable (so it can log in without a
    username) and to verify the user where it can; the user's passkeys are
    excluded (an authenticator makes no second one for the same account).
    """
    from webauthn import generate_registration_options
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    _enabled(conn)
    settings = conn.app.settings
    rp_id = relying_party_id(conn)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=settings.auth_passkey_rp_name or rp_id,
        user_name=user.get_username(),
        user_id=user_handle(conn.app, user),
        timeout=CHALLENGE_LIFETIME * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=_descriptors(await apasskeys(conn, user)),
    )
    _keep_challenge(conn, "register", options.challenge, user.id)
    return _options_dict(options)


def _transports(credential: dict[str, Any]) -> str:
    response = credential.get("response")
    given = response.get("transports") if isinstance(response, dict) else None
    if not isinstance(given, list):
        return ""
    return ",".join(t for t in dict.fromkeys(given) if isinstance(t, str) and t in _TRANSPORTS)


async def aregister_passkey(conn: HTTPConnection, user: AbstractBaseUser, credential: object,
                            name: object) -> Any:
    """Verify the browser's answer to :func:`aregistration_options` and store the new
    passkey under ``name``; returns it (committed).

    Sends :data:`heron.signals.two_factor_changed` (``action="added"``).

    Raises:
        PasskeyError: a bad name, no (or an expired) challenge, an answer that does
            not verify (another challenge, origin or site; tampered data), or a
            passkey that is already registered.
    """
    from webauthn import verify_registration_response
    from webauthn.helpers.exceptions import WebAuthnException

    from heron.db import db

    _enabled(conn)
    clean = _clean_name(name)
    challenge = _take_challenge(conn, "register", user.id)
    if not isinstance(credential, dict):
        raise PasskeyError(_("The passkey's answer is missing: send it as \"credential\"."))
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge,
            expected_rp_id=relying_party_id(conn), expected_origin=expected_origins(conn))
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise PasskeyError(_("The new passkey could not be verified: %(reason)s")
                           % {"reason": _reason(exc)}) from None
    if len(verified.credential_id) > 1023:  # WebAuthn's limit: longer ones are forged
        raise PasskeyError(_("The new passkey could not be verified: its id is too long."))
    model = _model(conn.app)
    passkey = model(user_id=user.id, name=clean,
                    credential_id=verified.credential_id,
                    public_key=verified.credential_public_key,
                    sign_count=verified.sign_count, transports=_transports(credential),
                    aaguid=verified.aaguid[:36], backed_up=verified.credential_backed_up)
    session = db.async_session
    session.add(passkey)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise PasskeyError(_("This passkey is already registered.")) from None
    await _send_changed(conn, user, "added", clean)
    return passkey


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "challenge" in text.lower():
        return "it answers another request (the challenge does not match). Start again."
    if "origin" in text.lower():
        return (f"{text}. Set auth_passkey_origins (and auth_passkey_rp_id) to the "
                f"site's address.")
    return text.rstrip(".") + "."


async def _owned(conn: HTTPConnection, user: AbstractBaseUser, passkey_id: int) -> Any:
    from heron.db import db

    model = _model(conn.app)
    passkey = None
    if 0 < passkey_id < 2**63:  # else no row, and the database refuses the number
        passkey = await db.async_session.scalar(
            select(model).where(model.id == passkey_id, model.user_id == user.id))
    if passkey is None:
        raise PasskeyError(_("You have no such passkey."), 404)
    return passkey


async def arename_passkey(conn: HTTPConnection, user: AbstractBaseUser, passkey_id: int,
                          name: object) -> Any:
    """Give ``user``'s passkey ``passkey_id`` a new name; returns it (committed).

    Raises:
        PasskeyError: 400 for a bad name; 404 when ``user`` has no such passkey.
    """
    from heron.db import db

    _enabled(conn)
    clean = _clean_name(name)
    passkey = await _owned(conn, user, passkey_id)
    old, passkey.name = passkey.name, clean
    await db.async_session.commit()
    if old != clean:
        await _send_changed(conn, user, "renamed", clean)
    return passkey


async def aremove_passkey(conn: HTTPConnection, user: AbstractBaseUser, passkey_id: int) -> str:
    """Delete ``user``'s passkey ``passkey_id``; returns its name.

    The authenticator keeps its copy (the user may delete it there); it no
    longer logs in here.

    Raises:
        PasskeyError: 404 when ``user`` has no such passkey.
    """
    from heron.db import db

    _enabled(conn)
    passkey = await _owned(conn, user, passkey_id)
    name: str = passkey.name
    await db.async_session.delete(passkey)
    await db.async_session.commit()
    await _send_changed(conn, user, "removed", name)
    return name


# -- logging in --------------------------------------------------------------------


async def aauthentication_options(conn: HTTPConnection,
                                  user: AbstractBaseUser | None = None) -> dict[str, Any]:
    """The options for ``navigator.credentials.get()`` (as JSON-ready data); the
    challenge is kept in the session.

    With ``user`` (the second step of their login) only their passkeys are
    offered; without, any passkey of this site may answer (a passwordless login:
    user verification is required).

    Raises:
        PasskeyError: ``user`` has no passkey.
    """
    from webauthn import generate_authentication_options
    from webauthn.helpers.structs import UserVerificationRequirement

    _enabled(conn)
    allowed = None
    if user is not None:
        allowed = _descriptors(await apasskeys(conn, user))
        if not allowed:
            raise PasskeyError(_("This account has no passkey."))
    options = generate_authentication_options(
        rp_id=relying_party_id(conn), timeout=CHALLENGE_LIFETIME * 1000,
        allow_credentials=allowed,
        user_verification=UserVerificationRequirement.PREFERRED if user is not None
        else UserVerificationRequirement.REQUIRED)
    _keep_challenge(conn, "login", options.challenge,
                    None if user is None else user.id)
    return _options_dict(options)


def _throttles(app: App) -> tuple[Throttle, Throttle]:
    throttles = app.extensions.get("heron.auth.passkey_throttles")
    if throttles is None:
        from heron.auth.throttle import Throttle

        settings = app.settings
        throttles = app.extensions["heron.auth.passkey_throttles"] = (
            Throttle(app.cache, "passkey-user", settings.login_throttle_limit,
                     settings.login_throttle_window),
            Throttle(app.cache, "passkey-ip", settings.login_throttle_ip_limit,
                     settings.login_throttle_window),
        )
    return throttles  # type: ignore[no-any-return]


async def aauthenticate_passkey(conn: HTTPConnection, credential: object,
                                user: AbstractBaseUser | None = None) -> PasskeyLogin:
    """Verify the browser's answer to :func:`aauthentication_options`; the passkey's
    sign count and ``last_used_at`` are stored (committed).  Nobody is logged in
    here: the caller does that (:func:`heron.auth.alogin`, or the second step's end).

    Failures count like wrong passwords (``login_throttle_ip_limit`` per client
    address, ``login_throttle_limit`` per user for a second step).

    Raises:
        PasskeyError: no (or an expired) challenge; a passkey that is unknown, of
            another user, of an inactive user, or that did not verify the user on
            a passwordless login; an answer that does not verify (another
            challenge, origin or site; tampered data); a sign count that went
            backwards (a cloned authenticator).
        Throttled: 429, too many failures.
    """
    _enabled(conn)
    by_user, by_ip = _throttles(conn.app)
    ip = conn.client.host if conn.client else "unknown"
    user_key = None if user is None else f"{type(user).__tablename__}:{user.id}"
    await by_ip.take(ip)
    if user_key is not None:
        await by_user.take(user_key)
    login = await _verify_assertion(conn, credential, user)
    await by_ip.give_back(ip)
    if user_key is not None:
        await by_user.reset(user_key)
    return login


async def _verify_assertion(conn: HTTPConnection, credential: object,
                            user: AbstractBaseUser | None) -> PasskeyLogin:
    from webauthn import verify_authentication_response
    from webauthn.helpers import parse_authentication_credential_json
    from webauthn.helpers.exceptions import WebAuthnException

    from heron.db import db

    challenge = _take_challenge(conn, "login", None if user is None else user.id)
    if not isinstance(credential, dict):
        raise PasskeyError(_("The passkey's answer is missing: send it as \"credential\"."))
    try:
        parsed = parse_authentication_credential_json(credential)
    except Exception as exc:  # the library lets base64 and JSON errors through
        raise PasskeyError(_("The passkey's answer is malformed: %(reason)s")
                           % {"reason": _reason(exc)}) from None
    model = _model(conn.app)
    session = db.async_session
    passkey = await session.scalar(select(model).where(model.credential_id == parsed.raw_id))
    if passkey is None:
        raise PasskeyError(_("This passkey is not registered on this site (it may have been "
                           "removed)."))
    if user is not None and passkey.user_id != user.id:
        raise PasskeyError(_("This passkey belongs to another account."))
    owner = user or await session.get(get_user_model(conn.app), passkey.user_id)
    if owner is None or not owner.is_active:
        raise PasskeyError(_("This passkey is not registered on this site (it may have been "
                           "removed)."))
    # The user handle the device sends along is not needed: the credential id found
    # the account, and only that row's public key verifies the signature.  (Trusting
    # it would also break passkeys made before the secret key was rotated out.)
    try:
        # The stored count is checked below, once the signature is known to be good.
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=challenge,
            expected_rp_id=relying_party_id(conn), expected_origin=expected_origins(conn),
            credential_public_key=passkey.public_key, credential_current_sign_count=0,
            require_user_verification=user is None)
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise PasskeyError(_("The passkey could not be verified: %(reason)s")
                           % {"reason": _reason(exc)}) from None
    stored = passkey.sign_count
    if (verified.new_sign_count or stored) and verified.new_sign_count <= stored:
        logger.warning("Passkey %s of user %s: sign count %s after %s; refused as a "
                       "possible clone.", passkey.id, owner.id, verified.new_sign_count, stored)
        raise PasskeyError(_("This passkey's signature counter went backwards, as it does when "
                           "an authenticator was copied: it was refused. Use another passkey "
                           "or your password."))
    passkey.sign_count = verified.new_sign_count
    passkey.backed_up = verified.credential_backed_up
    passkey.last_used_at = utcnow()
    await session.commit()
    return PasskeyLogin(owner, passkey, verified.user_verified)
