"""pytest plugin, registered by heron's ``pytest11`` entry point.

Fixtures for users' projects:

- ``app``: the project's app, found like ``heron run`` finds it (``HERON_APP``
  or ``app.py``); override it in your ``conftest.py`` to build one yourself.
- ``client``: a :class:`~heron.testing.TestClient` with startup/shutdown run.
- ``async_client``: the same as an :class:`~heron.testing.AsyncTestClient`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from heron.testing.client import AsyncTestClient, TestClient


@pytest.fixture
def app() -> Any:
    from heron._discovery import AppNotFound, find_app

    try:
        found, _ = find_app(None)
    except AppNotFound as exc:
        pytest.fail(f"heron's `app` fixture found no app: {exc} Or define an `app` fixture.")
    return found


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
async def async_client(app: Any) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app) as test_client:
        yield test_client
