"""Field paths such as ``"author__country__name"``: from a model to a column or relation.

The admin names columns of related models the way Django does, with ``__`` between
the steps (``list_display``, ``search_fields``, ``list_filter``, ordering).
:func:`resolve` turns such a path into a :class:`Lookup`, which knows each
relationship crossed, the final column and how to:

- filter on it without joins: :meth:`Lookup.condition` wraps a condition on the
  final model in ``has()`` / ``any()`` (``EXISTS``), so a row is never repeated;
- read it from a loaded row: :meth:`Lookup.value`, with :func:`loader_options` to
  load a page of rows and what the paths cross in a fixed number of queries;
- sort by it: :func:`order_column` (many-to-one paths only, through outer joins).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, inspect
from sqlalchemy import types as sa_types
from sqlalchemy.orm import (
    ColumnProperty,
    InstrumentedAttribute,
    Mapper,
    RelationshipProperty,
    aliased,
    joinedload,
    selectinload,
)
from sqlalchemy.orm.interfaces import MANYTOONE

__all__ = [
    "SEPARATOR",
    "FieldPathError",
    "Lookup",
    "format_value",
    "joined_column",
    "loader_options",
    "order_column",
    "parse_value",
    "resolve",
    "text_type",
    "utc_for",
]

#: What separates the steps of a path: ``"author__name"``.
SEPARATOR = "__"


class FieldPathError(ValueError):
    """A field path that does not name a column or relationship of its model."""


# eq=False: attributes compare as SQL, so two lookups are equal only if they are one.
@dataclass(frozen=True, eq=False)
class Lookup:
    """A resolved field path: see :func:`resolve`.

    Attributes:
        model: the model the path starts from.
        path: the path, as given (``"author__country__name"``).
        relationships: the relationship crossed at each step, in order; the final
            relationship, when the path ends on one, is :attr:`attribute`, not here.
        attribute: the final mapped attribute: a column attribute, or the
            relationship attribute when the path ends on a relationship.
        column: the final column (a SQL expression for a ``column_property``), or
            ``None`` when the path ends on a relationship.
        target: the model holding the final attribute.
        many: whether a step leads to many rows (one-to-many, many-to-many), so that
            :meth:`value` gives a list.
        label: a human label made from the last step: ``"country_name"`` ->
            ``"Country name"``.
        hops: the relationship attribute of each step, each on the model the step
            starts from (what :meth:`condition` wraps in ``has()`` / ``any()``).
    """

    model: type[Any]
    path: str
    relationships: tuple[RelationshipProperty[Any], ...]
    attribute: Any
    column: ColumnElement[Any] | None
    target: type[Any]
    many: bool
    label: str
    hops: tuple[InstrumentedAttribute[Any], ...] = field(repr=False, default=())

    @property
    def relationship(self) -> RelationshipProperty[Any] | None:
        """The final relationship when the path ends on one, else ``None``."""
        if self.column is not None:
            return None
        prop: RelationshipProperty[Any] = self.attribute.property
        return prop

    @property
    def related(self) -> type[Any] | None:
        """The model the final relationship leads to, when the path ends on one."""
        prop = self.relationship
        return None if prop is None else prop.mapper.class_

    @property
    def nullable(self) -> bool:
        """Whether the final column may hold ``NULL`` (a relationship: whether it may
        be empty: a nullable foreign key, or any to-many relationship)."""
        prop = self.relationship
        if prop is not None:
            return bool(prop.uselist) or any(bool(c.nullable) for c in prop.local_columns)
        return bool(getattr(self.column, "nullable", True))

    def condition(self, inner: ColumnElement[bool]) -> ColumnElement[bool]:
        """``inner``, a condition on :attr:`target`'s columns, as a condition on
        :attr:`model`: wrapped in ``has()`` (to one) or ``any()`` (to many) for each
        step, innermost last, so it needs no join and never repeats a row.

        >>> resolve(Book, "author__name").condition(Author.name == "Ann")
        ... # EXISTS (SELECT 1 FROM author WHERE author.id = book.author_id AND ...)
        """
        condition = inner
        for hop in reversed(self.hops):
            condition = hop.any(condition) if hop.property.uselist else hop.has(condition)
        return condition

    def matching(self, inner: ColumnElement[bool]) -> ColumnElement[bool]:
        """:meth:`condition` for a positive match (a search): each simple step is an
        uncorrelated ``IN (SELECT ...)``, which the database runs once for the whole
        query, where ``EXISTS`` under an ``OR`` runs once per row (50 times slower on
        100,000 rows).  Not for negation: ``NOT (fk IN ...)`` drops rows whose key is
        ``NULL``, which ``NOT EXISTS`` keeps."""
        from sqlalchemy import select

        condition = inner
        for hop in reversed(self.hops):
            prop = hop.property
            pairs = prop.local_remote_pairs or []
            if prop.secondary is not None or len(pairs) != 1 \
                    or prop.mapper.local_table is prop.parent.local_table:
                condition = hop.any(condition) if prop.uselist else hop.has(condition)
                continue
            local, remote = pairs[0]
            condition = local.in_(select(remote).where(condition).scalar_subquery())
        return condition

    def value(self, obj: Any) -> Any:
        """The value the path names on ``obj``, a loaded row of :attr:`model`.

        ``None`` when a to-one step is ``None``; a list (possibly empty) when a step
        leads to many rows.  A path ending on a relationship gives the related row
        (a list of rows when to-many).
        """
        rows: list[Any] = [obj]
        for hop in self.hops:
            rows = _follow(rows, hop.key, bool(hop.property.uselist))
        final_key = self.path.rsplit(SEPARATOR, 1)[-1]
        prop = self.relationship
        if prop is not None:
            values = _follow(rows, final_key, bool(prop.uselist))
        else:
            values = [getattr(row, final_key) for row in rows]
        if self.many:
            return values
        return values[0] if values else None


def _follow(rows: list[Any], key: str, many: bool) -> list[Any]:
    found: list[Any] = []
    for row in rows:
        value = getattr(row, key)
        if many:
            found.extend(value or ())
        elif value is not None:
            found.append(value)
    return found


def _mapper(model: type[Any]) -> Mapper[Any]:
    mapper = inspect(model, raiseerr=False)
    if not isinstance(mapper, Mapper):
        raise FieldPathError(f"{model!r} is not a mapped model")
    return mapper


def _humanize(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


_resolved: dict[tuple[type[Any], str], Lookup] = {}
_RESOLVED_MAX = 4096  # paths can loop (author__books__author...), so the cache is bounded


def resolve(model: type[Any], path: str) -> Lookup:
    """Resolve ``path``, steps separated by ``__``, starting from ``model``.

    Each step but the last must be a relationship; the last is a mapped column
    (or ``column_property``) or a relationship.  Lookups are immutable and cached:
    the change list resolves the same paths on every request.

    Raises:
        FieldPathError: an empty path or step, an unknown attribute, a step through
            a column, or an attribute that is neither column nor relationship.
    """
    key = (model, path)
    found = _resolved.get(key)
    if found is None:
        found = _resolve(model, path)
        if len(_resolved) >= _RESOLVED_MAX:
            _resolved.clear()
        _resolved[key] = found
    return found


def _resolve(model: type[Any], path: str) -> Lookup:
    where = f"{model.__name__}: field path {path!r}"
    if not path:
        raise FieldPathError(f"{model.__name__}: empty field path")
    steps = path.split(SEPARATOR)
    if any(not step for step in steps):
        raise FieldPathError(f"{where} has an empty step (a leading, trailing or "
                             f"doubled {SEPARATOR!r})")
    current = model
    relationships: list[RelationshipProperty[Any]] = []
    hops: list[InstrumentedAttribute[Any]] = []
    many = False
    for index, step in enumerate(steps):
        mapper = _mapper(current)
        prop = mapper.attrs.get(step)
        if prop is None:
            raise FieldPathError(
                f"{where}: {current.__name__} has no column or relationship {step!r}")
        attribute = getattr(current, step)
        last = index == len(steps) - 1
        if isinstance(prop, RelationshipProperty):
            if last:
                return Lookup(model=model, path=path, relationships=tuple(relationships),
                              attribute=attribute, column=None, target=current,
                              many=many or bool(prop.uselist), label=_humanize(step),
                              hops=tuple(hops))
            relationships.append(prop)
            hops.append(attribute)
            many = many or bool(prop.uselist)
            current = prop.mapper.class_
            continue
        if not isinstance(prop, ColumnProperty):
            raise FieldPathError(f"{where}: {current.__name__}.{step} is neither a column "
                                 f"nor a relationship")
        if not last:
            raise FieldPathError(
                f"{where}: {current.__name__}.{step} is a column, so the path cannot go "
                f"on past it ({SEPARATOR.join(steps[index + 1:])!r}); only relationships "
                f"can be crossed")
        column: ColumnElement[Any] = prop.columns[0]
        return Lookup(model=model, path=path, relationships=tuple(relationships),
                      attribute=attribute, column=column, target=current, many=many,
                      label=_humanize(step), hops=tuple(hops))
    raise AssertionError("unreachable")  # pragma: no cover


def loader_options(model: type[Any], paths: Iterable[str]) -> list[Any]:
    """ORM loader options that load what ``paths`` cross along with rows of ``model``.

    Many-to-one steps are joined (``joinedload``), to-many steps are loaded by one
    query each for the whole page (``selectinload``); so reading
    :meth:`Lookup.value` of those paths on a page of rows issues no query per row.

    >>> session.scalars(select(Book).options(*loader_options(Book, ["author__name"])))

    Raises:
        FieldPathError: a bad path.
    """
    # Attributes compare as SQL (``==`` builds a condition), so chains are keyed by names.
    chains: dict[tuple[str, ...], tuple[InstrumentedAttribute[Any], ...]] = {}
    for path in paths:
        lookup = resolve(model, path)
        chain = lookup.hops
        if lookup.column is None:
            chain = (*chain, lookup.attribute)
        if chain:
            chains[tuple(hop.key for hop in chain)] = chain
    options: list[Any] = []
    for keys in sorted(chains):
        # A chain that is the start of a longer one is loaded by the longer one.
        if any(len(other) > len(keys) and other[:len(keys)] == keys for other in chains):
            continue
        option: Any = None
        for hop in chains[keys]:
            load = selectinload if hop.property.uselist else joinedload
            option = load(hop) if option is None else getattr(option, load.__name__)(hop)
        options.append(option)
    return options


def order_column(lookup: Lookup) -> tuple[list[tuple[Any, Any]], ColumnElement[Any]]:
    """``(joins, column)`` to sort rows of ``lookup.model`` by ``lookup``'s value.

    ``joins`` is a list of ``(target, onclause)`` pairs for outer joins, each to a
    new alias (so two sort paths through the same model, or a model related to
    itself, never clash); rows without a related row sort as ``NULL``::

        joins, column = order_column(resolve(Book, "author__name"))
        for target, onclause in joins:
            statement = statement.outerjoin(target, onclause)
        statement = statement.order_by(column.desc())

    A path ending on a many-to-one relationship sorts by its foreign key.

    Raises:
        FieldPathError: the path crosses or ends on a to-many relationship (it
            would repeat rows), or ends on a relationship of more than one column.
    """
    if lookup.many:
        raise FieldPathError(
            f"{lookup.model.__name__}: field path {lookup.path!r} leads to many rows "
            f"(a one-to-many or many-to-many relationship), so it cannot be sorted by")
    joins, holder = _aliased_joins(lookup)
    prop = lookup.relationship
    if prop is None:
        key = lookup.path.rsplit(SEPARATOR, 1)[-1]
        return joins, getattr(holder, key)
    if prop.direction is not MANYTOONE or len(prop.local_columns) != 1:
        raise FieldPathError(
            f"{lookup.model.__name__}: field path {lookup.path!r} ends on a relationship "
            f"that is not many-to-one on one column; sort by one of its columns instead "
            f"({lookup.path}{SEPARATOR}<column>)")
    (local,) = prop.local_columns
    key = prop.parent.get_property_by_column(local).key
    return joins, getattr(holder, key)


def _aliased_joins(lookup: Lookup) -> tuple[list[tuple[Any, Any]], Any]:
    """Each step as ``(alias, onclause)`` and the entity holding the final attribute."""
    joins: list[tuple[Any, Any]] = []
    current: Any = lookup.model
    for hop in lookup.hops:
        alias = aliased(hop.property.mapper.class_)
        joins.append((alias, getattr(current, hop.key).of_type(alias)))
        current = alias
    return joins, current


def joined_column(lookup: Lookup) -> tuple[list[tuple[Any, Any]], ColumnElement[Any]]:
    """Like :func:`order_column` but for any path ending on a column, to-many steps
    included: ``(joins, column)`` for reading the values a path reaches (the joins
    repeat rows across to-many steps; select ``DISTINCT`` values)."""
    if lookup.column is None:
        raise FieldPathError(f"{lookup.model.__name__}: field path {lookup.path!r} ends "
                             f"on a relationship, not a column")
    joins, holder = _aliased_joins(lookup)
    return joins, getattr(holder, lookup.path.rsplit(SEPARATOR, 1)[-1])



# Values from a URL.  A query parameter is text; a column compared with it must get a
# value of its own type, checked here, so that a bad one never reaches the database
# (PostgreSQL rejects a NUL in text, an out-of-range integer, a malformed date).

_INT_LIMITS: list[tuple[type[sa_types.TypeEngine[Any]], int]] = [
    (sa_types.SmallInteger, 2**15 - 1),
    (sa_types.BigInteger, 2**63 - 1),
    (sa_types.Integer, 2**31 - 1),
]
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
_DECIMAL = re.compile(
    r"[+-]?(?:[0-9]{1,40}(?:\.[0-9]{0,40})?|\.[0-9]{1,40})(?:[eE][+-]?[0-9]{1,3})?")
_UNSAFE_TEXT = re.compile(r"[\x00\ud800-\udfff]")


def text_type(kind: sa_types.TypeEngine[Any]) -> bool:
    """Whether values of ``kind`` are text that ``LIKE`` can search (enums included)."""
    return isinstance(kind, sa_types.String)


def parse_value(kind: sa_types.TypeEngine[Any], raw: str) -> Any:
    """The value of column type ``kind`` that ``raw``, text from a URL, stands for.

    Integers must be plain decimal digits within the column type's range (that of
    PostgreSQL, the narrowest); decimals have no exponent; dates and times are ISO
    8601 (a naive datetime is UTC; an aware one is converted to UTC, naive for a
    column without time zone); an enum member is given by name; UUIDs in any form
    :class:`uuid.UUID` reads.

    Raises:
        ValueError: ``raw`` is no value of that type (or holds a NUL or a lone
            surrogate, which no database stores as text).
        TypeError: the column type takes no value from text (JSON, binary, ...).
    """
    if _UNSAFE_TEXT.search(raw):
        raise ValueError("a NUL character or a lone surrogate")
    if isinstance(kind, sa_types.Enum):
        return _parse_enum(kind, raw)
    if isinstance(kind, sa_types.String):
        return raw
    if isinstance(kind, sa_types.Boolean):
        if raw in ("1", "0"):
            return raw == "1"
        raise ValueError("not 1 or 0")
    if isinstance(kind, sa_types.Integer):
        return _parse_int(kind, raw)
    if isinstance(kind, sa_types.Float | sa_types.Numeric):
        if not _DECIMAL.fullmatch(raw):
            raise ValueError("not a decimal number")
        as_decimal = isinstance(kind, sa_types.Numeric) and not isinstance(
            kind, sa_types.Float) and kind.asdecimal
        value = decimal.Decimal(raw) if as_decimal else float(raw)
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return value
    if isinstance(kind, sa_types.DateTime):
        return _parse_datetime(kind, raw)
    if isinstance(kind, sa_types.Date):
        return dt.date.fromisoformat(raw)
    if isinstance(kind, sa_types.Time):
        return dt.time.fromisoformat(raw)
    if isinstance(kind, sa_types.Uuid):
        key = uuid.UUID(raw)
        return key if kind.as_uuid else str(key)
    raise TypeError(f"a column of type {kind!r} takes no value from text")


def _parse_enum(kind: sa_types.Enum, raw: str) -> Any:
    if kind.enum_class is not None:
        member = kind.enum_class.__members__.get(raw)
        if member is None:
            raise ValueError(f"not a member of {kind.enum_class.__name__}")
        return member
    if raw not in kind.enums:
        raise ValueError(f"not one of {', '.join(kind.enums)}")
    return raw


def _parse_int(kind: sa_types.TypeEngine[Any], raw: str) -> int:
    if not _INTEGER.fullmatch(raw):
        raise ValueError("not an integer")
    value = int(raw)
    limit = next((limit for cls, limit in _INT_LIMITS if isinstance(kind, cls)), 2**63 - 1)
    if not -limit - 1 <= value <= limit:
        raise ValueError("out of the column's range")
    return value


def _parse_datetime(kind: sa_types.DateTime, raw: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(raw)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return utc_for(kind, value)


def utc_for(kind: sa_types.TypeEngine[Any], moment: dt.datetime) -> dt.datetime:
    """``moment`` (aware) in UTC, as a column of type ``kind`` compares with it: aware
    for a ``DateTime(timezone=True)`` column, naive UTC for one without time zone."""
    moment = moment.astimezone(dt.UTC)
    if getattr(kind, "timezone", False):
        return moment
    return moment.replace(tzinfo=None)


def format_value(value: Any) -> str:
    """The text :func:`parse_value` reads back as ``value`` (for URLs)."""
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return str(value.isoformat())
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
