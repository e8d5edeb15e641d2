"""heron.db.checks.check_database: each database URL parses (heron.db.E002), names a dialect
SQLAlchemy has (E004) and a driver that is installed (E003), with the pip command to run.
Nothing is connected to."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable

import pytest

from heron import App
from heron.db.checks import check_database
from heron.exceptions import ImproperlyConfigured

AppFactory = Callable[..., App]


def missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ImportError:
        return True


def hide(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    """Make ``module`` look uninstalled: find_spec and import both see None."""
    monkeypatch.setitem(sys.modules, module, None)


def only(problems: list[ImproperlyConfigured]) -> ImproperlyConfigured:
    assert len(problems) == 1, problems
    return problems[0]


@pytest.mark.parametrize("settings", [
    {},  # the default: a SQLite file in instance/
    {"database_url": "sqlite:///:memory:"},
    {"database_url": "sqlite+aiosqlite:///data.sqlite3"},
    {"database_url": "postgresql://app:secret@localhost/app"},  # psycopg is installed here
    {"database_binds": {"analytics": "postgresql+psycopg://localhost/analytics"}},
])
def test_urls_with_installed_drivers_pass(make_app: AppFactory,
                                          settings: dict[str, object]) -> None:
    assert check_database(make_app(**settings)) == []


def test_nothing_is_connected_to_and_no_engine_is_made(make_app: AppFactory) -> None:
    # 192.0.2.1 (TEST-NET-1) never answers: connecting would hang until the timeout.
    app = make_app(database_url="postgresql://app@192.0.2.1:5432/app")
    assert check_database(app) == []
    assert "heron.db" not in app.extensions


@pytest.mark.parametrize("url", ["postgresql://app:secret@db/app",
                                 "postgresql+asyncpg://app:secret@db/app",
                                 "postgresql+psycopg2://app:secret@db/app"])
def test_postgresql_without_psycopg_names_the_heron_extra(make_app: AppFactory,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          url: str) -> None:
    # heron reaches PostgreSQL through psycopg 3 whatever driver the URL names.
    hide(monkeypatch, "psycopg")
    found = only(check_database(make_app(database_url=url)))
    assert found.id == "heron.db.E003"
    assert 'pip install "heron[postgres]"' in found.message
    assert "'psycopg'" in found.message
    assert "database_url" in found.message
    assert "secret" not in found.message
    assert "app:***@db/app" in found.message


@pytest.mark.skipif(not missing("MySQLdb"), reason="mysqlclient is installed")
def test_mysql_without_its_driver_names_the_driver_package(make_app: AppFactory) -> None:
    found = only(check_database(make_app(database_url="mysql://shop:secret@db/shop")))
    assert found.id == "heron.db.E003"
    assert "'MySQLdb'" in found.message
    assert "pip install mysqlclient" in found.message
    assert "heron[" not in found.message
    assert "secret" not in found.message


@pytest.mark.skipif(not missing("pymysql"), reason="PyMySQL is installed")
def test_the_driver_the_url_names_is_the_one_checked(make_app: AppFactory) -> None:
    found = only(check_database(make_app(database_url="mysql+pymysql://db/shop")))
    assert "pip install PyMySQL" in found.message


@pytest.mark.skipif(not missing("pymssql"), reason="pymssql is installed")
def test_a_bind_is_checked_and_named(make_app: AppFactory) -> None:
    app = make_app(database_binds={"ok": "sqlite:///ok.sqlite3",
                                   "legacy": "mssql+pymssql://db/legacy"})
    found = only(check_database(app))
    assert found.id == "heron.db.E003"
    assert "database_binds['legacy']" in found.message
    assert "pip install pymssql" in found.message


def test_sqlite_needs_aiosqlite_for_async_sessions(make_app: AppFactory,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "aiosqlite")
    found = only(check_database(make_app()))
    assert found.id == "heron.db.E003"
    assert "pip install aiosqlite" in found.message


def test_every_setting_is_reported(make_app: AppFactory,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "psycopg")
    app = make_app(database_url="postgresql://db/app",
                   database_binds={"replica": "postgresql://replica/app", "bad": "nonsense"})
    found = check_database(app)
    assert [(p.id, p.message.split(" ", 1)[0]) for p in found] == [
        ("heron.db.E003", "database_url"),
        ("heron.db.E003", "database_binds['replica']"),
        ("heron.db.E002", "database_binds['bad']"),
    ]


@pytest.mark.parametrize("url", ["nonsense", "postgresql://app:s3cret@db:port/app", "://db"])
def test_a_url_that_cannot_be_parsed_is_e002_without_its_value(make_app: AppFactory,
                                                               url: str) -> None:
    found = only(check_database(make_app(database_url=url)))
    assert found.id == "heron.db.E002"
    assert found.message.startswith("database_url is not a database URL")
    assert "s3cret" not in found.message
    assert "dialect[+driver]://" in found.message


@pytest.mark.parametrize(("url", "name"), [("postgress://db/app", "postgress"),
                                           ("mongodb://db/app", "mongodb"),
                                           ("mysql+nosuchdriver://db/app", "mysql+nosuchdriver")])
def test_a_dialect_sqlalchemy_does_not_have_is_e004(make_app: AppFactory, url: str,
                                                    name: str) -> None:
    found = only(check_database(make_app(database_url=url)))
    assert found.id == "heron.db.E004"
    assert repr(name) in found.message
