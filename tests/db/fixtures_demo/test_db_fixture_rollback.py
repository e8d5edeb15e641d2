"""``db_session``: each test in a transaction rolled back at its end; sync views
share it, and their commits become savepoints.

The tests of this module run in order and build on each other's leftovers
(or rather, on their absence).
"""

from __future__ import annotations

from typing import Any

import pytest
from models_for_tests import ANALYTICS, TMetric, TNote
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from heron import App
from heron.db import db

#: The databases the first test wrote to; the next ones check that nothing is left.
WRITTEN: set[str | None] = set()


def committed_notes(app: App) -> int:
    """Rows really committed, seen from a connection of its own."""
    engine = create_engine(db.state(app).engine().url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM t_note")).scalar_one()
    finally:
        engine.dispose()


def test_the_test_and_sync_views_share_one_transaction(db_session: Session, client: Any,
                                                       app: App) -> None:
    assert db_session is db.session
    db_session.add(TNote(text="written by the test"))
    db_session.flush()
    response = client.post("/notes?text=committed by a view")
    assert response.status_code == 200
    # The view sees the test's unflushed-to-disk row, the test sees the view's.
    assert client.get("/notes").json() == ["written by the test", "committed by a view"]
    assert db_session.scalar(select(func.count()).select_from(TNote)) == 2
    assert committed_notes(app) == 0  # nothing is really committed
    WRITTEN.add(app.settings.database_url)


def test_nothing_is_left_by_the_previous_test(db_session: Session, client: Any,
                                              app: App) -> None:
    assert app.settings.database_url in WRITTEN  # the first test ran on this database
    assert db_session.scalar(select(func.count()).select_from(TNote)) == 0
    assert client.get("/notes").json() == []
    assert committed_notes(app) == 0


def test_a_view_that_fails_loses_only_its_uncommitted_work(db_session: Session,
                                                           client: Any) -> None:
    db_session.add(TNote(text="mine"))
    db_session.flush()
    assert client.post("/notes?text=kept&then=fail").status_code == 500
    texts = db_session.scalars(select(TNote.text).order_by(TNote.id)).all()
    assert texts == ["mine", "kept"]  # the view's commit stays (a savepoint), the rest not


def test_the_test_may_commit_too(db_session: Session, client: Any, app: App) -> None:
    db_session.add(TNote(text="committed by the test"))
    db_session.commit()  # a savepoint too: rolled back with the rest
    assert client.get("/notes").json() == ["committed by the test"]
    assert committed_notes(app) == 0


def test_bound_models_go_to_their_database(db_session: Session, client: Any) -> None:
    """A model of another database is not sent to the test's connection."""
    assert client.post("/metrics/visits").json() == {"metrics": 1}
    db_session.add(TMetric(name="here", value=2))
    db_session.flush()
    analytics = db.session_for(ANALYTICS)
    assert analytics.execute(text("SELECT count(*) FROM t_metric")).scalar() == 0  # not committed


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_repeated_tests_start_empty(db_session: Session, client: Any, round_: int) -> None:
    assert client.get("/notes").json() == []
    client.post(f"/notes?text=round {round_}")
    assert db_session.scalars(select(TNote.text)).all() == [f"round {round_}"]
