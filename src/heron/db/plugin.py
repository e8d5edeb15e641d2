"""heron.db as a plug-in: its settings section, its startup checks, and the request
context that lets ``db.session`` find the request it belongs to."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from heron.db.settings import DatabaseSettings
from heron.exceptions import ImproperlyConfigured
from heron.plugins import Plugin

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["DatabasePlugin", "plugin"]


class DatabasePlugin(Plugin):
    """heron.db in an app: the database settings, the checks of every database URL
    (heron.db.E002-E004) and ``db.session`` usable in every request of an app that
    uses the database (whose code imported ``db`` or a model by the time it starts).

    The engines and their pools are made on first use, not at startup, so an app
    that never touches the database connects to nothing.
    """

    name = "heron.db"
    settings = DatabaseSettings

    def needs_request_context(self, app: App) -> bool:
        # db.session finds its request through it.  An app whose code never loaded
        # heron.db's models or ``db`` by startup does not use the database in requests,
        # and does not pay for the context (about 1% of a plain request).
        return "heron.db.database" in sys.modules or "heron.db.models" in sys.modules

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        from heron.db.checks import check_database

        return check_database(app)

    def deploy_checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        """SQLite served by several worker processes (heron.db.W001).

        The number of workers comes from ``WEB_CONCURRENCY``, the variable ``heron run``
        (its ``--workers`` default), uvicorn and gunicorn read: an app cannot see how many
        processes a server started for it."""
        if not self.needs_request_context(app):
            return []  # the app does not use heron.db
        raw = os.environ.get("WEB_CONCURRENCY", "").strip()
        workers = int(raw) if raw.isdigit() else 1
        settings = app.settings
        urls = {"default": settings.database_url, **settings.database_binds}
        sqlite = [name for name, url in urls.items()
                  if url is None or url.partition("://")[0].split("+")[0] == "sqlite"]
        if workers <= 1 or not sqlite:
            return []
        return [ImproperlyConfigured(
            f"The {sqlite[0]!r} database is SQLite and WEB_CONCURRENCY={workers} worker "
            "processes share it: SQLite takes one writer at a time, so under load writes "
            "wait and fail with 'database is locked'. Use PostgreSQL "
            "(HERON_DATABASE_URL=postgresql://...) or one worker", id="heron.db.W001")]


plugin = DatabasePlugin
