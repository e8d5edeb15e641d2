"""TOTP secrets and codes, recovery codes: the pieces behind the two-factor pages.

The TOTP secret is stored encrypted with Fernet (AES-128-CBC with an HMAC, from
``cryptography``) under a key derived from the app's ``secret_key`` (HKDF); the
``secret_key_fallbacks`` still decrypt, so a key rotation keeps enrolments.  A
copy of the database alone gives no secret away.  pyotp, segno and cryptography
are imported only when these functions run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update

from heron.auth.models import utcnow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from heron.app import App

__all__: list[str] = []

#: Seconds per TOTP step (RFC 6238's default; what every authenticator app uses).
STEP = 30
DIGITS = 6
#: Recovery codes: 12 characters of Crockford's base 32 (60 bits), shown as xxxx-xxxx-xxxx;
#: read back with o as 0 and i, l as 1.
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_LOOKALIKES = str.maketrans("oil", "011")
_CODE_CHARS = 12
_SEPARATORS = re.compile(r"[\s\-]+")


def now() -> float:
    """The clock the codes are checked against (tests replace it to pick a time)."""
    return time.time()


# -- the secret, encrypted ---------------------------------------------------------


def _fernet(app: App) -> Any:
    from heron.signing import secret_keys

    return _fernet_for(tuple(reversed(secret_keys(app))))  # the current key first: it encrypts


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> Any:
    """The keys derived once per set of secret keys (HKDF per key), not per code checked."""
    from cryptography.fernet import Fernet, MultiFernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    fernets = []
    for key in keys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"heron.auth.totp").derive(key.encode())
        fernets.append(Fernet(base64.urlsafe_b64encode(derived)))
    return MultiFernet(fernets)


def encrypt_secret(app: App, secret: str) -> str:
    return str(_fernet(app).encrypt(secret.encode()).decode("ascii"))


def decrypt_secret(app: App, stored: str) -> str | None:
    """The secret, or ``None`` when no key of the app decrypts it (the
    ``secret_key`` changed without keeping the old one in the fallbacks)."""
    from cryptography.fernet import InvalidToken

    try:
        return str(_fernet(app).decrypt(stored.encode("ascii")).decode())
    except (InvalidToken, ValueError):
        return None


def new_secret() -> str:
    import pyotp

    return str(pyotp.random_base32())  # 160 bits, as RFC 4226 recommends


def issuer(app: App, host: str) -> str:
    return app.settings.auth_totp_issuer or host.split(":")[0] or "heron"


def provisioning_uri(secret: str, account: str, issuer_name: str) -> str:
    import pyotp

    return str(pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer_name))


def qr_svg(uri: str) -> str:
    """The ``otpauth://`` URI as an inline SVG QR code (no script, no style attribute)."""
    import segno

    code = segno.make(uri, error="m")
    return str(code.svg_inline(scale=5, border=2, dark="#1d1d1f", light="#fff",
                               svgclass="qr", lineclass=None, omitsize=True,
                               title="QR code of the authenticator key"))


def grouped(secret: str) -> str:
    """``JBSW Y3DP ...``: a secret people can type."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


# -- codes -------------------------------------------------------------------------


def clean_code(raw: str) -> str:
    """The code as typed, without spaces and hyphens, lowercased; ``""`` when it has
    characters no code has (a NUL, say) or is far too long."""
    if len(raw) > 64:
        return ""
    cleaned = _SEPARATORS.sub("", raw).lower().translate(_LOOKALIKES)
    return cleaned if cleaned.isascii() and cleaned.isalnum() else ""


def is_totp_code(cleaned: str) -> bool:
    return len(cleaned) == DIGITS and cleaned.isdigit()


def matching_step(secret: str, code: str, drift: int, after: int,
                  at: float | None = None) -> int | None:
    """The time step within ``drift`` steps of now whose code is ``code`` and that
    comes after ``after`` (the last step used: no code works twice), or ``None``."""
    import pyotp

    totp = pyotp.TOTP(secret)
    current = int((now() if at is None else at) // STEP)
    for step in range(current - drift, current + drift + 1):
        if step > after and hmac.compare_digest(totp.at(step * STEP), code):
            return step
    return None


async def use_totp(session: AsyncSession, app: App, row: Any, code: str) -> bool:
    """Whether ``code`` is the current code of the TOTP ``row``; stores its step so
    that it cannot be used again (atomically: two requests with one code cannot
    both pass)."""
    secret = decrypt_secret(app, row.secret) if row.secret else None
    if secret is None:
        return False
    step = matching_step(secret, code, max(0, app.settings.auth_totp_drift),
                         row.last_used_step or 0)
    if step is None:
        return False
    model = type(row)
    result = await session.execute(
        update(model).where(model.id == row.id, model.last_used_step < step)
        .values(last_used_step=step))
    await session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


# -- recovery codes ----------------------------------------------------------------


def hash_code(cleaned: str) -> str:
    return hashlib.sha256(b"heron.auth.recovery:" + cleaned.encode()).hexdigest()


def new_recovery_codes(count: int) -> list[str]:
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_CHARS))
        codes.append("-".join(raw[i:i + 4] for i in range(0, _CODE_CHARS, 4)))
    return codes


async def replace_recovery_codes(session: AsyncSession, user: Any, count: int) -> list[str]:
    """New recovery codes for ``user`` (the old ones stop working); commits.
    Returns the codes in clear, to show once."""
    model = type(user).recovery_code_model
    codes = new_recovery_codes(count)
    await session.execute(delete(model).where(model.user_id == user.id))
    session.add_all(model(user_id=user.id, code_hash=hash_code(clean_code(code)))
                    for code in codes)
    await session.commit()
    return codes


async def use_recovery_code(session: AsyncSession, user: Any, cleaned: str) -> bool:
    """Whether ``cleaned`` is one of ``user``'s unused recovery codes; marks it used
    (atomically: it works once)."""
    model = type(user).recovery_code_model
    result = await session.execute(
        update(model).where(model.user_id == user.id, model.code_hash == hash_code(cleaned),
                            model.used_at.is_(None))
        .values(used_at=utcnow()))
    await session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def unused_recovery_codes(session: AsyncSession, user: Any) -> int:
    model = type(user).recovery_code_model
    count = await session.scalar(select(func.count()).select_from(model).where(
        model.user_id == user.id, model.used_at.is_(None)))
    return int(count or 0)
