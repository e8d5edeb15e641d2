"""The two feed formats: RSS 2.0 (:class:`RssFeed`) and Atom 1.0 (:class:`AtomFeed`).

A writer turns a :class:`FeedDocument` (every value already computed, every URL
absolute) into bytes of valid XML; :class:`~heron.feeds.Feed` builds the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from heron._xml import XMLWriter, rfc822, rfc3339

__all__ = ["AtomFeed", "Enclosure", "FeedDocument", "FeedEntry", "FeedWriter", "RssFeed"]

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"


@dataclass(frozen=True)
class Enclosure:
    """A file attached to an item (a podcast's episode): its URL, size in bytes, MIME type."""

    url: str
    length: int
    mime_type: str


@dataclass
class FeedEntry:
    """One item of a feed, as the writers see it (URLs absolute, dates aware)."""

    title: str
    link: str
    guid: str
    guid_is_permalink: bool
    description: str | None = None
    pubdate: datetime | None = None
    updateddate: datetime | None = None
    author_name: str | None = None
    author_email: str | None = None
    author_link: str | None = None
    categories: Sequence[str] = ()
    enclosures: Sequence[Enclosure] = ()
    comments: str | None = None

    @property
    def updated(self) -> datetime | None:
        """When the entry last changed: its update date, or its publication date."""
        return self.updateddate or self.pubdate


@dataclass
class FeedDocument:
    """A whole feed, as the writers see it."""

    title: str
    link: str
    description: str
    feed_url: str
    feed_id: str
    updated: datetime
    language: str | None = None
    author_name: str | None = None
    author_email: str | None = None
    author_link: str | None = None
    categories: Sequence[str] = ()
    copyright: str | None = None
    ttl: int | None = None
    entries: list[FeedEntry] = field(default_factory=list)


class FeedWriter:
    """Base class of a feed format: its ``content_type`` and :meth:`write`."""

    content_type: ClassVar[str] = "application/xml; charset=utf-8"

    def write(self, document: FeedDocument) -> bytes:
        """The document as UTF-8 XML."""
        raise NotImplementedError


class RssFeed(FeedWriter):
    """RSS 2.0 (https://www.rssboard.org/rss-specification), with ``atom:link rel="self"``.

    An item's author is written as ``<author>email (name)</author>`` when there is an
    email (RSS's rule), else as ``<dc:creator>``.  RSS allows one enclosure per item: the
    first is written.
    """

    content_type = "application/rss+xml; charset=utf-8"

    def write(self, document: FeedDocument) -> bytes:
        xml = XMLWriter()
        xml.start("rss", {"version": "2.0", "xmlns:atom": ATOM_NS, "xmlns:dc": DC_NS})
        xml.start("channel")
        xml.element("title", document.title)
        xml.element("link", document.link)
        xml.element("description", document.description)
        xml.element("atom:link", attrs={"href": document.feed_url, "rel": "self",
                                        "type": "application/rss+xml"})
        xml.element("language", document.language)
        xml.element("copyright", document.copyright)
        if document.author_email:
            xml.element("managingEditor", _person(document.author_email, document.author_name))
        for category in document.categories:
            xml.element("category", category)
        xml.element("lastBuildDate", rfc822(document.updated))
        xml.element("generator", "heron")
        xml.element("ttl", document.ttl)
        for entry in document.entries:
            self._item(xml, entry)
        xml.end("channel")
        xml.end("rss")
        return xml.getvalue()

    def _item(self, xml: XMLWriter, entry: FeedEntry) -> None:
        xml.start("item")
        xml.element("title", entry.title)
        xml.element("link", entry.link)
        xml.element("description", entry.description)
        if entry.author_email:
            xml.element("author", _person(entry.author_email, entry.author_name))
        elif entry.author_name:
            xml.element("dc:creator", entry.author_name)
        if entry.pubdate is not None:
            xml.element("pubDate", rfc822(entry.pubdate))
        xml.element("comments", entry.comments)
        xml.element("guid", entry.guid,
                    {"isPermaLink": "true" if entry.guid_is_permalink else "false"})
        for category in entry.categories:
            xml.element("category", category)
        if entry.enclosures:
            first = entry.enclosures[0]
            xml.element("enclosure", attrs={"url": first.url, "length": str(first.length),
                                            "type": first.mime_type})
        xml.end("item")


class AtomFeed(FeedWriter):
    """Atom 1.0 (RFC 4287).  The feed's description is its ``subtitle``, an entry's its
    ``summary`` (``type="html"``).  Atom needs an author for every entry: an entry without
    one takes the feed's, and a feed without one names its title."""

    content_type = "application/atom+xml; charset=utf-8"

    def write(self, document: FeedDocument) -> bytes:
        xml = XMLWriter()
        xml.start("feed", {"xmlns": ATOM_NS, "xml:lang": document.language})
        xml.element("title", document.title)
        xml.element("subtitle", document.description or None)
        xml.element("link", attrs={"rel": "alternate", "type": "text/html",
                                   "href": document.link})
        xml.element("link", attrs={"rel": "self", "type": "application/atom+xml",
                                   "href": document.feed_url})
        xml.element("id", document.feed_id)
        xml.element("updated", rfc3339(document.updated))
        needs_author = any(not (e.author_name or e.author_email) for e in document.entries)
        if document.author_name or document.author_email or needs_author:
            _author(xml, document.author_name or document.title, document.author_email,
                    document.author_link)
        for category in document.categories:
            xml.element("category", attrs={"term": category})
        xml.element("rights", document.copyright)
        xml.element("generator", "heron")
        for entry in document.entries:
            self._entry(xml, entry, document.updated)
        xml.end("feed")
        return xml.getvalue()

    def _entry(self, xml: XMLWriter, entry: FeedEntry, fallback: datetime) -> None:
        xml.start("entry")
        xml.element("title", entry.title)
        xml.element("link", attrs={"rel": "alternate", "type": "text/html", "href": entry.link})
        xml.element("id", entry.guid)
        xml.element("updated", rfc3339(entry.updated or fallback))
        if entry.pubdate is not None:
            xml.element("published", rfc3339(entry.pubdate))
        if entry.author_name or entry.author_email:
            _author(xml, entry.author_name or entry.author_email, entry.author_email,
                    entry.author_link)
        xml.element("summary", entry.description, {"type": "html"}
                    if entry.description is not None else None)
        for category in entry.categories:
            xml.element("category", attrs={"term": category})
        for enclosure in entry.enclosures:
            xml.element("link", attrs={"rel": "enclosure", "href": enclosure.url,
                                       "length": str(enclosure.length),
                                       "type": enclosure.mime_type})
        xml.end("entry")


def _person(email: str, name: str | None) -> str:
    return f"{email} ({name})" if name else email


def _author(xml: XMLWriter, name: str | None, email: str | None, link: str | None) -> None:
    xml.start("author")
    xml.element("name", name)
    xml.element("email", email)
    xml.element("uri", link)
    xml.end("author")
