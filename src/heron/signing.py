"""The app's signing keys, for itsdangerous (sessions, CSRF, reset links)."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["secret_keys", "timed_serializer"]

_DEV_KEYS: dict[int, str] = {}
#: (key, salt, derivation, digest) -> the derived signing key.  itsdangerous derives it
#: with an HMAC on every sign and every check; the result never changes.
_DERIVED: dict[tuple[bytes, bytes, str, Any], bytes] = {}
_SIGNER: Any = None


def secret_keys(app: App) -> list[str]:
    """Keys for itsdangerous: fallbacks first, the signing key (``secret_key``) last.

    In debug without a ``secret_key`` a random key is made per process, so
    sessions do not survive a restart; production refuses to start without one.
    """
    settings = app.settings
    key = settings.secret_key
    if not key:
        key = _DEV_KEYS.get(id(app))
        if key is None:
            key = _DEV_KEYS[id(app)] = secrets.token_urlsafe(32)
            logging.getLogger("heron").warning(
                "No secret_key is set: signing with a random key that lasts until this "
                "process stops (set HERON_SECRET_KEY to keep sessions across restarts)."
            )
    return [*settings.secret_key_fallbacks, key]


def timed_serializer(app: App, salt: str, serializer: Any = None) -> Any:
    """An ``itsdangerous.URLSafeTimedSerializer`` over the app's keys whose signer keeps
    each derived key, instead of deriving it again (an HMAC) on every sign and check.

    ``serializer`` is itsdangerous's serializer protocol (``dumps``/``loads``); the
    default is its JSON.
    """
    from itsdangerous import URLSafeTimedSerializer

    options: dict[str, Any] = {"signer": _signer_class()}
    if serializer is not None:
        options["serializer"] = serializer
    return URLSafeTimedSerializer(secret_keys(app), salt=salt, **options)


def _signer_class() -> Any:
    global _SIGNER
    if _SIGNER is None:
        from itsdangerous import TimestampSigner
        from itsdangerous.encoding import want_bytes

        class KeyKeepingSigner(TimestampSigner):
            def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
                key = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
                found_at = (key, self.salt, self.key_derivation, self.digest_method)
                derived = _DERIVED.get(found_at)
                if derived is None:
                    if len(_DERIVED) > 256:  # keys that rotated away: start over
                        _DERIVED.clear()
                    derived = _DERIVED[found_at] = super().derive_key(secret_key)
                return derived

        _SIGNER = KeyKeepingSigner
    return _SIGNER
