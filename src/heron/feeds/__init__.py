"""Feeds: RSS 2.0 and Atom 1.0 from one declarative class (docs/feeds.md).

    from heron.feeds import AtomFeed, Feed

    class LatestPosts(Feed):
        title = "Latest posts"
        link = "/"
        description = "What is new."

        def items(self, request): ...
        def item_title(self, post): return post.title
        def item_link(self, post): return f"/posts/{post.slug}"

    app.add_route("/feed.xml", LatestPosts().view, name="feed")
    app.add_route("/atom.xml", LatestPosts(AtomFeed).view, name="atom")
"""

from __future__ import annotations

from heron.feeds.feed import Feed, site_root
from heron.feeds.links import feed_link_tag
from heron.feeds.plugin import plugin
from heron.feeds.writers import (
    AtomFeed,
    Enclosure,
    FeedDocument,
    FeedEntry,
    FeedWriter,
    RssFeed,
)

__all__ = [
    "AtomFeed",
    "Enclosure",
    "Feed",
    "FeedDocument",
    "FeedEntry",
    "FeedWriter",
    "RssFeed",
    "feed_link_tag",
    "plugin",
    "site_root",
]
