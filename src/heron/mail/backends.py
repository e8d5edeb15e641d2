"""Where messages go: SMTP, the console, files, or memory."""

from __future__ import annotations

import sys
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from heron.concurrency import run_in_threadpool
from heron.mail.message import EmailMessage

if TYPE_CHECKING:
    from heron.settings import Settings

__all__ = ["ConsoleBackend", "FileBackend", "MailBackend", "MemoryBackend", "SMTPBackend"]


class MailBackend(ABC):
    """Sends messages; made once per app with ``Backend(settings, root)``."""

    def __init__(self, settings: Settings, root: Path) -> None:
        self.settings = settings
        self.default_from = settings.default_from_email

    @abstractmethod
    async def send(self, messages: Sequence[EmailMessage]) -> int:
        """Send ``messages``; return how many were sent."""


class SMTPBackend(MailBackend):
    """An SMTP server (``mail_host``/``mail_port``), with implicit TLS or STARTTLS and login."""

    async def send(self, messages: Sequence[EmailMessage]) -> int:
        if not messages:
            return 0
        return await run_in_threadpool(self._send_blocking, list(messages))

    def _send_blocking(self, messages: list[EmailMessage]) -> int:
        import smtplib
        import ssl

        settings = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if settings.mail_use_tls:
            smtp = smtplib.SMTP_SSL(settings.mail_host, settings.mail_port,
                                    timeout=settings.mail_timeout, context=context)
        else:
            smtp = smtplib.SMTP(settings.mail_host, settings.mail_port,
                                timeout=settings.mail_timeout)
        with smtp:
            if settings.mail_use_starttls:
                smtp.starttls(context=context)
            if settings.mail_username:
                smtp.login(settings.mail_username, settings.mail_password or "")
            sent = 0
            for message in messages:
                mime = message.to_mime(self.default_from)
                smtp.send_message(mime, to_addrs=message.recipients())
                sent += 1
        return sent


class ConsoleBackend(MailBackend):
    """Prints each message to standard output (development)."""

    async def send(self, messages: Sequence[EmailMessage]) -> int:
        for message in messages:
            text = message.to_mime(self.default_from).as_string()
            sys.stdout.write(f"{text}\n{'-' * 72}\n")
        sys.stdout.flush()
        return len(messages)


class FileBackend(MailBackend):
    """Writes each message as an ``.eml`` file into ``mail_file_dir``."""

    def __init__(self, settings: Settings, root: Path) -> None:
        super().__init__(settings, root)
        self.folder = root / settings.mail_file_dir

    async def send(self, messages: Sequence[EmailMessage]) -> int:
        def write() -> int:
            self.folder.mkdir(parents=True, exist_ok=True)
            for message in messages:
                data = message.to_mime(self.default_from).as_bytes()
                (self.folder / f"{uuid.uuid4().hex}.eml").write_bytes(data)
            return len(messages)

        return await run_in_threadpool(write)


class MemoryBackend(MailBackend):
    """Keeps messages in ``outbox`` (tests)."""

    def __init__(self, settings: Settings, root: Path) -> None:
        super().__init__(settings, root)
        self.outbox: list[EmailMessage] = []

    async def send(self, messages: Sequence[EmailMessage]) -> int:
        for message in messages:
            message.to_mime(self.default_from)  # the same checks as a real send
        self.outbox.extend(messages)
        return len(messages)
