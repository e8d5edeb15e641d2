"""The models of the heron.db tests, defined once: ``Model.metadata`` is process-global.

Every class name starts with ``T`` so that the derived table names start with
``t_`` and clash with no other test's tables.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heron.db import Model, TimestampMixin

#: The bind key of :class:`TMetric`: tests give it a second database.
ANALYTICS = "t_analytics"


class TNote(Model):
    """The plain model: derived table name, default ``id``."""

    text: Mapped[str] = mapped_column(String(200))


class TCountry(Model):
    """Its own primary key: no ``id`` column is added."""

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class TCity(Model):
    """A foreign key, an index and a unique constraint, all named by the convention."""

    __table_args__ = (UniqueConstraint("country_code", "name"),)

    name: Mapped[str] = mapped_column(String(100), index=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("t_country.code"))


class TPair(Model):
    """A composite primary key declared in ``__table_args__``: no ``id`` either."""

    __table_args__ = (PrimaryKeyConstraint("left", "right"),)

    left: Mapped[int]
    right: Mapped[int]


class TLabelled(Model):
    """An abstract base: no table of its own; its subclasses get an ``id``."""

    __abstract__ = True

    label: Mapped[str] = mapped_column(String(20))


class TThing(TLabelled):
    pass


class TAnimal(Model):
    """Inheritance: joined (TDog, its own table) and single-table (TCat)."""

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "animal"}

    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(50))


class TDog(TAnimal):
    __mapper_args__ = {"polymorphic_identity": "dog"}

    id: Mapped[int] = mapped_column(ForeignKey("t_animal.id"), primary_key=True)
    bark: Mapped[str | None] = mapped_column(String(20))


class TCat(TAnimal):
    __tablename__ = None  # type: ignore[assignment]
    __mapper_args__ = {"polymorphic_identity": "cat"}

    lives: Mapped[int | None]


class TEvent(TimestampMixin, Model):
    title: Mapped[str] = mapped_column(String(100))


class TMetric(Model):
    """Lives in the ``t_analytics`` database (``database_binds``)."""

    __bind_key__ = ANALYTICS

    name: Mapped[str] = mapped_column(String(50))
    value: Mapped[int] = mapped_column(default=0)


class TUniqueName(Model):
    """For IntegrityError tests."""

    name: Mapped[str] = mapped_column(String(50), unique=True)


class TCounter(Model):
    """Incremented concurrently by the load test."""

    name: Mapped[str] = mapped_column(String(20), unique=True)
    value: Mapped[int] = mapped_column(default=0)


class TEntry(Model):
    """Written and read concurrently by the load test."""

    origin: Mapped[str] = mapped_column(String(10), index=True)
    payload: Mapped[str] = mapped_column(String(100))


# -- the worked example: authors, books and tags ------------------------------

t_book_tag = Table(
    "t_book_tag",
    Model.metadata,
    Column("book_id", Integer, ForeignKey("t_book.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("t_tag.id", ondelete="CASCADE"), primary_key=True),
)


class TAuthor(Model):
    name: Mapped[str] = mapped_column(String(100), unique=True)
    books: Mapped[list[TBook]] = relationship(back_populates="author", order_by="TBook.title")


class TBook(Model):
    title: Mapped[str] = mapped_column(String(200))
    published: Mapped[date | None]
    author_id: Mapped[int] = mapped_column(ForeignKey("t_author.id"), index=True)
    author: Mapped[TAuthor] = relationship(back_populates="books")
    tags: Mapped[list[TTag]] = relationship(secondary=t_book_tag, back_populates="books",
                                            order_by="TTag.name")


class TTag(Model):
    name: Mapped[str] = mapped_column(String(50), unique=True)
    books: Mapped[list[TBook]] = relationship(secondary=t_book_tag, back_populates="tags")


Index("ix_t_book_title_published", TBook.title, TBook.published)

#: Every table of these models in the default database, parents first.
DEFAULT_TABLES = [
    TNote.__table__, TCountry.__table__, TCity.__table__, TEvent.__table__, TPair.__table__,
    TThing.__table__, TAnimal.__table__, TDog.__table__,
    TUniqueName.__table__, TCounter.__table__, TEntry.__table__,
    TAuthor.__table__, TBook.__table__, TTag.__table__, t_book_tag,
]
ANALYTICS_TABLES = [TMetric.__table__]
