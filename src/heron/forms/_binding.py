"""From submitted form data to the values a field validates, and back to display text."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import mimetypes
import os
from collections.abc import Mapping
from typing import Any

from heron.datastructures import UploadFile
from heron.forms._spec import ChoiceSet, FieldSpec, choice_key

__all__ = ["EMPTY", "FieldError", "check_upload", "display_value", "extract", "values_of"]

#: Nothing was submitted for the field (absent, empty, or only whitespace).
EMPTY: Any = type("Empty", (), {"__repr__": lambda self: "EMPTY"})()
#: Longer numbers are refused before they are parsed (the cost of parsing grows with length).
MAX_NUMBER_LENGTH = 100


class FieldError(Exception):
    """A field's value is invalid: ``code`` names the message, ``context`` fills it."""

    def __init__(self, code: str, **context: Any) -> None:
        super().__init__(code)
        self.code = code
        self.context = context


def values_of(data: Mapping[str, Any], key: str) -> list[Any]:
    """Every value submitted for ``key`` (a multi-dict's list, or a plain dict's value)."""
    getlist = getattr(data, "getlist", None)
    if getlist is not None:
        return list(getlist(key))
    if key not in data:
        return []
    value = data[key]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _is_empty_upload(value: Any) -> bool:
    # A browser sends an empty part without a file name when no file was chosen.
    return isinstance(value, UploadFile) and not value.filename and value.size == 0


def _files(spec: FieldSpec, values: list[Any]) -> Any:
    if any(isinstance(v, str) and v != "" for v in values):
        # A file field posted without enctype="multipart/form-data" sends the name only.
        raise FieldError("not_a_file")
    uploads = [v for v in values if isinstance(v, UploadFile) and not _is_empty_upload(v)]
    if spec.many:
        return uploads or EMPTY
    return uploads[0] if uploads else EMPTY


def _number_guard(spec: FieldSpec, value: Any) -> None:
    if spec.kind not in ("int", "float", "decimal") or not isinstance(value, str):
        return
    if len(value) > MAX_NUMBER_LENGTH:
        raise FieldError({"int": "int_parsing", "float": "float_parsing",
                          "decimal": "decimal_parsing"}[spec.kind])
    if spec.kind == "decimal" and _exponent_too_large(value):
        raise FieldError("decimal_parsing_size")


def _exponent_too_large(value: str) -> bool:
    # "1e999999999" is short, but written out it has a billion digits: a database
    # refuses it (PostgreSQL) or stores Infinity (SQLite), and formatting it exhausts memory.
    try:
        number = decimal.Decimal(value)
    except (decimal.InvalidOperation, ValueError):
        return False  # not a number: pydantic says so
    return number.is_finite() and abs(number.adjusted()) > MAX_NUMBER_LENGTH


def extract(spec: FieldSpec, data: Mapping[str, Any], key: str) -> Any:
    """The submitted value of ``spec`` under ``key``: text trimmed, blanks as :data:`EMPTY`,
    a list for ``list[...]`` fields, an unchecked checkbox as ``False``.

    Raises:
        FieldError: a file sent for a text field or text for a file field.
    """
    values = values_of(data, key)
    if spec.kind == "file":
        return _files(spec, values)
    if any(isinstance(v, UploadFile) for v in values):
        raise FieldError("not_text")
    if any(isinstance(v, str) and "\x00" in v for v in values):
        # No database column stores NUL (PostgreSQL refuses it outright).
        raise FieldError("null_character")
    if spec.strip:
        values = [v.strip() if isinstance(v, str) else v for v in values]
    values = [v for v in values if v != "" and v is not None]
    if spec.kind == "bool" and not spec.many and spec.choices is None and not values:
        return False  # an unchecked checkbox sends nothing
    for value in values:
        _number_guard(spec, value)
    if spec.many:
        return values or EMPTY
    return values[0] if values else EMPTY


def to_choice(spec: FieldSpec, choices: ChoiceSet, value: Any) -> Any:
    """The Python value of a submitted choice.

    Raises:
        FieldError: ``invalid_choice`` for a value that is not one of the choices.
    """
    if spec.many:
        return [to_choice_one(choices, item) for item in value]
    return to_choice_one(choices, value)


def to_choice_one(choices: ChoiceSet, value: Any) -> Any:
    key = value if isinstance(value, str) else choice_key(value)
    if key not in choices.values:
        raise FieldError("invalid_choice")
    return choices.values[key]


def _accepted(upload: UploadFile, accept: list[str]) -> bool:
    extensions = {a.lower() for a in accept if a.startswith(".")}
    types = [a.lower() for a in accept if not a.startswith(".")]
    if extensions:
        extension = os.path.splitext(upload.filename or "")[1].lower()
        if extension not in extensions:
            return False
    if types:
        declared = upload.content_type.split(";", 1)[0].strip().lower()
        # The declared type is the client's word: a file named "x.html" sent as image/png
        # is refused too, as the stored file keeps its extension, which servers go by.
        guessed = mimetypes.guess_type(upload.filename or "", strict=False)[0]
        for media_type in (declared, guessed.lower() if guessed else None):
            if media_type is not None and media_type not in types \
                    and media_type.split("/", 1)[0] + "/*" not in types:
                return False
    return True


def human_size(size: int) -> str:
    """``2048`` -> ``"2.0 KB"`` (powers of 1024, as people read file sizes)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def check_upload(spec: FieldSpec, upload: UploadFile) -> None:
    """Apply the field's ``max_size`` and ``accept`` to one upload.

    Raises:
        FieldError: ``file_too_large`` or ``file_type``.
    """
    options = spec.options
    if options.max_size is not None and upload.size > options.max_size:
        raise FieldError("file_too_large", max_size=human_size(options.max_size),
                         size=human_size(upload.size))
    if options.accept and not _accepted(upload, list(options.accept)):
        raise FieldError("file_type", accept=", ".join(options.accept))


def display_value(spec: FieldSpec, value: Any, keyed: bool = False) -> Any:
    """A Python value as the text a widget shows (a list of texts for ``list`` fields)."""
    if spec.many:
        items = value if isinstance(value, (list, tuple, set, frozenset)) else []
        return [display_value_one(spec, item, keyed) for item in items]
    return display_value_one(spec, value, keyed)


def display_value_one(spec: FieldSpec, value: Any, keyed: bool = False) -> str:
    if value is None or spec.kind in ("password", "file"):
        return ""
    if isinstance(value, enum.Enum) or keyed:
        return choice_key(value)
    if isinstance(value, dt.datetime):
        shown: dt.datetime = value
        # Shown as wall time in the zone forms read it back in (heron.i18n's
        # chosen_timezone, the same rule both ways); a naive value is UTC, as stored.
        from heron.i18n import localtime
        from heron.i18n._state import chosen_timezone

        zone = chosen_timezone()
        if zone is not None:
            shown = localtime(shown, zone).replace(tzinfo=None)
        elif shown.tzinfo is not None:
            shown = localtime(shown).replace(tzinfo=None)
        return shown.strftime("%Y-%m-%dT%H:%M:%S" if shown.second else "%Y-%m-%dT%H:%M")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else ""
    return str(value)
