"""Version 1: a book refers to an author, a table of the app (another branch)."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from heron.db import Model


class Book(Model):
    title: Mapped[str] = mapped_column(String(200))
    pages: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
