"""The guestbook's one model: an entry, with the time it was written."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from heron.db import Model, TimestampMixin

NAME_MAX = 80
MESSAGE_MAX = 500


class Entry(TimestampMixin, Model):
    """A signature: table ``entry``, with ``id`` and ``created_at``/``updated_at`` from heron."""

    name: Mapped[str] = mapped_column(String(NAME_MAX))
    message: Mapped[str] = mapped_column(String(MESSAGE_MAX))

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "message": self.message,
                "created_at": self.created_at}
