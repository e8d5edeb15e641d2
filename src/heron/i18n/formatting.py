"""Dates, times, numbers and currencies in the active language and time zone, with
Babel (imported on first use), and humanized values ("3 minutes ago", "1,234", "2nd").

Every function takes ``locale=`` to format for another language than the active one.
"""

from __future__ import annotations

import datetime as dt
import decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from heron.i18n._catalogs import normalize, to_locale
from heron.i18n._state import get_language, get_timezone, localtime
from heron.i18n._translate import gettext

if TYPE_CHECKING:
    from babel import Locale

__all__ = [
    "babel_locale", "format_currency", "format_date", "format_datetime", "format_decimal",
    "format_number", "format_percent", "format_time", "intcomma", "naturalday",
    "naturaltime", "ordinal", "text_direction",
]

Number = int | float | decimal.Decimal | str


@lru_cache(maxsize=128)
def _parse_locale(code: str) -> Locale:
    from babel import Locale, UnknownLocaleError

    for candidate in (to_locale(code), code.partition("-")[0]):
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


def babel_locale(language: str | None = None) -> Locale:
    """Babel's ``Locale`` for ``language`` (default: the active language); an unknown
    code gives its general language (``de-xx`` -> ``de``) or English."""
    return _parse_locale(normalize(language or get_language()))


def text_direction(language: str | None = None) -> str:
    """``"rtl"`` for a right-to-left language (Arabic, Hebrew, Persian, Urdu...),
    else ``"ltr"``: the value of ``<html dir>``."""
    return _direction(normalize(language or get_language()))


@lru_cache(maxsize=128)
def _direction(code: str) -> str:
    if code.partition("-")[0] == "en":
        return "ltr"  # the default language: no need to import Babel
    return "rtl" if babel_locale(code).text_direction == "rtl" else "ltr"


def _to_local(value: dt.datetime, tzinfo: dt.tzinfo | str | None) -> dt.datetime:
    return localtime(value, tzinfo)


def format_date(value: dt.date | dt.datetime, format: str = "medium",
                locale: str | None = None) -> str:
    """A date as the language writes it (``format``: ``short``, ``medium``, ``long``,
    ``full`` or a CLDR pattern like ``"d MMM y"``).  A datetime is first moved to the
    active time zone."""
    from babel.dates import format_date as babel_format_date

    if isinstance(value, dt.datetime):
        value = _to_local(value, None).date()
    return babel_format_date(value, format, locale=babel_locale(locale))


def format_datetime(value: dt.datetime, format: str = "medium",
                    tzinfo: dt.tzinfo | str | None = None, locale: str | None = None) -> str:
    """A datetime in the active time zone (or ``tzinfo``) as the language writes it;
    a naive value is taken as UTC."""
    from babel.dates import format_datetime as babel_format_datetime

    return babel_format_datetime(_to_local(value, tzinfo), format, locale=babel_locale(locale))


def format_time(value: dt.time | dt.datetime, format: str = "medium",
                tzinfo: dt.tzinfo | str | None = None, locale: str | None = None) -> str:
    """A time (of a datetime: in the active time zone) as the language writes it."""
    from babel.dates import format_time as babel_format_time

    if isinstance(value, dt.datetime):
        value = _to_local(value, tzinfo).timetz()
    return babel_format_time(value, format, locale=babel_locale(locale))


def format_number(value: Number, locale: str | None = None) -> str:
    """A number with the language's grouping and decimal signs (``1,234.5``, ``1.234,5``)."""
    return format_decimal(value, locale=locale)


def format_decimal(value: Number, format: str | None = None,
                   locale: str | None = None) -> str:
    """A decimal number, with a CLDR ``format`` pattern (``"#,##0.00"``) if given."""
    from babel.numbers import format_decimal as babel_format_decimal

    return babel_format_decimal(value, format, locale=babel_locale(locale))


def format_currency(value: Number, currency: str, format: str | None = None,
                    locale: str | None = None) -> str:
    """An amount of ``currency`` (an ISO 4217 code: ``"EUR"``) as the language writes
    it (``€1,234.50``, ``1.234,50 €``)."""
    from babel.numbers import format_currency as babel_format_currency

    return babel_format_currency(value, currency, format, locale=babel_locale(locale))


def format_percent(value: Number, format: str | None = None,
                   locale: str | None = None) -> str:
    """A ratio as a percentage (``0.25`` -> ``25%``, ``25 %`` in German)."""
    from babel.numbers import format_percent as babel_format_percent

    return babel_format_percent(value, format, locale=babel_locale(locale))


def naturaltime(value: dt.datetime | dt.timedelta, now: dt.datetime | None = None,
                locale: str | None = None) -> str:
    """How long ago or ahead ``value`` is, in words: "3 minutes ago", "in 2 hours",
    "vor 3 Minuten"; "now" within ten seconds.  A timedelta is the time since."""
    from babel.dates import format_timedelta

    if isinstance(value, dt.timedelta):
        delta = -value
    else:
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        current = now or dt.datetime.now(dt.UTC)
        if current.tzinfo is None:
            current = current.replace(tzinfo=dt.UTC)
        delta = value - current
    if abs(delta.total_seconds()) < 10:
        return gettext("now")
    return format_timedelta(delta, add_direction=True, locale=babel_locale(locale))


def naturalday(value: dt.date | dt.datetime, format: str = "medium",
               today: dt.date | None = None, locale: str | None = None) -> str:
    """"today", "yesterday" or "tomorrow" (in the active language), else the date in
    ``format``.  A datetime is taken in the active time zone."""
    if isinstance(value, dt.datetime):
        value = _to_local(value, None).date()
    current = today or dt.datetime.now(get_timezone()).date()
    days = (value - current).days
    if days == 0:
        return gettext("today")
    if days == -1:
        return gettext("yesterday")
    if days == 1:
        return gettext("tomorrow")
    return format_date(value, format, locale)


def intcomma(value: Number, locale: str | None = None) -> str:
    """A number with the language's thousands separators: ``1,234,567`` (``1.234.567``
    in German).  Text that is no number is returned as it is."""
    try:
        number = decimal.Decimal(str(value))
    except (decimal.InvalidOperation, ValueError):
        return str(value)
    return format_decimal(number, locale=locale)


# Suffixes by CLDR ordinal category (Babel has the categories, not the words).
_ORDINALS: dict[str, dict[str, str]] = {
    "en": {"one": "st", "two": "nd", "few": "rd", "other": "th"},
    "fr": {"one": "er", "other": "e"},
    "es": {"other": "º"}, "it": {"other": "º"}, "pt": {"other": "º"},
    "nl": {"other": "e"},
}
#: Languages that write an ordinal as the number and a full stop (``3.``).
_DOT_ORDINALS = frozenset({"de", "da", "nb", "no", "nn", "fi", "cs", "sk", "sl", "hr", "sr",
                           "hu", "is", "et", "lv", "tr", "pl"})


def ordinal(value: int | str, locale: str | None = None) -> str:
    """An ordinal number: ``1st``, ``2nd``, ``23rd`` in English, ``2.`` in German,
    ``1er`` in French.  Languages heron has no rule for get the plain number."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return str(value)
    found = babel_locale(locale)
    if found.language in _DOT_ORDINALS:
        return f"{number}."
    suffixes = _ORDINALS.get(found.language)
    if suffixes is None:
        return str(number)
    category = found.ordinal_form(abs(number))
    return f"{number}{suffixes.get(category, suffixes['other'])}"
