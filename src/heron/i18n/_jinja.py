"""Templates: Jinja's i18n extension bound to the active language, and the filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.ext import InternationalizationExtension

from heron.i18n import formatting
from heron.i18n._state import localtime
from heron.i18n._translate import gettext, ngettext, npgettext, pgettext

__all__ = ["FILTERS", "I18nExtension"]


class I18nExtension(InternationalizationExtension):
    """``{% trans %}``, ``{% pluralize %}``, ``_()``, ``gettext()``, ``ngettext()``,
    ``pgettext()`` and ``npgettext()`` in the request's language (newstyle gettext:
    autoescaped, ``_("Hello %(name)s", name=user)``)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.install_gettext_callables(  # type: ignore[attr-defined]
            gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext)


@pass_context
def _localtime(context: Any, value: dt.datetime | None,
               timezone: str | None = None) -> dt.datetime | None:
    return None if value is None else localtime(value, timezone)


def _or_empty(func: Callable[..., str]) -> Callable[..., str]:
    # A filter on a missing value (None, "") shows nothing rather than failing the page.
    # It takes the context so that Jinja never computes it once, when it compiles a
    # template ({{ 1234|number }}): the result depends on the request's language.
    @pass_context
    def filtered(context: Any, value: Any, *args: Any, **kwargs: Any) -> str:
        if value is None or value == "":
            return ""
        return func(value, *args, **kwargs)

    filtered.__doc__ = func.__doc__
    filtered.__name__ = func.__name__
    return filtered


#: The template filters, by name (docs/i18n.md lists them).
FILTERS: dict[str, Callable[..., Any]] = {
    "date": _or_empty(formatting.format_date),
    "datetime": _or_empty(formatting.format_datetime),
    "time": _or_empty(formatting.format_time),
    "number": _or_empty(formatting.format_number),
    "decimal": _or_empty(formatting.format_decimal),
    "currency": _or_empty(formatting.format_currency),
    "percent": _or_empty(formatting.format_percent),
    "localtime": _localtime,
    "naturaltime": _or_empty(formatting.naturaltime),
    "naturalday": _or_empty(formatting.naturalday),
    "intcomma": _or_empty(formatting.intcomma),
    "ordinal": _or_empty(formatting.ordinal),
}
