"""``list_filter``: the change list's sidebar of filters.

A ``list_filter`` entry is a field path (``"published"``, ``"author__country"``), a
``(path, FieldListFilter subclass)`` pair, or a :class:`SimpleListFilter` subclass;
:func:`build_filter` makes the filter.  A path gets the filter that suits its column:

============================  ===============================================
column or relationship        filter
============================  ===============================================
``Boolean``                   :class:`BooleanFieldListFilter`
``Enum``                      :class:`ChoicesFieldListFilter`
``Date``, ``DateTime``        :class:`DateFieldListFilter`
a relationship                :class:`RelatedFieldListFilter`
anything else                 :class:`AllValuesFieldListFilter`
============================  ===============================================

Query parameters (a filter's :meth:`~ListFilter.expected_parameters`); ``<path>``
is the path as written in ``list_filter``:

- ``<path>=1`` / ``0``: yes / no (boolean);
- ``<path>=<value>``: that enum member (by name), that related row (by primary key),
  that value (as :func:`~heron.admin.lookups.format_value` writes it);
- ``<path>=today`` / ``past7`` / ``month`` / ``year`` (dates): today, the last 7 days
  (today included), this month, this year, all in UTC;
- ``<path>__isnull=1`` / ``0``: the value is missing / present ("Unknown", "(None)",
  "No date", "Has date"); offered only when the column is nullable;
- ``<path>__empty=1`` / ``0``: :class:`EmptyFieldListFilter`'s "Empty" (``NULL``, or
  ``""`` for text; no related row for a relationship) / "Not empty".

A parameter a filter cannot use raises :class:`IncorrectLookupParameters` from
:meth:`~ListFilter.apply` (the view answers 400); no value ever reaches the
database unchecked.  Conditions across relationships are ``EXISTS`` clauses
(:meth:`~heron.admin.lookups.Lookup.condition`), so rows are never repeated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import ColumnElement, and_, inspect, not_, select, tuple_
from sqlalchemy import types as sa_types
from sqlalchemy.orm.interfaces import MANYTOONE

from heron.admin.lookups import (
    Lookup,
    format_value,
    joined_column,
    parse_value,
    resolve,
    utc_for,
)
from heron.i18n import LazyString, gettext, gettext_lazy, pgettext

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm import Session

__all__ = [
    "AllValuesFieldListFilter",
    "BooleanFieldListFilter",
    "Choice",
    "ChoicesFieldListFilter",
    "DateFieldListFilter",
    "EmptyFieldListFilter",
    "FieldListFilter",
    "IncorrectLookupParameters",
    "ListFilter",
    "RelatedFieldListFilter",
    "SimpleListFilter",
    "build_filter",
]


class IncorrectLookupParameters(ValueError):
    """A query parameter a filter cannot use (the change list answers 400)."""


@dataclass
class Choice:
    """One link of a filter.

    Attributes:
        label: what the link says.
        selected: whether the list is filtered this way now.
        params: the query parameters to set for it (``None``: remove that one).
    """

    label: str
    selected: bool
    params: dict[str, str | None]


class ListFilter:
    """The base of every filter: its parameters, choices and condition.

    Args:
        params: the request's query parameters (the filter keeps its own).
        model: the model the change list shows.
        model_admin: its admin.
        request: the request, or ``None`` (the startup checks build filters
            without one, so a constructor must not need it).
    """

    title: str = ""
    parameter_name: str = ""

    def __init__(self, params: Mapping[str, str], model: type[Any], model_admin: Any,
                 request: Any) -> None:
        self.model = model
        self.model_admin = model_admin
        self.request = request
        self.used: dict[str, str] = {key: params[key] for key in self.expected_parameters()
                                     if key in params}

    def expected_parameters(self) -> list[str]:
        """The query parameters this filter reads."""
        raise NotImplementedError

    def has_output(self) -> bool:
        """Whether the filter is worth showing (after :meth:`load`)."""
        return True

    def load(self, session: Session) -> None:
        """Read what the choices need from the database (nothing by default)."""

    def choices(self) -> list[Choice]:
        """The filter's links, "All" (no filtering) first."""
        raise NotImplementedError

    def apply(self, statement: Select[Any]) -> Select[Any]:
        """``statement`` filtered by this filter's parameters.

        Raises:
            IncorrectLookupParameters: a parameter holds a value the filter cannot use.
        """
        raise NotImplementedError

    def is_active(self) -> bool:
        """Whether the request sets any of this filter's parameters."""
        return bool(self.used)

    def _choice(self, label: str, selected: bool, **values: str) -> Choice:
        """A choice that sets ``values`` and removes this filter's other parameters."""
        params: dict[str, str | None] = dict.fromkeys(self.expected_parameters())
        params.update(values)
        return Choice(label, selected, params)

    def _all_choice(self, label: str | None = None) -> Choice:
        label = pgettext("filter", "All") if label is None else label
        return self._choice(label, not self.is_active())


