"""The declarative :class:`Feed`: what a feed holds, written once, served as RSS or Atom."""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from heron._xml import absolute_url, utc
from heron.concurrency import is_async_callable, run_in_threadpool
from heron.feeds.writers import Enclosure, FeedDocument, FeedEntry, FeedWriter, RssFeed
from heron.responses import Response

if TYPE_CHECKING:
    from heron.requests import Request

__all__ = ["Feed", "site_root"]


def site_root(request: Request, site_url: str | None = None) -> str:
    """The root that relative links join: ``site_url``, else the app's ``site_url``
    setting if its settings have one, else the request's scheme, host and mount prefix."""
    root = site_url or getattr(request.app.settings, "site_url", None)
    return str(root or request.base_url).rstrip("/")


class Feed:
    """A feed declared as a class, served as RSS 2.0 or Atom 1.0 (docs/feeds.md)::

        class LatestPosts(Feed):
            title = "Latest posts"
            link = "/"
            description = "New posts on the site."

            def items(self, request):
                return db.session.scalars(select(Post).limit(20)).all()

            def item_title(self, post): return post.title
            def item_link(self, post): return self.request.url_for("post", slug=post.slug)

        app.add_route("/feed.xml", LatestPosts().view, name="feed")
        app.add_route("/atom.xml", LatestPosts(AtomFeed).view, name="atom")

    Feed-level attributes (``title``, ``link``, ``description``...) may be plain values or
    methods taking the request.  ``items(request)`` may be ``def`` (then it and the
    ``item_*`` methods run in the thread pool, so blocking queries are fine) or ``async
    def`` (then everything runs on the event loop).  While a request is served, the
    feed's methods run on a copy of the feed whose ``self.request`` is that request.
    Links and enclosure URLs may be paths: they are made absolute against
    :func:`site_root`.

    Args:
        feed_type: the format, :class:`~heron.feeds.RssFeed` (the class's
            ``feed_type``, RSS by default) or :class:`~heron.feeds.AtomFeed`.
    """

    #: The format: :class:`RssFeed` or :class:`AtomFeed` (or a ``FeedWriter`` of yours).
    feed_type: type[FeedWriter] = RssFeed
    title: Any = ""
    #: The page the feed is about (a path or an absolute URL).
    link: Any = "/"
    description: Any = ""
    #: The feed's language, like ``"en"`` (RSS ``language``, Atom ``xml:lang``).
    language: Any = None
    author_name: Any = None
    author_email: Any = None
    author_link: Any = None
    categories: Any = ()
    feed_copyright: Any = None
    #: RSS ``ttl``: minutes a reader may cache the feed.
    ttl: Any = None
    #: The Atom feed ``id``; by default the feed's own URL.
    feed_guid: Any = None
    #: Site root for absolute URLs (``"https://example.com"``); by default the app's
    #: ``site_url`` setting if there is one, else the request's.
    site_url: str | None = None
    #: ``Cache-Control: public, max-age=...`` in seconds; ``None`` sends no header.
    max_age: int | None = 300
    #: The request being served (set on the per-request copy of the feed).
    request: Request

    def __init__(self, feed_type: type[FeedWriter] | None = None) -> None:
        if feed_type is not None:
            self.feed_type = feed_type
        if not (isinstance(self.feed_type, type) and issubclass(self.feed_type, FeedWriter)):
            raise TypeError(f"{type(self).__name__}.feed_type must be RssFeed, AtomFeed or "
                            f"another FeedWriter subclass, not {self.feed_type!r}")

    # -- what the feed holds: override these ------------------------------------------

    def items(self, request: Request) -> Iterable[Any] | Awaitable[Iterable[Any]]:
        """The items of the feed, newest first (sync or async)."""
        return ()

    def item_title(self, item: Any) -> str:
        return str(item)

    def item_description(self, item: Any) -> str | None:
        """The item's text or HTML (RSS ``description``, Atom ``summary``)."""
        return None

    def item_link(self, item: Any) -> str:
        """The item's page: a path or an absolute URL.  By default the item's
        ``get_absolute_url()`` or its ``url`` attribute."""
        found = getattr(item, "get_absolute_url", None)
        if callable(found):
            return str(found())
        url = getattr(item, "url", None)
        if url is None:
            raise NotImplementedError(f"{type(self).__name__} must define item_link(item): "
                                      f"{item!r} has no get_absolute_url() and no url")
        return str(url)

    def item_guid(self, item: Any) -> str | None:
        """A unique, never-changing id; by default the item's link (then a permalink)."""
        return None

    def item_guid_is_permalink(self, item: Any) -> bool | None:
        """Whether the guid is the item's URL; ``None``: true only for the default guid."""
        return None

    def item_pubdate(self, item: Any) -> datetime | date | None:
        return None

    def item_updateddate(self, item: Any) -> datetime | date | None:
        return None

    def item_author_name(self, item: Any) -> str | None:
        return None

    def item_author_email(self, item: Any) -> str | None:
        return None

    def item_author_link(self, item: Any) -> str | None:
        return None

    def item_categories(self, item: Any) -> Sequence[str]:
        return ()

    def item_enclosures(self, item: Any) -> Sequence[Enclosure]:
        return ()

    def item_comments(self, item: Any) -> str | None:
        """The URL of the item's comments (RSS only)."""
        return None

    # -- serving ----------------------------------------------------------------------

    @property
    def view(self) -> Callable[[Request], Awaitable[Response]]:
        """The view serving this feed: ``app.add_route("/feed.xml", Feed().view, name=...)``.

        Its default route name is the class's name in snake case (``latest_posts``),
        with the format's for another format than RSS (``latest_posts_atom``).
        """
        feed = self

        async def view(request: Request) -> Response:
            return await feed.respond(request)

        name = _snake(type(self).__name__)
        if self.feed_type is not RssFeed:
            name += "_" + _snake(self.feed_type.__name__.removesuffix("Feed") or "feed")
        view.__name__ = view.__qualname__ = name
        view.__module__ = type(self).__module__
        view.__doc__ = type(self).__doc__
        return view

    async def respond(self, request: Request) -> Response:
        """The feed's response to ``request``: 200 with the XML, or 304 when the client's
        copy (``If-None-Match`` / ``If-Modified-Since``) is current."""
        from heron.cache.http import not_modified, not_modified_response

        current = copy.copy(self)
        current.request = request
        if is_async_callable(current.items):
            items = await current.items(request)  # type: ignore[misc]
            document = current.document(request, items)
        else:
            document = await run_in_threadpool(current._document_sync, request)
        body = current.feed_type().write(document)
        headers = {"etag": '"' + hashlib.sha256(body).hexdigest()[:32] + '"'}
        newest = max((e.updated for e in document.entries if e.updated is not None),
                     default=None)
        if newest is not None:
            headers["last-modified"] = format_datetime(newest.replace(microsecond=0),
                                                       usegmt=True)
        if self.max_age is not None:
            headers["cache-control"] = f"public, max-age={int(self.max_age)}"
        response = Response(body, headers=headers, media_type=current.feed_type.content_type)
        if not_modified(request, headers["etag"], newest) == 304:
            return not_modified_response(response)
        return response

    def _document_sync(self, request: Request) -> FeedDocument:
        items = self.items(request)
        return self.document(request, items)  # type: ignore[arg-type]

    def document(self, request: Request, items: Iterable[Any]) -> FeedDocument:
        """The feed as data: every value computed, every URL absolute."""
        root = site_root(request, self.site_url)
        entries = [self._entry(item, root) for item in items]
        dates = [entry.updated for entry in entries if entry.updated is not None]
        feed_url = absolute_url(_own_path(request), root)
        title = self._value("title", request)
        return FeedDocument(
            title=str(title),
            link=absolute_url(str(self._value("link", request)), root),
            description=str(self._value("description", request) or ""),
            feed_url=feed_url,
            feed_id=str(self._value("feed_guid", request) or feed_url),
            updated=max(dates) if dates else datetime.now(UTC).replace(microsecond=0),
            language=_optional(self._value("language", request)),
            author_name=_optional(self._value("author_name", request)),
            author_email=_optional(self._value("author_email", request)),
            author_link=_optional(self._value("author_link", request)),
            categories=[str(c) for c in self._value("categories", request) or ()],
            copyright=_optional(self._value("feed_copyright", request)),
            ttl=self._value("ttl", request),
            entries=entries,
        )

    def _value(self, name: str, request: Request) -> Any:
        value = getattr(self, name)
        return value(request) if callable(value) else value

    def _entry(self, item: Any, root: str) -> FeedEntry:
        link = absolute_url(self.item_link(item), root)
        guid = self.item_guid(item)
        permalink = self.item_guid_is_permalink(item)
        pubdate, updated = self.item_pubdate(item), self.item_updateddate(item)
        return FeedEntry(
            title=str(self.item_title(item)),
            link=link,
            guid=str(guid) if guid is not None else link,
            guid_is_permalink=permalink if permalink is not None else guid is None,
            description=_optional(self.item_description(item)),
            pubdate=None if pubdate is None else utc(pubdate),
            updateddate=None if updated is None else utc(updated),
            author_name=_optional(self.item_author_name(item)),
            author_email=_optional(self.item_author_email(item)),
            author_link=_optional(self.item_author_link(item)),
            categories=[str(c) for c in self.item_categories(item)],
            enclosures=[Enclosure(absolute_url(e.url, root), int(e.length), e.mime_type)
                        for e in self.item_enclosures(item)],
            comments=_optional(self.item_comments(item)),
        )


def _optional(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _own_path(request: Request) -> str:
    """The request's path below the app's mount prefix."""
    path: str = request.scope.get("path", "/")
    root_path: str = request.scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path):] or "/"
    return path


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
