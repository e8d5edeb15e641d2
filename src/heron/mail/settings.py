"""heron.mail's settings section (docs/mail.md).
"""

from __future__ import annotations

import dataclasses

from heron.settings import settings_section

__all__ = ["MailSettings"]


@settings_section
class MailSettings:
    """Where mail goes: the backend, the SMTP server, the sender."""

    #: ``smtp``, ``console``, ``file``, ``memory`` or ``package.module:Class``.
    mail_backend: str = "smtp"
    mail_host: str = "localhost"
    mail_port: int = 25
    mail_username: str | None = None
    mail_password: str | None = dataclasses.field(default=None, repr=False)
    #: Implicit TLS (SMTPS, usually port 465).
    mail_use_tls: bool = False
    #: Upgrade with STARTTLS (usually port 587).
    mail_use_starttls: bool = False
    #: Seconds to wait for the SMTP server.
    mail_timeout: float = 10.0
    #: PEM file of the certificate authorities trusted for the SMTP server's certificate,
    #: instead of the system's (relative to the app's root); ``None``: the system's.
    mail_ssl_cafile: str | None = None
    #: Folder (relative to the app's root) of the ``file`` backend.
    mail_file_dir: str = "instance/mail"
    default_from_email: str = "webmaster@localhost"
