"""Fixtures for the heron.db tests: the same tests on SQLite and on a real PostgreSQL.

``db_app(**settings)`` builds an app (``make_app``) whose default database and
``t_analytics`` bind are SQLite files in ``tmp_path``, or two PostgreSQL
databases made once per test module on heron's ``postgres_server``; the
tables of :mod:`models_for_tests` are created, and emptied after the test.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from db_test_helpers import dispose, empty_tables
from models_for_tests import ANALYTICS, ANALYTICS_TABLES, DEFAULT_TABLES

from heron import App
from heron.db import Model, db

DbAppFactory = Callable[..., App]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each database the tests run on."""
    return str(request.param)


@pytest.fixture(scope="module")
def pg_databases(request: pytest.FixtureRequest) -> dict[str, str]:
    """Two fresh PostgreSQL databases for this test module: default and analytics."""
    server = request.getfixturevalue("postgres_server")
    name = "heron_dbt_" + re.sub(r"\W", "_", request.module.__name__.rpartition(".")[2])
    return {"default": server.create_database(name),
            "analytics": server.create_database(name + "_analytics")}


@pytest.fixture
def database_urls(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """``{"default": url, "analytics": url}`` for ``backend``."""
    if backend == "sqlite":
        return {"default": f"sqlite:///{tmp_path / 'main.sqlite3'}",
                "analytics": f"sqlite:///{tmp_path / 'analytics.sqlite3'}"}
    return dict(request.getfixturevalue("pg_databases"))


@pytest.fixture
def db_app(make_app: Callable[..., App], database_urls: dict[str, str]) -> Iterator[DbAppFactory]:
    """``db_app(**settings)``: an app on ``backend``'s databases, with the test tables."""
    apps: list[App] = []

    def factory(**settings: Any) -> App:
        settings.setdefault("database_url", database_urls["default"])
        settings.setdefault("database_binds", {ANALYTICS: database_urls["analytics"]})
        settings.setdefault("database_connect_timeout", 2)
        app = make_app(**settings)
        state = db.state(app)
        Model.metadata.create_all(state.engine(), tables=DEFAULT_TABLES)
        if ANALYTICS in state.urls:
            Model.metadata.create_all(state.engine(ANALYTICS), tables=ANALYTICS_TABLES)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        state = db.state(app)
        with contextlib.suppress(Exception):
            for key in state.urls:
                empty_tables(state.engine(key))
        dispose(app)
