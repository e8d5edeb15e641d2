"""A user's conftest.py: heron's ``db_session`` and ``db_clean`` fixtures use the
``app`` fixture, so the project overrides it with its app on a test database
(here once per module, on SQLite and on PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from db_test_helpers import dispose
from demo_app import create_app

from heron import App


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def project_app(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The project's app on a database that lives for the whole module, as a
    project's test database would."""
    folder = tmp_path_factory.mktemp("project")
    if request.param == "sqlite":
        urls = [f"sqlite:///{folder / 'app.sqlite3'}", f"sqlite:///{folder / 'analytics.sqlite3'}"]
    else:
        server = request.getfixturevalue("postgres_server")
        name = "heron_dbt_demo_" + re.sub(r"\W", "_", request.module.__name__.rpartition(".")[2])
        urls = [server.create_database(name), server.create_database(name + "_analytics")]
    app = create_app(*urls, root=folder)
    yield app
    dispose(app)


@pytest.fixture
def app(project_app: App) -> App:
    return project_app
