"""heron's SQLAlchemy session class: it sends heron.signals' model signals around flushes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from heron import signals

__all__ = ["HeronSession"]


class HeronSession(Session):
    """The sync session behind ``db.session`` and ``db.async_session``.

    Its flushes send :data:`heron.signals.pre_save`, ``post_save``,
    ``pre_delete`` and ``post_delete`` for the objects they write (bulk
    ``update()`` and ``delete()`` statements write no objects and send nothing).
    """


def _changes(session: Session) -> tuple[list[tuple[Any, bool]], list[Any]]:
    saved = [(obj, True) for obj in session.new]
    saved += [(obj, False) for obj in session.dirty if session.is_modified(obj)]
    return saved, list(session.deleted)


@event.listens_for(HeronSession, "before_flush")
def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    if not (signals.pre_save.receivers or signals.pre_delete.receivers):
        return
    saved, deleted = _changes(session)
    for obj, created in saved:
        signals.pre_save.send(type(obj), instance=obj, created=created, session=session)
    for obj in deleted:
        signals.pre_delete.send(type(obj), instance=obj, session=session)


@event.listens_for(HeronSession, "after_flush")
def _after_flush(session: Session, flush_context: Any) -> None:
    # The session still shows what the flush wrote (new, dirty, deleted) here.
    if not (signals.post_save.receivers or signals.post_delete.receivers):
        return
    saved, deleted = _changes(session)
    for obj, created in saved:
        signals.post_save.send(type(obj), instance=obj, created=created, session=session)
    for obj in deleted:
        signals.post_delete.send(type(obj), instance=obj, session=session)