class FieldListFilter(ListFilter):
    """A filter on a field path; :meth:`for_field` picks the kind that suits it.

    Subclass it to filter a path your own way and name it in ``list_filter`` as
    ``("path", YourFilter)``; :meth:`suits` says which paths it accepts.
    """

    def __init__(self, params: Mapping[str, str], model: type[Any], model_admin: Any,
                 request: Any, *, path: str) -> None:
        self.path = path
        self.lookup: Lookup = resolve(model, path)
        if not self.suits(self.lookup):
            raise TypeError(f"{model.__name__}: list_filter {type(self).__name__} cannot "
                            f"filter {path!r} ({_describe(self.lookup)})")
        self.parameter_name = path
        self.title = gettext(self.lookup.label)  # "Is staff", through the catalogs
        super().__init__(params, model, model_admin, request)

    @classmethod
    def suits(cls, lookup: Lookup) -> bool:
        """Whether this filter can filter ``lookup``."""
        return True

    @staticmethod
    def for_field(path: str, model: type[Any], params: Mapping[str, str],
                  model_admin: Any, request: Any) -> FieldListFilter:
        """The filter that suits ``path`` (see the module's table).

        Raises:
            FieldPathError: ``path`` is not a path of ``model``.
            TypeError: no filter suits its column (JSON, binary, ...).
        """
        lookup = resolve(model, path)
        for kind in _FIELD_FILTERS:
            if kind.suits(lookup):
                return kind(params, model, model_admin, request, path=path)
        raise TypeError(f"{model.__name__}: list_filter {path!r}: no filter suits "
                        f"{_describe(lookup)}; name a filter class with it or use a "
                        f"SimpleListFilter")

    @property
    def null_parameter(self) -> str:
        """The parameter for a missing value: ``<path>__isnull``."""
        return f"{self.path}__isnull"

    def expected_parameters(self) -> list[str]:
        return [self.path, self.null_parameter]

    # Helpers for the subclasses.

    @property
    def _column(self) -> ColumnElement[Any]:
        assert self.lookup.column is not None  # suits() admitted a column
        return self.lookup.column

    def _parse(self, parameter: str, kind: sa_types.TypeEngine[Any]) -> Any:
        raw = self.used[parameter]
        try:
            return parse_value(kind, raw)
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise IncorrectLookupParameters(f"{parameter}={raw[:100]!r}: {exc}") from None

    def _present(self) -> ColumnElement[bool]:
        """The condition on the holding model that the final value is there."""
        prop = self.lookup.relationship
        if prop is None:
            return self._column.is_not(None)
        key = _foreign_key(self.lookup)
        if key is not None:
            present: ColumnElement[bool] = getattr(self.lookup.target, key[0]).is_not(None)
            return present
        attribute = self.lookup.attribute
        return attribute.any() if prop.uselist else attribute.has()  # type: ignore[no-any-return]

    def _missing(self, missing: bool) -> ColumnElement[bool]:
        """Rows whose value is missing (``NULL``, no related row, or a ``NULL`` step
        on the way), or present."""
        present = self.lookup.condition(self._present())
        return not_(present) if missing else present

    def _apply_null(self, statement: Select[Any]) -> Select[Any]:
        raw = self.used.get(self.null_parameter)
        if raw is None:
            return statement
        if raw not in ("1", "0"):
            raise IncorrectLookupParameters(f"{self.null_parameter}={raw[:100]!r}: "
                                            + gettext("not 1 or 0"))
        return statement.where(self._missing(raw == "1"))

    def _null_choice(self, label: str, missing: bool = True) -> Choice:
        flag = "1" if missing else "0"
        return self._choice(label, self.used.get(self.null_parameter) == flag,
                            **{self.null_parameter: flag})


def _describe(lookup: Lookup) -> str:
    if lookup.column is None:
        return f"a relationship to {lookup.related.__name__ if lookup.related else '?'}"
    return f"a column of type {lookup.column.type!r}"


