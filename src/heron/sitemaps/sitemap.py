"""Sitemaps (https://www.sitemaps.org/protocol.html): sections of URLs, served as
``sitemap.xml`` (a sitemap index when there is more than one file) and pages of
``sitemap-<section>.xml?p=N``."""

from __future__ import annotations

import copy
import hashlib
import math
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from heron._xml import XMLWriter, absolute_url, utc, w3c_date
from heron.concurrency import is_async_callable, run_in_threadpool
from heron.exceptions import HTTPException
from heron.responses import Response

if TYPE_CHECKING:
    from heron.requests import Request
    from heron.routing import Router

__all__ = ["CHANGEFREQS", "MAX_URLS", "Sitemap", "SitemapURL", "Sitemaps", "StaticSitemap"]

#: The most URLs one sitemap file may list (the protocol's limit).
MAX_URLS = 50_000
#: The longest URL a sitemap may list (the protocol: fewer than 2,048 characters).
MAX_URL_LENGTH = 2047
#: The values ``changefreq`` may take.
CHANGEFREQS = frozenset({"always", "hourly", "daily", "weekly", "monthly", "yearly", "never"})
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
_SECTION = re.compile(r"[A-Za-z0-9_-]{1,100}")
_CONTENT_TYPE = "application/xml; charset=utf-8"


@dataclass
class SitemapURL:
    """One ``<url>`` of a sitemap (its location absolute)."""

    loc: str
    lastmod: datetime | date | None = None
    changefreq: str | None = None
    priority: float | None = None
    #: Other languages of the page: ``{"de": "https://example.com/de/post"}``.
    alternates: Mapping[str, str] = field(default_factory=dict)


class Sitemap:
    """One section of a sitemap: override :meth:`items` and :meth:`location`.

    ``items()`` may be ``def`` (run in the thread pool) or ``async def``; the generic
    sitemap lists all of them and slices out the requested page, which is right for
    hundreds or thousands of URLs; :class:`~heron.sitemaps.ModelSitemap` queries one
    page at a time instead.  While a request is served, the methods run on a copy of
    the sitemap whose ``self.request`` is that request (``self.request.url_for(...)``).
    ``changefreq`` and ``priority`` may be values or methods taking the item.
    """

    #: URLs per sitemap file (at most 50,000, the protocol's limit).
    limit: int = MAX_URLS
    #: ``always``, ``hourly``, ``daily``, ``weekly``, ``monthly``, ``yearly``, ``never``.
    changefreq: Any = None
    #: From 0.0 to 1.0.
    priority: Any = None
    #: The request being served (set on the per-request copy).
    request: Request
    _items: list[Any] | None = None

    def items(self) -> Iterable[Any] | Awaitable[Iterable[Any]]:
        """Everything the section lists (sync or async)."""
        return ()

    def location(self, item: Any) -> str:
        """The item's URL, a path or absolute; by default ``item.get_absolute_url()``,
        or the item itself when it is a string."""
        if isinstance(item, str):
            return item
        found = getattr(item, "get_absolute_url", None)
        if not callable(found):
            raise NotImplementedError(f"{type(self).__name__} must define location(item)")
        return str(found())

    def lastmod(self, item: Any) -> datetime | date | None:
        """When the item's page last changed, or ``None``."""
        return None

    def alternates(self, item: Any) -> Mapping[str, str]:
        """The page in other languages, ``{"de": url}`` (``xhtml:link hreflang``)."""
        return {}

    # -- paging: ModelSitemap overrides these two ----------------------------------

    async def count(self) -> int:
        """How many URLs the section has."""
        return len(await self._all())

    async def page_items(self, number: int) -> Sequence[Any]:
        """The items of page ``number`` (from 1) of ``limit`` each."""
        start = (number - 1) * self.limit
        return (await self._all())[start:start + self.limit]

    async def _all(self) -> list[Any]:
        if self._items is not None:
            return self._items
        found: list[Any]
        if is_async_callable(self.items):
            found = list(await self.items())  # type: ignore[misc]
        else:
            found = await run_in_threadpool(lambda: list(self.items()))  # type: ignore[arg-type]
        self._items = found
        return found

    def url(self, item: Any, root: str) -> SitemapURL:
        """The ``<url>`` of one item."""
        return SitemapURL(
            loc=absolute_url(self.location(item), root),
            lastmod=self.lastmod(item),
            changefreq=_per_item(self.changefreq, item),
            priority=_per_item(self.priority, item),
            alternates={lang: absolute_url(url, root)
                        for lang, url in self.alternates(item).items()},
        )

    def _validate(self, name: str) -> None:
        where = f"Sitemap section {name!r} ({type(self).__name__})"
        if not isinstance(self.limit, int) or not 1 <= self.limit <= MAX_URLS:
            raise ValueError(f"{where}: limit must be an integer from 1 to {MAX_URLS}")
        if not callable(self.changefreq) and self.changefreq is not None \
                and self.changefreq not in CHANGEFREQS:
            raise ValueError(f"{where}: changefreq must be one of {sorted(CHANGEFREQS)}")
        if not callable(self.priority) and self.priority is not None \
                and not 0.0 <= float(self.priority) <= 1.0:
            raise ValueError(f"{where}: priority must be from 0.0 to 1.0")


