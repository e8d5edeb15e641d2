"""Error messages for people, by error type, and how pydantic's errors map to them.

A message may use the error's details as ``{name}`` placeholders:
``"Ensure this value has at most {max_length} characters."``.  Forms and fields
override any of them with ``error_messages={"string_too_long": "..."}``.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_MESSAGES", "format_message", "message_for"]

#: Error type -> message.  Keys are pydantic's error types plus heron's own
#: (``invalid_choice``, ``file_*``, ``unique``, ``invalid_email``, ``invalid_url``,
#: ``less_than_field`` and the other comparisons of two fields).
DEFAULT_MESSAGES: Mapping[str, str] = {
    "missing": "This field is required.",
    "string_too_short": "Ensure this value has at least {min_length} characters.",
    "string_too_long": "Ensure this value has at most {max_length} characters.",
    "string_pattern_mismatch": "Enter a valid value.",
    "string_type": "Enter text.",
    "int_parsing": "Enter a whole number.",
    "int_from_float": "Enter a whole number.",
    "int_type": "Enter a whole number.",
    "int_parsing_size": "Enter a smaller whole number.",
    "float_parsing": "Enter a number.",
    "float_type": "Enter a number.",
    "finite_number": "Enter a number.",
    "decimal_parsing": "Enter a number.",
    "decimal_type": "Enter a number.",
    "decimal_parsing_size": "Enter a number with fewer digits.",
    "decimal_max_digits": "Ensure that there are no more than {max_digits} digits in total.",
    "decimal_max_places": "Ensure that there are no more than {decimal_places} decimal places.",
    "decimal_whole_digits": "Ensure that there are no more than {whole_digits} digits before "
                            "the decimal point.",
    "greater_than": "Ensure this value is greater than {gt}.",
    "greater_than_equal": "Ensure this value is greater than or equal to {ge}.",
    "less_than": "Ensure this value is less than {lt}.",
    "less_than_equal": "Ensure this value is less than or equal to {le}.",
    "multiple_of": "Ensure this value is a multiple of {multiple_of}.",
    "bool_parsing": "Choose yes or no.",
    "bool_type": "Choose yes or no.",
    "date_parsing": "Enter a valid date.",
    "date_from_datetime_parsing": "Enter a valid date.",
    "date_from_datetime_inexact": "Enter a valid date.",
    "date_type": "Enter a valid date.",
    "datetime_parsing": "Enter a valid date and time.",
    "datetime_from_date_parsing": "Enter a valid date and time.",
    "datetime_type": "Enter a valid date and time.",
    "time_parsing": "Enter a valid time.",
    "time_type": "Enter a valid time.",
    "invalid_email": "Enter a valid email address.",
    "invalid_url": "Enter a valid URL.",
    "invalid_choice": "Select a valid choice.",
    "too_short": "Select at least {min_length} items.",
    "too_long": "Select at most {max_length} items.",
    "not_text": "Enter text, not a file.",
    "null_character": "Null characters are not allowed.",
    "file_missing": "Choose a file.",
    "not_a_file": "Upload a file.",
    "file_too_large": "Ensure this file is at most {max_size} (it is {size}).",
    "file_type": "Files of this type are not allowed; use {accept}.",
    "unique": "{article} {model} with this {field} already exists.",
    "unique_together": "{article} {model} with this {fields} already exists.",
    # A model's CHECK constraint between two columns (``starts <= ends``).
    "less_than_field": "{label} must be less than {other}.",
    "less_than_equal_field": "{label} must be less than or equal to {other}.",
    "greater_than_field": "{label} must be greater than {other}.",
    "greater_than_equal_field": "{label} must be greater than or equal to {other}.",
}

_URL_ERRORS = frozenset({"url_parsing", "url_scheme", "url_type", "url_too_long",
                         "url_syntax_violation"})
_SAME_AS = {
    "literal_error": "invalid_choice",
    "enum": "invalid_choice",
    "list_type": "invalid_choice",
    "date_future": "date_parsing",
    "date_past": "date_parsing",
}


def error_type(kind: str, error: Mapping[str, Any], many: bool = False) -> str:
    """heron's error type for one pydantic error of a field of ``kind``."""
    code: str = error["type"]
    if code in ("too_short", "too_long") and not many:
        return "string_" + code  # a SecretStr's length
    if code in _URL_ERRORS:
        return "invalid_url"
    if kind == "email" and code == "value_error":
        return "invalid_email"
    return _SAME_AS.get(code, code)


def format_message(template: str, context: Mapping[str, Any]) -> str:
    """``template`` with ``{name}`` placeholders filled from ``context`` (unknown ones kept)."""
    formatter = string.Formatter()
    parts: list[str] = []
    for literal, name, _spec, _conv in formatter.parse(template):
        parts.append(literal)
        if name is not None:
            parts.append(str(context[name]) if name in context else "{" + name + "}")
    return "".join(parts)


def message_for(code: str, context: Mapping[str, Any], overrides: list[Mapping[str, str]],
                fallback: str | None = None) -> str:
    """The message for error ``code``: the first override that has it, else heron's.

    ``fallback`` is used for an error type heron has no message for (a custom
    validator's ``ValueError`` text, say).
    """
    for messages in overrides:
        if code in messages:
            return format_message(messages[code], context)
    if code in DEFAULT_MESSAGES:
        return format_message(DEFAULT_MESSAGES[code], context)
    return fallback or "Enter a valid value."


def pydantic_message(error: Mapping[str, Any]) -> str:
    """A readable message for a pydantic error heron has no message for.

    A validator's ``ValueError("...")`` / ``AssertionError`` shows its own text.
    """
    context = error.get("ctx") or {}
    if error["type"] in ("value_error", "assertion_error") and "error" in context:
        text = str(context["error"])
    else:
        text = str(error.get("msg", "")) or "Enter a valid value"
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?")) else text + "."
