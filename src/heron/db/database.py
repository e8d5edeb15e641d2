"""Engines per app, and sessions scoped to the request."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import AsyncIterator, Iterator, MutableMapping
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import BigInteger, Engine, Integer, SmallInteger, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from heron._context import add_cleanup, current_scope, run_cleanups
from heron.db._signals import HeronSession
from heron.db._steps import Steps, run_steps_async, run_steps_sync
from heron.db.models import Model
from heron.db.pagination import Page, check_page, count_statement, page_bounds
from heron.exceptions import HTTPException, ImproperlyConfigured, ServiceUnavailable

if TYPE_CHECKING:
    from sqlalchemy import Select

    from heron.app import App

__all__ = ["Database", "DatabaseState", "db"]

T = TypeVar("T")
_STATE_KEY = "heron.db"
_STATE_LOCK = threading.RLock()
_SESSIONS_KEY = "heron.db.sessions"


def sync_url(url: str) -> str:
    """The URL for the sync engine: PostgreSQL always through psycopg 3."""
    return _with_driver(url, "sqlite")


def async_url(url: str) -> str:
    """The URL for the async engine: psycopg 3 (async) or aiosqlite."""
    return _with_driver(url, "sqlite+aiosqlite")


def _with_driver(url: str, sqlite: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.get_backend_name() == "sqlite":
        parsed = parsed.set(drivername=sqlite)
    return parsed.render_as_string(hide_password=False)


class DatabaseState:
    """One app's engines (made on first use) and session factories."""

    def __init__(self, app: App) -> None:
        from heron.db.settings import DatabaseSettings

        self.app = app
        app.settings.extend(DatabaseSettings)  # an app made without heron.Settings
        settings = app.settings
        default = settings.database_url or self._default_url()
        self.urls: dict[str | None, str] = {None: default}
        self.urls.update(settings.database_binds)
        self._engines: dict[str | None, Engine] = {}
        self._async_engines: dict[str | None, AsyncEngine] = {}
        self._binds: dict[type[Any], str] | None = None
        #: Set by heron's test fixtures: sessions join this connection's transaction.
        self.test_connection: Any = None
        self.test_async_connection: Any = None

    def _default_url(self) -> str:
        folder = self.app.root / self.app.settings.instance_dir
        return f"sqlite:///{folder / 'db.sqlite3'}"

    def _options(self, url: str) -> dict[str, Any]:
        settings = self.app.settings
        options: dict[str, Any] = {"echo": settings.database_echo, "pool_pre_ping": True}
        backend = make_url(url).get_backend_name()
        pooled = True
        if backend == "sqlite":
            database = make_url(url).database
            if database and database != ":memory:":
                try:
                    Path(database).parent.mkdir(parents=True, exist_ok=True)
                except OSError:
                    pass  # connecting fails then: a 503, like any database out of reach
            else:
                pooled = False  # in memory: SQLAlchemy's pools for it take no size or timeout
            options["connect_args"] = {"timeout": 15}
        elif backend == "postgresql":
            options["connect_args"] = {"connect_timeout": settings.database_connect_timeout}
        if pooled:
            options.update(pool_size=settings.database_pool_size,
                           max_overflow=settings.database_max_overflow,
                           pool_timeout=settings.database_pool_timeout,
                           pool_recycle=settings.database_pool_recycle)
        return options

    def _url(self, key: str | None) -> str:
        try:
            return self.urls[key]
        except KeyError:
            raise ImproperlyConfigured(
                f"No database is named {key!r}; add it to the database_binds setting",
                id="heron.db.E001",
            ) from None

    def engine(self, key: str | None = None) -> Engine:
        """The sync engine of the default database, or of bind ``key``."""
        engine = self._engines.get(key)
        if engine is None:
            with _STATE_LOCK:  # one engine (and pool) per database, however many threads ask
                return self._engines.get(key) or self._make_engine(key)
        return engine

    def _make_engine(self, key: str | None) -> Engine:
        url = sync_url(self._url(key))
        engine = self._engines[key] = create_engine(url, **self._options(url))
        _prepare(engine)
        return engine

    def async_engine(self, key: str | None = None) -> AsyncEngine:
        """The async engine of the default database, or of bind ``key``."""
        engine = self._async_engines.get(key)
        if engine is None:
            url = async_url(self._url(key))
            engine = self._async_engines[key] = create_async_engine(url, **self._options(url))
            _prepare(engine.sync_engine)
        return engine

    def model_binds(self) -> dict[type[Any], str]:
        """Models whose ``__bind_key__`` sends them to another database."""
        if self._binds is None:
            self._binds = {m.class_: m.class_.__bind_key__ for m in Model.registry.mappers
                           if getattr(m.class_, "__bind_key__", None)}
        return self._binds

    def _configured_binds(self) -> dict[type[Any], str]:
        # Models of a bind this app does not name are left alone: the process
        # may hold models of other apps (tests, components not used here).
        return {cls: key for cls, key in self.model_binds().items() if key in self.urls}

    def make_session(self, bind: str | None = None) -> Session:
        binds = {cls: self.engine(key) for cls, key in self._configured_binds().items()}
        if self.test_connection is not None and bind is None:
            return HeronSession(bind=self.test_connection, binds=binds or None,  # type: ignore[arg-type]
                           join_transaction_mode="create_savepoint")
        return HeronSession(bind=self.engine(bind), binds=binds or None)  # type: ignore[arg-type]

    def make_async_session(self, bind: str | None = None) -> AsyncSession:
        binds = {cls: self.async_engine(key) for cls, key in self._configured_binds().items()}
        # Not expired on commit: reading ``row.id`` after ``await commit()`` would
        # be I/O outside an await (MissingGreenlet).
        if self.test_async_connection is not None and bind is None:
            return AsyncSession(bind=self.test_async_connection, binds=binds or None,  # type: ignore[arg-type]
                                join_transaction_mode="create_savepoint",
                                expire_on_commit=False, sync_session_class=HeronSession)
        return AsyncSession(bind=self.async_engine(bind), binds=binds or None,  # type: ignore[arg-type]
                            expire_on_commit=False, sync_session_class=HeronSession)

    async def dispose(self) -> None:
        """Close every pooled connection (at shutdown)."""
        for engine in self._async_engines.values():
            await engine.dispose()
        for sync_engine in self._engines.values():
            sync_engine.dispose()
        self._engines.clear()
        self._async_engines.clear()


