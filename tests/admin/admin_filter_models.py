"""Models and data of the tests of heron.admin's lookups, search and filters.

Class names start with ``AdmFlt`` (tables ``adm_flt_*``): ``Model.metadata`` is
shared by every test.  A test module that names this module in ``pytest_plugins``
gets the fixtures ``lib_engine`` (parametrized: a SQLite file, a PostgreSQL database
of heron's ``postgres_server``; the tables there, empty) and ``lib_session``.

PYTEST_DONT_REWRITE (imported by the tests before pytest registers it as a plugin)
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Enum,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.orm import (
    Mapped,
    Session,
    column_property,
    mapped_column,
    relationship,
    synonym,
)

from heron.db import Model


class AdmFltStatus(enum.Enum):
    DRAFT = "draft"
    IN_REVIEW = "in review"
    PUBLISHED = "published"


class AdmFltCountry(Model):
    name: Mapped[str] = mapped_column(String(100))

    def __str__(self) -> str:
        return self.name


class AdmFltAuthor(Model):
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool | None] = mapped_column(Boolean)
    country_id: Mapped[int | None] = mapped_column(ForeignKey("adm_flt_country.id"))
    country: Mapped[AdmFltCountry | None] = relationship()
    books: Mapped[list[AdmFltBook]] = relationship(back_populates="author")

    def __str__(self) -> str:
        return self.name


adm_flt_book_tag = Table(
    "adm_flt_book_tag", Model.metadata,
    Column("book_id", ForeignKey("adm_flt_book.id"), primary_key=True),
    Column("tag_id", ForeignKey("adm_flt_tag.id"), primary_key=True),
)


class AdmFltTag(Model):
    name: Mapped[str] = mapped_column(String(50))
    label = synonym("name")  # neither a column nor a relationship to a path
    name_length = column_property(func.length(name))  # an expression, not a column

    def __str__(self) -> str:
        return self.name


class AdmFltBook(Model):
    title: Mapped[str] = mapped_column(String(200))
    subtitle: Mapped[str | None] = mapped_column(String(200))
    blurb: Mapped[str] = mapped_column(Text, default="")
    pages: Mapped[int] = mapped_column(Integer, default=100)
    edition: Mapped[int] = mapped_column(SmallInteger, default=1)
    price: Mapped[decimal.Decimal | None] = mapped_column(Numeric(10, 2))
    rating: Mapped[float | None] = mapped_column(Float)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed: Mapped[bool | None] = mapped_column(Boolean)
    status: Mapped[AdmFltStatus] = mapped_column(Enum(AdmFltStatus, name="adm_flt_status"),
                                                 default=AdmFltStatus.DRAFT)
    kind: Mapped[str | None] = mapped_column(Enum("paper", "ebook", name="adm_flt_kind"))
    released: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    printed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # naive, UTC
    code: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    extra: Mapped[Any] = mapped_column(JSON, nullable=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("adm_flt_author.id"))
    author: Mapped[AdmFltAuthor | None] = relationship(back_populates="books")
    tags: Mapped[list[AdmFltTag]] = relationship(secondary=adm_flt_book_tag)
    reviews: Mapped[list[AdmFltReview]] = relationship(back_populates="book")

    def __str__(self) -> str:
        return self.title


class AdmFltReview(Model):
    book_id: Mapped[int] = mapped_column(ForeignKey("adm_flt_book.id"))
    book: Mapped[AdmFltBook] = relationship(back_populates="reviews")
    body: Mapped[str] = mapped_column(Text)
    stars: Mapped[int] = mapped_column(Integer)


class AdmFltNode(Model):
    """Related to itself: paths through it need aliases."""

    name: Mapped[str] = mapped_column(String(50))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("adm_flt_node.id"))
    parent: Mapped[AdmFltNode | None] = relationship(remote_side="AdmFltNode.id")


class AdmFltPair(Model):
    """A composite primary key: no related filter can point at it."""

    left: Mapped[int] = mapped_column(Integer, primary_key=True)
    right: Mapped[int] = mapped_column(Integer, primary_key=True)


class AdmFltPairRef(Model):
    pair_left: Mapped[int | None] = mapped_column(Integer)
    pair_right: Mapped[int | None] = mapped_column(Integer)
    pair: Mapped[AdmFltPair | None] = relationship(
        primaryjoin="and_(foreign(AdmFltPairRef.pair_left) == AdmFltPair.left, "
                    "foreign(AdmFltPairRef.pair_right) == AdmFltPair.right)",
        viewonly=True)


TABLES = [AdmFltCountry.__table__, AdmFltAuthor.__table__, AdmFltTag.__table__,
          AdmFltBook.__table__, adm_flt_book_tag, AdmFltReview.__table__,
          AdmFltNode.__table__, AdmFltPair.__table__, AdmFltPairRef.__table__]


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(TABLES):
            connection.execute(table.delete())


@pytest.fixture(scope="module")
def lib_pg_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A PostgreSQL database of ``postgres_server`` for the test module, with the tables."""
    server = request.getfixturevalue("postgres_server")
    name = "heron_admflt_" + re.sub(r"\W", "_", request.module.__name__.rpartition(".")[2])
    engine = create_engine(server.create_database(name))
    Model.metadata.create_all(engine, tables=TABLES)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def lib_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on each backend with the tables, empty."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'admin.sqlite3'}")
        Model.metadata.create_all(engine, tables=TABLES)
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("lib_pg_engine")
    _empty(engine)
    yield engine


