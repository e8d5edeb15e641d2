"""Model conventions, timestamps, binds and engines, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from db_test_helpers import dispose
from models_for_tests import (
    ANALYTICS,
    TAnimal,
    TCat,
    TCity,
    TCountry,
    TDog,
    TEvent,
    TMetric,
    TNote,
    TPair,
    TThing,
)
from sqlalchemy import BigInteger, Integer, func, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

import heron.db
from heron.db import MAX_PER_PAGE, NAMING_CONVENTION, Database, Model, Page, TimestampMixin, db
from heron.db.database import async_url, sync_url
from heron.db.models import table_name_for
from heron.exceptions import ImproperlyConfigured


def aware(value: datetime) -> datetime:
    """SQLite gives naive datetimes back (UTC); PostgreSQL aware ones."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# -- pure conventions --------------------------------------------------------


def test_the_public_names() -> None:
    assert set(heron.db.__all__) == {"MAX_PER_PAGE", "NAMING_CONVENTION", "Database", "Model",
                                     "Page", "TimestampMixin", "db"}
    assert isinstance(db, Database)
    assert MAX_PER_PAGE == 100
    assert Page is heron.db.pagination.Page
    assert TimestampMixin.__name__ == "TimestampMixin"


@pytest.mark.parametrize(("class_name", "table"), [
    ("Post", "post"),
    ("BlogPost", "blog_post"),
    ("HTTPLog", "http_log"),
    ("UserHTTPLog", "user_http_log"),
    ("Item2Tag", "item2_tag"),
    ("TNote", "t_note"),
])
def test_table_names_are_snake_case_class_names(class_name: str, table: str) -> None:
    assert table_name_for(class_name) == table


def test_models_get_their_derived_table_names() -> None:
    assert TNote.__tablename__ == "t_note"
    assert TNote.__table__.name == "t_note"
    assert TCountry.__table__.name == "t_country"
    assert TThing.__table__.name == "t_thing"  # under an abstract base


def test_an_id_primary_key_is_added_by_default() -> None:
    table = TNote.__table__
    assert [c.name for c in table.primary_key] == ["id"]
    assert isinstance(table.c.id.type, Integer)
    assert TNote(text="x").id is None
    assert "id" in TNote.__annotations__


def test_the_default_id_is_a_bigint_and_sqlites_integer_primary_key() -> None:
    """64 bits everywhere: ``BIGINT`` on PostgreSQL, and on SQLite ``INTEGER PRIMARY
    KEY``, the rowid alias (already 64 bits; ``BIGINT`` would lose the rowid)."""
    table = TNote.__table__
    assert isinstance(table.c.id.type, BigInteger)
    assert "id BIGSERIAL NOT NULL" in str(CreateTable(table).compile(dialect=postgresql.dialect()))
    assert "id INTEGER NOT NULL" in str(CreateTable(table).compile(dialect=sqlite.dialect()))
    # A foreign key to a default id takes its type; a declared key keeps its own.
    assert isinstance(TDog.__table__.c.id.type, BigInteger)
    assert not isinstance(TPair.__table__.c.left.type, BigInteger)


def test_a_model_that_declares_its_primary_key_gets_no_id() -> None:
    assert [c.name for c in TCountry.__table__.primary_key] == ["code"]
    assert "id" not in TCountry.__table__.c
    assert [c.name for c in TPair.__table__.primary_key] == ["left", "right"]
    assert "id" not in TPair.__table__.c


def test_abstract_bases_and_inheritance_keep_one_primary_key() -> None:
    assert "id" in TThing.__table__.c
    assert "label" in TThing.__table__.c
    assert [c.name for c in TDog.__table__.primary_key] == ["id"]  # joined: its own table
    assert TDog.__table__.c.id.foreign_keys
    assert TCat.__table__ is TAnimal.__table__  # single table: the parent's
    assert "lives" in TAnimal.__table__.c


def test_the_naming_convention_names_constraints_and_indexes() -> None:
    assert Model.metadata.naming_convention == {**Model.metadata.naming_convention,
                                                **NAMING_CONVENTION}
    table = TCity.__table__
    names = {c.name for c in table.constraints} | {i.name for i in table.indexes}
    assert names == {
        "pk_t_city",
        "fk_t_city_country_code_t_country",
        "uq_t_city_slug",
        "uq_t_city_country_code_name",
        "ix_t_city_name",
    }


def test_repr_shows_the_class_and_the_key() -> None:
    assert repr(TNote(text="x")) == "<TNote None>"


