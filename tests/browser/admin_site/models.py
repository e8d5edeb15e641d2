"""Authors, their books and the books' chapters.

Class names start with ``AdmBr`` (tables ``adm_br_*``): every model of heron's
tests shares one metadata.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from heron.db import Model


class AdmBrStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    OUT_OF_PRINT = "out of print"


class AdmBrAuthor(Model):
    __verbose_name__ = "author"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    books: Mapped[list[AdmBrBook]] = relationship(back_populates="author",
                                                  cascade="all, delete-orphan")

    def __str__(self) -> str:
        return self.name


class AdmBrBook(Model):
    __verbose_name__ = "book"

    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[AdmBrStatus] = mapped_column(default=AdmBrStatus.DRAFT)
    in_stock: Mapped[bool] = mapped_column(default=True)
    published: Mapped[dt.date | None]
    author_id: Mapped[int] = mapped_column(ForeignKey("adm_br_author.id"))
    author: Mapped[AdmBrAuthor] = relationship(back_populates="books")
    chapters: Mapped[list[AdmBrChapter]] = relationship(back_populates="book",
                                                        cascade="all, delete-orphan")

    def __str__(self) -> str:
        return self.title


class AdmBrChapter(Model):
    __verbose_name__ = "chapter"

    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    book_id: Mapped[int] = mapped_column(ForeignKey("adm_br_book.id"))
    book: Mapped[AdmBrBook] = relationship(back_populates="chapters")

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"
