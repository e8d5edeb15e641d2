"""Database isolation for tests: the schema once, then each test on a clean slate.

Two ways, both fixtures of heron's pytest plugin:

- ``db_session``: the test runs inside a transaction that is rolled back at its
  end.  ``db.session`` in the test and in sync views joins that transaction
  (through savepoints, so views may commit), which makes it the fastest way.
  Async sessions cannot join a sync connection's transaction, so tests of
  async views that write should use ``db_clean``.
- ``db_clean``: the test commits for real, on any number of connections, sync
  or async; every table is emptied afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import MetaData, delete, text
from sqlalchemy.orm import Session

from heron.db import db

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["clean_tables", "prepare_schema", "rollback_isolation"]

_PREPARED: set[str] = set()
_TEST_FOLDER: str | None = None
_COUNTER = 0


def use_test_database(app: App) -> None:
    """Point an app without a ``database_url`` at a throwaway SQLite file, so tests
    never touch the development database in the instance folder."""
    if app.settings.database_url is not None:
        return
    import tempfile

    global _TEST_FOLDER
    if _TEST_FOLDER is None:
        _TEST_FOLDER = tempfile.mkdtemp(prefix="heron-test-db-")
        import atexit
        import shutil

        atexit.register(shutil.rmtree, _TEST_FOLDER, True)
    global _COUNTER
    _COUNTER += 1
    from heron.db.settings import DatabaseSettings

    settings = cast(DatabaseSettings, app.settings)
    settings.database_url = f"sqlite:///{_TEST_FOLDER}/test-{_COUNTER}.sqlite3"
    old = app.extensions.pop("heron.db", None)  # engines made for the old URL
    if old is not None:
        for engine in old._engines.values():
            engine.dispose()


def prepare_schema(app: App) -> None:
    """Create the schema once per database URL in a test run: apply migrations
    (heron's own, the components', the app's), then create the tables of models
    that have no migration yet.  An app without ``database_url`` gets a
    throwaway SQLite database first (:func:`use_test_database`)."""
    from heron.db.migrations import Migrations

    use_test_database(app)
    state = db.state(app)
    url = state.engine().url.render_as_string(hide_password=False)
    if url in _PREPARED:
        return
    Migrations(app).migrate()
    db.create_all(app)
    _PREPARED.add(url)


@contextmanager
def rollback_isolation(app: App) -> Iterator[Session]:
    """Run the block in one transaction, rolled back at the end; yields the session
    that ``db.session`` returns in the block and in sync views."""
    prepare_schema(app)
    state = db.state(app)
    connection = state.engine().connect()
    driver: Any = connection.connection.driver_connection
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # sqlite3 sends BEGIN only before a write, so a view's savepoint could
        # run (and commit) outside the test's transaction: say BEGIN ourselves.
        isolation_level = driver.isolation_level
        driver.isolation_level = None
    transaction = connection.begin()
    if sqlite:
        driver.execute("BEGIN")
    state.test_connection = connection
    try:
        with db.context(app):
            yield db.session
    finally:
        state.test_connection = None
        transaction.rollback()
        if sqlite:
            driver.isolation_level = isolation_level
        connection.close()


def clean_tables(app: App) -> None:
    """Delete every row of every table the models and migrations made, then make
    again the rows that migrating makes (heron.auth's permissions)."""
    import warnings

    from heron.db.migrations import post_migrate

    state = db.state(app)
    engine = state.engine()
    with engine.begin() as connection:
        reflected = MetaData()
        with warnings.catch_warnings():
            # SQLite cannot reflect an index on an expression (heron.auth's lower(username)).
            warnings.filterwarnings("ignore", message=".*expression-based index")
            reflected.reflect(connection)
        tables = [t for t in reversed(reflected.sorted_tables) if t.name != "alembic_version"]
        if not tables:
            return
        if connection.dialect.name == "postgresql":
            names = ", ".join(connection.dialect.identifier_preparer.quote(t.name)
                              for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(delete(table))
    post_migrate(app)
