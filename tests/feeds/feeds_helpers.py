"""Feeds and a tiny app the feed tests share (not a test module)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from heron import App, Request
from heron.feeds import AtomFeed, Enclosure, Feed

HOSTILE = "<script>alert('x')</script> & \x00\x01\x0b\x1f\ufffe \U0001f426 ]]>"


@dataclass
class Story:
    """What the feeds list: a plain object, as a model row would be."""

    number: int
    title: str
    body: str = "A <b>bold</b> body & more."
    published: datetime | date | None = None
    updated: datetime | None = None
    author: str | None = "Ann Author"
    email: str | None = None
    tags: list[str] = field(default_factory=list)
    audio: bool = False


STORIES = [
    Story(2, "Second story", published=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
          updated=datetime(2026, 3, 5, 12, 0, tzinfo=UTC), email="ann@example.com",
          tags=["news", "heron"], audio=True),
    Story(1, "First story", published=datetime(2026, 3, 1, 8, 0)),  # naive: UTC
]


class StoryFeed(Feed):
    """Stories, from a sync items()."""

    title = "Stories & notes"
    link = "/stories/"
    description = "The newest stories."
    language = "en"
    author_name = "The Editors"

    def items(self, request: Request) -> list[Story]:
        return list(STORIES)

    def item_title(self, item: Story) -> str:
        return item.title

    def item_description(self, item: Story) -> str:
        return item.body

    def item_link(self, item: Story) -> str:
        return f"/stories/{item.number}"

    def item_pubdate(self, item: Story) -> datetime | date | None:
        return item.published

    def item_updateddate(self, item: Story) -> datetime | None:
        return item.updated

    def item_author_name(self, item: Story) -> str | None:
        return item.author

    def item_author_email(self, item: Story) -> str | None:
        return item.email

    def item_categories(self, item: Story) -> list[str]:
        return item.tags

    def item_enclosures(self, item: Story) -> list[Enclosure]:
        if not item.audio:
            return []
        return [Enclosure(f"/media/{item.number}.mp3", 12345, "audio/mpeg")]


class AsyncStoryFeed(StoryFeed):
    """The same stories from an ``async def`` items()."""

    async def items(self, request: Request) -> list[Story]:  # type: ignore[override]
        return list(STORIES)


def feed_app(make_app: Any, *feeds: tuple[str, Feed], **settings: Any) -> App:
    app: App = make_app(**settings)
    for path, feed in feeds:
        app.add_route(path, feed.view)
    return app


def default_app(make_app: Any, **settings: Any) -> App:
    return feed_app(make_app, ("/rss.xml", StoryFeed()), ("/atom.xml", StoryFeed(AtomFeed)),
                    ("/async-rss.xml", AsyncStoryFeed()),
                    ("/async-atom.xml", AsyncStoryFeed(AtomFeed)), **settings)
