"""Startup checks of the admin's registrations: every option that names a field, a
path, a callable or a relation is checked once, each problem with its own id
(docs/checks.md), all reported together."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from heron.admin.columns import column_for
from heron.admin.forms import editable_fields
from heron.admin.lookups import FieldPathError, resolve
from heron.admin.options import BaseModelAdmin, InlineModelAdmin, ModelAdmin
from heron.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from heron.admin.sites import BoundSite

__all__ = ["check_site"]

Problem = ImproperlyConfigured


def check_site(site: BoundSite) -> list[ImproperlyConfigured]:
    """Every problem of every registration of ``site``."""
    problems: list[ImproperlyConfigured] = []
    for admin in site.by_model.values():
        problems += _guarded(admin, _model_admin_problems(admin, site))
    return problems


def _guarded(admin: BaseModelAdmin, found: Iterator[Problem]) -> list[Problem]:
    """The problems ``found`` yields; an option so wrong that checking it fails is one too."""
    problems: list[Problem] = []
    try:
        problems.extend(found)
    except Exception as exc:  # an option of the wrong type altogether
        problems.append(Problem(f"{_where(admin)}: {exc}", id="heron.admin.E003"))
    return problems


def _where(admin: BaseModelAdmin) -> str:
    return f"{type(admin).__qualname__} (admin of {admin.model.__name__})"


def _model_admin_problems(admin: ModelAdmin, site: BoundSite) -> Iterator[Problem]:
    where = _where(admin)
    yield from _form_problems(admin)
    shown: list[str] = []
    for entry in admin.list_display:
        try:
            shown.append(column_for(admin, entry).name)
        except ValueError as exc:
            yield Problem(f"list_display of {where}: {exc}", id="heron.admin.E010")
    for name in admin.list_display_links or ():
        if name not in shown:
            yield Problem(f"list_display_links of {where} names {name!r}, which is not in "
                          "list_display", id="heron.admin.E011")
    links = set(admin.get_list_display_links(None, admin.list_display))
    for name in admin.list_editable:
        if name not in shown or name in links or name not in editable_fields(admin.model):
            yield Problem(f"list_editable of {where} names {name!r}: it must be an editable "
                          "field of the model, in list_display, and not a link column",
                          id="heron.admin.E012")
    for name in admin.search_fields:
        path = name.lstrip("^=@")
        if not _resolves(admin.model, path):
            yield Problem(f"search_fields of {where} names {name!r}, which is no field or "
                          "path of the model", id="heron.admin.E013")
    yield from _filter_problems(admin)
    for name in admin.ordering or ():
        if not _resolves(admin.model, name.lstrip("-")):
            yield Problem(f"ordering of {where} names {name!r}, which is no field or path "
                          "of the model", id="heron.admin.E014")
    yield from _action_problems(admin)
    yield from _date_hierarchy_problems(admin)
    yield from _relation_field_problems(admin, site)
    if not isinstance(admin.list_per_page, int) or admin.list_per_page < 1:
        yield Problem(f"list_per_page of {where} must be a positive whole number",
                      id="heron.admin.E015")
    for inline_class in admin.inlines:
        yield from _inline_problems(admin, inline_class, site)


def _resolves(model: type[Any], path: str) -> bool:
    try:
        resolve(model, path)
    except FieldPathError:
        return False
    return True


def _form_problems(admin: BaseModelAdmin) -> Iterator[Problem]:
    from heron.forms import ModelForm

    where = _where(admin)
    if admin.form is not None and not (isinstance(admin.form, type)
                                       and issubclass(admin.form, ModelForm)):
        yield Problem(f"form of {where} must be a heron.forms.ModelForm subclass",
                      id="heron.admin.E016")
    editable = set(editable_fields(admin.model))
    readonly = set(admin.readonly_fields)
    for name in admin.readonly_fields:
        try:
            column_for(admin, name)
        except ValueError as exc:
            yield Problem(f"readonly_fields of {where}: {exc}", id="heron.admin.E017")
    named = admin.get_fields(None, None) if admin.fields or admin.fieldsets else []
    declared = set(admin.form.field_specs()) if admin.form is not None \
        and isinstance(admin.form, type) and issubclass(admin.form, ModelForm) \
        and getattr(admin.form.Meta, "model", None) is not None else set()
    for name in [*named, *admin.exclude]:
        if name not in editable and name not in readonly and name not in declared:
            yield Problem(f"fields/fieldsets/exclude of {where} name {name!r}, which is not "
                          f"an editable field of {admin.model.__name__} (editable: "
                          f"{', '.join(sorted(editable))}); list computed values in "
                          "readonly_fields", id="heron.admin.E018")
    for name, sources in admin.prepopulated_fields.items():
        if name not in editable or any(s not in editable for s in sources):
            yield Problem(f"prepopulated_fields of {where}: {name!r} from {list(sources)!r} "
                          "must all be editable fields", id="heron.admin.E019")


def _filter_problems(admin: ModelAdmin) -> Iterator[Problem]:
    from heron.admin.filters import build_filter

    for spec in admin.list_filter:
        try:
            build_filter(spec, admin.model, {}, admin, None)
        except (FieldPathError, TypeError, ValueError) as exc:
            yield Problem(f"list_filter of {_where(admin)}: {exc}", id="heron.admin.E020")


def _action_problems(admin: ModelAdmin) -> Iterator[Problem]:
    for item in admin.actions or ():
        target: Callable[..., Any] | None = getattr(admin, item, None) \
            if isinstance(item, str) else item
        if not callable(target):
            yield Problem(f"actions of {_where(admin)} names {item!r}, which is no method of "
                          "the admin and no callable", id="heron.admin.E021")


def _date_hierarchy_problems(admin: ModelAdmin) -> Iterator[Problem]:
    from sqlalchemy import Date, DateTime

    field = admin.date_hierarchy
    if not field:
        return
    try:
        lookup = resolve(admin.model, field)
    except FieldPathError as exc:
        yield Problem(f"date_hierarchy of {_where(admin)}: {exc}", id="heron.admin.E022")
        return
    if "__" in field or lookup.column is None \
            or not isinstance(lookup.column.type, (Date, DateTime)):
        yield Problem(f"date_hierarchy of {_where(admin)} must name a date or date-time "
                      f"column of {admin.model.__name__}, not {field!r}",
                      id="heron.admin.E027")


def _relation_field_problems(admin: BaseModelAdmin, site: BoundSite) -> Iterator[Problem]:
    from sqlalchemy import inspect
    from sqlalchemy.orm.interfaces import MANYTOONE

    relations = {prop.key: prop for prop in inspect(admin.model).relationships
                 if prop.direction is MANYTOONE}
    for option in ("raw_id_fields", "autocomplete_fields"):
        for name in getattr(admin, option):
            prop = relations.get(name)
            if prop is None:
                yield Problem(f"{option} of {_where(admin)} names {name!r}, which is no "
                              "many-to-one relationship of the model", id="heron.admin.E023")
                continue
            if option == "autocomplete_fields":
                target = site.by_model.get(prop.mapper.class_)
                if target is None or not target.search_fields:
                    yield Problem(
                        f"autocomplete_fields of {_where(admin)} names {name!r}: register "
                        f"{prop.mapper.class_.__name__} in the admin with search_fields, "
                        "which the search box uses", id="heron.admin.E024")


def _inline_problems(admin: ModelAdmin, inline_class: type[InlineModelAdmin],
                     site: BoundSite) -> Iterator[Problem]:
    from heron.admin.inlines import parent_relationship

    if not (isinstance(inline_class, type) and issubclass(inline_class, InlineModelAdmin)) \
            or getattr(inline_class, "model", None) is None:
        yield Problem(f"inlines of {_where(admin)} holds {inline_class!r}: inlines are "
                      "TabularInline or StackedInline subclasses with a model",
                      id="heron.admin.E025")
        return
    inline = inline_class(admin.model, site)
    try:
        parent_relationship(inline)
    except ValueError as exc:
        yield Problem(f"inlines of {_where(admin)}: {exc}", id="heron.admin.E026")
        return
    yield from _guarded(inline, _form_problems(inline))
    yield from _relation_field_problems(inline, site)