class StaticSitemap(Sitemap):
    """The pages of named routes: ``StaticSitemap(["index", "about"])``, or
    ``("docs:page", {"slug": "intro"})`` for a route with parameters."""

    def __init__(self, routes: Sequence[str | tuple[str, Mapping[str, Any]]], *,
                 changefreq: str | None = None, priority: float | None = None) -> None:
        self.routes = list(routes)
        if changefreq is not None:
            self.changefreq = changefreq
        if priority is not None:
            self.priority = priority

    def items(self) -> list[str | tuple[str, Mapping[str, Any]]]:
        return self.routes

    def location(self, item: Any) -> str:
        name, params = (item, {}) if isinstance(item, str) else item
        return self.request.url_for(name, **params)


class Sitemaps:
    """The sections of a site's sitemap, and the views that serve them::

        sitemaps = Sitemaps({"posts": PostSitemap(), "pages": StaticSitemap(["index"])})
        sitemaps.add_routes(app)   # /sitemap.xml and /sitemap-<section>.xml

    ``/sitemap.xml`` is a sitemap index listing every page of every section, unless
    there is one section of at most ``limit`` URLs: then it is that section's urlset.

    Args:
        sections: section name (letters, digits, ``-``, ``_``) -> sitemap.
        site_url: root of absolute URLs (``"https://example.com"``); by default the
            app's ``site_url`` setting if there is one, else the request's host.
        max_age: ``Cache-Control: public, max-age=...`` in seconds (``None``: no header).

    Raises:
        ValueError: a bad section name, ``limit``, ``changefreq`` or ``priority``.
    """

    def __init__(self, sections: Mapping[str, Sitemap], *, site_url: str | None = None,
                 max_age: int | None = 3600) -> None:
        if not sections:
            raise ValueError("Sitemaps needs at least one section")
        for name, sitemap in sections.items():
            if not _SECTION.fullmatch(name):
                raise ValueError(f"Sitemap section name {name!r}: use letters, digits, - and _")
            if not isinstance(sitemap, Sitemap):
                raise ValueError(f"Sitemap section {name!r} is {sitemap!r}, not a Sitemap")
            sitemap._validate(name)
        self.sections = dict(sections)
        self.site_url = site_url
        self.max_age = max_age
        self.section_route = "sitemap_section"

    def add_routes(self, router: Router | Any, path: str = "/sitemap.xml",
                   name: str = "sitemap") -> None:
        """Serve the sitemap at ``path`` (route ``name``) and its sections at
        ``<path without .xml>-<section>.xml`` (route ``<name>_section``), on an app
        or a router."""
        base = path.removesuffix(".xml")
        self.section_route = f"{name}_section"
        router.add_route(path, self.index_view, name=name)
        router.add_route(base + "-{section}.xml", self.section_view, name=self.section_route)

    @property
    def index_view(self) -> Callable[[Request], Awaitable[Response]]:
        """The view of ``sitemap.xml``."""
        async def sitemap_index(request: Request) -> Response:
            return await self._index(request)

        return sitemap_index

    @property
    def section_view(self) -> Callable[[Request, str], Awaitable[Response]]:
        """The view of one section's pages (``section`` is the path parameter)."""
        async def sitemap_section(request: Request, section: str) -> Response:
            return await self._section(request, section)

        return sitemap_section

    def _bound(self, request: Request) -> dict[str, Sitemap]:
        bound = {}
        for name, sitemap in self.sections.items():
            current = copy.copy(sitemap)
            current.request = request
            current._items = None
            bound[name] = current
        return bound

    async def _index(self, request: Request) -> Response:
        sections = self._bound(request)
        counts = {name: await sitemap.count() for name, sitemap in sections.items()}
        if len(sections) == 1:
            ((name, sitemap),) = sections.items()
            if counts[name] <= sitemap.limit:
                return await self._urlset(request, sitemap, counts[name])
        _page_number(request)  # a malformed ?p= is a 400 here too
        root = self._root(request)
        xml = XMLWriter()
        xml.start("sitemapindex", {"xmlns": SITEMAP_NS})
        for name, sitemap in sections.items():
            url = absolute_url(self._section_path(request, name), root)
            for number in range(1, _pages(counts[name], sitemap.limit) + 1):
                xml.start("sitemap")
                xml.element("loc", url if number == 1 else f"{url}?p={number}")
                xml.end("sitemap")
        xml.end("sitemapindex")
        return self._respond(request, xml.getvalue(), None)

    async def _section(self, request: Request, section: str) -> Response:
        sitemap = self._bound(request).get(section)
        if sitemap is None:
            raise HTTPException(404, "There is no such sitemap section.")
        return await self._urlset(request, sitemap, await sitemap.count())

    async def _urlset(self, request: Request, sitemap: Sitemap, count: int) -> Response:
        number = _page_number(request)
        if number > _pages(count, sitemap.limit):
            raise HTTPException(404, f"The sitemap has no page {number}.")
        root = self._root(request)
        urls = [sitemap.url(item, root) for item in await sitemap.page_items(number)]
        urls = [url for url in urls if len(url.loc) <= MAX_URL_LENGTH]
        xml = XMLWriter()
        attrs = {"xmlns": SITEMAP_NS}
        if any(url.alternates for url in urls):
            attrs["xmlns:xhtml"] = XHTML_NS
        xml.start("urlset", attrs)
        for url in urls:
            _write_url(xml, url)
        xml.end("urlset")
        dates = [utc(url.lastmod) for url in urls if url.lastmod is not None]
        return self._respond(request, xml.getvalue(), max(dates) if dates else None)

    def _respond(self, request: Request, body: bytes, modified: datetime | None) -> Response:
        from heron.cache.http import not_modified, not_modified_response

        headers = {"etag": '"' + hashlib.sha256(body).hexdigest()[:32] + '"'}
        if modified is not None:
            headers["last-modified"] = format_datetime(modified.replace(microsecond=0),
                                                       usegmt=True)
        if self.max_age is not None:
            headers["cache-control"] = f"public, max-age={int(self.max_age)}"
        response = Response(body, headers=headers, media_type=_CONTENT_TYPE)
        if not_modified(request, headers["etag"], modified) == 304:
            return not_modified_response(response)
        return response

    def _root(self, request: Request) -> str:
        root = self.site_url or getattr(request.app.settings, "site_url", None)
        return str(root or request.base_url).rstrip("/")

    def _section_path(self, request: Request, section: str) -> str:
        route = request.route
        namespace = route.namespace if route is not None else None
        name = f"{namespace}:{self.section_route}" if namespace else self.section_route
        return request.app.url_path_for(name, section=section)


def _write_url(xml: XMLWriter, url: SitemapURL) -> None:
    xml.start("url")
    xml.element("loc", url.loc)
    if url.lastmod is not None:
        xml.element("lastmod", w3c_date(url.lastmod))
    if url.changefreq is not None:
        xml.element("changefreq", str(url.changefreq))
    if url.priority is not None:
        xml.element("priority", f"{float(url.priority):.1f}")
    for lang, href in url.alternates.items():
        xml.element("xhtml:link", attrs={"rel": "alternate", "hreflang": lang, "href": href})
    xml.end("url")


def _per_item(value: Any, item: Any) -> Any:
    return value(item) if callable(value) else value


def _pages(count: int, limit: int) -> int:
    return max(1, math.ceil(count / limit))


def _page_number(request: Request) -> int:
    """``?p=``: absent is 1; anything but a whole number from 1 is a 400."""
    given = request.query_params.get("p")
    if given is None:
        return 1
    if not (given.isascii() and given.isdigit()) or len(given) > 9 or int(given) < 1:
        raise HTTPException(400, "The sitemap page ?p= must be a whole number from 1.")
    return int(given)
