"""Loading the user's app for a command, with errors that say what was tried."""

from __future__ import annotations

import sys
from typing import Any

import click

from heron._discovery import AppNotFound, find_app
from heron.exceptions import ImproperlyConfigured


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


app_argument = click.argument("app", required=False, metavar="[APP]")