def _prepare(engine: Engine) -> None:
    """Per-connection settings, and marking errors that mean "cannot reach the database"."""
    if engine.dialect.name == "sqlite":
        from heron.db._lower import register_sqlite as register_heron_lower
        from heron.db._sqlite import use_aware_datetimes

        use_aware_datetimes(engine.dialect)

        @event.listens_for(engine, "connect")
        def sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            register_heron_lower(dbapi_connection)

    @event.listens_for(engine, "handle_error")
    def mark_unreachable(context: Any) -> None:
        if context.connection is None or context.is_disconnect:
            exc = context.sqlalchemy_exception
            if exc is not None:
                exc.heron_unreachable = True


#: What a client is told when a write breaks a constraint (409).
_CONFLICT_DETAIL = "The change conflicts with data already stored."
# SQLSTATE class 23 (integrity constraint violation), by code.
_SQLSTATE_KINDS = {"23505": "unique", "23503": "foreign key", "23502": "not null",
                   "23514": "check", "23P01": "exclusion"}
_SQLITE_VIOLATION = re.compile(r"(UNIQUE|NOT NULL|CHECK|FOREIGN KEY) constraint failed(?:: (.*))?")


def _violation(exc: sa_exc.IntegrityError) -> tuple[str, str]:
    """``(kind, constraint)`` of the constraint ``exc`` reports, as far as the driver
    says: ``("unique", "uq_member_email")`` on PostgreSQL, ``("unique",
    "member.email")`` on SQLite (which names the columns); ``""`` when unknown."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg
        kind = _SQLSTATE_KINDS.get(getattr(orig, "sqlstate", None) or "", "integrity")
        name = diag.constraint_name or ""
        if not name and diag.column_name:  # NOT NULL has no constraint name
            name = f"{diag.table_name}.{diag.column_name}" if diag.table_name \
                else diag.column_name
        return kind, name
    match = _SQLITE_VIOLATION.match(_first_line(orig))
    if match is None:
        return "integrity", ""
    return match[1].lower(), match[2] or ""


def _first_line(error: Any) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else ""


def _conflict(exc: sa_exc.IntegrityError) -> HTTPException:
    """The 409 of a broken constraint, logged with the constraint's name only: the
    statement's parameters may hold personal data."""
    kind, name = _violation(exc)
    scope = current_scope.get()
    where = "" if scope is None else f" on {scope.get('method', '')} {scope.get('path', '')}"
    logging.getLogger("heron.db").warning("A %s constraint refused a change%s: %s", kind,
                                          where, name or "(no name given)")
    detail = _CONFLICT_DETAIL
    app = None if scope is None else scope.get("app")
    if app is not None and app.settings.debug:
        # The statement, never its parameters: the database's message says which values.
        detail += f" The database says: {_first_line(exc.orig)} -- in: {exc.statement}"
    return HTTPException(409, detail)


