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

import heron._context
from heron.checks import register
from heron.db.checks import check_database
from heron.db.database import Database, db
from heron.db.models import NAMING_CONVENTION, Model, TimestampMixin
from heron.db.pagination import MAX_PER_PAGE, Page

heron._context.enabled = True  # db.session finds its request through the context
register(check_database)  # a URL whose driver is missing fails at startup, not per request

__all__ = ["MAX_PER_PAGE", "NAMING_CONVENTION", "Database", "Model", "Page", "TimestampMixin",
           "db"]
