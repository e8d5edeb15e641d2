"""pytest plugin, registered by heron's ``pytest11`` entry point.

Fixtures for users' projects:

- ``app``: the project's app, found like ``heron run`` finds it (``HERON_APP``
  or ``app.py``); override it in your ``conftest.py`` to build one yourself.
- ``client``: a :class:`~heron.testing.TestClient` with startup/shutdown run.
- ``async_client``: the same as an :class:`~heron.testing.AsyncTestClient`.
- ``redis_server`` (session): a throwaway :class:`~heron.testing.servers.RedisServer`.
- ``redis_url``: its URL, with every database flushed before the test.
- ``postgres_server`` (session): a throwaway
  :class:`~heron.testing.servers.PostgresServer`.
- ``db_session``: the test in a transaction rolled back afterwards (see
  :mod:`heron.testing.database`); yields ``db.session``.
- ``db_clean``: real commits, every table emptied after the test.

The server fixtures run the machine's ``redis-server`` and PostgreSQL binaries; when
one is missing, the tests using it are skipped, or fail when ``CI=true``.

With pytest-asyncio installed, an unset ``asyncio_default_fixture_loop_scope`` is
set to ``function`` (a project's own value wins), so that its warning about the
option does not show in every run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from heron.testing.client import AsyncTestClient, TestClient

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from heron.testing.servers import PostgresServer, RedisServer


_LOOP_SCOPE = "asyncio_default_fixture_loop_scope"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Choose pytest-asyncio's fixture loop scope when the project has not."""
    if not config.pluginmanager.hasplugin("asyncio"):
        return
    try:
        if config.getini(_LOOP_SCOPE):
            return
    except ValueError:  # a pytest-asyncio too old to have the option
        return
    # pytest has no public way to set an ini value; getini() reads this cache
    # first, and this hook runs before pytest-asyncio's (tryfirst), which warns
    # when the value is unset. "function" is the default it announces.
    config._inicache[_LOOP_SCOPE] = "function"


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


# Real servers. heron.testing.servers is imported only when a test asks for one.


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A throwaway redis-server on 127.0.0.1 for the whole test session."""
    from heron.testing.servers import RedisServer, start_or_skip

    server = start_or_skip(RedisServer())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """``redis://127.0.0.1:PORT/0`` of ``redis_server``, emptied (FLUSHALL) for this test."""
    redis_server.flushall()
    return redis_server.url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 for the whole test session; its
    ``url`` is a SQLAlchemy URL and ``create_database(name)`` gives a fresh one."""
    from heron.testing.servers import PostgresServer, start_or_skip

    server = start_or_skip(PostgresServer())
    try:
        yield server
    finally:
        server.stop()


# Databases. heron.testing.database (SQLAlchemy) is imported only when used.


@pytest.fixture
def db_session(app: Any) -> Iterator[Session]:
    """``db.session`` for this test, in a transaction rolled back at its end; sync
    views called by the test share it (their commits become savepoints)."""
    from heron.testing.database import rollback_isolation

    with rollback_isolation(app) as session:
        yield session


@pytest.fixture
def db_clean(app: Any) -> Iterator[None]:
    """The schema ready, and every table emptied after the test: for async views,
    several connections and anything else that must really commit."""
    from heron.db import db
    from heron.testing.database import clean_tables, prepare_schema

    prepare_schema(app)
    try:
        with db.context(app):
            yield
    finally:
        clean_tables(app)


# Mail. heron.testing.smtp (aiosmtpd) is imported only when a test asks for it.

if TYPE_CHECKING:
    from heron.testing.smtp import SMTPServer


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest) -> Iterator[SMTPServer]:
    """A real SMTP server (aiosmtpd, in a thread) on 127.0.0.1 for one test, collecting
    what it receives: :class:`~heron.testing.smtp.SMTPServer`. Point an app at it with
    ``App(**smtp_server.mail_settings())`` (or ``app.settings.update(...)`` before the
    app's first mail: its mailer is made then).

    Plain SMTP without AUTH by default; for other options, parametrize it indirectly:
    ``@pytest.mark.parametrize("smtp_server", [{"starttls": True, "username": "u",
    "password": "p"}], indirect=True)``. Skipped (failed under ``CI=true``) without aiosmtpd.
    """
    from heron.testing.smtp import SMTPServer, start_or_skip

    options: dict[str, Any] = getattr(request, "param", None) or {}
    server = start_or_skip(SMTPServer(**options))
    try:
        yield server
    finally:
        server.stop()
