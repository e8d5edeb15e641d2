"""heron.mail as a plug-in: its settings section and the startup checks of its backend."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from heron.exceptions import ImproperlyConfigured
from heron.mail.settings import MailSettings
from heron.plugins import Plugin

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["MailPlugin", "plugin"]


class MailPlugin(Plugin):
    """heron.mail in an app: the mail settings, and an unknown ``mail_backend`` or a
    bad SMTP TLS setting reported at startup (heron.mail.E001-E005), not at the
    first message.  No connection is made until a message is sent."""

    name = "heron.mail"
    settings = MailSettings

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        from heron.mail.checks import check_mail

        return check_mail(app)


plugin = MailPlugin
