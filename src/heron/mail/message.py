"""An email message: text, an optional HTML alternative, attachments."""

from __future__ import annotations

import base64
import dataclasses
import mimetypes
from dataclasses import dataclass, field
from email.message import EmailMessage as StdlibMessage
from email.utils import formatdate, make_msgid
from typing import Any

__all__ = ["EmailMessage"]


@dataclass
class EmailMessage:
    """One message.  ``body`` is the plain-text part; ``html`` adds an HTML alternative.

    ``headers`` are extra headers; one named like a header heron sets (``Message-ID``,
    ``Date``, ``Reply-To``...) replaces it.
    """

    subject: str
    body: str
    to: list[str]
    from_email: str | None = None
    html: str | None = None
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    #: (filename, content, MIME type) triples; an empty MIME type is guessed from the name.
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("to", "cc", "bcc", "reply_to"):
            if isinstance(getattr(self, name), str):  # list("a@b") would be ["a", "@", "b"]
                raise TypeError(f"EmailMessage.{name} must be a list of addresses, not a string")

    def to_dict(self) -> dict[str, Any]:
        """The message as JSON data (attachments in base64), for a background task."""
        data = dataclasses.asdict(self)
        data["attachments"] = [[name, base64.b64encode(content).decode("ascii"), kind]
                               for name, content, kind in self.attachments]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmailMessage:
        """The message :meth:`to_dict` gave."""
        fields = dict(data)
        fields["attachments"] = [(name, base64.b64decode(content), kind)
                                 for name, content, kind in fields.get("attachments", [])]
        return cls(**fields)

    def recipients(self) -> list[str]:
        """Everyone the message goes to: To, Cc and Bcc."""
        return [*self.to, *self.cc, *self.bcc]

    def to_mime(self, default_from: str) -> StdlibMessage:
        """The message as the standard library builds it (Bcc left out of the headers)."""
        for value in (self.subject, *self.to, *self.cc, *self.bcc, *self.reply_to,
                      self.from_email or default_from, *self.headers, *self.headers.values()):
            if "\n" in value or "\r" in value:
                raise ValueError("Header values must not contain line breaks (header injection).")
        for name in self.headers:
            if not name or ":" in name or not all(33 <= ord(char) <= 126 for char in name):
                raise ValueError(f"Not a valid header name: {name!r}")
        message = StdlibMessage()
        message["Subject"] = self.subject
        message["From"] = self.from_email or default_from
        if self.to:
            message["To"] = ", ".join(self.to)
        if self.cc:
            message["Cc"] = ", ".join(self.cc)
        if self.reply_to:
            message["Reply-To"] = ", ".join(self.reply_to)
        message["Date"] = formatdate(localtime=False)
        domain = (self.from_email or default_from).rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(domain=domain)
        for name, value in self.headers.items():
            del message[name]  # replaces a default (Message-ID, Date, From...)
            message[name] = value
        message.set_content(self.body)
        if self.html is not None:
            message.add_alternative(self.html, subtype="html")
        for filename, content, mimetype in self.attachments:
            if not mimetype:  # unknown: guess from the file name
                mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            maintype, _, subtype = mimetype.partition("/")
            message.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream",
                                   filename=filename)
        return message