#: What a client is told when another transaction changed the row first (409).
_STALE_DETAIL = "The data changed since it was read; reload it and try again."


def _stale(exc: StaleDataError) -> HTTPException:
    """The 409 of an update or delete that found its row changed (a version column
    did not match) or gone: another transaction wrote it first."""
    scope = current_scope.get()
    where = "" if scope is None else f" on {scope.get('method', '')} {scope.get('path', '')}"
    # SQLAlchemy's message names the table and the row counts, never values.
    logging.getLogger("heron.db").warning(
        "Another transaction changed or deleted the row first%s: %s", where, _first_line(exc))
    detail = _STALE_DETAIL
    app = None if scope is None else scope.get("app")
    if app is not None and app.settings.debug:
        detail += f" SQLAlchemy says: {_first_line(exc)}"
    return HTTPException(409, detail)


def translate_error(exc: Exception) -> Exception | None:
    """What a database error that escaped a view becomes: a 409 for a broken
    constraint (an ``IntegrityError``) or a stale row (a ``StaleDataError``: a
    version column did not match), a 503 when the database is out of reach."""
    if isinstance(exc, sa_exc.IntegrityError):
        return _conflict(exc)
    if isinstance(exc, StaleDataError):
        return _stale(exc)
    if isinstance(exc, sa_exc.TimeoutError):
        return ServiceUnavailable(f"No database connection was free in time: {exc}")
    if isinstance(exc, sa_exc.DBAPIError) and getattr(exc, "heron_unreachable", False):
        return ServiceUnavailable(f"The database is unreachable: {exc.orig!r}")
    return None