def _foreign_key(lookup: Lookup) -> tuple[str, Any] | None:
    """``(attribute name, referenced column)`` when the path ends on a many-to-one
    relationship over one foreign key column referring to the primary key."""
    prop = lookup.relationship
    if prop is None or prop.direction is not MANYTOONE or len(prop.local_remote_pairs) != 1:
        return None
    ((local, remote),) = prop.local_remote_pairs
    if remote not in prop.mapper.primary_key:
        return None
    return prop.parent.get_property_by_column(local).key, remote


class BooleanFieldListFilter(FieldListFilter):
    """All / Yes / No, and Unknown when the column is nullable."""

    @classmethod
    def suits(cls, lookup: Lookup) -> bool:
        return lookup.column is not None and isinstance(lookup.column.type, sa_types.Boolean)

    def choices(self) -> list[Choice]:
        value = self.used.get(self.path)
        found = [self._all_choice(),
                 self._choice(gettext("Yes"), value == "1", **{self.path: "1"}),
                 self._choice(gettext("No"), value == "0", **{self.path: "0"})]
        if self.lookup.nullable:
            found.append(self._null_choice(gettext("Unknown")))
        return found

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.path in self.used:
            value = self._parse(self.path, sa_types.Boolean())
            statement = statement.where(self.lookup.condition(self._column == value))
        return self._apply_null(statement)


def _member_label(member: Any) -> str:
    # As the forms label it, so that a filter, a column and a select agree.
    from heron.forms._spec import _choice_label

    return _choice_label(member)


class ChoicesFieldListFilter(FieldListFilter):
    """Each member of an ``Enum`` column (a Python enum or a list of strings).

    A member's label is its ``label`` attribute if it has one, else its value when
    that is text, else its name.
    """

    @classmethod
    def suits(cls, lookup: Lookup) -> bool:
        return lookup.column is not None and isinstance(lookup.column.type, sa_types.Enum)

    def _members(self) -> list[Any]:
        kind = self._column.type
        assert isinstance(kind, sa_types.Enum)
        if kind.enum_class is not None:
            return list(kind.enum_class)
        return list(kind.enums)

    def choices(self) -> list[Choice]:
        value = self.used.get(self.path)
        found = [self._all_choice()]
        for member in self._members():
            key = format_value(member)
            found.append(self._choice(_member_label(member), value == key,
                                      **{self.path: key}))
        if self.lookup.nullable:
            found.append(self._null_choice(gettext("(None)")))
        return found

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.path in self.used:
            member = self._parse(self.path, self._column.type)
            statement = statement.where(self.lookup.condition(self._column == member))
        return self._apply_null(statement)


class DateFieldListFilter(FieldListFilter):
    """Any date / Today / Past 7 days / This month / This year, and No date / Has
    date when nullable.  Days are UTC days; ranges are half-open (``>= start`` and
    ``< end``), so a ``DateTime`` at midnight belongs to the day it starts."""

    periods: ClassVar[dict[str, str | LazyString]] = {
        "today": gettext_lazy("Today"), "past7": gettext_lazy("Past 7 days"),
        "month": gettext_lazy("This month"), "year": gettext_lazy("This year")}

    @classmethod
    def suits(cls, lookup: Lookup) -> bool:
        return lookup.column is not None and isinstance(
            lookup.column.type, sa_types.Date | sa_types.DateTime)

    def today(self) -> dt.date:
        """Today's date in UTC (override to filter by another clock)."""
        return dt.datetime.now(dt.UTC).date()

    def period(self, name: str) -> tuple[dt.date, dt.date]:
        """``(first day, day after the last)`` of period ``name`` (a key of
        :attr:`periods`)."""
        today = self.today()
        tomorrow = today + dt.timedelta(days=1)
        if name == "today":
            return today, tomorrow
        if name == "past7":
            return today - dt.timedelta(days=6), tomorrow
        if name == "month":
            start = today.replace(day=1)
            return start, (start + dt.timedelta(days=32)).replace(day=1)
        return today.replace(month=1, day=1), today.replace(year=today.year + 1, month=1,
                                                             day=1)

    def choices(self) -> list[Choice]:
        value = self.used.get(self.path)
        found = [self._all_choice(gettext("Any date"))]
        for key, label in self.periods.items():
            found.append(self._choice(str(label), value == key, **{self.path: key}))
        if self.lookup.nullable:
            found.append(self._null_choice(gettext("No date")))
            found.append(self._null_choice(gettext("Has date"), missing=False))
        return found

    def apply(self, statement: Select[Any]) -> Select[Any]:
        raw = self.used.get(self.path)
        if raw is not None:
            if raw not in self.periods:
                raise IncorrectLookupParameters(
                    f"{self.path}={raw[:100]!r}: " + gettext("not one of %(choices)s")
                    % {"choices": ", ".join(self.periods)}
                    )
            start, end = self.period(raw)
            column = self._column
            low: Any = start
            high: Any = end
            if isinstance(column.type, sa_types.DateTime):
                low = utc_for(column.type, dt.datetime.combine(start, dt.time(), dt.UTC))
                high = utc_for(column.type, dt.datetime.combine(end, dt.time(), dt.UTC))
            statement = statement.where(
                self.lookup.condition(and_(column >= low, column < high)))
        return self._apply_null(statement)


