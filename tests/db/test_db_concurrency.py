"""Concurrent updates (docs/database.md, "Concurrent updates"): two buyers race for the
last item in stock, as two threads in ``db.transaction()`` or two asyncio tasks in
``db.atransaction()``, on SQLite and on a real PostgreSQL.  The naive read-modify-write
sells the one item twice; each recipe sells it once.

The buyers meet between their read and their write (:class:`Meeting`), so that both
have read before either writes, unless the database makes one of them wait: then the
other goes on after ``WAIT`` seconds, and the test checks that the waiting buyer had
started before the first one committed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from db_test_helpers import JSON
from sqlalchemy import String, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from heron import App
from heron.db import Model, db
from heron.testing import AsyncTestClient
from heron.testing.database import rollback_isolation

#: Seconds a buyer waits at the meeting point for the other one.
WAIT = 1.0
STALE = "The data changed since it was read; reload it and try again."


class TcProduct(Model):
    name: Mapped[str] = mapped_column(String(50), unique=True)
    stock: Mapped[int]
    sold: Mapped[int] = mapped_column(default=0)


class TcVersionedProduct(Model):
    name: Mapped[str] = mapped_column(String(50), unique=True)
    stock: Mapped[int]
    version: Mapped[int] = mapped_column()

    __mapper_args__ = {"version_id_col": version}


TABLES: list[Any] = [TcProduct.__table__, TcVersionedProduct.__table__]
Product = TcProduct | TcVersionedProduct


# -- the meeting point ---------------------------------------------------------------


class Meeting:
    """Two threads wait here for each other, at most ``WAIT`` seconds; ``met`` records,
    for each arrival, whether both got here before the wait ran out."""

    def __init__(self) -> None:
        self._barrier = threading.Barrier(2, timeout=WAIT)
        self.met: list[bool] = []

    def __call__(self) -> None:
        try:
            self._barrier.wait()
            self.met.append(True)
        except threading.BrokenBarrierError:
            self.met.append(False)


class AsyncMeeting:
    """:class:`Meeting` for two asyncio tasks."""

    def __init__(self) -> None:
        self._arrived = 0
        self._everyone = asyncio.Event()
        self._broken = False
        self.met: list[bool] = []

    async def __call__(self) -> None:
        self._arrived += 1
        if self._arrived == 2 and not self._broken:
            self._everyone.set()
        if not self._broken:
            try:
                await asyncio.wait_for(self._everyone.wait(), WAIT)
            except TimeoutError:
                self._broken = True
        self.met.append(not self._broken)


# -- the recipes: each returns whether it sold the item -------------------------------

Buy = Callable[[Session, Callable[[], None]], bool]
AsyncBuy = Callable[[AsyncSession, Callable[[], Awaitable[None]]], Awaitable[bool]]


def read_then_write(session: Session, meet: Callable[[], None],
                    model: type[Product] = TcProduct, lock: bool = False) -> bool:
    statement = select(model).where(model.name == "mug")
    if lock:
        statement = statement.with_for_update()
    product = session.scalars(statement).one()
    meet()
    if product.stock < 1:
        return False
    product.stock -= 1
    return True


async def aread_then_write(session: AsyncSession, meet: Callable[[], Awaitable[None]],
                           model: type[Product] = TcProduct, lock: bool = False) -> bool:
    statement = select(model).where(model.name == "mug")
    if lock:
        statement = statement.with_for_update()
    product = (await session.scalars(statement)).one()
    await meet()
    if product.stock < 1:
        return False
    product.stock -= 1
    return True


def naive(session: Session, meet: Callable[[], None]) -> bool:
    return read_then_write(session, meet)


async def anaive(session: AsyncSession, meet: Callable[[], Awaitable[None]]) -> bool:
    return await aread_then_write(session, meet)


def row_lock(session: Session, meet: Callable[[], None]) -> bool:
    return read_then_write(session, meet, lock=True)


async def arow_lock(session: AsyncSession, meet: Callable[[], Awaitable[None]]) -> bool:
    return await aread_then_write(session, meet, lock=True)


def lock_for_writing(session: Session) -> None:
    """The helper of docs/database.md: SQLite's write lock, taken now, unless SQLite's
    transaction is open already."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite and not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def begin_immediate(session: Session, meet: Callable[[], None]) -> bool:
    lock_for_writing(session)
    return read_then_write(session, meet)


async def abegin_immediate(session: AsyncSession, meet: Callable[[], Awaitable[None]]) -> bool:
    await session.run_sync(lock_for_writing)
    return await aread_then_write(session, meet)


