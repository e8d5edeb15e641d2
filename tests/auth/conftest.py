"""Fixtures for the heron.auth tests: apps with the component and cheap argon2 costs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from auth_helpers import FAST_HASHING, AuthAppFactory

from heron import App


@pytest.fixture
def auth_app(make_app: Callable[..., App]) -> AuthAppFactory:
    """``auth_app(**settings)``: an app (``make_app``) with heron.auth and fast hashing."""

    def factory(**settings: Any) -> App:
        settings.setdefault("components", ["heron.auth"])
        for name, value in FAST_HASHING.items():
            settings.setdefault(name, value)
        return make_app(**settings)

    return factory


@pytest.fixture
def auth_site(auth_app: AuthAppFactory, tmp_path: Path) -> AuthAppFactory:
    """``auth_site(**settings)``: an ``auth_app`` with the views of ``auth_helpers``,
    its tables migrated, on one SQLite file per test that every app the test makes
    shares (as the processes of one deployment do).  Commits are real."""
    from auth_helpers import add_auth_views

    from heron.testing.database import prepare_schema

    url = f"sqlite:///{tmp_path / 'site.sqlite3'}"

    def factory(**settings: Any) -> App:
        settings.setdefault("database_url", url)
        app = add_auth_views(auth_app(**settings))
        prepare_schema(app)
        return app

    return factory
