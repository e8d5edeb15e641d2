"""``heron routes`` and ``heron check``: look at an app without serving it."""

from __future__ import annotations

import sys

import click

from heron.cli._app import app_options, load_app
from heron.exceptions import ImproperlyConfigured


def _handler_name(endpoint: object) -> str:
    module = getattr(endpoint, "__module__", None) or "?"
    name = getattr(endpoint, "__qualname__", None) or type(endpoint).__name__
    return f"{module}.{name}"


@click.command("routes")
@app_options()
def routes_command(app: str | None) -> None:
    """List every route: methods, path, name and handler."""
    application, _ = load_app(app)
    try:
        routes = application.routes()
    except ImproperlyConfigured as exc:
        raise click.ClickException(str(exc)) from None
    rows = [("METHODS", "PATH", "NAME", "HANDLER")]
    for route in sorted(routes, key=lambda r: r.path):
        methods = ",".join(sorted(route.methods - {"HEAD"})) or "-"
        rows.append((methods, route.path, route.name, _handler_name(route.endpoint)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3]))
                   + "  " + row[3])


@click.command("check")
@app_options()
def check_command(app: str | None) -> None:
    """Check the app's configuration; exit non-zero when something is wrong."""
    application, spec = load_app(app)
    problems = application.check()
    for problem in problems:
        click.echo(f"{problem.id}: {problem.message}", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) found in {spec}.", err=True)
        sys.exit(1)
    click.echo(f"No problems found in {spec}.")
