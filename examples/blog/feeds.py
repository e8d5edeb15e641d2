"""What the blog offers crawlers and feed readers: RSS and Atom feeds, a sitemap,
robots.txt.  app.py mounts them."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from sqlalchemy import Select, select

from heron import Request
from heron.db import db
from heron.feeds import Feed
from heron.i18n import gettext_lazy
from heron.sitemaps import ModelSitemap, RobotsRule, RobotsTxt, StaticSitemap

from .models import Post

#: Posts in a feed.
FEED_SIZE = 20


def published(statement: Select[Any]) -> Select[Any]:
    """Only the posts the public may read."""
    return statement.where(Post.published_at.is_not(None),
                           Post.published_at <= datetime.now(UTC))


class LatestPosts(Feed):
    """The newest posts.  Served as RSS (``/feed.xml``) and Atom (``/atom.xml``)."""

    # Translated when the feed is built, in the language of the request.
    title = gettext_lazy("The Heron Blog")
    link = "/"
    description = gettext_lazy("Notes on building web sites with heron.")

    def language(self, request: Request) -> str:
        return request.language

    async def items(self, request: Request) -> list[Post]:
        statement = published(select(Post)).order_by(Post.published_at.desc())
        return list(await db.async_session.scalars(statement.limit(FEED_SIZE)))

    def item_title(self, item: Post) -> str:
        return item.title

    def item_description(self, item: Post) -> str:
        return "".join(f"<p>{escape(part)}</p>" for part in item.paragraphs)

    def item_link(self, item: Post) -> str:
        return self.request.url_for("post", slug=item.slug)

    def item_pubdate(self, item: Post) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Post) -> datetime:
        return item.updated_at

    def item_author_name(self, item: Post) -> str:
        return item.author


class PostSitemap(ModelSitemap):
    """Every published post, one query a page of 50,000."""

    model = Post
    route = "post"
    params = {"slug": "slug"}
    lastmod_field = "updated_at"
    changefreq = "monthly"

    def filter(self, statement: Select[Any]) -> Select[Any]:
        return published(statement)


SITEMAPS = {"pages": StaticSitemap(["index"], changefreq="daily", priority=1.0),
            "posts": PostSitemap()}

#: Crawlers may read everything but the admin; the Sitemap line is added for us.
ROBOTS = RobotsTxt([RobotsRule("*", disallow=["/admin/"])])