@pytest.fixture
def lib_session(lib_engine: Engine) -> Iterator[Session]:
    """A session on ``lib_engine``."""
    with Session(lib_engine) as session:
        yield session


@contextmanager
def count_queries(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` runs inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
TODAY = NOW.date()
UTC_MIDNIGHT = dt.datetime.combine(TODAY, dt.time(), dt.UTC)


def seed(session: Session) -> dict[str, Any]:
    """A small library: countries, authors, tags, books, reviews; returns them by name."""
    france, japan = AdmFltCountry(name="France"), AdmFltCountry(name="Japan")
    ann = AdmFltAuthor(name="Ann Lee", email="ann@example.com", active=True, country=france)
    bob = AdmFltAuthor(name="Bob O'Hara", email=None, active=False, country=japan)
    cy = AdmFltAuthor(name="Cy 100% Pure_Joy", email="", active=None, country=None)
    red, blue, green = (AdmFltTag(name=n) for n in ("red", "blue", "green"))
    books = {
        "apple": AdmFltBook(
            title="Red apple pie", subtitle="A baking story", blurb="Sweet crumbs",
            pages=120, edition=2, price=decimal.Decimal("12.50"), rating=4.5,
            published=True, reviewed=True, status=AdmFltStatus.PUBLISHED, kind="paper",
            released=TODAY, created_at=UTC_MIDNIGHT, printed_at=UTC_MIDNIGHT.replace(
                tzinfo=None), code=uuid.UUID("12345678-1234-5678-1234-567812345678"),
            author=ann, tags=[red, green]),
        "pear": AdmFltBook(
            title="Pear tart", subtitle=None, blurb="", pages=80, price=None, rating=None,
            published=False, reviewed=False, status=AdmFltStatus.DRAFT, kind="ebook",
            released=TODAY - dt.timedelta(days=3), created_at=NOW - dt.timedelta(days=3),
            printed_at=None, author=bob, tags=[red]),
        "plum": AdmFltBook(
            title="100% plum_jam", subtitle="", blurb="Back\\slash", pages=300,
            price=decimal.Decimal("7.00"), rating=3.0, published=True, reviewed=None,
            status=AdmFltStatus.IN_REVIEW, kind=None, released=None,
            created_at=NOW - dt.timedelta(days=400), printed_at=None, author=cy, tags=[]),
        "fig": AdmFltBook(
            title="Fig notes", subtitle="Figs and more figs", blurb="green leaves",
            pages=120, price=decimal.Decimal("12.5"), rating=4.5, published=False,
            reviewed=None, status=AdmFltStatus.DRAFT, kind="paper",
            released=TODAY - dt.timedelta(days=40), created_at=NOW - dt.timedelta(days=40),
            printed_at=None, author=None, tags=[blue, green, red]),
    }
    session.add_all([*books.values(), ann, bob, cy])
    session.flush()
    session.add_all([AdmFltReview(book=books["apple"], body="Great pie", stars=5),
                     AdmFltReview(book=books["apple"], body="Great crust", stars=4),
                     AdmFltReview(book=books["pear"], body="Dry", stars=2)])
    session.commit()
    return {"france": france, "japan": japan, "ann": ann, "bob": bob, "cy": cy,
            "red": red, "blue": blue, "green": green, **books}


def titles(session: Session, condition: Any = None, statement: Any = None) -> list[str]:
    """The sorted titles of the books ``condition`` (or ``statement``) selects,
    repeated if a row comes twice."""
    if statement is None:
        statement = select(AdmFltBook)
        if condition is not None:
            statement = statement.where(condition)
    rows = session.execute(statement).scalars().all()
    return sorted(row.title for row in rows)
