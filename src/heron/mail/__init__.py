"""Sending mail: ``await send_mail(app, subject, body, to=[...])``.

The ``mail_backend`` setting picks where messages go: ``smtp`` (the default),
``console`` (printed, for development), ``file`` (``.eml`` files in
``mail_file_dir``) or ``memory`` (kept in ``mailer(app).outbox``, for tests).
Sync code sends through heron's bridge: ``run_async(send_mail(...))``.
See docs/mail.md.
"""

from heron.checks import register
from heron.mail.backends import (
    ConsoleBackend,
    FileBackend,
    MailBackend,
    MailTimeout,
    MemoryBackend,
    SMTPBackend,
)
from heron.mail.checks import check_mail
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

register(check_mail)  # an unknown mail_backend fails at startup, not at the first mail
