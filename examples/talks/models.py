"""The call for talks' models: tracks, and the talks proposed for them."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heron.db import Model, TimestampMixin


class Level(enum.Enum):
    """Who a talk is for."""

    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class Track(Model):
    """A track of the conference (rows made by the first migration)."""

    name: Mapped[str] = mapped_column(String(60), unique=True)

    def __str__(self) -> str:
        return self.name


class Talk(TimestampMixin, Model):
    """A proposed talk; ``slides`` is the name of a file in the app's storage."""

    title: Mapped[str] = mapped_column(String(120), unique=True)
    speaker: Mapped[str] = mapped_column(String(80))
    email: Mapped[str] = mapped_column(String(254))
    track_id: Mapped[int] = mapped_column(ForeignKey("track.id"), index=True)
    track: Mapped[Track] = relationship(lazy="joined")
    level: Mapped[Level] = mapped_column(default=Level.BEGINNER)
    minutes: Mapped[int] = mapped_column(default=30)
    abstract: Mapped[str] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(200))
    slides: Mapped[str | None] = mapped_column(String(200))
