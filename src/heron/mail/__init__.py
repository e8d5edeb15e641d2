"""Sending mail: ``await send_mail(app, subject, body, to=[...])``.

The ``mail_backend`` setting picks where messages go: ``smtp`` (the default),
``console`` (printed, for development), ``file`` (``.eml`` files in
``mail_file_dir``) or ``memory`` (kept in ``mailer(app).outbox``, for tests).
Sync code sends through heron's bridge: ``run_async(send_mail(...))``.
See docs/mail.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron._lazy import lazy_exports

if TYPE_CHECKING:
    from heron.mail.backends import (
        ConsoleBackend,
        FileBackend,
        MailBackend,
        MailTimeout,
        MemoryBackend,
        SMTPBackend,
    )
    from heron.mail.message import EmailMessage
    from heron.mail.sending import Mailer, mailer, render_mail, send_mail

__all__ = [
    "ConsoleBackend",
    "EmailMessage",
    "FileBackend",
    "MailBackend",
    "MailTimeout",
    "Mailer",
    "MemoryBackend",
    "SMTPBackend",
    "mailer",
    "render_mail",
    "send_mail",
]

# The names load on first use, not when the package is imported: its settings
# section (heron.mail.settings) is part of every app's settings.
_EXPORTS = {
    "ConsoleBackend": "heron.mail.backends",
    "FileBackend": "heron.mail.backends",
    "MailBackend": "heron.mail.backends",
    "MailTimeout": "heron.mail.backends",
    "MemoryBackend": "heron.mail.backends",
    "SMTPBackend": "heron.mail.backends",
    "EmailMessage": "heron.mail.message",
    "Mailer": "heron.mail.sending",
    "mailer": "heron.mail.sending",
    "render_mail": "heron.mail.sending",
    "send_mail": "heron.mail.sending",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
