"""``robots.txt``: rules for crawlers and where the sitemap is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from heron._xml import absolute_url
from heron.exceptions import URLBuildError
from heron.responses import Response

if TYPE_CHECKING:
    from heron.requests import Request

__all__ = ["RobotsRule", "RobotsTxt"]


@dataclass(frozen=True)
class RobotsRule:
    """One group of ``robots.txt``: which crawlers, and the paths they may not visit.

    ``RobotsRule("*", disallow=["/admin/"])``; an empty ``disallow`` allows everything.
    """

    user_agent: str = "*"
    disallow: Sequence[str] = ()
    allow: Sequence[str] = ()
    crawl_delay: float | None = None


class RobotsTxt:
    """Serves ``robots.txt``::

        app.add_route("/robots.txt", RobotsTxt([RobotsRule(disallow=["/admin/"])]).view,
                      name="robots")

    Args:
        rules: the groups, in order; by default one that allows every crawler everything.
        sitemaps: ``Sitemap:`` lines, each a route name (``"sitemap"``), a path or an
            absolute URL.  By default the route named ``sitemap`` when the app has one.
        site_url: root of absolute URLs; by default the app's ``site_url`` setting if
            there is one, else the request's host.
        max_age: ``Cache-Control: public, max-age=...`` in seconds.
    """

    def __init__(self, rules: Sequence[RobotsRule] | None = None, *,
                 sitemaps: Sequence[str] | None = None, site_url: str | None = None,
                 max_age: int | None = 86400) -> None:
        self.rules = list(rules) if rules is not None else [RobotsRule()]
        self.sitemaps = sitemaps
        self.site_url = site_url
        self.max_age = max_age

    def text(self, request: Request) -> str:
        """The file's content for ``request`` (its host gives absolute sitemap URLs)."""
        lines: list[str] = []
        for rule in self.rules:
            if lines:
                lines.append("")
            lines.append(f"User-agent: {_line(rule.user_agent)}")
            lines += [f"Allow: {_line(path)}" for path in rule.allow]
            lines += [f"Disallow: {_line(path)}" for path in rule.disallow]
            if not rule.disallow and not rule.allow:
                lines.append("Disallow:")
            if rule.crawl_delay is not None:
                lines.append(f"Crawl-delay: {rule.crawl_delay:g}")
        sitemaps = self._sitemap_urls(request)
        if sitemaps:
            lines.append("")
            lines += [f"Sitemap: {_line(url)}" for url in sitemaps]
        return "\n".join(lines) + "\n"

    def _sitemap_urls(self, request: Request) -> list[str]:
        root = self.site_url or getattr(request.app.settings, "site_url", None)
        base = str(root or request.base_url).rstrip("/")
        urls = []
        for entry in self.sitemaps if self.sitemaps is not None else ["sitemap"]:
            if "://" in entry or entry.startswith("/"):
                urls.append(absolute_url(entry, base))
                continue
            try:
                urls.append(absolute_url(request.app.url_path_for(entry), base))
            except URLBuildError:
                if self.sitemaps is not None:
                    raise
        return urls

    @property
    def view(self) -> Callable[[Request], Awaitable[Response]]:
        """The view serving the file (``text/plain``)."""
        async def robots_txt(request: Request) -> Response:
            headers = {}
            if self.max_age is not None:
                headers["cache-control"] = f"public, max-age={int(self.max_age)}"
            return Response(self.text(request), headers=headers,
                            media_type="text/plain; charset=utf-8")

        return robots_txt


def _line(value: str) -> str:
    # One directive per line: a value never carries a line break into the next.
    return " ".join(str(value).split())
