"""heron's database layer: SQLAlchemy 2 models, request-scoped sessions, migrations.

    from heron.db import Model, db
    from sqlalchemy.orm import Mapped, mapped_column

    class Post(Model):
        title: Mapped[str]

    @app.get("/posts/{id:int}")
    def post(id: int):
        return {"title": db.get_or_404(Post, id).title}

See docs/database.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron._lazy import lazy_exports

if TYPE_CHECKING:
    from heron.db.database import Database, db
    from heron.db.models import NAMING_CONVENTION, Model, TimestampMixin
    from heron.db.pagination import MAX_PER_PAGE, Page

__all__ = ["MAX_PER_PAGE", "NAMING_CONVENTION", "Database", "Model", "Page", "TimestampMixin",
           "db"]

# The names load SQLAlchemy on first use, not when the package is imported: its
# settings section (heron.db.settings) is part of every app's settings.
_EXPORTS = {
    "Database": "heron.db.database", "db": "heron.db.database",
    "NAMING_CONVENTION": "heron.db.models", "Model": "heron.db.models",
    "TimestampMixin": "heron.db.models",
    "MAX_PER_PAGE": "heron.db.pagination", "Page": "heron.db.pagination",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)
