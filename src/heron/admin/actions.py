"""Deleting: what a delete takes with it or is blocked by, and the built-in
``delete_selected`` action."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from heron.admin.options import action
from heron.i18n import gettext_lazy

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from heron.admin.options import ModelAdmin
    from heron.requests import Request

__all__ = ["DeletionPlan", "delete_selected", "plan_deletion"]

#: Rows listed per model on a confirmation page (the rest are counted).
LISTED = 20
_DEPTH = 4


@dataclass
class PlannedGroup:
    """Rows of one model a delete takes with it (or that stop it)."""

    label: str
    rows: list[str] = field(default_factory=list)
    count: int = 0


@dataclass
class DeletionPlan:
    """What deleting some rows does: the related rows deleted with them, the rows that
    block it (a foreign key that neither cascades nor may be emptied), and the models
    whose rows would go that the user may not delete."""

    deleted: dict[str, PlannedGroup] = field(default_factory=dict)
    blocking: dict[str, PlannedGroup] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)

    @property
    def allowed(self) -> bool:
        return not self.blocking and not self.forbidden

    def _note(self, groups: dict[str, PlannedGroup], label: str, row: Any) -> None:
        group = groups.setdefault(label, PlannedGroup(label))
        group.count += 1
        if len(group.rows) < LISTED:
            group.rows.append(str(row))


def plan_deletion(admin: ModelAdmin, request: Request, session: Session,
                  rows: list[Any]) -> DeletionPlan:
    """What deleting ``rows`` of ``admin``'s model would also delete or be stopped by."""
    plan = DeletionPlan()
    seen: set[tuple[type[Any], Any]] = set()
    for row in rows:
        if not admin.has_delete_permission(request, row):  # an object-level refusal
            plan.forbidden.add(str(admin.verbose_name_plural))
        _walk(admin, request, session, row, plan, seen, 0)
    return plan


def _walk(admin: ModelAdmin, request: Request, session: Session, row: Any,
          plan: DeletionPlan, seen: set[tuple[type[Any], Any]], depth: int) -> None:
    from sqlalchemy import inspect
    from sqlalchemy.orm.interfaces import ONETOMANY

    mapper = inspect(type(row))
    key = (type(row), inspect(row).identity)
    if key in seen or depth > _DEPTH:
        return
    seen.add(key)
    covered: set[Any] = set()
    for prop in mapper.relationships:
        if prop.direction is not ONETOMANY or prop.viewonly:
            continue
        covered.update(prop.remote_side)
        related = getattr(row, prop.key)
        children = list(related) if prop.uselist else ([related] if related is not None else [])
        if not children:
            continue
        label = _label_of(admin, prop.mapper.class_)
        cascades = "delete" in prop.cascade or _database_cascades(prop.remote_side)
        if cascades:
            if not _may_delete(admin, request, prop.mapper.class_):
                plan.forbidden.add(label)
            for child in children:
                plan._note(plan.deleted, label, child)
                _walk(admin, request, session, child, plan, seen, depth + 1)
        elif not all(column.nullable for column in prop.remote_side):
            for child in children:
                plan._note(plan.blocking, label, child)
    _foreign_rows(admin, session, row, plan, covered)


def _foreign_rows(admin: ModelAdmin, session: Session, row: Any, plan: DeletionPlan,
                  covered: set[Any]) -> None:
    """Rows of tables that refer to ``row`` with no relationship declared on its model:
    deleted by the database (``ondelete="CASCADE"``), emptied (``SET NULL``) or blocking."""
    from sqlalchemy import func, inspect, select

    table = inspect(type(row)).local_table
    identity = inspect(row).identity
    for mapper in list(type(row).registry.mappers):
        other = mapper.local_table
        for fk in getattr(other, "foreign_keys", ()):
            if fk.column.table is not table or fk.parent in covered:
                continue
            ondelete = (fk.ondelete or "").upper()
            if ondelete == "SET NULL":
                continue
            referenced = getattr(row, inspect(type(row)).get_property_by_column(fk.column).key)
            if identity is None:
                continue
            count = session.scalar(select(func.count()).select_from(other)
                                   .where(fk.parent == referenced)) or 0
            if not count:
                continue
            label = _label_of(admin, mapper.class_)
            groups = plan.deleted if ondelete == "CASCADE" else plan.blocking
            group = groups.setdefault(label, PlannedGroup(label))
            group.count += count


def _database_cascades(columns: Any) -> bool:
    return all(any((fk.ondelete or "").upper() == "CASCADE" for fk in column.foreign_keys)
               for column in columns)


def _label_of(admin: ModelAdmin, model: type[Any]) -> str:
    other = admin.admin_site.by_model.get(model)
    if other is not None:
        return str(other.verbose_name_plural)
    from heron.admin.options import _plural
    from heron.forms._model_fields import model_label

    # plural, as a registered model's label is: groups are counted ("Chapters (2)")
    return str(getattr(model, "__verbose_name_plural__", None)
               or _plural(model_label(model)[0]))


def _may_delete(admin: ModelAdmin, request: Request, model: type[Any]) -> bool:
    other = admin.admin_site.by_model.get(model)
    if other is None:
        return True  # not in the admin: goes with its parent, as the model says
    return other.has_delete_permission(request)


@action(description=gettext_lazy("Delete selected rows"), permissions=("delete",), confirm=True)
def delete_selected(admin: ModelAdmin, request: Request, session: Session,
                    rows: list[Any]) -> None:
    """Delete the ticked rows (after a confirmation page that lists what goes with them)."""
    from heron.admin.history import log_deletion

    for row in rows:
        log_deletion(admin, request, session, row)
        admin.delete_model(request, session, row)
