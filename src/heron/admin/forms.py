"""The admin's forms: a :class:`heron.forms.ModelForm` made for each ModelAdmin, with
its read-only fields, fieldsets, and large relations drawn as an id input or a
search box (loading only the chosen row, never the whole related table)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from heron.admin.columns import Column, column_for
from heron.forms import ModelForm, Widget
from heron.forms.options import FormField

if TYPE_CHECKING:
    from sqlalchemy import Select

    from heron.admin.options import BaseModelAdmin, Fieldset
    from heron.forms.boundfield import BoundField
    from heron.requests import Request

__all__ = ["AdminFieldset", "ReadonlyField", "admin_form", "editable_fields", "fieldsets_of"]

AUTOCOMPLETE = "admin/widgets/autocomplete.html"
RAW_ID = "admin/widgets/raw_id.html"


def editable_fields(model: type[Any]) -> list[str]:
    """The names a ModelForm of ``model`` can edit (columns, many-to-one and
    many-to-many relations), in the model's order."""
    from sqlalchemy import inspect

    from heron.forms.models import _editable_attributes

    names = list(_editable_attributes(inspect(model)))
    for prop in inspect(model).relationships:
        if prop.secondary is not None and prop.key not in names and not prop.viewonly:
            names.append(prop.key)
    return names


def admin_form(admin: BaseModelAdmin, request: Request, obj: Any) -> type[ModelForm]:
    """The form class of ``admin`` for ``obj`` (``None`` when adding); cached per set
    of fields."""
    readonly = set(admin.get_readonly_fields(request, obj))
    editable = set(editable_fields(admin.model))
    names = tuple(n for n in admin.get_fields(request, obj) if n not in readonly and n in editable)
    cache: dict[tuple[str, ...], type[ModelForm]] = admin.__dict__.setdefault("_form_cache", {})
    found = cache.get(names)
    if found is None:
        found = cache[names] = _make_form(admin, names, request)
    return found


def _make_form(admin: BaseModelAdmin, names: tuple[str, ...],
               request: Request) -> type[ModelForm]:
    base = admin.form or ModelForm
    meta_base = base.Meta if admin.form is not None else object
    meta = type("Meta", (meta_base,), {"model": admin.model, "fields": list(names),
                                      "exclude": []})
    namespace: dict[str, Any] = {"Meta": meta, "__module__": __name__}
    lazy = [n for n in (*admin.raw_id_fields, *admin.autocomplete_fields) if n in names]
    for name in lazy:
        template = RAW_ID if name in admin.raw_id_fields else AUTOCOMPLETE
        namespace[name] = FormField(widget=Widget(template))
    for name, sources in admin.prepopulated_fields.items():
        if name in names and name not in lazy:
            namespace[name] = FormField(attrs={"data-prepopulate": ",".join(sources)})
    if lazy:
        namespace["choices_query"] = _chosen_rows_only(frozenset(lazy))
    targets, lookups = {}, {}
    for name in (*admin.autocomplete_fields, *admin.raw_id_fields):
        related = _related_model(admin.model, name)
        other = admin.admin_site.by_model.get(related) if related is not None else None
        if other is None:
            continue
        where = {"component": other.component, "model": other.model_name}
        if name in admin.autocomplete_fields:
            targets[name] = request.url_for("admin:autocomplete", **where)
        else:
            lookups[name] = request.url_for("admin:changelist", **where)
    namespace["autocomplete_urls"] = targets
    namespace["raw_id_urls"] = lookups
    form = type(f"{admin.model.__name__}AdminForm", (base,), namespace)
    return form


def _related_model(model: type[Any], name: str) -> type[Any] | None:
    from sqlalchemy import inspect

    prop = inspect(model).relationships.get(name)
    return prop.mapper.class_ if prop is not None else None


def _chosen_rows_only(names: frozenset[str]) -> Any:
    """A ``choices_query`` that offers, for the fields ``names``, only the row the
    form holds or was sent: a raw-id or autocomplete field over a large table."""

    def choices_query(self: ModelForm, name: str, model: type[Any]) -> Select[Any]:
        query = ModelForm.choices_query(self, name, model)
        if name not in names:
            return query
        from sqlalchemy import false

        relation = self._relations[name]
        wanted: Any = None
        if self.is_bound:
            wanted = self.raw.get(self.prefix + name) or None
        elif self.instance is not None:
            wanted = getattr(self.instance, relation.local_key, None)
        if wanted is None:
            return query.where(false())
        column = getattr(model, relation.remote_key)
        try:
            key = column.type.python_type(wanted)
        except (TypeError, ValueError, NotImplementedError):
            return query.where(false())
        if isinstance(key, int) and not -(2**63) <= key < 2**63:
            return query.where(false())  # no row has it, and drivers overflow on it
        return query.where(column == key)

    return choices_query


@dataclass
class ReadonlyField:
    """A field shown as text on a change form."""

    name: str
    label: str
    value: Any


@dataclass
class AdminFieldset:
    """One titled group of a change form: each line holds bound fields and read-only
    fields."""

    title: str | None
    classes: str
    description: str
    lines: list[list[BoundField | ReadonlyField]]


def fieldsets_of(admin: BaseModelAdmin, request: Request, form: ModelForm, obj: Any,
                 readonly_only: bool = False) -> list[AdminFieldset]:
    """The change form's fieldsets, with the form's fields and the read-only values of
    ``obj`` (everything read-only when ``readonly_only``: a user who may only view)."""
    from heron.admin.options import _flatten

    readonly = set(admin.get_readonly_fields(request, obj))
    result = []
    for title, options in _fieldsets(admin, request, obj):
        lines: list[list[BoundField | ReadonlyField]] = []
        for item in options.get("fields", ()):
            line_names = [item] if isinstance(item, str) else _flatten([item])
            line: list[BoundField | ReadonlyField] = []
            for name in line_names:
                if name in form.field_specs() and not readonly_only and name not in readonly:
                    line.append(form[name])
                else:
                    line.append(_readonly(admin, name, obj))
            lines.append(line)
        classes = " ".join(options.get("classes", ()))
        result.append(AdminFieldset(title, classes, options.get("description", ""), lines))
    return result


def _fieldsets(admin: BaseModelAdmin, request: Request, obj: Any) -> list[Fieldset]:
    if admin.fieldsets:
        return list(admin.fieldsets)
    if admin.fields is not None:
        return [(None, {"fields": list(admin.fields)})]
    return [(None, {"fields": admin.get_fields(request, obj)})]


def _readonly(admin: BaseModelAdmin, name: str, obj: Any) -> ReadonlyField:
    column: Column = column_for(admin, name)
    return ReadonlyField(name, column.label, column.cell(obj) if obj is not None
                         else admin.empty_value_display)
