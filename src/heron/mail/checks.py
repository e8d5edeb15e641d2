"""Startup checks of the mail settings (ids in docs/checks.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["check_mail"]


def check_mail(app: App) -> list[ImproperlyConfigured]:
    """Problems with ``mail_backend`` and, for SMTP, its TLS settings.

    The backend is resolved as the mailer resolves it (heron.mail.E001, E004,
    E005).  The SMTP backend is also made, which reads ``mail_ssl_cafile`` but
    connects to nothing (heron.mail.E002, E003); a backend of your own is not
    made, since its constructor might.
    """
    from heron.mail.settings import MailSettings

    if not isinstance(app.settings, MailSettings):
        return []  # an app without heron.mail's settings does not send mail (yet)
    settings = app.settings
    if settings.mail_backend == "smtp" and not (settings.mail_use_tls
                                                or settings.mail_use_starttls):
        return []  # the default: nothing to check, and no need to load the backends
    from heron.mail.backends import SMTPBackend
    from heron.mail.sending import backend_class

    try:
        cls = backend_class(app.settings.mail_backend)
        if cls is SMTPBackend:
            SMTPBackend(app.settings, app.root)
    except ImproperlyConfigured as exc:
        return [exc]
    return []
