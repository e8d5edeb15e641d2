"""A model's columns and relations as form fields (types, constraints, defaults)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from typing import Any, Literal

from sqlalchemy import Column
from sqlalchemy import types as sa_types
from sqlalchemy.orm import RelationshipProperty
from sqlalchemy.orm.interfaces import MANYTOMANY, MANYTOONE

from heron.exceptions import ImproperlyConfigured
from heron.forms._constraints import Rule, apply_rules
from heron.forms._spec import FieldSpec
from heron.forms.options import MISSING, FormField

__all__ = ["ManyRelation", "Relation", "column_field", "model_label"]

# The range of each integer type on every supported database (PostgreSQL's are the
# narrowest), so that an out-of-range number is a field error, not a database error.
_INT_RANGES: list[tuple[type[sa_types.TypeEngine[Any]], int]] = [
    (sa_types.SmallInteger, 2**15 - 1),
    (sa_types.BigInteger, 2**63 - 1),
    (sa_types.Integer, 2**31 - 1),
]


@dataclasses.dataclass(frozen=True)
class Relation:
    """A many-to-one relationship shown as a select of the related rows."""

    target: type[Any]
    local_column: Any  # the foreign key column
    local_key: str  # its attribute name on the model
    remote_key: str  # the attribute of the target it refers to
    nullable: bool

    @classmethod
    def of(cls, prop: RelationshipProperty[Any]) -> Relation | None:
        """The relation of ``prop``, if it is many-to-one on one column."""
        if prop.direction is not MANYTOONE or len(prop.local_columns) != 1:
            return None
        (local,) = prop.local_columns
        pairs = [(left, right) for left, right in prop.local_remote_pairs if left is local]
        if not pairs:
            return None
        remote = pairs[0][1]
        parent = prop.parent
        target = prop.mapper
        return cls(
            target=target.class_,
            local_column=local,
            local_key=parent.get_property_by_column(local).key,
            remote_key=target.get_property_by_column(remote).key,
            nullable=bool(local.nullable),
        )

    def hint(self) -> Any:
        return self.target | None if self.nullable else self.target

    def spec(self, name: str, options: FormField) -> FieldSpec:
        return FieldSpec(name=name, annotation=self.hint(), base=self.target, kind="choice",
                         many=False, optional=self.nullable,
                         default=None if self.nullable else options.default,
                         options=options)

    def key_of(self, row: Any) -> str:
        """The submitted value that stands for ``row`` (its referenced key)."""
        return str(getattr(row, self.remote_key))

    def key_value(self, row: Any) -> Any:
        return getattr(row, self.remote_key)


@dataclasses.dataclass(frozen=True)
class ManyRelation:
    """A many-to-many relationship (``relationship(secondary=...)``) shown as a
    multiple select of the related rows, each submitted as its primary key."""

    target: type[Any]
    remote_key: str  # the attribute of the target's primary key
    as_set: bool  # the collection is a set, not a list

    @classmethod
    def of(cls, prop: RelationshipProperty[Any]) -> ManyRelation | None:
        """The relation of ``prop``, if it is a writable many-to-many collection of a
        model with a one-column primary key."""
        if prop.direction is not MANYTOMANY or prop.viewonly or not prop.uselist \
                or prop.lazy in ("dynamic", "write_only"):
            return None
        target = prop.mapper
        if len(target.primary_key) != 1:
            return None
        collection = prop.collection_class
        return cls(
            target=target.class_,
            remote_key=target.get_property_by_column(target.primary_key[0]).key,
            as_set=isinstance(collection, type) and issubclass(collection, (set, frozenset)),
        )

    def spec(self, name: str, options: FormField) -> FieldSpec:
        # Optional by default (no rows chosen is an answer); ``field(min_length=1)``
        # asks for at least one.
        options = FormField(default_factory=list).merged(options)
        required = bool(options.min_length)
        return FieldSpec(name=name, annotation=list[self.target],  # type: ignore[name-defined]
                         base=self.target, kind="choice", many=True, optional=False,
                         default=MISSING if required else options.default_factory,
                         options=options)

    def key_of(self, row: Any) -> str:
        """The submitted value that stands for ``row`` (its primary key)."""
        return str(getattr(row, self.remote_key))

    def collection(self, rows: list[Any]) -> Any:
        """``rows`` as the relationship's collection type."""
        return set(rows) if self.as_set else list(rows)


def model_label(model: type[Any]) -> tuple[str, str]:
    """``(name, article)`` of a model for messages: ``("blog post", "A")``."""
    from heron.db.models import table_name_for

    name = getattr(model, "__verbose_name__", None) or \
        table_name_for(model.__name__).replace("_", " ")
    return name, "An" if name[:1].lower() in "aeiou" else "A"


def _python_type(column: Column[Any], where: str) -> tuple[Any, dict[str, Any]]:
    kind = column.type
    options: dict[str, Any] = {}
    if isinstance(kind, sa_types.Enum):
        if kind.enum_class is not None:
            return kind.enum_class, options
        return Literal[tuple(kind.enums)], options
    if isinstance(kind, sa_types.Boolean):
        return bool, options
    if isinstance(kind, sa_types.Integer):
        for cls, limit in _INT_RANGES:
            if isinstance(kind, cls):
                options.update(ge=-limit - 1, le=limit)
                break
        return int, options
    # Float is no subclass of Numeric from SQLAlchemy 2.1 on, so it is checked first.
    if isinstance(kind, sa_types.Float):
        return float, options
    if isinstance(kind, sa_types.Numeric):
        if not kind.asdecimal:
            return float, options
        options.update(max_digits=kind.precision, decimal_places=kind.scale)
        return decimal.Decimal, options
    if isinstance(kind, sa_types.String):
        options["max_length"] = kind.length
        if isinstance(kind, sa_types.Text) and kind.length is None:
            options["widget"] = "textarea"
        return str, options
    if isinstance(kind, sa_types.DateTime):
        return dt.datetime, options
    if isinstance(kind, sa_types.Date):
        return dt.date, options
    if isinstance(kind, sa_types.Time):
        return dt.time, options
    raise ImproperlyConfigured(
        f"{where}: heron cannot make a form field of column {column.name!r} "
        f"({kind!r}); declare the field on the form with a type annotation",
        id="heron.forms.E005",
    )


def column_field(column: Column[Any], where: str,
                 rules: list[Rule] | None = None) -> tuple[Any, FormField]:
    """The type hint and options of a form field for ``column``, with what the
    column's CHECK constraints ask (``rules``) as constraints of the field."""
    python_type, options = _python_type(column, where)
    if rules:
        apply_rules(python_type, options, rules)
    hint = python_type | None if column.nullable else python_type
    default = MISSING
    if column.default is not None and getattr(column.default, "is_scalar", False):
        default = getattr(column.default, "arg", MISSING)
    elif python_type is bool and not column.nullable:
        default = False  # an unticked box means False, not "missing"
    options = {k: v for k, v in options.items() if v is not None}
    return hint, FormField(default=default, **options)
