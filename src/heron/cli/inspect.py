"""``heron routes`` and ``heron check``: look at an app without serving it."""

from __future__ import annotations

import sys

import click

from heron._deploy import is_warning
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
@click.option("--deploy", is_flag=True,
              help="Add the deployment checks: what is wrong only in production.")
@click.option("--fail-level", type=click.Choice(["ERROR", "WARNING"], case_sensitive=False),
              default="ERROR", show_default=True,
              help="Exit non-zero on problems of this level or worse.")
def check_command(app: str | None, deploy: bool, fail_level: str) -> None:
    """Check the app's configuration; exit non-zero when something is wrong.

    Every problem is printed with its id (docs/checks.md).  Ids with W are warnings:
    they fail the command only with --fail-level WARNING.
    """
    application, spec = load_app(app)
    problems = application.check(deploy=True) if deploy else application.check()
    warnings = [problem for problem in problems if is_warning(problem)]
    errors = len(problems) - len(warnings)
    for problem in problems:
        click.echo(f"{problem.id}: {problem.message}", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) found in {spec}.", err=True)
    if warnings:
        click.echo(f"{errors} error(s), {len(warnings)} warning(s); warnings fail the "
                   "check only with --fail-level WARNING.", err=True)
    if errors or (warnings and fail_level.upper() == "WARNING"):
        sys.exit(1)
    if not problems:
        click.echo(f"No problems found in {spec}"
                   + (", deployment checks included." if deploy else "."))
