"""The change list's search box: ``search_fields`` and a term as one SQL condition.

The term is split into words (``"red apple" pie`` is two words: a quoted phrase
keeps its spaces); every word must match at least one field.  A field is a path
(:mod:`heron.admin.lookups`) with an optional prefix:

=========  ============================================================
``name``   contains the word, case-insensitively (``ILIKE '%word%'``)
``^name``  starts with the word, case-insensitively
``=name``  equals the word, case-insensitively
``@name``  full-text match: on PostgreSQL ``to_tsvector('simple', name) @@
           plainto_tsquery('simple', word)``; elsewhere the same as ``name``
=========  ============================================================

Only text columns (enums included) are searched as text.  A number, date, UUID
column matches a word that is a value of its type exactly, whatever the prefix, and
is skipped for other words; a boolean, JSON or binary column is never searched.  So
no word causes a database error.  ``%``, ``_`` and ``\\`` in a word match
themselves.  Fields across relationships match through ``EXISTS``, so a row
matching twice is still listed once.  On SQLite, case-insensitivity covers ASCII
letters only (its ``LIKE``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, false, func, literal_column, or_
from sqlalchemy import types as sa_types

from heron.admin.lookups import FieldPathError, Lookup, parse_value, resolve, utc_for

__all__ = ["MAX_WORDS", "search_condition", "search_words"]

#: Words of a term past this many are ignored (a term of thousands of words
#: would make a query the database takes long to plan).
MAX_WORDS = 32

_PREFIXES = {"^": "startswith", "=": "exact", "@": "fulltext"}
_TOKEN = re.compile(r'"([^"]*)"|\'([^\']*)\'|(\S+)')
_UNSAFE_TEXT = re.compile(r"[\x00\ud800-\udfff]")


def search_words(term: str) -> list[str]:
    """The words of ``term``: split on spaces, a quoted phrase kept whole.

    ``'"red apple" pie'`` -> ``["red apple", "pie"]``.  Empty words, repeated words
    (ignoring case) and NUL characters are dropped; at most :data:`MAX_WORDS`.
    """
    words: list[str] = []
    seen: set[str] = set()
    for double, single, bare in _TOKEN.findall(_UNSAFE_TEXT.sub("", term)):
        word = (double or single or bare.strip("\"'")).strip()
        if word and word.casefold() not in seen:
            seen.add(word.casefold())
            words.append(word)
    return words[:MAX_WORDS]


@dataclass(frozen=True)
class _Field:
    lookup: Lookup
    mode: str  # "contains", "startswith", "exact" or "fulltext"

    def match(self, word: str, dialect_name: str) -> ColumnElement[bool] | None:
        """The condition that ``word`` matches this field, or ``None`` if it cannot."""
        column = self.lookup.column
        assert column is not None  # _field() keeps only paths ending on a column
        kind = column.type
        if isinstance(kind, sa_types.String):
            return self._text_match(column, word, dialect_name)
        if isinstance(kind, sa_types.DateTime):
            return _day_match(column, kind, word)
        try:
            value = parse_value(kind, word)
        except (ValueError, TypeError, ArithmeticError):
            return None
        if isinstance(kind, sa_types.Boolean):
            return None  # "1" or "0" in a search box is no yes or no
        equal: ColumnElement[bool] = column == value
        return equal

    def _text_match(self, column: ColumnElement[Any], word: str,
                    dialect_name: str) -> ColumnElement[bool]:
        if isinstance(column.type, sa_types.Enum):
            # A PostgreSQL enum has no LIKE; its text has.
            column = cast(column, String())
        if self.mode == "fulltext" and dialect_name == "postgresql":
            config: ColumnElement[Any] = literal_column("'simple'")
            return func.to_tsvector(config, column).bool_op("@@")(
                func.plainto_tsquery(config, word))
        escaped = re.sub(r"([\\%_])", r"\\\1", word)
        # SQLite's LIKE ignores the case of ASCII letters by itself, as its lower() does
        # (neither folds other letters): ilike's lower(col) LIKE lower(?) matches the same
        # rows at twice the cost per row.
        like = column.like if dialect_name == "sqlite" else column.ilike
        if self.mode == "exact":
            return like(escaped, escape="\\")
        if self.mode == "startswith":
            return like(escaped + "%", escape="\\")
        return like("%" + escaped + "%", escape="\\")


def _day_match(column: ColumnElement[Any], kind: sa_types.DateTime,
               word: str) -> ColumnElement[bool] | None:
    """A date word matches that whole day (UTC) of a datetime column."""
    try:
        day = dt.date.fromisoformat(word)
        start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        end = start + dt.timedelta(days=1)
    except (ValueError, OverflowError):
        try:
            equal: ColumnElement[bool] = column == parse_value(kind, word)
        except (ValueError, TypeError):
            return None
        return equal
    return and_(column >= utc_for(kind, start), column < utc_for(kind, end))


def _field(model: type[Any], spec: str) -> _Field:
    if not isinstance(spec, str) or not spec:
        raise FieldPathError(f"{model.__name__}: search field {spec!r} is not a field path")
    mode = _PREFIXES.get(spec[0], "contains")
    path = spec[1:] if spec[0] in _PREFIXES else spec
    lookup = resolve(model, path)
    if lookup.column is None:
        raise FieldPathError(
            f"{model.__name__}: search field {spec!r} ends on a relationship; search one "
            f"of the related model's columns instead (e.g. {path}__name)")
    return _Field(lookup, mode)


def search_condition(model: type[Any], search_fields: Sequence[str], term: str,
                     dialect_name: str) -> ColumnElement[bool] | None:
    """The ``WHERE`` condition on ``model`` that searching ``term`` in ``search_fields``
    means (see the module's documentation), or ``None`` when the term has no word.

    Every field is checked even for an empty term, so startup checks can call
    ``search_condition(model, fields, "", "sqlite")``.

    Args:
        model: the model the change list shows.
        search_fields: paths with optional prefixes (``"^name"``, ``"=author__email"``).
        term: what the user typed.
        dialect_name: the database's dialect (``session.bind.dialect.name``):
            ``"postgresql"`` for real full-text search.

    Raises:
        FieldPathError: a field is no path to a column of ``model``.
    """
    fields = [_field(model, spec) for spec in search_fields]
    words = search_words(term)
    if not fields or not words:
        return None
    # Fields through the same relationships share one EXISTS.
    groups: dict[tuple[str, ...], list[_Field]] = {}
    for item in fields:
        groups.setdefault(tuple(hop.key for hop in item.lookup.hops), []).append(item)
    conditions: list[ColumnElement[bool]] = []
    for word in words:
        alternatives: list[ColumnElement[bool]] = []
        for group in groups.values():
            matches = [m for item in group if (m := item.match(word, dialect_name)) is not None]
            if matches:
                alternatives.append(group[0].lookup.matching(or_(*matches)))
        if not alternatives:
            return false()  # no field can hold this word, so no row matches
        conditions.append(or_(*alternatives))
    return and_(*conditions)
