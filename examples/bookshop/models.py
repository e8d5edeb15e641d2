"""The bookshop's models: authors, categories, the books on sale and their reviews."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heron.db import Model, TimestampMixin


class Format(enum.Enum):
    """How a book is sold."""

    HARDCOVER = "hardcover"
    PAPERBACK = "paperback"
    EBOOK = "e-book"


class Author(Model):
    """Who wrote a book.  An author with books cannot be deleted (the books would be
    left without one): the admin says so on its delete page."""

    name: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(60), default="")
    books: Mapped[list[Book]] = relationship(back_populates="author")

    def __str__(self) -> str:
        return self.name


class Category(Model):
    """A shelf of the shop; deleting one leaves its books without a category."""

    name: Mapped[str] = mapped_column(String(60), unique=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)

    def __str__(self) -> str:
        return self.name


class Book(TimestampMixin, Model):
    """A book on sale.  The database refuses a negative price (and the admin's form
    says so before it)."""

    __table_args__ = (CheckConstraint("price >= 0", name="price_not_negative"),)

    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"), index=True)
    author: Mapped[Author] = relationship(back_populates="books")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("category.id", ondelete="SET NULL"), index=True)
    category: Mapped[Category | None] = relationship()
    format: Mapped[Format] = mapped_column(default=Format.PAPERBACK)
    price: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    stock: Mapped[int] = mapped_column(default=0)
    published_on: Mapped[dt.date | None]
    in_print: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(Text, default="")
    reviews: Mapped[list[Review]] = relationship(
        back_populates="book", cascade="all, delete-orphan", order_by="Review.id")

    def __str__(self) -> str:
        return self.title


class Review(TimestampMixin, Model):
    """A reader's review of a book, edited on the book's admin page (an inline); it
    goes with its book."""

    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_1_to_5"),)

    book_id: Mapped[int] = mapped_column(ForeignKey("book.id", ondelete="CASCADE"), index=True)
    book: Mapped[Book] = relationship(back_populates="reviews")
    reviewer: Mapped[str] = mapped_column(String(80))
    rating: Mapped[int]
    text: Mapped[str] = mapped_column(Text, default="")

    def __str__(self) -> str:
        return f"{self.reviewer} ({self.rating}/5)"
