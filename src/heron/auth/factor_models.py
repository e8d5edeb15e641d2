"""The columns of a user's second factors: a TOTP secret, recovery codes, passkeys.

Every concrete user model gets three companion models made from these mixins
(``User.totp_model``, ``User.recovery_code_model``, ``User.passkey_model``; tables
``<user_table>_totp``, ``<user_table>_recovery_code`` and ``<user_table>_passkey``),
like its API token model.  heron's default ``auth_user`` ships their migration
(``auth_user_0004``); a project's own user model gets them with
``heron db makemigrations``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from heron.auth.models import utcnow

__all__ = ["PasskeyMixin", "RecoveryCodeMixin", "TotpMixin"]


class TotpMixin:
    """A user's TOTP authenticator (RFC 6238): one row per user.

    ``secret`` holds the shared secret encrypted (Fernet, with a key derived
    from the app's ``secret_key``; see :mod:`heron.auth.totp`), so a copy of the
    database alone does not give it away.  The row also exists without a secret
    when it only records when the user's grace period for
    ``auth_two_factor_required`` started.
    """

    #: The encrypted secret; ``None``: nothing enrolled (the row keeps the grace start).
    secret: Mapped[str | None] = mapped_column(String(255))
    #: When the user confirmed the enrolment with a first code; ``None``: unconfirmed.
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The time step (Unix time // 30) of the last code accepted: no code is accepted twice.
    last_used_step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: When ``auth_two_factor_required`` first asked this user for a second factor.
    grace_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def is_confirmed(self) -> bool:
        """Enrolled and confirmed: asked for at login."""
        return self.secret is not None and self.confirmed_at is not None


class RecoveryCodeMixin:
    """A one-time recovery code: only the SHA-256 of the normalized code is kept
    (codes are 60 random bits, so a fast hash is safe)."""

    code_hash: Mapped[str] = mapped_column(String(64))
    #: When it was used; ``None``: still good.
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PasskeyMixin:
    """A WebAuthn credential (a passkey) registered by a user."""

    #: What the user calls it ("Laptop").
    name: Mapped[str] = mapped_column(String(100))
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Comma separated (``"internal,hybrid"``).
    transports: Mapped[str] = mapped_column(String(200), default="", server_default="")
    aaguid: Mapped[str] = mapped_column(String(36), default="", server_default="")
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __str__(self) -> str:
        return self.name