class RelatedFieldListFilter(FieldListFilter):
    """Each related row (``str(row)``, sorted), and "(None)" when the relationship may
    be empty.  The parameter's value is the related row's primary key.

    At most :attr:`max_choices` rows are offered (the first by primary key, plus
    the selected one); past that, a :class:`SimpleListFilter` or the search box
    serves better.
    """

    max_choices: ClassVar[int] = 1000

    def __init__(self, params: Mapping[str, str], model: type[Any], model_admin: Any,
                 request: Any, *, path: str) -> None:
        super().__init__(params, model, model_admin, request, path=path)
        related = self.lookup.related
        assert related is not None  # suits() admitted a relationship
        keys = inspect(related).primary_key
        if len(keys) != 1:
            raise TypeError(f"{model.__name__}: list_filter {path!r}: {related.__name__} "
                            f"has a primary key of {len(keys)} columns; a related filter "
                            f"needs one")
        self.related: type[Any] = related
        self.key_column = keys[0]
        self.key_attribute = getattr(related, inspect(related).get_property_by_column(
            keys[0]).key)
        self.rows: list[tuple[str, str]] = []  # (key, label)

    @classmethod
    def suits(cls, lookup: Lookup) -> bool:
        return lookup.column is None

    def _selected_key(self) -> str | None:
        if self.path not in self.used:
            return None
        try:
            return format_value(self._parse(self.path, self.key_column.type))
        except IncorrectLookupParameters:
            return None

    def load(self, session: Session) -> None:
        statement = select(self.related).order_by(self.key_attribute).limit(self.max_choices)
        rows = list(session.scalars(statement))
        selected = self._selected_key()
        if selected is not None and selected not in {
                format_value(getattr(row, self.key_attribute.key)) for row in rows}:
            value = self._parse(self.path, self.key_column.type)
            rows += session.scalars(select(self.related).where(self.key_attribute == value))
        labelled = [(format_value(getattr(row, self.key_attribute.key)), str(row))
                    for row in rows]
        self.rows = sorted(labelled, key=lambda pair: (pair[1].casefold(), pair[1]))

    def has_output(self) -> bool:
        return len(self.rows) + (1 if self.lookup.nullable else 0) > 1

    def choices(self) -> list[Choice]:
        selected = self._selected_key()
        found = [self._all_choice()]
        for key, label in self.rows:
            found.append(self._choice(label, key == selected, **{self.path: key}))
        if self.lookup.nullable:
            found.append(self._null_choice(gettext("(None)")))
        return found

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.path in self.used:
            value = self._parse(self.path, self.key_column.type)
            foreign = _foreign_key(self.lookup)
            if foreign is not None:
                inner = getattr(self.lookup.target, foreign[0]) == value
            elif self.lookup.attribute.property.uselist:
                inner = self.lookup.attribute.any(self.key_attribute == value)
            else:
                inner = self.lookup.attribute.has(self.key_attribute == value)
            statement = statement.where(self.lookup.condition(inner))
        return self._apply_null(statement)


#: Column types whose values :class:`AllValuesFieldListFilter` can offer.
_VALUE_TYPES = (sa_types.String, sa_types.Integer, sa_types.Float, sa_types.Numeric,
                sa_types.Date, sa_types.DateTime, sa_types.Time, sa_types.Uuid,
                sa_types.Boolean)


