"""The blog's one model: a post, published once ``published_at`` has passed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from heron.db import Model, TimestampMixin


class Post(TimestampMixin, Model):
    """A blog post.  A post without ``published_at``, or with one still to come, is a
    draft: only the admin shows it."""

    # Not "post": heron's docs and tests declare Post models of their own in one process.
    __tablename__ = "blog_example_post"

    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    author: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    #: In UTC, like every datetime heron stores.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        published = self.published_at
        if published is None:
            return False
        if published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        return published <= datetime.now(UTC)

    @property
    def reading_minutes(self) -> int:
        """About how long the post takes to read, at 200 words a minute (at least 1)."""
        return max(1, round(len(self.body.split()) / 200))

    @property
    def paragraphs(self) -> list[str]:
        """The body's paragraphs (separated by blank lines), for the page and the feeds."""
        return [part.strip() for part in self.body.replace("\r\n", "\n").split("\n\n")
                if part.strip()]
