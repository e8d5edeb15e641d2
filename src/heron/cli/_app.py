"""Naming and loading the user's app for a command, with errors that say what was tried.

Every command names the app the same ways: ``--app APP``, the ``APP`` argument
(on commands with no other positional argument), or ``HERON_APP``; when none is
given, ``app.py`` in the current folder.  ``APP`` may call a factory,
``module:create_app("dev")`` (see :func:`heron._discovery.find_app`).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from heron._discovery import AppNotFound, find_app
from heron.exceptions import ImproperlyConfigured

__all__ = ["app_options", "load_app"]

F = TypeVar("F", bound=Callable[..., Any])

_APP_HELP = ("The app: module:attr, module:create_app() or module (default: HERON_APP, "
             "or app.py in this folder).")


def load_app(spec: str | None) -> tuple[Any, str]:
    """Import the app, or exit with a clear message: status 2 when it cannot be
    found, 1 when building it fails on bad configuration (such as a bad
    ``HERON_*`` value)."""
    try:
        return find_app(spec)
    except AppNotFound as exc:
        raise click.UsageError(str(exc)) from None
    except ImproperlyConfigured as exc:
        click.echo(f"{exc.id}: {exc.message}", err=True)
        sys.exit(1)


def app_options(*, positional: bool = True) -> Callable[[F], F]:
    """Give a command ``--app APP`` and, when ``positional``, an optional ``APP``
    argument; the command receives one ``app`` keyword (``None`` when neither
    was given, so that ``HERON_APP`` and ``app.py`` are tried).

    Raises click.UsageError when both are given and differ.
    """

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, app_argument: str | None = None,
                    app_option: str | None = None, **kwargs: Any) -> Any:
            if app_argument and app_option and app_argument != app_option:
                raise click.UsageError(
                    f"Two apps named: {app_argument!r} and --app {app_option!r}; name one.")
            return command(*args, app=app_option or app_argument, **kwargs)

        decorated: Any = click.option("--app", "app_option", metavar="APP", help=_APP_HELP)(wrapper)
        if positional:
            decorated = click.argument("app_argument", required=False, metavar="[APP]")(decorated)
        return decorated  # type: ignore[no-any-return]

    return decorate
