"""Inline rows: the related rows of an inline edited on the parent's change form.

Each row is a :class:`heron.forms.ModelForm` with the prefix ``<inline>-<n>-``; the
submitted ``<inline>-TOTAL`` says how many rows the page sent, ``<inline>-<n>-pk``
which stored row a form edits (empty for a new one) and ``<inline>-<n>-DELETE``
that it goes.  A blank new row is skipped.  The browser script clones the empty
row (prefix ``<inline>-__prefix__-``) to add rows; without it the page offers
``extra`` blank rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from heron.admin.forms import admin_form
from heron.i18n import ngettext

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.orm import RelationshipProperty, Session

    from heron.admin.options import InlineModelAdmin
    from heron.forms import ModelForm
    from heron.requests import Request

__all__ = ["InlineFormSet", "InlineRow", "parent_relationship"]

#: Most rows one inline accepts from a post, whatever TOTAL says.
MAX_ROWS = 1000


def parent_relationship(inline: InlineModelAdmin) -> RelationshipProperty[Any]:
    """The many-to-one relationship from the inline's model to its parent model.

    Raises:
        ValueError: there is none, or several and ``fk_name`` does not choose.
    """
    from sqlalchemy import inspect
    from sqlalchemy.orm.interfaces import MANYTOONE

    found = [prop for prop in inspect(inline.model).relationships
             if prop.direction is MANYTOONE and prop.mapper.class_ is inline.parent_model]
    if inline.fk_name is not None:
        found = [prop for prop in found if prop.key == inline.fk_name
                 or any(c.key == inline.fk_name for c in prop.local_columns)]
    if len(found) != 1:
        what = "no" if not found else "more than one"
        hint = "" if not found else "; set fk_name to choose"
        raise ValueError(f"{type(inline).__name__}: {inline.model.__name__} has {what} "
                         f"many-to-one relationship to {inline.parent_model.__name__}{hint}")
    chosen: RelationshipProperty[Any] = found[0]
    return chosen


@dataclass
class InlineRow:
    """One row of an inline: its form, and the stored row it edits (None: new)."""

    form: ModelForm
    instance: Any
    delete: bool = False
    blank: bool = False
    label: str = ""

    @property
    def pk(self) -> str:
        if self.instance is None:
            return ""
        from sqlalchemy import inspect

        identity = inspect(self.instance).identity
        return str(identity[0]) if identity else ""


@dataclass
class InlineFormSet:
    """The rows of one inline for one parent row."""

    inline: InlineModelAdmin
    prefix: str
    rows: list[InlineRow] = field(default_factory=list)
    empty: ModelForm | None = None
    errors: list[str] = field(default_factory=list)
    readonly: bool = False
    #: Whether the user may add and delete rows here (the inline model's permissions).
    can_add: bool = True
    can_delete: bool = True

    @property
    def title(self) -> str:
        return str(self.inline.verbose_name_plural)

    @classmethod
    def build(cls, inline: InlineModelAdmin, request: Request, session: Session, parent: Any,
              index: int, data: Mapping[str, Any] | None, readonly: bool = False
              ) -> InlineFormSet:
        """The inline's rows for ``parent`` (None when adding), bound to ``data`` on a post."""
        from sqlalchemy import inspect

        relation = parent_relationship(inline)
        prefix = f"{inline.model_name}_set{index}" if index else f"{inline.model_name}_set"
        form_class = _row_form(inline, request, relation)
        existing = _existing_rows(inline, request, session, relation, parent)
        formset = cls(inline, prefix, readonly=readonly,
                      can_add=not readonly and inline.has_add_permission(request, parent),
                      can_delete=not readonly and inline.can_delete
                      and inline.has_delete_permission(request, parent))
        if readonly:
            data = None  # a read-only inline takes nothing from a post
        if data is None:
            for n, row in enumerate(existing):
                formset.rows.append(InlineRow(
                    form_class(instance=row, session=session, prefix=f"{prefix}-{n}-",
                               request=request), row,
                    label=inline.object_repr(row)))
            extra = _extra_rows(inline, len(existing)) if formset.can_add else 0
            for n in range(len(existing), len(existing) + extra):
                formset.rows.append(InlineRow(
                    form_class(session=session, prefix=f"{prefix}-{n}-", request=request),
                    None))
        else:
            by_pk = {str(inspect(row).identity[0]): row for row in existing}
            total = _total(data.get(f"{prefix}-TOTAL"), len(existing))
            for n in range(total):
                row_prefix = f"{prefix}-{n}-"
                # A new parent (added, or saved as new) has no rows yet: any row it is
                # sent is a new one, copied from the row of the original if it names one.
                pk = str(data.get(row_prefix + "pk") or "") if parent is not None else ""
                instance = by_pk.pop(pk, None) if pk else None
                if pk and instance is None:
                    formset.errors.append("A row of this list was changed or deleted by "
                                          "someone else; reload the page.")
                    continue
                if instance is None and not formset.can_add:
                    continue  # no new rows without the add permission (none was offered)
                form = form_class(data, instance=instance, session=session, prefix=row_prefix,
                                  request=request)
                deleting = bool(data.get(row_prefix + "DELETE")) and formset.can_delete
                blank = instance is None and not _sent_anything(form, data, row_prefix)
                label = inline.object_repr(instance) if instance is not None else ""
                formset.rows.append(InlineRow(form, instance, deleting, blank, label))
        formset.empty = form_class(session=session, prefix=f"{prefix}-__prefix__-",
                                   request=request)
        for form in [row.form for row in formset.rows] + [formset.empty]:
            form._prepare_sync()  # related rows now, while the session is here
        return formset

    def is_valid(self) -> bool:
        """Whether every kept row is valid and the row counts are within bounds."""
        if self.readonly:
            return True  # nothing was taken from the post
        kept = [row for row in self.rows if not row.delete and not row.blank]
        ok = not self.errors
        for row in kept:
            ok = row.form.is_valid() and ok
        if self.inline.max_num is not None and len(kept) > self.inline.max_num:
            count = self.inline.max_num
            self.errors.append(ngettext("Please submit at most %(count)d row.",
                                        "Please submit at most %(count)d rows.", count)
                               % {"count": count})
            ok = False
        if len(kept) < self.inline.min_num:
            count = self.inline.min_num
            self.errors.append(ngettext("Please submit at least %(count)d row.",
                                        "Please submit at least %(count)d rows.", count)
                               % {"count": count})
            ok = False
        return ok

    def save(self, session: Session, parent: Any, request: Request | None = None
             ) -> tuple[list[Any], list[Any], list[Any]]:
        """Store the rows (after :meth:`is_valid`): ``(added, changed, deleted)``, rows sent
        back unchanged in none of them; with
        ``request``, each is recorded in the audit log as the inline's model."""
        if self.readonly:
            return [], [], []
        from heron.admin import audit
        from heron.admin.history import log_addition, log_change, log_deletion

        relation = parent_relationship(self.inline)
        added: list[Any] = []
        changed: list[Any] = []
        deleted: list[Any] = []
        for row in self.rows:
            if row.blank:
                continue
            if row.delete:
                if row.instance is not None:
                    if request is not None:
                        log_deletion(self.inline, request, session, row.instance)
                    session.delete(row.instance)
                    deleted.append(row.instance)
                continue
            form = row.form
            before = audit.snapshot(row.instance) if row.instance is not None else None
            instance = form.instance if form.instance is not None else self.inline.model()
            setattr(instance, relation.key, parent)
            form.instance = instance
            form.save(session)
            if before is None:
                added.append(instance)
            elif audit.diff(before, audit.snapshot(instance), self.inline.model):
                changed.append(instance)
            else:
                continue  # sent back as it was
            if request is None:
                continue
            if before is None:
                log_addition(self.inline, request, session, instance)
            else:
                log_change(self.inline, request, session, instance, before)
        session.flush()
        return added, changed, deleted