def versioned(session: Session, meet: Callable[[], None]) -> bool:
    return read_then_write(session, meet, TcVersionedProduct)


async def aversioned(session: AsyncSession, meet: Callable[[], Awaitable[None]]) -> bool:
    return await aread_then_write(session, meet, TcVersionedProduct)


def repeatable_read(session: Session, meet: Callable[[], None]) -> bool:
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return read_then_write(session, meet)


async def arepeatable_read(session: AsyncSession, meet: Callable[[], Awaitable[None]]) -> bool:
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return await aread_then_write(session, meet)


SELL_ONE = (update(TcProduct).where(TcProduct.name == "mug", TcProduct.stock >= 1)
            .values(stock=TcProduct.stock - 1).returning(TcProduct.stock))


def conditional_update(session: Session, meet: Callable[[], None]) -> bool:
    left = session.scalar(SELL_ONE)
    meet()  # the row is written, not committed: the other buyer's UPDATE waits
    return left is not None


async def aconditional_update(session: AsyncSession,
                              meet: Callable[[], Awaitable[None]]) -> bool:
    left = await session.scalar(SELL_ONE)
    await meet()
    return left is not None


# -- racing ---------------------------------------------------------------------------


@dataclass
class Purchase:
    outcome: str = ""  # "sold", "sold out", "stale" or "serialization failure"
    started: float = 0.0
    ended: float = 0.0


@dataclass
class Race:
    purchases: list[Purchase]
    met: list[bool] = field(default_factory=list)

    @property
    def outcomes(self) -> list[str]:
        return sorted(p.outcome for p in self.purchases)

    def assert_the_second_buyer_waited(self) -> None:
        """One sale; the other buyer, started before the first committed, could not
        reach the meeting point until then."""
        assert self.outcomes == ["sold", "sold out"]
        assert self.met == [False, False]
        winner, loser = sorted(self.purchases, key=lambda p: p.outcome != "sold")
        assert loser.started < winner.ended


def outcome_of(error: Exception) -> str:
    if isinstance(error, StaleDataError):
        return "stale"
    if isinstance(error, OperationalError) and getattr(error.orig, "sqlstate", "") == "40001":
        return "serialization failure"
    raise error


def race_threads(app: App, buy: Buy) -> Race:
    """Two threads, each in its own ``db.context`` and ``db.transaction()``."""
    meeting = Meeting()
    start = threading.Barrier(2, timeout=10)
    race = Race([Purchase(), Purchase()])

    def attempt(purchase: Purchase) -> None:
        start.wait()
        with db.context(app):
            purchase.started = time.monotonic()
            try:
                with db.transaction() as session:
                    purchase.outcome = "sold" if buy(session, meeting) else "sold out"
            except (StaleDataError, OperationalError) as error:
                purchase.outcome = outcome_of(error)
            purchase.ended = time.monotonic()

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(attempt, p) for p in race.purchases]:
            future.result(timeout=30)
    race.met = meeting.met
    return race


async def race_tasks(app: App, buy: AsyncBuy) -> Race:
    """Two asyncio tasks, each in its own ``db.async_context`` and ``db.atransaction()``."""
    meeting = AsyncMeeting()
    race = Race([Purchase(), Purchase()])

    async def attempt(purchase: Purchase) -> None:
        async with db.async_context(app):
            purchase.started = time.monotonic()
            try:
                async with db.atransaction() as session:
                    purchase.outcome = "sold" if await buy(session, meeting) else "sold out"
            except (StaleDataError, OperationalError) as error:
                purchase.outcome = outcome_of(error)
            purchase.ended = time.monotonic()

    await asyncio.wait_for(asyncio.gather(*(attempt(p) for p in race.purchases)), 30)
    race.met = meeting.met
    return race


async def run_race(app: App, kind: str, buy: Buy, abuy: AsyncBuy) -> Race:
    if kind == "threads":
        return await asyncio.to_thread(race_threads, app, buy)
    return await race_tasks(app, abuy)


def stock_of(app: App, model: type[Product] = TcProduct) -> int:
    with db.context(app):
        return db.session.scalars(select(model.stock).where(model.name == "mug")).one()


@pytest.fixture
def shop(db_app: Callable[..., App]) -> Iterator[App]:
    """An app whose database holds one mug, in each product table."""
    app = db_app(csrf=False)
    engine = db.state(app).engine()
    Model.metadata.create_all(engine, tables=TABLES)
    with db.context(app), db.transaction() as session:
        session.add_all([TcProduct(name="mug", stock=1), TcVersionedProduct(name="mug", stock=1)])
    yield app
    Model.metadata.drop_all(engine, tables=TABLES)


