"""A small project for the migration tests, version 1: ``Author`` here, in the
app's own branch, and the ``library`` component's models."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from heron import App
from heron.db import Model


class Author(Model):
    name: Mapped[str] = mapped_column(String(100))


app = App(components=["library"])
