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

__all__ = ["Mailer", "backend_class", "mailer", "render_mail", "send_mail"]

_BACKENDS: dict[str, type[MailBackend]] = {
    "smtp": SMTPBackend, "console": ConsoleBackend, "file": FileBackend, "memory": MemoryBackend,
}
_KEY = "heron.mail"


def backend_class(name: str) -> type[MailBackend]:
    """The backend class the ``mail_backend`` setting ``name`` names.

    Raises:
        ImproperlyConfigured: a name heron has no backend for (heron.mail.E001), a
            ``package.module:Class`` that cannot be imported (heron.mail.E004), or
            that names no :class:`MailBackend` subclass (heron.mail.E005).
    """
    cls = _BACKENDS.get(name)
    if cls is not None:
        return cls
    choices = f"use {', '.join(_BACKENDS)} or 'package.module:Class' of a MailBackend subclass"
    if ":" not in name and "." not in name:
        import difflib

        close = difflib.get_close_matches(name.lower(), _BACKENDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ImproperlyConfigured(f"mail_backend {name!r} is not a backend heron has{hint}; "
                                   f"{choices}", id="heron.mail.E001")
    from heron._discovery import import_string

    try:
        found = import_string(name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ImproperlyConfigured(f"mail_backend {name!r} cannot be imported ({exc}); "
                                   f"{choices}", id="heron.mail.E004") from None
    if not (isinstance(found, type) and issubclass(found, MailBackend)):
        raise ImproperlyConfigured(f"mail_backend {name!r} is not a MailBackend subclass; "
                                   f"{choices}", id="heron.mail.E005")
    return found


class Mailer:
    """One app's mail backend (``app.extensions["heron.mail"]``)."""

    def __init__(self, app: App) -> None:
        from heron.mail.settings import MailSettings

        app.settings.extend(MailSettings)  # an app made without heron.Settings
        self.backend = backend_class(app.settings.mail_backend)(app.settings, app.root)

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

