"""Version 2: ``pages`` renamed ``page_count`` (by hand in the revision), a column
with a server default, an index, and a new table with a foreign key."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from heron.db import Model


class Book(Model):
    title: Mapped[str] = mapped_column(String(200), index=True)
    page_count: Mapped[int]
    language: Mapped[str] = mapped_column(String(10), server_default="en")
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))


class Loan(Model):
    book_id: Mapped[int] = mapped_column(ForeignKey("book.id"))
    borrower: Mapped[str] = mapped_column(String(100))
