"""How values are shown on admin pages: a column's heading and a row's cell."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    from heron.admin.options import BaseModelAdmin

__all__ = ["Column", "column_for", "format_value"]

_YES = '<span class="bool bool-yes" role="img" aria-label="{}">&#10003;</span>'
_NO = '<span class="bool bool-no" role="img" aria-label="{}">&#10007;</span>'


def format_value(value: Any, empty: str = "-", boolean: bool = False) -> str | Markup:
    """A value as text for a page: ``None`` as ``empty``, booleans as icons, dates
    without microseconds, enums by value, lists joined; ``Markup`` (HTML a display
    method built with its values escaped) as it is."""
    if value is None or value == "":
        return empty
    if isinstance(value, Markup):
        return value
    if boolean or isinstance(value, bool):
        from heron.i18n import gettext

        return Markup(_YES if value else _NO).format(gettext("Yes") if value else gettext("No"))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        from heron.forms._spec import _choice_label

        return _choice_label(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(format_value(v, empty)) for v in value) or empty
    return str(value)


class Column:
    """One entry of ``list_display`` or ``readonly_fields``, resolved once.

    Attributes:
        name: as listed (a callable's ``__name__``).
        label: the heading.
        order: the field path it sorts by, or None when it does not sort.
        boolean: whether it shows as a yes/no icon.
    """

    def __init__(self, name: str, label: str, getter: Callable[[Any], Any], *,
                 order: str | None = None, boolean: bool = False,
                 empty: str = "-") -> None:
        self.name = name
        self.label = label
        self.getter = getter
        self.order = order
        self.boolean = boolean
        self.empty = empty

    def value(self, obj: Any) -> Any:
        return self.getter(obj)

    def cell(self, obj: Any) -> str | Markup:
        """The value of ``obj`` in this column, ready for the page."""
        return format_value(self.getter(obj), self.empty, self.boolean)


def _label(name: str) -> str:
    from heron.i18n import gettext

    # A heading made from a name ("Date joined"), translated when a catalog has it.
    words = name.replace("__", " ").replace("_", " ").strip()
    return gettext(words[:1].upper() + words[1:])


def column_for(admin: BaseModelAdmin, entry: str | Callable[..., Any]) -> Column:
    """The :class:`Column` of a ``list_display``/``readonly_fields`` entry: ``"__str__"``,
    a callable, a method of the admin, a field path, or an attribute (or method) of
    the model.

    Raises:
        ValueError: the entry names nothing (the checks report it at startup).
    """
    empty = admin.empty_value_display
    if callable(entry):
        return _from_callable(entry.__name__, entry, lambda obj: entry(obj), empty)
    if entry == "__str__":
        return Column("__str__", _label(str(admin.verbose_name)), admin.object_repr, empty=empty)
    from heron.admin.options import ModelAdmin

    method = getattr(admin, entry, None)
    if callable(method) and not hasattr(ModelAdmin, entry):
        return _from_callable(entry, method, lambda obj: method(obj), empty)
    from heron.admin.lookups import FieldPathError, resolve

    try:
        lookup = resolve(admin.model, entry)
    except FieldPathError:
        attribute = getattr(admin.model, entry, None)
        if attribute is None:
            raise ValueError(f"{type(admin).__name__}: {entry!r} is not a field, a path, a "
                             f"method of the admin or an attribute of "
                             f"{admin.model.__name__}") from None
        if callable(attribute):
            return _from_callable(entry, attribute, lambda obj: getattr(obj, entry)(), empty)
        return Column(entry, _label(entry), lambda obj: getattr(obj, entry, None), empty=empty)
    from sqlalchemy import Boolean

    boolean = lookup.column is not None and isinstance(lookup.column.type, Boolean)
    sortable = not lookup.many and lookup.column is not None
    label = _label(entry.rsplit("__", 1)[-1]) if "__" not in entry else _label(entry)
    return Column(entry, label, lookup.value, order=entry if sortable else None,
                  boolean=boolean, empty=empty)


def _from_callable(name: str, func: Any, getter: Callable[[Any], Any], empty: str) -> Column:
    return Column(name, getattr(func, "short_description", None) or _label(name), getter,
                  order=getattr(func, "admin_order_field", None),
                  boolean=bool(getattr(func, "boolean", False)),
                  empty=getattr(func, "empty_value_display", empty))
