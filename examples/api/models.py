"""The API's one table: a task on a to-do list."""

from __future__ import annotations

from datetime import date

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from heron.db import Model, TimestampMixin

TITLE_MAX = 200
NOTES_MAX = 2000


class Task(TimestampMixin, Model):
    """Table ``task``, with ``id`` and ``created_at``/``updated_at`` from heron."""

    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    notes: Mapped[str] = mapped_column(String(NOTES_MAX), default="")
    #: ``low``, ``normal`` or ``high`` (:class:`examples.api.schemas.Priority`).
    priority: Mapped[str] = mapped_column(String(10), default="normal", index=True)
    done: Mapped[bool] = mapped_column(default=False, index=True)
    due: Mapped[date | None]
