"""SQLite's datetimes made to behave as PostgreSQL's ``timestamptz``.

SQLite has no datetime type: SQLAlchemy stores a datetime as text without its
zone and reads it back naive, even for ``DateTime(timezone=True)``.  An aware
value in another zone (``12:00+02:00``) was stored as ``12:00`` and read back as
if it were noon UTC.  For the columns declared with ``timezone=True``, heron
stores the value in UTC and reads it back aware, in UTC, as PostgreSQL does;
``DateTime()`` columns stay naive on both.  The stored text keeps SQLAlchemy's
format, so rows written before read back the same and compare in order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.sqlite.base import DATETIME
from sqlalchemy.engine import Dialect

__all__ = ["use_aware_datetimes"]


class _AwareDATETIME(DATETIME):
    """SQLite's ``DATETIME``; with ``timezone=True``, UTC in and aware UTC out."""

    def bind_processor(self, dialect: Dialect) -> Any:
        store = super().bind_processor(dialect)
        if not self.timezone or store is None:
            return store

        def process(value: Any) -> Any:
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC)  # naive values are taken as UTC already
            return store(value)

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        load = super().result_processor(dialect, coltype)
        if not self.timezone or load is None:
            return load

        def process(value: Any) -> Any:
            moment = load(value)
            if isinstance(moment, datetime) and moment.tzinfo is None:
                return moment.replace(tzinfo=UTC)
            return moment

        return process


def use_aware_datetimes(dialect: Dialect) -> None:
    """Make this SQLite dialect (one engine's) use :class:`_AwareDATETIME` for every
    ``DateTime`` and ``TIMESTAMP`` column; other engines are not touched."""
    dialect.colspecs = {**dialect.colspecs, sqltypes.DateTime: _AwareDATETIME,  # type: ignore[misc]
                        sqltypes.TIMESTAMP: _AwareDATETIME}