KINDS = pytest.mark.parametrize("kind", ["threads", "tasks"])
POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"])
SQLITE = pytest.mark.parametrize("backend", ["sqlite"])


# -- the race, and each recipe ---------------------------------------------------------


@KINDS
async def test_a_naive_read_modify_write_sells_the_last_item_twice(shop: App, kind: str) -> None:
    race = await run_race(shop, kind, naive, anaive)
    assert race.met == [True, True]  # both read stock=1 before either wrote
    assert race.outcomes == ["sold", "sold"]
    assert stock_of(shop) == 0  # one item, two sales


@KINDS
@POSTGRESQL
async def test_a_row_lock_makes_the_second_buyer_wait_on_postgresql(shop: App,
                                                                    kind: str) -> None:
    race = await run_race(shop, kind, row_lock, arow_lock)
    race.assert_the_second_buyer_waited()
    assert stock_of(shop) == 0


@KINDS
@SQLITE
async def test_with_for_update_is_ignored_on_sqlite(shop: App, kind: str) -> None:
    race = await run_race(shop, kind, row_lock, arow_lock)
    assert race.met == [True, True]
    assert race.outcomes == ["sold", "sold"]  # oversold, as without it


@KINDS
@SQLITE
async def test_begin_immediate_makes_the_second_buyer_wait_on_sqlite(shop: App,
                                                                    kind: str) -> None:
    race = await run_race(shop, kind, begin_immediate, abegin_immediate)
    race.assert_the_second_buyer_waited()
    assert stock_of(shop) == 0


@KINDS
async def test_a_conditional_update_sells_the_last_item_once(shop: App, kind: str) -> None:
    race = await run_race(shop, kind, conditional_update, aconditional_update)
    race.assert_the_second_buyer_waited()
    assert stock_of(shop) == 0


@KINDS
async def test_a_version_column_refuses_the_second_write(shop: App, kind: str) -> None:
    race = await run_race(shop, kind, versioned, aversioned)
    assert race.met == [True, True]  # no lock: both read stock=1
    assert race.outcomes == ["sold", "stale"]
    assert stock_of(shop, TcVersionedProduct) == 0
    with db.context(shop):
        assert db.session.scalars(select(TcVersionedProduct.version)).one() == 2


@KINDS
@POSTGRESQL
async def test_repeatable_read_refuses_the_second_write_on_postgresql(shop: App,
                                                                     kind: str) -> None:
    race = await run_race(shop, kind, repeatable_read, arepeatable_read)
    assert race.met == [True, True]
    assert race.outcomes == ["serialization failure", "sold"]
    assert stock_of(shop) == 0


@POSTGRESQL
def test_a_serialization_failure_run_again_finds_the_item_sold(shop: App) -> None:
    """The retry loop of the docs: the refused buyer runs its transaction again."""
    meeting = Meeting()

    def buy() -> str:
        with db.context(shop):
            for attempt in range(3):
                try:
                    with db.transaction() as session:
                        session.connection(
                            execution_options={"isolation_level": "REPEATABLE READ"})
                        product = session.scalars(select(TcProduct)).one()
                        if attempt == 0:
                            meeting()
                        if product.stock < 1:
                            return "sold out"
                        product.stock -= 1
                    return "sold"
                except OperationalError as error:
                    if getattr(error.orig, "sqlstate", None) != "40001" or attempt == 2:
                        raise
        raise AssertionError("unreachable")

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(lambda _: buy(), range(2)))
    assert meeting.met == [True, True]
    assert outcomes == ["sold", "sold out"]
    assert stock_of(shop) == 0


@SQLITE
def test_lock_for_writing_in_an_open_transaction_begins_nothing(shop: App) -> None:
    with db.context(shop), db.transaction() as session:
        session.add(TcProduct(name="cup", stock=1))
        session.flush()  # SQLite's transaction is open: it holds the write lock
        lock_for_writing(session)
    with rollback_isolation(shop) as session:  # heron's db_session fixture: BEGIN sent
        with db.transaction():
            lock_for_writing(session)
            session.add(TcProduct(name="bowl", stock=1))
        assert session.scalars(select(TcProduct.name).order_by(TcProduct.id)).all() == [
            "mug", "cup", "bowl"]


