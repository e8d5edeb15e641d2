"""XML documents for heron's batteries (feeds, sitemaps): escaped and cleaned text,
the date formats they use, absolute URLs.  Standard library only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from email.utils import format_datetime
from io import BytesIO
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

__all__ = ["XMLWriter", "absolute_url", "clean_text", "rfc822", "rfc3339", "utc", "w3c_date"]

# What XML 1.0 forbids in a document (control characters, lone surrogates, U+FFFE/F).
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(value: object) -> str:
    """``value`` as text XML 1.0 can hold: the characters it forbids are dropped."""
    return _FORBIDDEN.sub("", str(value))


def utc(value: datetime | date) -> datetime:
    """An aware datetime in UTC; a naive one is taken as UTC (as heron.db stores them),
    a date as its midnight in UTC."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def rfc822(value: datetime | date) -> str:
    """RSS's date format (RFC 822 with four-digit years): ``Tue, 08 Dec 2026 04:21:13 GMT``."""
    return format_datetime(utc(value).replace(microsecond=0), usegmt=True)


def rfc3339(value: datetime | date) -> str:
    """Atom's date format (RFC 3339): ``2026-12-08T04:21:13Z``."""
    return utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def w3c_date(value: datetime | date) -> str:
    """A sitemap ``lastmod`` (W3C Datetime): ``2026-12-08`` for a date,
    ``2026-12-08T04:21:13+00:00`` for a datetime (a naive one is UTC)."""
    if not isinstance(value, datetime):
        return value.isoformat()
    return utc(value).replace(microsecond=0).isoformat()


def absolute_url(url: str, base: str) -> str:
    """``url`` made absolute against ``base`` (``https://example.com/root``): a path
    (``/posts/1``) joins the base, an absolute URL is kept as it is."""
    if "://" in url.split("?", 1)[0]:
        return url
    if url.startswith("//"):  # another host, the site's scheme
        return base.partition("//")[0] + url
    return base.rstrip("/") + "/" + url.lstrip("/")


class XMLWriter:
    """A thin layer on :class:`xml.sax.saxutils.XMLGenerator`: every text and attribute
    value is escaped by it and cleaned of forbidden characters here."""

    def __init__(self) -> None:
        self.buffer = BytesIO()
        self._xml = XMLGenerator(self.buffer, "utf-8", short_empty_elements=True)
        self._xml.startDocument()

    def start(self, name: str, attrs: Mapping[str, object] | None = None) -> None:
        self._xml.startElement(name, AttributesImpl({
            key: clean_text(value) for key, value in (attrs or {}).items() if value is not None}))

    def end(self, name: str) -> None:
        self._xml.endElement(name)

    def element(self, name: str, text: object = None,
                attrs: Mapping[str, object] | None = None) -> None:
        """``<name attrs>text</name>``; nothing at all when ``text`` and ``attrs`` are None."""
        if text is None and attrs is None:
            return
        self.start(name, attrs)
        if text is not None:
            self._xml.characters(clean_text(text))
        self.end(name)

    def getvalue(self) -> bytes:
        self._xml.endDocument()
        return self.buffer.getvalue() + b"\n"
