"""gettext and its family, now or lazily (translated when the text is used)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from heron.i18n._state import active_translation

__all__ = [
    "LazyString", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "npgettext",
    "pgettext", "pgettext_lazy",
]


def gettext(message: str) -> str:
    """``message`` in the active language (itself when no catalog translates it)."""
    return active_translation().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for the count ``n`` in the active language
    (``ngettext("%(num)d apple", "%(num)d apples", n) % {"num": n}``)."""
    return active_translation().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the active language, told apart from the same text in another
    ``context`` (``pgettext("month", "May")``)."""
    return active_translation().pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    """:func:`ngettext` with a context."""
    return active_translation().npgettext(context, singular, plural, n)


class LazyString:
    """Text translated each time it is used (``str()``, formatting, a template),
    in the language active then.  Made by :func:`gettext_lazy` and its family for
    text defined at import time: field labels, error messages, choices."""

    __slots__ = ("_args", "_func")

    def __init__(self, func: Callable[..., str], *args: Any) -> None:
        self._func = func
        self._args = args

    def __str__(self) -> str:
        return self._func(*self._args)

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))

    def __repr__(self) -> str:
        return f"l{str(self)!r}"

    def __len__(self) -> int:
        return len(str(self))

    def __contains__(self, item: str) -> bool:
        return item in str(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyString):
            other = str(other)
        return str(self) == other

    def __lt__(self, other: object) -> bool:
        return str(self) < str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __add__(self, other: object) -> str:
        return str(self) + str(other)

    def __radd__(self, other: object) -> str:
        return str(other) + str(self)

    def __mod__(self, values: Any) -> str:
        text: str = str(self) % values
        return text

    def format(self, *args: Any, **kwargs: Any) -> str:
        """``str.format`` on the translated text."""
        return str(self).format(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Any other str method (upper, split, startswith...) on the translated text.
        if name.startswith("__"):
            raise AttributeError(name)
        attribute: Any = getattr(str(self), name)
        return attribute

    def __getstate__(self) -> tuple[Callable[..., str], tuple[Any, ...]]:
        return self._func, self._args

    def __setstate__(self, state: tuple[Callable[..., str], tuple[Any, ...]]) -> None:
        self._func, self._args = state


def gettext_lazy(message: str) -> LazyString:
    """:func:`gettext`, translated when the text is used (for module-level text)."""
    return LazyString(gettext, message)


def ngettext_lazy(singular: str, plural: str, n: int) -> LazyString:
    """:func:`ngettext`, translated when the text is used."""
    return LazyString(ngettext, singular, plural, n)


def pgettext_lazy(context: str, message: str) -> LazyString:
    """:func:`pgettext`, translated when the text is used."""
    return LazyString(pgettext, context, message)
