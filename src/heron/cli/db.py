"""``heron db ...``: migrations and database housekeeping."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from heron.cli._app import app_options, load_app

if TYPE_CHECKING:
    from heron.db.migrations import Migrations


@click.group("db")
@app_options(positional=False)
@click.pass_context
def db_group(ctx: click.Context, app: str | None) -> None:
    """Manage the database: migrations, checks, sessions.

    Name the app before or after the subcommand (heron db --app APP migrate, or
    heron db migrate --app APP), or with HERON_APP.  Migrations live in each
    component's migrations/ folder (the app's own models: migrations/ next to
    the app).
    """
    ctx.obj = app


def _load(ctx: click.Context, app: str | None) -> Any:
    """The app named after the subcommand, else before it (``heron db --app``)."""
    application, _ = load_app(app or ctx.obj)
    return application


def _migrations(ctx: click.Context, app: str | None) -> Migrations:
    from heron.db.migrations import Migrations

    return Migrations(_load(ctx, app))


def _run(action: Callable[[], Any]) -> Any:
    from alembic.util import CommandError

    from heron.db.migrations import MigrationError

    try:
        return action()
    except (MigrationError, CommandError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


@db_group.command("makemigrations")
@app_options(positional=False)
@click.option("-m", "--message", required=True, help="What the migration does.")
@click.option("--empty", is_flag=True, help="Write an empty revision in the app's branch.")
@click.pass_context
def makemigrations(ctx: click.Context, app: str | None, message: str, empty: bool) -> None:
    """Write migrations for models that changed (one per component)."""
    migrations = _migrations(ctx, app)
    written = _run(lambda: migrations.makemigrations(message, empty=empty))
    if not written:
        click.echo("No changes in models.")
    for path in written:
        click.echo(f"Wrote {path}")


@db_group.command("migrate")
@app_options(positional=False)
@click.argument("target", default="heads")
@click.pass_context
def migrate(ctx: click.Context, app: str | None, target: str) -> None:
    """Apply migrations (to every branch's head by default)."""
    migrations = _migrations(ctx, app)
    applied = _run(lambda: migrations.migrate(
        target, on_apply=lambda revision: click.echo(f"  Applied {revision}")))
    if not applied:
        click.echo("No migrations to apply: the database is up to date."
                   if target == "heads" else f"No migrations to apply: at {target} already.")
        return
    count = f"{len(applied)} migration{'s' if len(applied) != 1 else ''}"
    click.echo(f"Applied {count}; the database is up to date." if target == "heads"
               else f"Applied {count}; migrated to {target}.")


@db_group.command("downgrade")
@app_options(positional=False)
@click.argument("target")
@click.pass_context
def downgrade(ctx: click.Context, app: str | None, target: str) -> None:
    """Undo migrations down to TARGET (a revision, blog@-1, or base)."""
    migrations = _migrations(ctx, app)
    reverted = _run(lambda: migrations.downgrade(
        target, on_revert=lambda revision: click.echo(f"  Reverted {revision}")))
    count = f"{len(reverted)} migration{'s' if len(reverted) != 1 else ''}"
    click.echo(f"Reverted {count}; downgraded to {target}.")


@db_group.command("history")
@app_options(positional=False)
@click.pass_context
def history(ctx: click.Context, app: str | None) -> None:
    """List every migration, newest first."""
    migrations = _migrations(ctx, app)
    _run(migrations.history)


@db_group.command("current")
@app_options(positional=False)
@click.pass_context
def current(ctx: click.Context, app: str | None) -> None:
    """Show the migrations the database is at, and how many are pending."""
    migrations = _migrations(ctx, app)
    heads = _run(migrations.current)
    if heads is None:
        click.echo("The database has no heron tables yet (no migration was ever applied); "
                   "run `heron db migrate`.")
        return
    if not heads:
        click.echo("No migration is applied (every one was downgraded).")
    for revision in heads:
        click.echo(str(revision))
    pending = _run(migrations.pending_count)
    click.echo(f"{pending} migration{'s' if pending != 1 else ''} not applied yet; "
               "run `heron db migrate`." if pending else "The database is up to date.")


@db_group.command("sql")
@app_options(positional=False)
@click.argument("target", default="heads")
@click.option("--from", "start", default=None, help="Start from this revision (default: base).")
@click.pass_context
def sql(ctx: click.Context, app: str | None, target: str, start: str | None) -> None:
    """Print the SQL of the migrations instead of running them (for DBAs)."""
    migrations = _migrations(ctx, app)
    click.echo(_run(lambda: migrations.sql(target, start)), nl=False)


@db_group.command("check")
@app_options(positional=False)
@click.pass_context
def check(ctx: click.Context, app: str | None) -> None:
    """Exit non-zero when migrations are pending or models differ from them (for CI)."""
    migrations = _migrations(ctx, app)
    problems = _run(migrations.check)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo("Models and migrations agree; the database is up to date.")


@db_group.command("reset")
@app_options(positional=False)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def reset(ctx: click.Context, app: str | None, yes: bool) -> None:
    """Drop every table and migrate from scratch (debug only)."""
    migrations = _migrations(ctx, app)
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
@app_options(positional=False)
@click.pass_context
def clearsessions(ctx: click.Context, app: str | None) -> None:
    """Delete expired sessions (session_backend = "database")."""
    import asyncio

    from sqlalchemy.exc import DBAPIError

    from heron.db.database import db
    from heron.sessions.database import clear_expired_sessions

    application = _load(ctx, app)
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