@pytest.mark.parametrize(("given", "sync", "asynchronous"), [
    ("postgresql://u:p@h:5/d", "postgresql+psycopg://u:p@h:5/d", "postgresql+psycopg://u:p@h:5/d"),
    ("postgresql+psycopg2://u@h/d", "postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql+asyncpg://u@h/d", "postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("sqlite:///a/b.db", "sqlite:///a/b.db", "sqlite+aiosqlite:///a/b.db"),
    ("sqlite+aiosqlite:///a.db", "sqlite:///a.db", "sqlite+aiosqlite:///a.db"),
])
def test_engine_urls_use_psycopg_3_and_aiosqlite(given: str, sync: str, asynchronous: str) -> None:
    assert sync_url(given) == sync
    assert async_url(given) == asynchronous


# -- on both databases -------------------------------------------------------


def test_constraint_names_reach_the_database(db_app, backend: str) -> None:
    app = db_app()
    inspector = inspect(db.state(app).engine())
    assert [fk["name"] for fk in inspector.get_foreign_keys("t_city")] == [
        "fk_t_city_country_code_t_country"]
    assert {u["name"] for u in inspector.get_unique_constraints("t_city")} == {
        "uq_t_city_slug", "uq_t_city_country_code_name"}
    assert "ix_t_city_name" in {i["name"] for i in inspector.get_indexes("t_city")}
    assert "ix_t_book_title_published" in {i["name"] for i in inspector.get_indexes("t_book")}
    if backend == "postgresql":  # SQLite keeps no name for the primary key
        assert inspector.get_pk_constraint("t_city")["name"] == "pk_t_city"
    dispose(app)


def test_rows_round_trip_with_default_and_own_keys(db_app) -> None:
    app = db_app()
    with db.context(app):
        db.session.add_all([TNote(text="one"), TNote(text="two"),
                            TCountry(code="fr", name="France"), TPair(left=1, right=2)])
        db.session.commit()
        notes = db.session.scalars(select(TNote).order_by(TNote.id)).all()
        assert [(n.id, n.text) for n in notes] == [(1, "one"), (2, "two")]
        assert repr(notes[0]) == "<TNote 1>"
        assert db.session.get(TCountry, "fr").name == "France"
        assert db.session.get(TPair, (1, 2)) is not None
        assert repr(db.session.get(TPair, (1, 2))) == "<TPair (1, 2)>"


def test_inheritance_round_trips(db_app) -> None:
    app = db_app()
    with db.context(app):
        db.session.add_all([TDog(name="Rex", bark="woof"), TCat(name="Tom", lives=9),
                            TAnimal(name="Generic")])
        db.session.commit()
        db.session.expunge_all()
        animals = db.session.scalars(select(TAnimal).order_by(TAnimal.id)).all()
        assert [type(a) for a in animals] == [TDog, TCat, TAnimal]
        assert animals[0].bark == "woof"
        assert animals[1].lives == 9
        thing = TThing(label="x")
        db.session.add(thing)
        db.session.commit()
        assert thing.id == 1


def test_foreign_keys_are_enforced(db_app) -> None:
    """On SQLite too: heron turns foreign_keys on for every connection."""
    app = db_app()
    with db.context(app):
        db.session.add(TCity(name="Nowhere", slug="nowhere", country_code="zz"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add(TCountry(code="fr", name="France"))
        db.session.flush()
        db.session.add(TCity(name="Paris", slug="paris", country_code="fr"))
        db.session.commit()
        db.session.add(TCity(name="Paris", slug="paris-2", country_code="fr"))
        with pytest.raises(IntegrityError, match=r"uq_t_city_country_code_name|UNIQUE"):
            db.session.commit()


def test_timestamps_are_set_on_insert_and_update(db_app) -> None:
    app = db_app()
    before = datetime.now(UTC)
    with db.context(app):
        event = TEvent(title="launch")
        db.session.add(event)
        db.session.commit()
        event_id = event.id
    with db.context(app):
        event = db.session.get(TEvent, event_id)
        created, updated = aware(event.created_at), aware(event.updated_at)
        assert before - timedelta(seconds=1) <= created <= datetime.now(UTC)
        assert abs(updated - created) < timedelta(seconds=1)
        time.sleep(0.02)
        event.title = "launch, again"
        db.session.commit()
    with db.context(app):
        event = db.session.get(TEvent, event_id)
        assert aware(event.created_at) == created
        assert aware(event.updated_at) > updated


def test_timestamps_have_server_defaults(db_app) -> None:
    """Rows inserted by plain SQL (a migration, another program) get them too."""
    app = db_app()
    with db.context(app):
        db.session.execute(text("INSERT INTO t_event (title) VALUES ('raw')"))
        db.session.commit()
        event = db.session.scalars(select(TEvent)).one()
        assert event.created_at is not None
        assert event.updated_at is not None
        assert abs(aware(event.created_at) - datetime.now(UTC)) < timedelta(minutes=5)


def test_timestamp_columns_are_timezone_aware(db_app, backend: str) -> None:
    """A ``timestamptz`` on PostgreSQL; on SQLite heron reads the text back aware (UTC)."""
    app = db_app()
    if backend == "postgresql":
        columns = {c["name"]: c for c in inspect(db.state(app).engine()).get_columns("t_event")}
        assert columns["created_at"]["type"].timezone is True
    with db.context(app):
        db.session.add(TEvent(title="x"))
        db.session.commit()
        assert db.session.scalars(select(TEvent.created_at)).one().utcoffset() == timedelta(0)


# -- binds ----------------------------------------------------------------------


def test_bind_key_sends_a_model_to_its_own_database(db_app) -> None:
    app = db_app()
    state = db.state(app)
    with db.context(app):
        db.session.add_all([TMetric(name="visits", value=3), TNote(text="hello")])
        db.session.commit()
        assert db.session.scalars(select(TMetric.value)).one() == 3
    with state.engine(ANALYTICS).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t_metric")).scalar() == 1
        assert not inspect(conn).has_table("t_note")
    with state.engine().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t_note")).scalar() == 1
        assert not inspect(conn).has_table("t_metric")


def test_session_for_a_bind_queries_that_database(db_app) -> None:
    app = db_app()
    with db.context(app):
        db.session.add(TMetric(name="a", value=1))
        db.session.commit()
        analytics = db.session_for(ANALYTICS)
        assert isinstance(analytics, Session)
        assert analytics is db.session_for(ANALYTICS)  # one per scope
        assert analytics is not db.session
        assert analytics.execute(text("SELECT count(*) FROM t_metric")).scalar() == 1
        with pytest.raises((OperationalError, ProgrammingError)):
            db.session.execute(text("SELECT count(*) FROM t_metric"))
        with pytest.raises(ImproperlyConfigured, match=r"nope.*database_binds"):
            db.session_for("nope")


async def test_async_sessions_follow_binds_too(db_app) -> None:
    app = db_app()
    async with db.async_context(app):
        db.async_session.add_all([TMetric(name="b", value=7), TNote(text="n")])
        await db.async_session.commit()
        assert await db.async_session.scalar(select(TMetric.value)) == 7
        other = db.async_session_for(ANALYTICS)
        assert other is db.async_session_for(ANALYTICS)
        assert (await other.execute(text("SELECT count(*) FROM t_metric"))).scalar() == 1
    await db.state(app).dispose()
    with db.state(app).engine(ANALYTICS).connect() as conn:
        assert conn.execute(text("SELECT name FROM t_metric")).scalar() == "b"


def test_an_app_without_a_models_bind_still_works(db_app) -> None:
    """TMetric names a bind this app lacks: the other models are unaffected."""
    app = db_app(database_binds={})
    with db.context(app):
        db.session.add(TNote(text="fine"))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(TNote)) == 1


def test_create_all_and_drop_all_follow_binds(db_app) -> None:
    app = db_app()
    state = db.state(app)
    db.drop_all(app)
    assert not inspect(state.engine()).has_table("t_note")
    assert not inspect(state.engine(ANALYTICS)).has_table("t_metric")
    assert not inspect(state.engine()).has_table("t_book_tag")
    db.create_all(app)
    assert inspect(state.engine()).has_table("t_note")
    assert inspect(state.engine()).has_table("t_book_tag")  # a plain Table: no model maps it
    assert not inspect(state.engine()).has_table("t_metric")
    assert inspect(state.engine(ANALYTICS)).has_table("t_metric")
    assert not inspect(state.engine(ANALYTICS)).has_table("t_note")


def test_pool_settings_reach_the_engines(db_app) -> None:
    app = db_app(database_pool_size=3, database_max_overflow=2, database_pool_timeout=1.5)
    state = db.state(app)
    for pool in (state.engine().pool, state.async_engine().pool):
        assert pool.size() == 3
        assert pool._max_overflow == 2
        assert pool.timeout() == 1.5
    dispose(app)


def test_engines_are_made_once_and_lazily(db_app) -> None:
    app = db_app()
    state = db.state(app)
    assert db.state(app) is state
    assert state.engine() is state.engine()
    assert not state._async_engines  # nothing asked for one yet
    assert state.async_engine() is state.async_engine()
    assert state.async_engine().url.drivername in ("sqlite+aiosqlite", "postgresql+psycopg")
    assert state.engine().url.drivername in ("sqlite", "postgresql+psycopg")


# -- SQLite specifics ---------------------------------------------------------------


def test_the_default_database_is_a_sqlite_file_in_the_instance_folder(make_app, tmp_path) -> None:
    app = make_app(root=tmp_path / "project")
    state = db.state(app)
    expected = tmp_path / "project" / "instance" / "db.sqlite3"
    assert state.urls[None] == f"sqlite:///{expected}"
    with db.context(app):
        assert db.session.execute(text("SELECT 1")).scalar() == 1
    assert expected.is_file()
    dispose(app)


def test_sqlite_connections_get_wal_and_foreign_keys(make_app, tmp_path: Path) -> None:
    app = make_app(database_url=f"sqlite:///{tmp_path / 'x.db'}")
    with db.context(app):
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 15000
    dispose(app)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
async def test_an_in_memory_sqlite_database_works(make_app, url: str) -> None:
    app = make_app(database_url=url, database_pool_size=1)
    with db.context(app):
        Model.metadata.create_all(db.session.connection(), tables=[TNote.__table__])
        db.session.add(TNote(text="memory"))
        db.session.commit()
        assert db.session.scalar(select(TNote.text)) == "memory"
    async with db.async_context(app):
        assert (await db.async_session.execute(text("SELECT 1"))).scalar() == 1
    await db.state(app).dispose()
