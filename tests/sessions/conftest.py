"""Fixtures for the session tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from session_helpers import add_session_views

from heron import App

SessionAppFactory = Callable[..., App]


@pytest.fixture
def session_app(make_app: Any) -> SessionAppFactory:
    """``session_app(**settings)``: an app from ``make_app`` with :func:`add_session_views`."""

    def factory(**settings: Any) -> App:
        return add_session_views(make_app(**settings))

    return factory


@pytest.fixture(params=["cookie", "cache"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each built-in session backend that needs no external server (cache = memory://)."""
    return str(request.param)