def count_in_python(session: Session, meet: Callable[[], None]) -> bool:
    product = session.scalars(select(TcProduct).where(TcProduct.name == "mug")).one()
    meet()
    product.sold += 1
    return True


def count_in_the_database(session: Session, meet: Callable[[], None]) -> bool:
    product = session.scalars(select(TcProduct).where(TcProduct.name == "mug")).one()
    meet()
    product.sold = TcProduct.sold + 1  # type: ignore[assignment]  # SET sold = sold + 1
    return True


async def acount_in_python(session: AsyncSession, meet: Callable[[], Awaitable[None]]) -> bool:
    product = (await session.scalars(select(TcProduct).where(TcProduct.name == "mug"))).one()
    await meet()
    product.sold += 1
    return True


async def acount_in_the_database(session: AsyncSession,
                                 meet: Callable[[], Awaitable[None]]) -> bool:
    await meet()
    await session.execute(update(TcProduct).where(TcProduct.name == "mug")
                          .values(sold=TcProduct.sold + 1))
    return True


def sold_of(app: App) -> int:
    with db.context(app):
        return db.session.scalars(select(TcProduct.sold)).one()


@KINDS
async def test_a_counter_added_to_in_python_loses_an_increment(shop: App, kind: str) -> None:
    race = await run_race(shop, kind, count_in_python, acount_in_python)
    assert race.met == [True, True]
    assert sold_of(shop) == 1  # two sales counted once


@KINDS
async def test_a_counter_added_to_in_the_database_keeps_both(shop: App, kind: str) -> None:
    race = await run_race(shop, kind, count_in_the_database, acount_in_the_database)
    assert race.outcomes == ["sold", "sold"]
    assert sold_of(shop) == 2


# -- what the client gets --------------------------------------------------------------


def add_buy_views(app: App, sync_meeting: Meeting, async_meeting: AsyncMeeting) -> None:
    @app.post("/sync/buy")
    def sync_buy() -> dict[str, int]:
        product = db.session.scalars(select(TcVersionedProduct)).one()
        sync_meeting()
        product.stock -= 1
        db.session.commit()
        return {"stock": product.stock}

    @app.post("/async/buy")
    async def async_buy() -> dict[str, int]:
        product = (await db.async_session.scalars(select(TcVersionedProduct))).one()
        await async_meeting()
        product.stock -= 1
        await db.async_session.commit()
        return {"stock": product.stock}


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "heron.db" and r.levelno == logging.WARNING]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_stale_write_that_escapes_a_view_is_a_409(
        shop: App, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    add_buy_views(shop, Meeting(), AsyncMeeting())
    caplog.set_level(logging.WARNING)
    async with AsyncTestClient(shop) as client:
        responses = await asyncio.gather(client.post(f"/{kind}/buy", headers=JSON),
                                         client.post(f"/{kind}/buy", headers=JSON))
    by_status = {r.status_code: r for r in responses}
    assert sorted(by_status) == [200, 409]
    assert by_status[200].json() == {"stock": 0}
    assert by_status[409].headers["content-type"] == "application/problem+json"
    assert by_status[409].json() == {"type": "about:blank", "title": "Conflict",
                                     "status": 409, "detail": STALE}
    assert warnings_of(caplog) == [
        f"Another transaction changed or deleted the row first on POST /{kind}/buy: UPDATE "
        "statement on table 'tc_versioned_product' expected to update 1 row(s); 0 were matched."]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert stock_of(shop, TcVersionedProduct) == 0


async def test_debug_adds_sqlalchemys_message_to_the_409(db_app: Callable[..., App]) -> None:
    app = db_app(csrf=False, debug=True)
    engine = db.state(app).engine()
    Model.metadata.create_all(engine, tables=TABLES)
    try:
        with db.context(app), db.transaction() as session:
            session.add(TcVersionedProduct(name="mug", stock=1))

        @app.post("/buy")
        def buy() -> str:
            product = db.session.scalars(select(TcVersionedProduct)).one()
            with engine.begin() as other:  # another request writes first
                other.execute(update(TcVersionedProduct).values(
                    version=TcVersionedProduct.version + 1))
            product.stock -= 1
            db.session.commit()
            return "bought"

        async with AsyncTestClient(app) as client:
            response = await client.post("/buy", headers=JSON)
        assert response.status_code == 409
        assert response.json()["detail"] == (
            f"{STALE} SQLAlchemy says: UPDATE statement on table 'tc_versioned_product' "
            "expected to update 1 row(s); 0 were matched.")
    finally:
        Model.metadata.drop_all(engine, tables=TABLES)
