"""``heron db ...``: migrations and database housekeeping."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from heron.cli._app import load_app

if TYPE_CHECKING:
    from heron.db.migrations import Migrations


@click.group("db")
@click.option("--app", "app_spec", metavar="APP", envvar="HERON_APP",
              help="module:attr of the app (default: HERON_APP or app.py).")
@click.pass_context
def db_group(ctx: click.Context, app_spec: str | None) -> None:
    """Manage the database: migrations, checks, sessions.

    Migrations live in each component's migrations/ folder (the app's own
    models: migrations/ next to the app).
    """
    ctx.obj = app_spec


def _migrations(ctx: click.Context) -> Migrations:
    from heron.db.migrations import Migrations

    application, _ = load_app(ctx.obj)
    return Migrations(application)


def _run(action: Callable[[], Any]) -> Any:
    from alembic.util import CommandError

    from heron.db.migrations import MigrationError

    try:
        return action()
    except (MigrationError, CommandError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


@db_group.command("makemigrations")
@click.option("-m", "--message", required=True, help="What the migration does.")
@click.option("--empty", is_flag=True, help="Write an empty revision in the app's branch.")
@click.pass_context
def makemigrations(ctx: click.Context, message: str, empty: bool) -> None:
    """Write migrations for models that changed (one per component)."""
    migrations = _migrations(ctx)
    written = _run(lambda: migrations.makemigrations(message, empty=empty))
    if not written:
        click.echo("No changes in models.")
    for path in written:
        click.echo(f"Wrote {path}")


@db_group.command("migrate")
@click.argument("target", default="heads")
@click.pass_context
def migrate(ctx: click.Context, target: str) -> None:
    """Apply migrations (to every branch's head by default)."""
    migrations = _migrations(ctx)
    _run(lambda: migrations.migrate(target))
    click.echo("The database is up to date." if target == "heads" else f"Migrated to {target}.")


@db_group.command("downgrade")
@click.argument("target")
@click.pass_context
def downgrade(ctx: click.Context, target: str) -> None:
    """Undo migrations down to TARGET (a revision, blog@-1, or base)."""
    migrations = _migrations(ctx)
    _run(lambda: migrations.downgrade(target))
    click.echo(f"Downgraded to {target}.")


@db_group.command("history")
@click.pass_context
def history(ctx: click.Context) -> None:
    """List every migration, newest first."""
    migrations = _migrations(ctx)
    _run(migrations.history)


@db_group.command("current")
@click.pass_context
def current(ctx: click.Context) -> None:
    """Show the migrations the database is at."""
    migrations = _migrations(ctx)
    _run(migrations.current)


@db_group.command("sql")
@click.argument("target", default="heads")
@click.option("--from", "start", default=None, help="Start from this revision (default: base).")
@click.pass_context
def sql(ctx: click.Context, target: str, start: str | None) -> None:
    """Print the SQL of the migrations instead of running them (for DBAs)."""
    migrations = _migrations(ctx)
    click.echo(_run(lambda: migrations.sql(target, start)), nl=False)


@db_group.command("check")
@click.pass_context
def check(ctx: click.Context) -> None:
    """Exit non-zero when migrations are pending or models differ from them (for CI)."""
    migrations = _migrations(ctx)
    problems = _run(migrations.check)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo("Models and migrations agree; the database is up to date.")


@db_group.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def reset(ctx: click.Context, yes: bool) -> None:
    """Drop every table and migrate from scratch (debug only)."""
    migrations = _migrations(ctx)
    if not migrations.app.settings.debug:
        click.echo("Error: `heron db reset` destroys data; it runs only with debug on.", err=True)
        sys.exit(1)
    url = migrations.state.engine().url.render_as_string(hide_password=True)
    if not yes and not click.confirm(f"Drop every table in {url} and migrate again?"):
        click.echo("Nothing was changed.")
        sys.exit(1)
    _run(migrations.reset)
    click.echo("The database was reset.")


@db_group.command("clearsessions")
@click.pass_context
def clearsessions(ctx: click.Context) -> None:
    """Delete expired sessions (session_backend = "database")."""
    import asyncio

    from sqlalchemy.exc import DBAPIError

    from heron.db.database import db
    from heron.db.sessions import clear_expired_sessions

    application, _ = load_app(ctx.obj)
    state = db.state(application)

    async def clear() -> int:
        try:
            return await clear_expired_sessions(application)
        finally:
            await state.dispose()

    try:
        count = asyncio.run(clear())
    except DBAPIError as exc:
        url = state.engine().url.render_as_string(hide_password=True)
        if getattr(exc, "heron_unreachable", False):
            click.echo(f"Error: Cannot connect to the database {url}: {exc.orig}", err=True)
        else:
            click.echo(f"Error: {exc.orig} (in {url}; has `heron db migrate` been run?)",
                       err=True)
        sys.exit(1)
    click.echo(f"Deleted {count} expired session(s).")
