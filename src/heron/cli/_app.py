"""Loading the user's app for a command, with errors that say what was tried."""

from __future__ import annotations

from typing import Any

import click

from heron._discovery import AppNotFound, find_app


def load_app(spec: str | None) -> tuple[Any, str]:
    """Import the app or exit with a clear message (status 2)."""
    try:
        return find_app(spec)
    except AppNotFound as exc:
        raise click.UsageError(str(exc)) from None


app_argument = click.argument("app", required=False, metavar="[APP]")
