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
    import ssl

    from heron.settings import Settings

__all__ = [
    "ConsoleBackend",
    "FileBackend",
    "MailBackend",
    "MailTimeout",
    "MemoryBackend",
    "SMTPBackend",
]


class MailTimeout(TimeoutError):
    """The SMTP server did not answer within ``mail_timeout`` seconds."""


class MailBackend(ABC):
    """Sends messages; made once per app with ``Backend(settings, root)``."""

    def __init__(self, settings: Settings, root: Path) -> None:
        self.settings = settings
        self.default_from = settings.default_from_email

    @abstractmethod
    async def send(self, messages: Sequence[EmailMessage]) -> int:
        """Send ``messages``; return how many were sent."""


class SMTPBackend(MailBackend):
    """An SMTP server (``mail_host``/``mail_port``), with implicit TLS or STARTTLS and login.

    The server's certificate is verified against the system's certificate authorities,
    or those of ``mail_ssl_cafile``.

    Raises:
        ImproperlyConfigured: ``mail_use_tls`` and ``mail_use_starttls`` both set
            (heron.mail.E002), or ``mail_ssl_cafile`` unreadable (heron.mail.E003).
    """

    def __init__(self, settings: Settings, root: Path) -> None:
        super().__init__(settings, root)
        from heron.exceptions import ImproperlyConfigured

        if settings.mail_use_tls and settings.mail_use_starttls:
            raise ImproperlyConfigured(
                "mail_use_tls (implicit TLS, port 465) and mail_use_starttls (port 587) "
                "exclude each other; set the one your SMTP server speaks", id="heron.mail.E002")
        self.ssl_context: ssl.SSLContext | None = None
        if settings.mail_use_tls or settings.mail_use_starttls:
            import ssl

            cafile = root / settings.mail_ssl_cafile if settings.mail_ssl_cafile else None
            try:
                self.ssl_context = ssl.create_default_context(
                    cafile=str(cafile) if cafile is not None else None)
            except OSError as exc:  # ssl.SSLError included
                raise ImproperlyConfigured(
                    f"mail_ssl_cafile {str(cafile)!r} is not a readable file of PEM "
                    f"certificates: {exc}", id="heron.mail.E003") from None

    async def send(self, messages: Sequence[EmailMessage]) -> int:
        if not messages:
            return 0
        return await run_in_threadpool(self._send_blocking, list(messages))

    def _send_blocking(self, messages: list[EmailMessage]) -> int:
        import smtplib

        settings = self.settings
        # Build every message first: a bad one (header injection) sends none.
        mimes = [(message.to_mime(self.default_from), message.recipients())
                 for message in messages]
        context = self.ssl_context
        smtp: smtplib.SMTP
        sent = 0
        try:
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
                for mime, recipients in mimes:
                    smtp.send_message(mime, to_addrs=recipients)
                    sent += 1
        except OSError as exc:  # smtplib.SMTPException included
            where = f"{settings.mail_host}:{settings.mail_port}"
            if type(exc) is TimeoutError:
                # A plain TimeoutError crossing run_in_threadpool is replaced by a copy
                # (asyncio's future conversion), losing its traceback and notes.
                raise MailTimeout(
                    f"The SMTP server {where} (mail_host, mail_port) did not answer within "
                    f"mail_timeout ({settings.mail_timeout:g} s): {exc}") from exc
            # Keep the exception's type (callers catch smtplib's); name the server.
            exc.add_note(f"heron.mail: sending through the SMTP server {where} "
                         f"(mail_host, mail_port) failed after {sent} of {len(mimes)} "
                         "message(s) were sent")
            raise
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
