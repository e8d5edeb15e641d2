"""Fixtures of the HTTP tests of heron.admin: the shop of ``admin_shop`` in an app with
heron.auth and heron.admin on a SQLite file per test, its users, and logged-in clients.

The shop's database is made once per session (migrations, rows, the superuser) and
copied for each test, which is then free to commit.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from admin_shop import FAST_HASHING, AdminAppFactory, Browser, Shop, add_test_views, make_shop

from heron import App
from heron.db import db
from heron.testing.database import prepare_schema


@pytest.fixture
def admin_app(make_app: Callable[..., App], tmp_path: Path) -> AdminAppFactory:
    """``admin_app(**settings)``: an app with heron.auth and heron.admin, fast hashing, a
    ``/csrf`` view and its tables made, on one SQLite file per test (``prepare=False``:
    the file is there already)."""

    def factory(prepare: bool = True, **settings: Any) -> App:
        settings.setdefault("components", ["heron.auth", "heron.admin"])
        settings.setdefault("database_url", f"sqlite:///{tmp_path / 'admin.sqlite3'}")
        for name, value in FAST_HASHING.items():
            settings.setdefault(name, value)
        app = make_app(**settings)
        add_test_views(app)
        if prepare:
            prepare_schema(app)
        return app

    return factory


@pytest.fixture(scope="session")
def shop_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A SQLite file with the shop's tables, rows and superuser, and the rows' ids."""
    folder = tmp_path_factory.mktemp("admin-shop")
    path = folder / "shop.sqlite3"
    app = App(components=["heron.auth", "heron.admin"], database_url=f"sqlite:///{path}",
              secret_key="test-secret-key", root=folder, **FAST_HASHING)
    prepare_schema(app)
    ids = make_shop(app).ids
    db.state(app).engine().dispose()
    return path, ids


@pytest.fixture
def shop(admin_app: AdminAppFactory, shop_template: tuple[Path, dict[str, Any]],
         tmp_path: Path, request: pytest.FixtureRequest) -> Shop:
    """The shop app with its rows and a superuser ``admin``; a test module may set
    ``shop_settings`` (a dict) for the app's settings."""
    template, ids = shop_template
    target = tmp_path / "shop.sqlite3"
    shutil.copyfile(template, target)
    settings = dict(getattr(request.module, "shop_settings", {}))
    app = admin_app(prepare=False, database_url=f"sqlite:///{target}", **settings)
    return Shop(app, dict(ids))


@pytest.fixture
def browser(shop: Shop) -> Iterator[Browser]:
    """A client logged in as the superuser ``admin``."""
    with shop.client("admin") as browser:
        yield browser
