"""Logins are one user whatever the case of any letter, not only ASCII's, on SQLite
and PostgreSQL alike (issue 18 item 12): ``heron_lower()`` folds both sides."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_helpers import AuthAppFactory, log_in, make_user
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from heron import App
from heron.auth import create_user
from heron.auth.user import User
from heron.auth.users import find_user
from heron.db import db
from heron.db._lower import fold
from heron.db.migrations import MigrationError, Migrations
from heron.testing import TestClient
from heron.testing.database import clean_tables

#: Pairs that are one login: Latin with accents, Greek (both small sigmas), Cyrillic,
#: Armenian.
SAME = [("Émile", "émile"), ("ÇAĞLAR", "çağlar"), ("ŁÓDŹ", "łódź"), ("ΣΟΦΟΣ", "σοφος"),
        ("ЖЕНЯ", "женя"), ("ԱՐԱ", "արա")]


@pytest.fixture(scope="module")
def pg_url(request: pytest.FixtureRequest) -> str:
    server = request.getfixturevalue("postgres_server")
    return str(server.create_database(f"heron_unicode_{uuid.uuid4().hex[:12]}"))


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, auth_site: AuthAppFactory) -> Iterator[App]:
    if request.param == "sqlite":
        app = auth_site()
    else:
        app = auth_site(database_url=request.getfixturevalue("pg_url"))
    yield app
    clean_tables(app)


@pytest.mark.parametrize(("first", "second"), SAME)
def test_a_second_user_in_another_case_is_refused(app: App, first: str, second: str) -> None:
    make_user(app, first)
    with db.context(app):
        with pytest.raises(IntegrityError):
            create_user(db.session, app, second, "a long secret 123")
        db.session.rollback()
        assert db.session.execute(find_user(User, second)).scalar_one().username == first


@pytest.mark.parametrize("path", ["/login", "/alogin"])
def test_logging_in_in_another_case_finds_the_user(app: App, path: str) -> None:
    make_user(app, "Émile")
    with TestClient(app) as client:
        assert log_in(client, "ÉMILE", path=path).json() == {"user": "Émile",
                                                             "authenticated": True}
    with TestClient(app) as client:  # the bad input: an unknown name is refused, not a 500
        assert log_in(client, "Emile", path=path).status_code == 400


def test_the_database_folds_as_python_does(app: App) -> None:
    sample = "".join(a for a, _ in SAME) + " ABC ǅ Ǆ ß ẞ Ω Ω 日本 İ ﬀ"
    with db.context(app):
        assert db.session.scalar(select(text("heron_lower(:value)")),
                                 {"value": sample}) == fold(sample)
        assert db.session.scalar(text("SELECT heron_lower(NULL)")) is None


def test_the_unique_index_is_on_heron_lower(app: App) -> None:
    indexes = {index.name: index for index in User.__table__.indexes}
    assert "heron_lower" in str(indexes["uq_auth_user_username_lower"].expressions[0])
    if db.state(app).engine().dialect.name == "postgresql":
        with db.context(app):
            definition = db.session.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_auth_user_username_lower'"
            )).scalar_one()
        assert "heron_lower(" in definition
        assert "UNIQUE" in definition


def test_the_migration_refuses_users_that_would_clash(auth_app: AuthAppFactory,
                                                      tmp_path: Path) -> None:
    """A database that already holds Émile and émile says whom to rename: no half-done index."""
    app = auth_app(database_url=f"sqlite:///{tmp_path / 'old.sqlite3'}")
    migrations = Migrations(app)
    migrations.migrate("auth_user_0002")
    with db.context(app):
        for name in ("Émile", "émile", "Zoé"):
            db.session.execute(text("INSERT INTO auth_user (username, password) "
                                    "VALUES (:name, '!')"), {"name": name})
        db.session.commit()
    with pytest.raises((MigrationError, RuntimeError), match="'Émile', 'émile'"):
        migrations.migrate()
    with db.context(app):
        db.session.execute(text("DELETE FROM auth_user WHERE username = 'émile'"))
        db.session.commit()
    migrations.migrate()
    with db.context(app):
        assert db.session.execute(find_user(User, "ÉMILE")).scalar_one().username == "Émile"
        with pytest.raises(IntegrityError):
            create_user(db.session, app, "ZOÉ", "a long secret 123")


@pytest.mark.filterwarnings("ignore:.*expression-based index")  # SQLite cannot reflect it
def test_migrated_databases_match_the_models(app: App) -> None:
    """No spurious revision: autogenerate sees the shipped index as the model's."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from heron.db import Model

    def user_table(item: object, name: str | None, type_: str, *args: object) -> bool:
        table = getattr(item, "table", item)
        return getattr(table, "name", name) == "auth_user"

    with db.state(app).engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": user_table})
        assert compare_metadata(context, Model.metadata) == []
