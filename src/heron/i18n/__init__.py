"""Translations, the active language and time zone, and localized formats (on Babel).

Mark text with :func:`gettext` (``_``), :func:`ngettext`, :func:`pgettext` or their lazy
variants, extract and compile catalogs with ``heron i18n``, and offer languages with the
``languages`` setting; each request then runs in the language it chose (URL prefix,
user, cookie, ``Accept-Language``) and its time zone.  See docs/i18n.md.

Importing this package is light: Babel is imported when a value is first formatted.
"""

from heron.i18n._state import (
    activate,
    deactivate,
    get_language,
    get_timezone,
    localtime,
    make_aware,
    override,
    override_timezone,
)
from heron.i18n._translate import (
    LazyString,
    gettext,
    gettext_lazy,
    ngettext,
    ngettext_lazy,
    npgettext,
    pgettext,
    pgettext_lazy,
)
from heron.i18n.formatting import (
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_number,
    format_percent,
    format_time,
    intcomma,
    naturalday,
    naturaltime,
    ordinal,
    text_direction,
)

__all__ = [
    "LazyString",
    "activate",
    "deactivate",
    "format_currency",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_number",
    "format_percent",
    "format_time",
    "get_language",
    "get_timezone",
    "gettext",
    "gettext_lazy",
    "intcomma",
    "localtime",
    "make_aware",
    "naturalday",
    "naturaltime",
    "ngettext",
    "ngettext_lazy",
    "npgettext",
    "ordinal",
    "override",
    "override_timezone",
    "pgettext",
    "pgettext_lazy",
    "text_direction",
]


def __getattr__(name: str) -> object:
    # ``App(components=["heron.i18n"])`` (an app without heron's defaults) finds the
    # plug-in here; heron.App has it already.
    if name == "plugin":
        from heron.i18n._plugin import I18nPlugin

        return I18nPlugin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
