"""How one model is shown in the admin: :class:`ModelAdmin` and its inlines.

The options carry Django's names, so that a Django user finds them where they
expect; each is a class attribute, and each ``get_*`` method is the hook to vary
it per request or per object.  Database work in the hooks takes a sync
``Session`` (the admin runs it through ``AsyncSession.run_sync``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm import Session

    from heron.admin.sites import BoundSite
    from heron.forms import ModelForm
    from heron.i18n import LazyString
    from heron.requests import Request

__all__ = [
    "BaseModelAdmin",
    "InlineModelAdmin",
    "ModelAdmin",
    "StackedInline",
    "TabularInline",
    "action",
    "display",
]

F = TypeVar("F", bound=Callable[..., Any])

#: What ``fieldsets`` holds: ``(title or None, {"fields": [...], "classes": [...],
#: "description": "..."})``.
Fieldset = tuple[str | None, Mapping[str, Any]]


@overload
def display(function: F, /) -> F: ...
@overload
def display(*, description: str | LazyString | None = None, boolean: bool = False,
            ordering: str | None = None, empty_value: str | None = None
            ) -> Callable[[F], F]: ...
def display(function: F | None = None, /, *, description: str | LazyString | None = None,
            boolean: bool = False, ordering: str | None = None,
            empty_value: str | None = None) -> F | Callable[[F], F]:
    """Mark a callable of ``list_display`` or ``readonly_fields`` with how it shows.

    >>> @display(description="Published?", boolean=True, ordering="published_at")
    ... def is_published(self, obj): return obj.published_at is not None

    Args:
        description: the column's heading (default: the name, words capitalised); a
            ``gettext_lazy`` text is shown in the request's language.
        boolean: draw the value as a yes/no icon.
        ordering: a field path the column sorts by (callables do not sort otherwise).
        empty_value: what ``None`` shows as (default: the admin's ``empty_value_display``).
    """

    def decorate(func: F) -> F:
        if description is not None:
            func.short_description = description  # type: ignore[attr-defined]
        func.boolean = boolean  # type: ignore[attr-defined]
        if ordering is not None:
            func.admin_order_field = ordering  # type: ignore[attr-defined]
        if empty_value is not None:
            func.empty_value_display = empty_value  # type: ignore[attr-defined]
        return func

    return decorate(function) if function is not None else decorate


@overload
def action(function: F, /) -> F: ...
@overload
def action(*, description: str | LazyString | None = None, permissions: Sequence[str] = ("change",),
           confirm: bool = False) -> Callable[[F], F]: ...
def action(function: F | None = None, /, *, description: str | LazyString | None = None,
           permissions: Sequence[str] = ("change",),
           confirm: bool = False) -> F | Callable[[F], F]:
    """Mark a callable of ``actions``: ``func(model_admin, request, session, rows)``.

    It runs on the rows the user ticked (a list of model instances) inside the
    admin's transaction; return ``None`` to go back to the change list, or a
    response.  ``permissions`` names what the user needs on the model (``"view"``,
    ``"add"``, ``"change"``, ``"delete"`` or a custom codename); ``confirm=True``
    shows a confirmation page listing the rows first, as ``delete_selected`` does.
    """

    def decorate(func: F) -> F:
        label = description or func.__name__.replace("_", " ").capitalize()
        func.short_description = label  # type: ignore[attr-defined]
        func.allowed_permissions = tuple(permissions)  # type: ignore[attr-defined]
        func.confirm = confirm  # type: ignore[attr-defined]
        return func

    return decorate(function) if function is not None else decorate


class BaseModelAdmin:
    """Options shared by :class:`ModelAdmin` and the inlines: which fields the form
    has and how they are drawn."""

    #: The model's fields on the form, in order (default: every editable one).
    fields: ClassVar[Sequence[str | Sequence[str]] | None] = None
    #: Fields left off the form.
    exclude: ClassVar[Sequence[str]] = ()
    #: The form in titled groups: ``[(None, {"fields": [...]}), ("Advanced", {...})]``.
    fieldsets: ClassVar[Sequence[Fieldset] | None] = None
    #: Fields and callables shown but not editable.
    readonly_fields: ClassVar[Sequence[str]] = ()
    #: A :class:`heron.forms.ModelForm` subclass to build the form on (its own fields,
    #: ``clean`` and messages are kept).
    form: ClassVar[type[ModelForm] | None] = None
    #: Many-to-one fields drawn as a search box over the related model's admin
    #: (which must have ``search_fields``) instead of a select of every row.
    autocomplete_fields: ClassVar[Sequence[str]] = ()
    #: Many-to-one fields drawn as a plain id input with a lookup link.
    raw_id_fields: ClassVar[Sequence[str]] = ()
    #: Fields filled in the browser from others as you type: ``{"slug": ["title"]}``.
    prepopulated_fields: ClassVar[Mapping[str, Sequence[str]]] = {}
    #: Default order of the change list (and of inline rows): field paths, ``-`` for
    #: descending.  Default: the primary key, newest first.
    ordering: ClassVar[Sequence[str] | None] = None
    #: What an empty value shows as.
    empty_value_display: ClassVar[str] = "-"
    #: The model's names on pages (default: made from its class name; a model may set
    #: ``__verbose_name__`` and ``__verbose_name_plural__``).  A ``gettext_lazy`` name
    #: is shown in the request's language (give the plural too).
    verbose_name: str | LazyString = ""
    verbose_name_plural: str | LazyString = ""

    model: type[Any]
    admin_site: BoundSite

    def __init__(self, model: type[Any], admin_site: BoundSite) -> None:
        from heron.db.models import table_name_for
        from heron.forms._model_fields import model_label

        self.model = model
        self.admin_site = admin_site
        #: The component label (``"blog"``) and the model's name (``"blog_post"``):
        #: the admin's URLs and the permission names are made of them.
        self.component = admin_site.component_of(model)
        self.model_name = table_name_for(model.__name__)
        self.verbose_name = self.verbose_name or model_label(model)[0]
        self.verbose_name_plural = self.verbose_name_plural or \
            getattr(model, "__verbose_name_plural__", None) or _plural(str(self.verbose_name))

    def permission_name(self, action: str) -> str:
        """``"blog.change_post"`` for ``action`` ``"change"``."""
        return f"{self.component}.{action}_{self.model_name}"

    # -- hooks -----------------------------------------------------------------

    def object_repr(self, obj: Any) -> str:
        """How a row is named on pages and in the audit log (``str(obj)``)."""
        return str(obj)

    def get_queryset(self, request: Request) -> Select[Any]:
        """The rows the admin shows and edits (filter them to narrow what staff see)."""
        from sqlalchemy import select

        return select(self.model)

    def get_fields(self, request: Request | None, obj: Any = None) -> list[str]:
        """The form's fields (those of ``fieldsets`` when it is set)."""
        if self.fieldsets:
            return [name for _, options in self.fieldsets
                    for name in _flatten(options.get("fields", ()))]
        if self.fields is not None:
            return list(_flatten(self.fields))
        from heron.admin.forms import editable_fields

        shown = [n for n in editable_fields(self.model) if n not in self.exclude]
        return shown + [n for n in self.get_readonly_fields(request, obj) if n not in shown]

    def get_fieldsets(self, request: Request, obj: Any = None) -> list[Fieldset]:
        """``fieldsets``, or one untitled set of :meth:`get_fields`."""
        if self.fieldsets:
            return list(self.fieldsets)
        return [(None, {"fields": self.get_fields(request, obj)})]

    def get_readonly_fields(self, request: Request | None, obj: Any = None) -> Sequence[str]:
        """Fields shown without an input."""
        return self.readonly_fields

    def get_form(self, request: Request, obj: Any = None) -> type[ModelForm]:
        """The form class for ``obj`` (None when adding)."""
        from heron.admin.forms import admin_form

        return admin_form(self, request, obj)

    def get_ordering(self, request: Request) -> Sequence[str]:
        return self.ordering or ()

    # -- permissions -------------------------------------------------------------

    def has_view_permission(self, request: Request, obj: Any = None) -> bool:
        """May the user see the model's rows (or ``obj``)?  Change permission implies it."""
        return self._has("view", request, obj) or self._has("change", request, obj)

    def has_add_permission(self, request: Request, obj: Any = None) -> bool:
        """May the user add rows? (``obj`` is the parent row for an inline.)"""
        return self._has("add", request, None)

    def has_change_permission(self, request: Request, obj: Any = None) -> bool:
        """May the user change rows (or ``obj``)?"""
        return self._has("change", request, obj)

    def has_delete_permission(self, request: Request, obj: Any = None) -> bool:
        """May the user delete rows (or ``obj``)?"""
        return self._has("delete", request, obj)

    def _has(self, action: str, request: Request, obj: Any) -> bool:
        return bool(request.user.has_perm(self.permission_name(action), obj))


def _plural(name: str) -> str:
    if name.endswith(("s", "x", "z", "ch", "sh")):
        return name + "es"
    if name.endswith("y") and name[-2:-1] not in ("a", "e", "i", "o", "u"):
        return name[:-1] + "ies"
    return name + "s"


def _flatten(fields: Sequence[str | Sequence[str]]) -> list[str]:
    """``fields`` with its rows (tuples shown on one line) flattened."""
    found: list[str] = []
    for item in fields:
        if isinstance(item, str):
            found.append(item)
        else:
            found.extend(item)
    return found


class ModelAdmin(BaseModelAdmin):
    """The admin of one model: its change list, forms, actions and history.

    Register it with :func:`heron.admin.register`; every option is in docs/admin.md.
    """

    #: Columns of the change list: field names, paths across many-to-one relations
    #: (``"author__name"``), ``"__str__"``, or callables (methods of the admin or
    #: functions of the row, see :func:`display`).
    list_display: ClassVar[Sequence[str | Callable[..., Any]]] = ("__str__",)
    #: Columns that link to the change form (default: the first).
    list_display_links: ClassVar[Sequence[str] | None] = ()
    #: Columns edited in place on the change list (never a link column).
    list_editable: ClassVar[Sequence[str]] = ()
    #: Fields the search box looks in; prefixes ``^`` (starts with), ``=`` (exactly),
    #: ``@`` (full-text on PostgreSQL).
    search_fields: ClassVar[Sequence[str]] = ()
    #: The placeholder-like hint under the search box.
    search_help_text: ClassVar[str | None] = None
    #: Filters of the sidebar: field paths, ``(path, FilterClass)`` or
    #: :class:`~heron.admin.SimpleListFilter` subclasses.
    list_filter: ClassVar[Sequence[Any]] = ()
    #: Rows per change-list page.
    list_per_page: ClassVar[int] = 100
    #: "Show all" is offered up to this many rows.
    list_max_show_all: ClassVar[int] = 200
    #: A date field to drill down by year, month and day above the list.
    date_hierarchy: ClassVar[str | None] = None
    #: Many-to-one paths loaded with the rows (``True``: those of ``list_display``).
    list_select_related: ClassVar[bool | Sequence[str]] = True
    #: Actions on ticked rows: names of admin methods or callables (see :func:`action`);
    #: ``delete_selected`` is added unless ``actions`` is ``None``.
    actions: ClassVar[Sequence[str | Callable[..., Any]] | None] = ()
    #: Show the actions bar above / below the list.
    actions_on_top: ClassVar[bool] = True
    actions_on_bottom: ClassVar[bool] = False
    #: Inline classes: rows of related models edited on this model's form.
    inlines: ClassVar[Sequence[type[InlineModelAdmin]]] = ()
    #: "Save as new" on the change form.
    save_as: ClassVar[bool] = False
    #: Save buttons above the form too.
    save_on_top: ClassVar[bool] = False
    #: Count every row for the "N total" next to a filtered count (off: one query less).
    show_full_result_count: ClassVar[bool] = True
    #: Offer the filtered list as CSV and JSON downloads (needs the view permission).
    export_formats: ClassVar[Sequence[str]] = ("csv", "json")
    #: Fields of each exported row (default: the model's columns).
    export_fields: ClassVar[Sequence[str] | None] = None

    def get_list_display(self, request: Request) -> Sequence[str | Callable[..., Any]]:
        return self.list_display

    def get_list_display_links(self, request: Request | None,
                               list_display: Sequence[str | Callable[..., Any]]) -> list[str]:
        """The columns that link to the change form."""
        if self.list_display_links is None:
            return []
        if self.list_display_links:
            return list(self.list_display_links)
        first = next((c for c in list_display if not (isinstance(c, str)
                                                        and c in self.list_editable)), None)
        return [column_name(first)] if first is not None else []

    def get_list_filter(self, request: Request) -> Sequence[Any]:
        return self.list_filter

    def get_search_fields(self, request: Request) -> Sequence[str]:
        return self.search_fields

    def get_inlines(self, request: Request, obj: Any = None) -> list[InlineModelAdmin]:
        """Instances of the inline classes for ``obj``."""
        return [inline(self.model, self.admin_site) for inline in self.inlines]

    def get_actions(self, request: Request) -> dict[str, tuple[Callable[..., Any], str, str]]:
        """``{name: (function, name, description)}`` the user may run; each function
        is called as ``function(request, session, rows)``."""
        import functools

        from heron.admin.actions import delete_selected

        if self.actions is None:
            return {}
        found: dict[str, tuple[Callable[..., Any], str, str]] = {}
        for item in (delete_selected, *self.actions):
            if isinstance(item, str):
                func, name = getattr(self, item), item
            else:  # a function of (model_admin, request, session, rows)
                func = functools.update_wrapper(functools.partial(item, self), item)
                name = item.__name__
            wanted = getattr(func, "allowed_permissions", ("change",))
            if all(self.has_action_permission(request, perm) for perm in wanted):
                found[name] = (func, name, getattr(func, "short_description", name))
        return found

    def has_action_permission(self, request: Request, permission: str) -> bool:
        """Whether the user holds ``permission`` (``"delete"``, a custom codename...)."""
        standard = {"view": self.has_view_permission, "add": self.has_add_permission,
                    "change": self.has_change_permission,
                    "delete": self.has_delete_permission}
        if permission in standard:
            return standard[permission](request)
        return bool(request.user.has_perm(f"{self.component}.{permission}"))

    def save_model(self, request: Request, session: Session, obj: Any, form: ModelForm,
                   change: bool) -> None:
        """Store ``obj`` from the valid ``form`` (the form has set its fields): override
        to set more (``obj.author = request.user``) before calling this."""
        session.add(obj)
        session.flush()

    def delete_model(self, request: Request, session: Session, obj: Any) -> None:
        """Delete ``obj`` (its dependents go as the model's cascades say)."""
        session.delete(obj)
        session.flush()

    def save_related(self, request: Request, session: Session, obj: Any,
                     inlines: Sequence[Any]) -> None:
        """Called after ``obj`` and its inline rows are saved."""

class InlineModelAdmin(BaseModelAdmin):
    """Rows of a related model edited on the parent's form: the related model has a
    many-to-one relationship to the parent (``fk_name`` chooses which when there are
    several).  A many-to-many with extra columns is an association model inlined the
    same way."""

    #: The many-to-one relationship (or its foreign-key column) to the parent.
    fk_name: ClassVar[str | None] = None
    #: Blank rows offered for new related rows.
    extra: ClassVar[int] = 3
    #: Most rows the inline may hold; fewest it must hold.
    max_num: ClassVar[int | None] = None
    min_num: ClassVar[int] = 0
    #: Offer a "delete" box on each row.
    can_delete: ClassVar[bool] = True
    template: ClassVar[str] = "admin/_inline_tabular.html"

    def __init__(self, parent_model: type[Any], admin_site: BoundSite) -> None:
        super().__init__(type(self).model, admin_site)
        self.parent_model = parent_model

    def has_add_permission(self, request: Request, obj: Any = None) -> bool:
        return self._has("add", request, None)


class TabularInline(InlineModelAdmin):
    """An inline drawn as a table, one row per related row."""

    template = "admin/_inline_tabular.html"


class StackedInline(InlineModelAdmin):
    """An inline drawn as one stacked form per related row."""

    template = "admin/_inline_stacked.html"


def column_name(column: str | Callable[..., Any]) -> str:
    """The name a ``list_display`` entry goes by (a callable's ``__name__``)."""
    return column if isinstance(column, str) else column.__name__
