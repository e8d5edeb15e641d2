"""``DateTime(timezone=True)`` values are aware UTC datetimes on SQLite as on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from models_for_tests import TEvent
from sqlalchemy import TIMESTAMP, DateTime, select, text
from sqlalchemy.orm import Mapped, mapped_column

from heron import App
from heron.db import Model, db
from heron.testing import TestClient

PARIS_SUMMER = timezone(timedelta(hours=2))


class TMoment(Model):
    """One aware column of each kind, and a naive one."""

    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stamp: Mapped[datetime | None] = mapped_column(TIMESTAMP(timezone=True))
    local: Mapped[datetime | None]  # DateTime(): naive on both databases


@pytest.fixture
def app(db_app) -> Iterator[App]:
    app = db_app()
    engine = db.state(app).engine()
    Model.metadata.create_all(engine, tables=[TMoment.__table__])
    yield app
    Model.metadata.drop_all(engine, tables=[TMoment.__table__])


def test_values_come_back_aware_utc_after_a_reload(app: App) -> None:
    with db.context(app), db.transaction() as session:
        session.add(TMoment(at=datetime(2026, 6, 1, 12, tzinfo=PARIS_SUMMER),
                            stamp=datetime(2026, 6, 1, 9, 30, tzinfo=UTC),
                            local=datetime(2026, 6, 1, 12)))
        session.add(TEvent(title="launch"))
    with db.context(app):
        moment = db.session.scalars(select(TMoment)).one()
        # Noon in Paris is 10:00 UTC: the offset is applied, not dropped.
        assert moment.at == datetime(2026, 6, 1, 10, tzinfo=UTC)
        assert moment.at.tzinfo is not None
        assert moment.at.utcoffset() == timedelta(0)
        assert moment.stamp == datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
        assert moment.local == datetime(2026, 6, 1, 12)
        assert moment.local.tzinfo is None
        event = db.session.scalars(select(TEvent)).one()
        assert event.created_at <= datetime.now(UTC)  # no TypeError: both are aware
        assert event.updated_at.utcoffset() == timedelta(0)
        # Core queries too, not only loaded objects.
        assert db.session.scalar(select(TMoment.at)).utcoffset() == timedelta(0)


def test_rows_written_by_plain_sql_read_back_aware(app: App) -> None:
    with db.context(app):
        db.session.execute(text("INSERT INTO t_event (title) VALUES ('raw')"))
        db.session.commit()
        created = db.session.scalar(select(TEvent.created_at))
        assert created.tzinfo is not None
        assert abs(created - datetime.now(UTC)) < timedelta(minutes=5)


def test_comparisons_use_the_instant_whatever_the_zone(app: App) -> None:
    with db.context(app), db.transaction() as session:
        session.add_all([TMoment(at=datetime(2026, 6, 1, 9, tzinfo=UTC)),
                         TMoment(at=datetime(2026, 6, 1, 11, tzinfo=UTC))])
    with db.context(app):
        # 12:00 in Paris is 10:00 UTC: one row before it, one after.
        noon_in_paris = datetime(2026, 6, 1, 12, tzinfo=PARIS_SUMMER)
        before = db.session.scalars(select(TMoment.at).where(TMoment.at < noon_in_paris)).all()
        assert before == [datetime(2026, 6, 1, 9, tzinfo=UTC)]


async def test_async_sessions_read_aware_values_too(app: App) -> None:
    with db.context(app), db.transaction() as session:
        session.add(TMoment(at=datetime(2026, 6, 1, 12, tzinfo=PARIS_SUMMER)))
    async with db.async_context(app):
        at = await db.async_session.scalar(select(TMoment.at))
    await db.state(app).dispose()
    assert at == datetime(2026, 6, 1, 10, tzinfo=UTC)
    assert at.utcoffset() == timedelta(0)


def test_json_carries_the_zone(app: App) -> None:
    with db.context(app), db.transaction() as session:
        session.add(TMoment(at=datetime(2026, 6, 1, 12, tzinfo=PARIS_SUMMER)))

    @app.get("/moments/{id:int}")
    def show(id: int) -> dict[str, datetime]:
        return {"at": db.get_or_404(TMoment, id).at}

    with TestClient(app) as client:
        assert client.get("/moments/1").json()["at"] in {"2026-06-01T10:00:00Z",
                                                          "2026-06-01T10:00:00+00:00"}
        assert client.get("/moments/999").status_code == 404


def test_the_schema_is_unchanged_so_migrations_see_nothing_new(app: App) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    def only_moment(item: object, name: str | None, type_: str, *args: object) -> bool:
        return type_ != "table" or name == "t_moment"

    with db.state(app).engine().connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": only_moment})
        assert compare_metadata(context, Model.metadata) == []
