"""Version 2 of the app: a column with a server default on ``Author``, and a new
table with a foreign key to a new table of the ``library`` component."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from heron import App
from heron.db import Model


class Author(Model):
    name: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), server_default="NZ")


class Fine(Model):
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"))
    amount: Mapped[int]


app = App(components=["library"])