class AllValuesFieldListFilter(FieldListFilter):
    """Each distinct value the path has among the model's rows (at most
    :attr:`max_values`, in order), and "(None)" when the column is nullable."""

    max_values: ClassVar[int] = 100

    def __init__(self, params: Mapping[str, str], model: type[Any], model_admin: Any,
                 request: Any, *, path: str) -> None:
        super().__init__(params, model, model_admin, request, path=path)
        self.values: list[Any] = []
        self.truncated = False

    @classmethod
    def suits(cls, lookup: Lookup) -> bool:
        return lookup.column is not None and isinstance(lookup.column.type, _VALUE_TYPES)

    def load(self, session: Session) -> None:
        joins, column = joined_column(self.lookup)
        statement = select(column).select_from(self.model)
        for target, onclause in joins:
            statement = statement.join(target, onclause)
        visible = self._visible_keys()
        if visible is not None:
            statement = statement.where(visible)
        statement = statement.where(column.is_not(None)).distinct().order_by(column)
        values = list(session.scalars(statement.limit(self.max_values + 1)))
        self.truncated = len(values) > self.max_values
        self.values = values[:self.max_values]

    def _visible_keys(self) -> ColumnElement[bool] | None:
        """Only the rows the admin shows (its ``get_queryset``) give values."""
        get_queryset = getattr(self.model_admin, "get_queryset", None)
        if self.request is None or not callable(get_queryset):
            return None
        keys = inspect(self.model).primary_key
        shown = get_queryset(self.request).order_by(None).subquery()
        columns = [shown.corresponding_column(key) for key in keys]
        if any(column is None for column in columns):
            return None  # the admin's query selects no key to restrict by
        return tuple_(*keys).in_(select(*columns))

    def has_output(self) -> bool:
        return len(self.values) + (1 if self.lookup.nullable else 0) > 1

    def _selected_key(self) -> str | None:
        if self.path not in self.used:
            return None
        try:
            return format_value(self._parse(self.path, self._column.type))
        except IncorrectLookupParameters:
            return None

    def choices(self) -> list[Choice]:
        selected = self._selected_key()
        found = [self._all_choice()]
        for value in self.values:
            key = format_value(value)
            found.append(self._choice(_member_label(value), key == selected,
                                      **{self.path: key}))
        if self.lookup.nullable:
            found.append(self._null_choice(gettext("(None)")))
        return found

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.path in self.used:
            value = self._parse(self.path, self._column.type)
            statement = statement.where(self.lookup.condition(self._column == value))
        return self._apply_null(statement)


class EmptyFieldListFilter(FieldListFilter):
    """Empty / Not empty: ``NULL`` (or ``""`` for a text column), or no related row.

    Name it with its path: ``list_filter = [("subtitle", EmptyFieldListFilter)]``.
    """

    @classmethod
    def suits(cls, lookup: Lookup) -> bool:
        if lookup.column is None:
            return True
        return lookup.nullable or _plain_text(lookup.column.type)

    @property
    def empty_parameter(self) -> str:
        """``<path>__empty``."""
        return f"{self.path}__empty"

    def expected_parameters(self) -> list[str]:
        return [self.empty_parameter]

    def choices(self) -> list[Choice]:
        value = self.used.get(self.empty_parameter)
        return [self._all_choice(),
                self._choice(pgettext("filter", "Empty"), value == "1",
                             **{self.empty_parameter: "1"}),
                self._choice(pgettext("filter", "Not empty"), value == "0",
                             **{self.empty_parameter: "0"})]

    def _present(self) -> ColumnElement[bool]:
        present = super()._present()
        if self.lookup.column is not None and _plain_text(self._column.type):
            return and_(present, self._column != "")
        return present

    def apply(self, statement: Select[Any]) -> Select[Any]:
        raw = self.used.get(self.empty_parameter)
        if raw is None:
            return statement
        if raw not in ("1", "0"):
            raise IncorrectLookupParameters(f"{self.empty_parameter}={raw[:100]!r}: "
                                            + gettext("not 1 or 0"))
        return statement.where(self._missing(raw == "1"))


def _plain_text(kind: sa_types.TypeEngine[Any]) -> bool:
    return isinstance(kind, sa_types.String) and not isinstance(kind, sa_types.Enum)


#: The order :meth:`FieldListFilter.for_field` tries the kinds in.
_FIELD_FILTERS: list[type[FieldListFilter]] = [
    RelatedFieldListFilter, BooleanFieldListFilter, ChoicesFieldListFilter,
    DateFieldListFilter, AllValuesFieldListFilter]


