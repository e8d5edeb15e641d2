"""Sitemaps and robots.txt (docs/feeds.md).

    from heron.sitemaps import ModelSitemap, RobotsTxt, Sitemaps, StaticSitemap

    sitemaps = Sitemaps({"posts": ModelSitemap(Post, "post", params={"slug": "slug"}),
                         "pages": StaticSitemap(["index"])})
    sitemaps.add_routes(app)                        # /sitemap.xml, /sitemap-<section>.xml
    app.add_route("/robots.txt", RobotsTxt().view, name="robots")

``ModelSitemap`` loads SQLAlchemy on first use, not when the package is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron._lazy import lazy_exports
from heron.sitemaps.robots import RobotsRule, RobotsTxt
from heron.sitemaps.sitemap import (
    CHANGEFREQS,
    MAX_URLS,
    Sitemap,
    Sitemaps,
    SitemapURL,
    StaticSitemap,
)

if TYPE_CHECKING:
    from heron.sitemaps.models import ModelSitemap

__all__ = [
    "CHANGEFREQS",
    "MAX_URLS",
    "ModelSitemap",
    "RobotsRule",
    "RobotsTxt",
    "Sitemap",
    "SitemapURL",
    "Sitemaps",
    "StaticSitemap",
]

__getattr__ = lazy_exports(__name__, {"ModelSitemap": "heron.sitemaps.models"})
