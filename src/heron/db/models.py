"""The declarative base every heron model extends."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, declared_attr, mapped_column

from heron.db import _lower

__all__ = ["NAMING_CONVENTION", "Model", "TimestampMixin", "table_name_for"]

#: Names for constraints and indexes, so migrations can alter and drop them on
#: every backend (SQLite and PostgreSQL name unnamed ones differently).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The type of the ``id`` heron adds: 64 bits, as Django's default since 3.2.  SQLite
#: keeps ``INTEGER`` (64 bits there): only ``INTEGER PRIMARY KEY`` is the rowid alias
#: that numbers new rows.  A foreign key to an ``id`` takes the same type.
_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def table_name_for(class_name: str) -> str:
    """``BlogPost`` -> ``blog_post``, ``HTTPLog`` -> ``http_log``."""
    return _WORD_BOUNDARY.sub("_", class_name).lower()


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Model(DeclarativeBase):
    """Base class of heron models: typed ``Mapped[...]`` columns, SQLAlchemy 2 style.

    - the table name is the class name in snake_case (set ``__tablename__`` to choose);
    - an ``id`` primary key (a 64-bit integer) is added unless the class declares one;
    - constraints and indexes are named by :data:`NAMING_CONVENTION`;
    - ``__bind_key__ = "analytics"`` keeps a model's table in a named database
      (the ``database_binds`` setting).

    >>> class Post(Model):
    ...     title: Mapped[str] = mapped_column(String(200))
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    __bind_key__: ClassVar[str | None] = None

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return table_name_for(cls.__name__)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if _needs_default_id(cls):
            cls.id = mapped_column(_ID_TYPE, primary_key=True,  # type: ignore[attr-defined]
                                   sort_order=-1)
            import inspect

            cls.__annotations__ = {"id": Mapped[int], **inspect.get_annotations(cls)}
        super().__init_subclass__(**kwargs)

    def __repr__(self) -> str:
        from sqlalchemy import inspect

        state = inspect(self)
        key = state.identity[0] if state.identity and len(state.identity) == 1 else state.identity
        return f"<{type(self).__name__} {key!r}>"


_lower.install(Model.metadata)  # heron_lower(), which unique logins are indexed on


def _needs_default_id(cls: type) -> bool:
    if cls.__dict__.get("__abstract__") or "__table__" in cls.__dict__:
        return False
    # A subclass of a mapped model (single or joined table inheritance) has its
    # parent's key already.
    for base in cls.__mro__[1:]:
        if base is Model:
            break
        if "__table__" in base.__dict__ or hasattr(base, "__mapper__"):
            return False
    for klass in cls.__mro__:
        if klass is Model:
            break
        for value in vars(klass).values():
            if isinstance(value, MappedColumn) and value.column.primary_key:
                return False
            if isinstance(value, Column) and value.primary_key:
                return False
        table_args = vars(klass).get("__table_args__")
        if table_args and any(type(arg).__name__ == "PrimaryKeyConstraint"
                              for arg in (table_args if isinstance(table_args, tuple) else ())):
            return False
    return "id" not in {name for k in cls.__mro__ for name in vars(k).get("__annotations__", {})
                        if k is not Model}


class TimestampMixin:
    """``created_at`` and ``updated_at`` columns, in UTC, kept by the database and heron."""

    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_utcnow, onupdate=_utcnow, server_default=func.now()
    )
