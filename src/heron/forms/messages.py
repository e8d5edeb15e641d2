"""Error messages for people, by error type, and how pydantic's errors map to them.

A message may use the error's details as ``{name}`` placeholders:
``"Ensure this value has at most {max_length} characters."``.  Forms and fields
override any of them with ``error_messages={"string_too_long": "..."}``.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from heron.i18n import gettext, ngettext

if TYPE_CHECKING:
    from heron.i18n import LazyString

__all__ = ["DEFAULT_MESSAGES", "format_message", "message_for"]


def _(message: str) -> str:
    # Marks a message for heron's catalog (``heron i18n extract``); message_for
    # translates it when it is shown, in the request's language.
    return message


#: Error type -> message.  Keys are pydantic's error types plus heron's own
#: (``invalid_choice``, ``file_*``, ``unique``, ``invalid_email``, ``invalid_url``,
#: ``less_than_field`` and the other comparisons of two fields).
DEFAULT_MESSAGES: Mapping[str, str] = {
    "missing": _("This field is required."),
    "string_too_short": "Ensure this value has at least {min_length} characters.",
    "string_too_long": "Ensure this value has at most {max_length} characters.",
    "string_pattern_mismatch": _("Enter a valid value."),
    "string_type": _("Enter text."),
    "int_parsing": _("Enter a whole number."),
    "int_from_float": _("Enter a whole number."),
    "int_type": _("Enter a whole number."),
    "int_parsing_size": _("Enter a smaller whole number."),
    "float_parsing": _("Enter a number."),
    "float_type": _("Enter a number."),
    "finite_number": _("Enter a number."),
    "decimal_parsing": _("Enter a number."),
    "decimal_type": _("Enter a number."),
    "decimal_parsing_size": _("Enter a number with fewer digits."),
    "decimal_max_digits": "Ensure that there are no more than {max_digits} digits in total.",
    "decimal_max_places": "Ensure that there are no more than {decimal_places} decimal places.",
    "decimal_whole_digits": "Ensure that there are no more than {whole_digits} digits before "
                            "the decimal point.",
    "greater_than": _("Ensure this value is greater than {gt}."),
    "greater_than_equal": _("Ensure this value is greater than or equal to {ge}."),
    "less_than": _("Ensure this value is less than {lt}."),
    "less_than_equal": _("Ensure this value is less than or equal to {le}."),
    "multiple_of": _("Ensure this value is a multiple of {multiple_of}."),
    "bool_parsing": _("Choose yes or no."),
    "bool_type": _("Choose yes or no."),
    "date_parsing": _("Enter a valid date."),
    "date_from_datetime_parsing": _("Enter a valid date."),
    "date_from_datetime_inexact": _("Enter a valid date."),
    "date_type": _("Enter a valid date."),
    "datetime_parsing": _("Enter a valid date and time."),
    "datetime_from_date_parsing": _("Enter a valid date and time."),
    "datetime_type": _("Enter a valid date and time."),
    "time_parsing": _("Enter a valid time."),
    "time_type": _("Enter a valid time."),
    "invalid_email": _("Enter a valid email address."),
    "invalid_url": _("Enter a valid URL."),
    "invalid_choice": _("Select a valid choice."),
    "too_short": "Select at least {min_length} items.",
    "too_long": "Select at most {max_length} items.",
    "not_text": _("Enter text, not a file."),
    "null_character": _("Null characters are not allowed."),
    "file_missing": _("Choose a file."),
    "not_a_file": _("Upload a file."),
    "file_too_large": _("Ensure this file is at most {max_size} (it is {size})."),
    "file_type": _("Files of this type are not allowed; use {accept}."),
    "unique": _("{article} {model} with this {field} already exists."),
    "unique_together": _("{article} {model} with this {fields} already exists."),
    # A model's CHECK constraint between two columns (``starts <= ends``).
    "less_than_field": _("{label} must be less than {other}."),
    "less_than_equal_field": _("{label} must be less than or equal to {other}."),
    "greater_than_field": _("{label} must be greater than {other}."),
    "greater_than_equal_field": _("{label} must be greater than or equal to {other}."),
}

#: The messages that hold a count: error type -> (the count's name, its forms).
_PLURALS: Mapping[str, tuple[str, Callable[[int], str]]] = {
    "string_too_short": ("min_length", lambda n: ngettext(
        "Ensure this value has at least {min_length} character.",
        "Ensure this value has at least {min_length} characters.", n)),
    "string_too_long": ("max_length", lambda n: ngettext(
        "Ensure this value has at most {max_length} character.",
        "Ensure this value has at most {max_length} characters.", n)),
    "decimal_max_digits": ("max_digits", lambda n: ngettext(
        "Ensure that there is no more than {max_digits} digit in total.",
        "Ensure that there are no more than {max_digits} digits in total.", n)),
    "decimal_max_places": ("decimal_places", lambda n: ngettext(
        "Ensure that there is no more than {decimal_places} decimal place.",
        "Ensure that there are no more than {decimal_places} decimal places.", n)),
    "decimal_whole_digits": ("whole_digits", lambda n: ngettext(
        "Ensure that there is no more than {whole_digits} digit before the decimal point.",
        "Ensure that there are no more than {whole_digits} digits before the decimal point.",
        n)),
    "too_short": ("min_length", lambda n: ngettext(
        "Select at least {min_length} item.", "Select at least {min_length} items.", n)),
    "too_long": ("max_length", lambda n: ngettext(
        "Select at most {max_length} item.", "Select at most {max_length} items.", n)),
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
    # str(): a lazy translation (heron.i18n.gettext_lazy) becomes the active language's text.
    for literal, name, _spec, _conv in formatter.parse(str(template)):
        parts.append(literal)
        if name is not None:
            parts.append(str(context[name]) if name in context else "{" + name + "}")
    return "".join(parts)


def message_for(code: str, context: Mapping[str, Any],
                overrides: Sequence[Mapping[str, str | LazyString]],
                fallback: str | None = None) -> str:
    """The message for error ``code``: the first override that has it, else heron's.

    ``fallback`` is used for an error type heron has no message for (a custom
    validator's ``ValueError`` text, say).
    """
    for messages in overrides:
        if code in messages:
            return format_message(str(messages[code]), context)
    plural = _PLURALS.get(code)
    count = context.get(plural[0]) if plural is not None else None
    if plural is not None and isinstance(count, int):
        return format_message(plural[1](count), context)
    if code in DEFAULT_MESSAGES:
        return format_message(gettext(DEFAULT_MESSAGES[code]), context)
    return fallback or gettext("Enter a valid value.")


def pydantic_message(error: Mapping[str, Any]) -> str:
    """A readable message for a pydantic error heron has no message for.

    A validator's ``ValueError("...")`` / ``AssertionError`` shows its own text.
    Pydantic's own sentence is English: in another language, the page shows heron's
    translated "Enter a valid value." instead.
    """
    context = error.get("ctx") or {}
    generic = gettext("Enter a valid value.")
    if error["type"] in ("value_error", "assertion_error") and "error" in context:
        text = str(context["error"])
    elif generic != "Enter a valid value.":
        return generic
    else:
        text = str(error.get("msg", "")) or generic
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?")) else text + "."
