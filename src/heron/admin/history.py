"""The admin's entries in the audit log (:mod:`heron.admin.audit`): who added,
changed or deleted which row, with the fields that changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heron.admin import audit

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from heron.admin.options import BaseModelAdmin
    from heron.requests import Request

__all__ = ["log_addition", "log_change", "log_deletion", "object_id"]


def object_id(obj: Any) -> str:
    """The primary key of a stored row, as text (several columns joined by commas)."""
    from sqlalchemy import inspect

    identity = inspect(obj).identity or ()
    return ",".join(str(part) for part in identity)


def _record(admin: BaseModelAdmin, request: Request, session: Session, obj: Any, kind: str,
            changes: dict[str, list[Any]], message: str = "") -> None:
    audit.record(session, action=kind, obj=obj, model=admin.model, object_id=object_id(obj),
                 object_repr=admin.object_repr(obj)[:200], user=request.user,
                 changes=changes, source="admin", message=message,
                 component=admin.component, app=request.app)


def log_addition(admin: BaseModelAdmin, request: Request, session: Session, obj: Any,
                 message: str = "") -> None:
    """Record that ``obj`` was added (every field as its "after")."""
    changes = audit.diff({}, audit.snapshot(obj), admin.model)
    _record(admin, request, session, obj, "add", changes, message)


def log_change(admin: BaseModelAdmin, request: Request, session: Session, obj: Any,
               before: dict[str, Any], message: str = "") -> None:
    """Record the fields of ``obj`` that differ from ``before`` (a :func:`audit.snapshot`);
    a save that changed nothing (and says nothing) is not recorded."""
    changes = audit.diff(before, audit.snapshot(obj), admin.model)
    if changes or message:
        _record(admin, request, session, obj, "change", changes, message)


def log_deletion(admin: BaseModelAdmin, request: Request, session: Session, obj: Any) -> None:
    """Record that ``obj`` is deleted (call it before the delete: the row's values
    are the "before")."""
    changes = audit.diff(audit.snapshot(obj), {}, admin.model)
    _record(admin, request, session, obj, "delete", changes)