def _row_form(inline: InlineModelAdmin, request: Request,
              relation: RelationshipProperty[Any]) -> type[ModelForm]:
    """The inline's form without the relationship to the parent (the parent sets it)."""
    fk_columns = {c.key for c in relation.local_columns}
    form = admin_form(inline, request, None)
    names = [n for n in form.field_specs() if n != relation.key and n not in fk_columns]
    if len(names) == len(form.field_specs()):
        return form
    cache: dict[tuple[str, ...], type[ModelForm]] = inline.__dict__.setdefault(
        "_row_form_cache", {})
    key = tuple(names)
    if key not in cache:
        meta = type("Meta", (form.Meta,), {"fields": names})
        cache[key] = type(form.__name__, (form,), {"Meta": meta, "__module__": __name__})
    return cache[key]


def _existing_rows(inline: InlineModelAdmin, request: Request, session: Session,
                   relation: RelationshipProperty[Any], parent: Any) -> list[Any]:
    if parent is None:
        return []
    from sqlalchemy import inspect

    statement = inline.get_queryset(request).where(
        getattr(inline.model, relation.key) == parent)
    ordering = inline.get_ordering(request)
    if ordering:
        statement = statement.order_by(*[
            getattr(inline.model, o.lstrip("-")).desc() if o.startswith("-")
            else getattr(inline.model, o) for o in ordering])
    else:
        statement = statement.order_by(*inspect(inline.model).primary_key)
    return list(session.scalars(statement.limit(MAX_ROWS)))


def _extra_rows(inline: InlineModelAdmin, existing: int) -> int:
    extra = max(inline.extra, inline.min_num - existing)
    if inline.max_num is not None:
        extra = max(0, min(extra, inline.max_num - existing))
    return extra


def _total(value: Any, existing: int) -> int:
    try:
        total = int(str(value))
    except (TypeError, ValueError):
        return existing
    return max(0, min(total, MAX_ROWS))


def _sent_anything(form: ModelForm, data: Mapping[str, Any], prefix: str) -> bool:
    """Whether a new row's fields were filled in (a blank extra row is skipped)."""
    from heron.forms._binding import display_value

    for name, spec in form.field_specs().items():
        value = data.get(prefix + name)
        initial = form.initial_value(name)
        if spec.kind == "bool":  # a box posts nothing unticked: compare ticked states
            if (str(value or "").strip().lower() not in ("", "0", "false", "off", "no")) \
                    != bool(initial):
                return True
            continue
        if value in (None, ""):
            continue
        shown = display_value(spec, initial, keyed=form.choices_for(name) is not None)
        if isinstance(value, str) and value == shown:
            continue  # a pre-filled default (as the blank row shows it), untouched
        return True
    return False