class Database:
    """Database access for the app handling the current request.

    ``db.session`` (sync views) and ``db.async_session`` (async views) are made
    on first use, shared for the rest of the request, and closed when it ends;
    what was not committed is rolled back.  Outside requests (scripts, the
    CLI, tests) open a scope with ``with db.context(app):``.
    """

    def state(self, app: App | None = None) -> DatabaseState:
        """The engines of ``app`` (default: the current request's app)."""
        if app is None:
            app = self._scope()["app"]
        state = app.extensions.get(_STATE_KEY)
        if state is None:
            with _STATE_LOCK:  # sync views in several threads may ask at once
                state = app.extensions.get(_STATE_KEY)
                if state is None:
                    state = app.extensions[_STATE_KEY] = DatabaseState(app)
                    if translate_error not in app.exception_translators:
                        app.exception_translators.append(translate_error)
                    app.on_shutdown(state.dispose)
        return state  # type: ignore[no-any-return]

    def _scope(self) -> MutableMapping[str, Any]:
        scope = current_scope.get()
        if scope is None:
            raise RuntimeError(
                "db.session works during a request of an app with heron.db's plugin (on "
                "in heron.App; add_plugin('heron.db.plugin') to a core app), or inside "
                "`with db.context(app):` (scripts, tests, the shell)."
            )
        return scope

    def _session(self, kind: str, bind: str | None) -> Any:
        scope = self._scope()
        sessions = scope.get(_SESSIONS_KEY)
        if sessions is None:
            sessions = scope[_SESSIONS_KEY] = {}
            add_cleanup(scope, _closer(sessions, scope))
        session = sessions.get((kind, bind))
        if session is None:
            state = self.state(scope["app"])
            session = state.make_session(bind) if kind == "sync" else state.make_async_session(bind)
            sessions[(kind, bind)] = session
        return session

    @property
    def session(self) -> Session:
        """This request's sync session (for ``def`` views)."""
        return self._session("sync", None)  # type: ignore[no-any-return]

    @property
    def async_session(self) -> AsyncSession:
        """This request's async session (for ``async def`` views)."""
        return self._session("async", None)  # type: ignore[no-any-return]

    def session_for(self, bind: str) -> Session:
        """A sync session on the named database ``bind`` (a replica, say)."""
        return self._session("sync", bind)  # type: ignore[no-any-return]

    def async_session_for(self, bind: str) -> AsyncSession:
        return self._session("async", bind)  # type: ignore[no-any-return]

    @contextlib.contextmanager
    def context(self, app: App) -> Iterator[None]:
        """Make ``db.session`` usable outside a request, in sync code."""
        scope: dict[str, Any] = {"type": "heron.context", "app": app}
        token = current_scope.set(scope)
        try:
            yield
        finally:
            current_scope.reset(token)
            _close_sync(scope.get(_SESSIONS_KEY, {}))
            _close_async_from_sync(scope.get(_SESSIONS_KEY, {}))

    @contextlib.asynccontextmanager
    async def async_context(self, app: App) -> AsyncIterator[None]:
        """Make ``db.session`` and ``db.async_session`` usable outside a request."""
        scope: dict[str, Any] = {"type": "heron.context", "app": app}
        token = current_scope.set(scope)
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            current_scope.reset(token)
            await run_cleanups(scope, failed)

    def current_transaction(self) -> Session | AsyncSession | None:
        """The session of this request (or ``db.context``) whose transaction has written
        something not committed yet, or ``None``.

        Work that must happen only if that transaction commits joins it: a job enqueued
        with heron.tasks is written in it, or sent when it commits.  A transaction that
        only read is not one to join (it is rolled back when the request ends).
        """
        scope = current_scope.get()
        sessions = None if scope is None else scope.get(_SESSIONS_KEY)
        for (kind, bind), session in (sessions or {}).items():
            sync = session if kind == "sync" else session.sync_session
            if bind is None and sync.in_transaction() and (
                    sync.info.get(_WROTE) or sync.new or sync.dirty or sync.deleted):
                return session  # type: ignore[no-any-return]
        return None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit what the block does, or roll it all back if it raises.

        Work that joins a transaction (heron.tasks' jobs) joins this one whatever the
        block does, writes through ``session.connection()`` included.
        """
        session = self.session
        if not session.in_transaction():
            session.begin()
        session.info[_WROTE] = True
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    @contextlib.asynccontextmanager
    async def atransaction(self) -> AsyncIterator[AsyncSession]:
        """``async with db.atransaction():`` -- :meth:`transaction` for async code."""
        session = self.async_session
        if not session.in_transaction():
            session.sync_session.begin()  # no I/O: the connection is taken on first use
        session.sync_session.info[_WROTE] = True
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise

    # -- helpers ------------------------------------------------------------

    def get_or_404(self, model: type[T], ident: Any, detail: str | None = None) -> T:
        """The row with primary key ``ident``, or a 404."""
        return run_steps_sync(_get_steps(model, ident, detail), lambda: self.session)

    async def aget_or_404(self, model: type[T], ident: Any, detail: str | None = None) -> T:
        return await run_steps_async(_get_steps(model, ident, detail), lambda: self.async_session)

    def first_or_404(self, statement: Select[Any], detail: str | None = None) -> Any:
        """The first result of ``statement``, or a 404."""
        return run_steps_sync(_first_steps(statement, detail), lambda: self.session)

    async def afirst_or_404(self, statement: Select[Any], detail: str | None = None) -> Any:
        return await run_steps_async(_first_steps(statement, detail), lambda: self.async_session)

    def paginate(self, statement: Select[Any], page: Any = 1, per_page: Any = 20,
                 max_per_page: int | None = None, *, clamp: bool = False) -> Page[Any]:
        """One page of ``statement``'s results (404 for a page that does not exist).

        ``per_page`` is capped at ``max_per_page`` (default 100), whatever the
        client asks for.  With ``clamp=True`` a page past the last gives the last
        page, and a page number that is not one gives the first (Django's
        ``get_page``), instead of a 404: an old ``?page=9`` link still works after a
        filter shrank the results.
        """
        return run_steps_sync(_page_steps(statement, page, per_page, max_per_page, clamp),
                              lambda: self.session)

    async def apaginate(self, statement: Select[Any], page: Any = 1, per_page: Any = 20,
                        max_per_page: int | None = None, *, clamp: bool = False) -> Page[Any]:
        """:meth:`paginate` for async code."""
        return await run_steps_async(
            _page_steps(statement, page, per_page, max_per_page, clamp),
            lambda: self.async_session)

    # -- schema (scripts and tests; use migrations in projects) ------------

    def create_all(self, app: App) -> None:
        """Create every model's table that does not exist (no migrations)."""
        state = self.state(app)
        for key in state.urls:
            Model.metadata.create_all(state.engine(key), tables=_tables_of(key))

    def drop_all(self, app: App) -> None:
        state = self.state(app)
        for key in state.urls:
            Model.metadata.drop_all(state.engine(key), tables=_tables_of(key))


def _get_steps(model: type[T], ident: Any, detail: str | None) -> Steps[T]:
    found = yield partial(_get_in_range, model=model, ident=ident)
    if found is None:
        raise HTTPException(404, detail or f"There is no {model.__name__} {_shown(ident)}.")
    return found  # type: ignore[no-any-return]


def _get_in_range(session: Any, model: type[Any], ident: Any) -> Any:
    """``session.get(model, ident)``; ``None``, with no query, for an integer that
    its key column cannot hold: the driver would raise (a 500), not find nothing."""
    mapper = sa_inspect(model)
    keys = _key_ranges(mapper, session.get_bind(mapper=mapper).dialect)
    if isinstance(ident, dict):
        values = [(ident.get(name), limit) for name, limit in keys]
    elif isinstance(ident, (tuple, list)):
        values = [(value, limit) for value, (_, limit) in zip(ident, keys, strict=False)]
    else:
        values = [(ident, keys[0][1])] if len(keys) == 1 else []
    for value, limit in values:
        if limit and isinstance(value, int) and not -limit <= value < limit:
            return None
    return session.get(model, ident)


@lru_cache(maxsize=512)
def _key_ranges(mapper: Any, dialect: Any) -> list[tuple[str, int]]:
    """``(attribute, 2**(bits - 1))`` for each primary key column of a model's
    ``mapper`` on ``dialect``; 0 for a column that is not an integer."""
    ranges = []
    for column in mapper.primary_key:
        impl = column.type.dialect_impl(dialect)  # a variant's type on this dialect
        bits = 0
        if isinstance(impl, Integer):
            # Every SQLite integer has 64 bits; elsewhere the type says.
            bits = (64 if dialect.name == "sqlite" or isinstance(impl, BigInteger)
                    else 16 if isinstance(impl, SmallInteger) else 32)
        ranges.append((mapper.get_property_by_column(column).key, 2 ** (bits - 1) if bits else 0))
    return ranges


def _shown(ident: Any) -> str:
    """``repr(ident)`` for a message, shortened."""
    try:
        text = repr(ident)
    except ValueError:  # an int with more digits than repr() writes
        text = "..."
    return text if len(text) <= 40 else text[:37] + "..."


def _first_steps(statement: Select[Any], detail: str | None) -> Steps[Any]:
    found = (yield statement.limit(1)).scalars().first()
    if found is None:
        raise HTTPException(404, detail or "Nothing matches.")
    return found


def _page_steps(statement: Select[Any], page: Any, per_page: Any,
                max_per_page: int | None, clamp: bool = False) -> Steps[Page[Any]]:
    if clamp:
        wanted = _page_number(page)
        _, per_page = page_bounds(1, per_page, max_per_page)
        total = (yield count_statement(statement)).scalar() or 0
        page = min(wanted, max(1, -(-total // per_page)))
    else:
        page, per_page = page_bounds(page, per_page, max_per_page)
        total = (yield count_statement(statement)).scalar() or 0
    rows = yield statement.limit(per_page).offset((page - 1) * per_page)
    result = Page(list(rows.scalars()), page, per_page, total)
    return result if clamp else check_page(result)


def _page_number(page: Any) -> int:
    """A client's page number for ``clamp``: 1 when it is not a positive number."""
    try:
        number = int(page)
    except (TypeError, ValueError):
        return 1
    return max(1, number)


def _tables_of(key: str | None) -> list[Any]:
    """The tables of database ``key``: those of its models, and the tables no
    model maps (many-to-many association tables) that refer to them; other
    unmapped tables are the default database's."""
    keys: dict[Any, str | None] = {}
    for mapper in Model.registry.mappers:
        keys.setdefault(mapper.local_table, getattr(mapper.class_, "__bind_key__", None))

    def key_of(table: Any) -> str | None:
        if table in keys:
            return keys[table]
        referred = [keys[fk.column.table] for fk in table.foreign_keys if fk.column.table in keys]
        return referred[0] if referred else None

    return [t for t in Model.metadata.sorted_tables if key_of(t) == key]


def _close_sync(sessions: dict[Any, Any]) -> None:
    for session in sessions.values():
        if isinstance(session, Session):
            session.close()


_closing: set[Any] = set()


def _close_async_from_sync(sessions: dict[Any, Any]) -> None:
    """Close the async sessions used in a sync ``db.context`` (an async test in
    heron's ``db_clean``, say): left open, they would hold their connections
    and locks."""
    leftovers = [s for s in sessions.values() if isinstance(s, AsyncSession)]
    if not leftovers:
        return
    import asyncio

    async def close() -> None:
        for session in leftovers:
            await session.close()

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        # No loop runs here: close them on a loop of their own, in a thread so
        # as not to touch this thread's event loop.
        import threading

        thread = threading.Thread(target=asyncio.run, args=(close(),), name="heron-db-close")
        thread.start()
        thread.join()
        return
    task = loop.create_task(close())  # a sync block inside async code: close them soon
    _closing.add(task)
    task.add_done_callback(_closing.discard)


_close_executor: Any = None


def _closing_threads() -> Any:
    # Not the pool of sync views: when all its threads are views waiting for a
    # connection, the sessions that would give theirs back must not queue
    # behind them (a deadlock until the pool timeout).
    global _close_executor
    if _close_executor is None:
        from concurrent.futures import ThreadPoolExecutor

        _close_executor = ThreadPoolExecutor(4, thread_name_prefix="heron-db-close")
    return _close_executor


def _closer(sessions: dict[Any, Any], scope: MutableMapping[str, Any]) -> Any:
    async def close_sessions(failed: bool) -> None:
        # Sessions asked for after this (by a streaming response, say) start a
        # new registry, closed by the next round of cleanups.
        if scope.get(_SESSIONS_KEY) is sessions:
            del scope[_SESSIONS_KEY]
        import asyncio

        for session in sessions.values():
            try:
                if isinstance(session, AsyncSession):
                    await session.close()
                elif session.in_transaction():
                    # A ROLLBACK round trip: off the loop.
                    await asyncio.get_running_loop().run_in_executor(_closing_threads(),
                                                                     session.close)
                else:
                    session.close()
            except Exception:  # a broken connection must not keep the others open
                import logging

                logging.getLogger("heron.error").exception("Closing a database session failed")
        sessions.clear()

    return close_sessions


db = Database()
"""heron's database access object: ``from heron.db import db``."""

_WROTE = "heron.db.wrote"  # Session.info: the transaction has flushed a change


@event.listens_for(Session, "after_flush")
def _note_write(session: Session, flush_context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: Any) -> None:
    # An INSERT, UPDATE or DELETE statement, or text(): it may write.
    if not state.is_select:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_write(session: Session, transaction: Any) -> None:
    # Only the outermost transaction's end: a savepoint released or rolled back
    # (begin_nested) leaves the writes around it pending.
    if transaction.parent is None:
        session.info.pop(_WROTE, None)

