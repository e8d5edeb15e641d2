"""The two TechEmpower tables as heron models (shared by the async and the sync heron peer).

``heron.db.Model`` names the tables ``world`` and ``fortune`` and adds the
integer ``id`` primary key: exactly the tables the runner creates.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from heron.db import Model


class World(Model):
    randomnumber: Mapped[int]


class Fortune(Model):
    message: Mapped[str] = mapped_column(String(2048))