class SimpleListFilter(ListFilter):
    """A filter of your own, with the choices and conditions you write::

        class DecadeFilter(SimpleListFilter):
            title = "decade published"
            parameter_name = "decade"

            def lookups(self, request, model_admin):
                return [("80s", "in the eighties"), ("90s", "in the nineties")]

            def queryset(self, request, statement):
                if self.value() == "80s":
                    return statement.where(Book.year.between(1980, 1989))
                ...

    :meth:`lookups` is called when first needed (by :meth:`load`, :meth:`choices` or
    :meth:`apply`), never by the constructor; during :meth:`load` and after it,
    ``self.session`` is the change list's ``Session`` for lookups from the database.
    A value that is not among the lookups raises :class:`IncorrectLookupParameters`.
    """

    def __init__(self, params: Mapping[str, str], model: type[Any], model_admin: Any,
                 request: Any) -> None:
        name = type(self).__name__
        if not self.title or not isinstance(self.title, str):
            raise TypeError(f"list_filter {name} has no title (a class attribute)")
        if not self.parameter_name or not isinstance(self.parameter_name, str):
            raise TypeError(f"list_filter {name} has no parameter_name (a class attribute)")
        for method in ("lookups", "queryset"):
            if getattr(type(self), method) is getattr(SimpleListFilter, method):
                raise TypeError(f"list_filter {name} must define {method}()")
        super().__init__(params, model, model_admin, request)
        self.session: Session | None = None
        self._lookups: list[tuple[str, str]] | None = None

    def expected_parameters(self) -> list[str]:
        return [self.parameter_name]

    def value(self) -> str | None:
        """The chosen lookup's value, or ``None``."""
        return self.used.get(self.parameter_name)

    def lookups(self, request: Any, model_admin: Any) -> Sequence[tuple[Any, str]]:
        """The ``(value, label)`` pairs offered; values are compared as text."""
        raise NotImplementedError

    def queryset(self, request: Any, statement: Select[Any]) -> Select[Any] | None:
        """``statement`` filtered for :meth:`value` (``None``: leave it as it is)."""
        raise NotImplementedError

    @property
    def lookup_choices(self) -> list[tuple[str, str]]:
        """:meth:`lookups`, computed once, values as text."""
        if self._lookups is None:
            self._lookups = [(str(value), str(label))
                             for value, label in self.lookups(self.request, self.model_admin)
                             or ()]
        return self._lookups

    def load(self, session: Session) -> None:
        self.session = session
        self._lookups = None
        _ = self.lookup_choices

    def has_output(self) -> bool:
        return bool(self.lookup_choices)

    def choices(self) -> list[Choice]:
        value = self.value()
        found = [self._all_choice()]
        for key, label in self.lookup_choices:
            found.append(self._choice(label, value == key, **{self.parameter_name: key}))
        return found

    def apply(self, statement: Select[Any]) -> Select[Any]:
        value = self.value()
        if value is None:
            return statement
        if value not in {key for key, _ in self.lookup_choices}:
            raise IncorrectLookupParameters(
                f"{self.parameter_name}={value[:100]!r}: "
                + gettext("not one of the filter's choices")
                )
        filtered = self.queryset(self.request, statement)
        return statement if filtered is None else filtered


def build_filter(spec: Any, model: type[Any], params: Mapping[str, str], model_admin: Any,
                 request: Any) -> ListFilter:
    """The filter a ``list_filter`` entry names.

    Args:
        spec: a field path, a ``(path, FieldListFilter subclass)`` pair, or a
            :class:`SimpleListFilter` subclass.
        model, params, model_admin, request: as for :class:`ListFilter`.

    Raises:
        FieldPathError: a path that names no column or relationship of ``model``.
        TypeError: any other kind of entry, a filter class that does not suit the
            path, or a SimpleListFilter without title, parameter_name or methods.
    """
    if isinstance(spec, str):
        return FieldListFilter.for_field(spec, model, params, model_admin, request)
    if isinstance(spec, tuple):
        if len(spec) != 2 or not isinstance(spec[0], str) or not (
                isinstance(spec[1], type) and issubclass(spec[1], FieldListFilter)):
            raise TypeError(f"{model.__name__}: list_filter entry {spec!r} is no "
                            f"(path, FieldListFilter subclass) pair")
        kind: type[FieldListFilter] = spec[1]
        return kind(params, model, model_admin, request, path=spec[0])
    if isinstance(spec, type) and issubclass(spec, SimpleListFilter):
        return spec(params, model, model_admin, request)
    raise TypeError(f"{model.__name__}: list_filter entry {spec!r} is no field path, "
                    f"(path, FieldListFilter subclass) pair or SimpleListFilter subclass")
