"""The app's mailer, and the functions views call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from heron.exceptions import ImproperlyConfigured
from heron.mail.backends import (
    ConsoleBackend,
    FileBackend,
    MailBackend,
    MemoryBackend,
    SMTPBackend,
)
from heron.mail.message import EmailMessage

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["Mailer", "mailer", "render_mail", "send_mail"]

_BACKENDS: dict[str, type[MailBackend]] = {
    "smtp": SMTPBackend, "console": ConsoleBackend, "file": FileBackend, "memory": MemoryBackend,
}
_KEY = "heron.mail"


class Mailer:
    """One app's mail backend (``app.extensions["heron.mail"]``)."""

    def __init__(self, app: App) -> None:
        name = app.settings.mail_backend
        cls = _BACKENDS.get(name)
        if cls is None:
            from heron._discovery import import_string

            try:
                cls = import_string(name)
            except (ImportError, AttributeError, ValueError):
                cls = None
            if not (isinstance(cls, type) and issubclass(cls, MailBackend)):
                raise ImproperlyConfigured(
                    f"mail_backend {name!r} is not smtp, console, file, memory or a "
                    "MailBackend subclass (package.module:Class)", id="heron.mail.E001")
        self.backend = cls(app.settings, app.root)

    @property
    def outbox(self) -> list[EmailMessage]:
        """Messages sent so far, with the ``memory`` backend."""
        if not isinstance(self.backend, MemoryBackend):
            raise RuntimeError("The outbox exists only with mail_backend = 'memory'")
        return self.backend.outbox

    async def send(self, *messages: EmailMessage) -> int:
        """Send ``messages`` through the backend; return how many were sent."""
        return await self.backend.send(messages)


def mailer(app: App) -> Mailer:
    """The app's :class:`Mailer`, made on first use."""
    found = app.extensions.get(_KEY)
    if found is None:
        found = app.extensions[_KEY] = Mailer(app)
    return found  # type: ignore[no-any-return]


async def send_mail(app: App, subject: str, body: str, to: Sequence[str], *,
                    html: str | None = None, from_email: str | None = None,
                    **options: Any) -> int:
    """Send one message; ``options`` are other :class:`EmailMessage` fields (cc, bcc...)."""
    message = EmailMessage(subject=subject, body=body, to=_addresses(to), html=html,
                           from_email=from_email, **options)
    return await mailer(app).send(message)


def render_mail(app: App, template: str, context: Mapping[str, Any], to: Sequence[str],
                **options: Any) -> EmailMessage:
    """A message from templates: ``<template>.subject.txt``, ``<template>.txt`` and, if it
    exists, ``<template>.html`` (autoescaped) as the HTML alternative."""
    import jinja2

    templates = app.templates
    subject = templates.render_string(None, f"{template}.subject.txt", context)
    body = templates.render_string(None, f"{template}.txt", context)
    try:
        html: str | None = templates.render_string(None, f"{template}.html", context)
    except jinja2.TemplateNotFound as exc:
        if exc.name != f"{template}.html":
            raise  # the HTML template exists but includes or extends a missing one
        html = None
    return EmailMessage(subject=" ".join(subject.split()), body=body, to=_addresses(to),
                        html=html, **options)


def _addresses(to: Sequence[str]) -> list[str]:
    if isinstance(to, str):  # list("a@b") would be ["a", "@", "b"]
        raise TypeError("`to` must be a list of addresses, not a string")
    return list(to)
