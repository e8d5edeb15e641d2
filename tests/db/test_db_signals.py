"""heron.signals' model signals, sent by heron's sessions around flushes (issue 18
item 9): sync and async sessions, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from models_for_tests import TCountry, TNote
from sqlalchemy import delete
from sqlalchemy.orm import Session

from heron import App, signals
from heron.db import db

#: ``db_app`` of tests/db/conftest.py (several conftest modules share that name).
DbAppFactory = Callable[..., App]

SIGNALS = ("pre_save", "post_save", "pre_delete", "post_delete")


@pytest.fixture
def heard() -> Iterator[list[tuple[Any, ...]]]:
    """What the four model signals sent, as (signal, sender, instance, created)."""
    events: list[tuple[Any, ...]] = []
    receivers = []
    for name in SIGNALS:
        def receiver(sender: Any, *, instance: Any, session: Session, created: Any = None,
                     _name: str = name, **extra: Any) -> None:
            assert isinstance(session, Session)
            events.append((_name, sender, getattr(instance, "text", None), created))
        getattr(signals, name).connect(receiver, sender=TNote)
        receivers.append((name, receiver))
    yield events
    for name, receiver in receivers:
        getattr(signals, name).disconnect(receiver, sender=TNote)


def test_save_and_delete_send_before_and_after(db_app: DbAppFactory,
                                               heard: list[tuple[Any, ...]]) -> None:
    app = db_app()
    with db.context(app):
        note = TNote(text="first")
        db.session.add(note)
        db.session.commit()
        assert heard == [("pre_save", TNote, "first", True), ("post_save", TNote, "first", True)]
        heard.clear()
        note.text = "changed"
        db.session.commit()
        assert heard == [("pre_save", TNote, "changed", False),
                         ("post_save", TNote, "changed", False)]
        heard.clear()
        db.session.add(TCountry(code="fr", name="France"))  # another sender: not heard
        db.session.commit()
        db.session.commit()  # nothing changed: nothing sent
        assert heard == []
        db.session.delete(note)
        db.session.commit()
        assert heard == [("pre_delete", TNote, "changed", None),
                         ("post_delete", TNote, "changed", None)]


async def test_async_sessions_send_them_too(db_app: DbAppFactory,
                                            heard: list[tuple[Any, ...]]) -> None:
    app = db_app()
    async with db.async_context(app):
        db.async_session.add(TNote(text="async"))
        await db.async_session.commit()
    assert heard == [("pre_save", TNote, "async", True), ("post_save", TNote, "async", True)]


def test_pre_save_receivers_can_change_what_is_saved(db_app: DbAppFactory) -> None:
    def shout(sender: Any, *, instance: TNote, **extra: Any) -> None:
        instance.text = instance.text.upper()

    signals.pre_save.connect(shout, sender=TNote)
    try:
        app = db_app()
        with db.context(app):
            db.session.add(TNote(text="quiet"))
            db.session.commit()
            db.session.expire_all()
            assert [n.text for n in db.session.query(TNote)] == ["QUIET"]
    finally:
        signals.pre_save.disconnect(shout, sender=TNote)


def test_bulk_statements_send_nothing_and_a_failing_receiver_stops_the_flush(
        db_app: DbAppFactory, heard: list[tuple[Any, ...]]) -> None:
    def refuse(sender: Any, **extra: Any) -> None:
        raise ValueError("no notes today")

    app = db_app()
    with db.context(app):
        db.session.add(TNote(text="kept"))
        db.session.commit()
        heard.clear()
        db.session.execute(delete(TNote))
        db.session.commit()
        assert heard == []
        signals.pre_save.connect(refuse, sender=TNote)
        try:
            db.session.add(TNote(text="refused"))
            with pytest.raises(ValueError, match="no notes today"):
                db.session.commit()
            db.session.rollback()
            assert db.session.query(TNote).count() == 0
        finally:
            signals.pre_save.disconnect(refuse, sender=TNote)
