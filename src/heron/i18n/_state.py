"""The active language and time zone: context variables, set per request by the
i18n middleware and by :func:`override`, so that code anywhere (a sync view in the
thread pool, a task, a mail) reads the ones of the work it does."""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from heron.i18n._catalogs import HERON_LOCALES, Catalogs, Translation, normalize

if TYPE_CHECKING:
    from heron.app import App

__all__ = [
    "activate", "active_translation", "chosen_timezone", "deactivate", "get_language",
    "get_timezone", "localtime", "make_aware", "override", "override_timezone", "zone",
]

_UTC = dt.UTC
#: The active translation (its ``language`` is the active language).
_translation: contextvars.ContextVar[Translation] = contextvars.ContextVar("heron_language")
_timezone: contextvars.ContextVar[dt.tzinfo] = contextvars.ContextVar("heron_timezone")


class _Defaults:
    """What holds outside any request or override: the last app set up in this
    process (a process serves one app; tests set up many, each request sets its own)."""

    # Before any app is set up, heron's own catalog (its forms' messages under override).
    catalogs: Catalogs = Catalogs([HERON_LOCALES], "en")
    timezone: dt.tzinfo = _UTC
    translation: Translation | None = None


def configure(catalogs: Catalogs, timezone: dt.tzinfo) -> None:
    """Make ``catalogs`` and ``timezone`` the process's defaults (the i18n plugin's setup)."""
    _Defaults.catalogs = catalogs
    _Defaults.timezone = timezone
    _Defaults.translation = None


def catalogs_of(app: App | None) -> Catalogs:
    """The catalogs of ``app``, or of the active translation's app, or the default."""
    if app is not None:
        found: Catalogs | None = app.__dict__.get("_heron_i18n_catalogs")
        if found is not None:
            return found
    return _Defaults.catalogs


def active_translation() -> Translation:
    """The translation gettext uses now: the request's or override's, else the default
    language's."""
    found = _translation.get(None)
    if found is not None:
        return found
    default = _Defaults.translation
    if default is None:
        catalogs = _Defaults.catalogs
        default = _Defaults.translation = catalogs.translation(catalogs.default_language)
    return default


def get_language() -> str:
    """The active language code (``"de"``, ``"pt-br"``): the request's, an
    :func:`override`'s, or the ``language_code`` setting."""
    return active_translation().language


def activate(language: str, app: App | None = None) -> contextvars.Token[Translation]:
    """Make ``language`` active in the current context (until :func:`deactivate`
    with the returned token, or the end of the request or task).  Prefer
    :func:`override`, which restores the previous language by itself."""
    catalogs = catalogs_of(app)
    return _translation.set(catalogs.translation(normalize(language)))


def deactivate(token: contextvars.Token[Translation]) -> None:
    """Undo an :func:`activate`."""
    _translation.reset(token)


@contextmanager
def override(language: str, app: App | None = None) -> Iterator[str]:
    """Translate in ``language`` inside the ``with`` block (a mail, a task, a command)::

        with override("de"):
            subject = gettext("Welcome")

    ``app`` chooses whose catalogs (default: the app set up last in this process)."""
    token = activate(language, app)
    try:
        yield normalize(language)
    finally:
        _translation.reset(token)


@lru_cache(maxsize=512)
def zone(name: str) -> dt.tzinfo | None:
    """The time zone called ``name`` (``"Europe/Berlin"``), or None when there is none."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    if name.upper() == "UTC":
        return _UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def get_timezone() -> dt.tzinfo:
    """The active time zone: the request's (user, cookie), an :func:`override_timezone`'s,
    or the ``time_zone`` setting."""
    return _timezone.get(_Defaults.timezone)


def chosen_timezone() -> dt.tzinfo | None:
    """The time zone forms read and show datetimes in: the one a request or
    :func:`override_timezone` chose, else the ``time_zone`` setting unless it is UTC;
    None when neither (values then stay as typed, which UTC storage reads the same)."""
    chosen = _timezone.get(None)
    if chosen is not None:
        return chosen
    default = _Defaults.timezone
    return None if default is dt.UTC or str(default) in ("UTC", "Etc/UTC") else default


def set_timezone(timezone: dt.tzinfo) -> contextvars.Token[dt.tzinfo]:
    return _timezone.set(timezone)


def reset_timezone(token: contextvars.Token[dt.tzinfo]) -> None:
    _timezone.reset(token)


@contextmanager
def override_timezone(timezone: str | dt.tzinfo) -> Iterator[dt.tzinfo]:
    """Make ``timezone`` (a name or a ``tzinfo``) active inside the ``with`` block.

    Raises:
        ValueError: ``timezone`` names no known zone.
    """
    found = zone(timezone) if isinstance(timezone, str) else timezone
    if found is None:
        raise ValueError(f"Unknown time zone {timezone!r}")
    token = _timezone.set(found)
    try:
        yield found
    finally:
        _timezone.reset(token)


def localtime(value: dt.datetime, timezone: str | dt.tzinfo | None = None) -> dt.datetime:
    """``value`` in the active time zone (or ``timezone``).  A naive ``value`` is
    taken as UTC, the way heron.db stores it."""
    target = get_timezone() if timezone is None else (
        zone(timezone) if isinstance(timezone, str) else timezone)
    if target is None:
        raise ValueError(f"Unknown time zone {timezone!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    return value.astimezone(target)


def make_aware(value: dt.datetime, timezone: str | dt.tzinfo | None = None) -> dt.datetime:
    """A naive ``value`` read as wall time in the active time zone (or ``timezone``),
    returned in UTC, the way to store it.  An aware ``value`` is converted to UTC."""
    if value.tzinfo is None:
        source = get_timezone() if timezone is None else (
            zone(timezone) if isinstance(timezone, str) else timezone)
        if source is None:
            raise ValueError(f"Unknown time zone {timezone!r}")
        value = value.replace(tzinfo=source)
    return value.astimezone(_UTC)
