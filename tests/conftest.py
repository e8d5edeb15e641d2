"""Shared fixtures for heron's own tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from heron import App

AppFactory = Callable[..., App]


@pytest.fixture(autouse=True)
def _clean_heron_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep HERON_* variables of the developer's shell out of the tests."""
    for key in list(os.environ):
        if key.startswith("HERON_"):
            monkeypatch.delenv(key)


@pytest.fixture
def make_app(tmp_path: Any) -> AppFactory:
    """Build an app with a secret key, the test client's host allowed, no access log
    and an empty root folder."""

    def factory(**settings: Any) -> App:
        settings.setdefault("secret_key", "test-secret-key")
        settings.setdefault("allowed_hosts", ["testserver"])
        settings.setdefault("access_log", False)
        settings.setdefault("root", tmp_path)
        return App(**settings)

    return factory


@pytest.fixture
def app(make_app: AppFactory) -> App:
    """A fresh production-mode app (debug off) for one test."""
    return make_app()
