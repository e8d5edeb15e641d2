"""The ``heron`` command line: ``heron run``, ``heron routes``, ``heron check``...

Each command lives in its own module; components and later batteries add
commands to :data:`main` (a click group).
"""

from __future__ import annotations

from typing import Any

import click

from heron.__about__ import __version__
from heron.cli.db import db_group
from heron.cli.inspect import check_command, routes_command
from heron.cli.new import new_group
from heron.cli.serve import run_command
from heron.cli.shell import shell_command
from heron.cli.static import collectstatic_command

__all__ = ["main"]


class HeronGroup(click.Group):
    """heron's commands, then the app's: its own (``@app.cli.command()``) and its
    components' and plugins' (:meth:`heron.plugins.Plugin.commands`).

    The app is the one ``heron --app APP``, ``HERON_APP`` or ``app.py`` names; when
    none is found, only heron's own commands are listed.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `heron createsuperuser --app X` names the app after the command: find it
        # now, since which commands exist depends on the app.
        for index, arg in enumerate(args):
            if arg == "--app" and index + 1 < len(args):
                ctx.meta.setdefault("heron.app_spec_late", args[index + 1])
            elif arg.startswith("--app="):
                ctx.meta.setdefault("heron.app_spec_late", arg.partition("=")[2])
        return super().parse_args(ctx, args)

    def _app_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        cached: dict[str, click.Command] | None = ctx.meta.get("heron.app_commands")
        if cached is not None:
            return cached
        found: dict[str, click.Command] = {}
        from heron._discovery import find_app

        spec = ctx.meta.get("heron.app_spec") or ctx.meta.get("heron.app_spec_late")
        try:
            application, _ = find_app(spec)
        except Exception as exc:  # listing must not fail on a bad app; running says why
            ctx.meta["heron.app_error"] = exc
            application = None
        commands: Any = getattr(application, "commands", None)
        if callable(commands):
            ctx.meta["heron.app"] = application
            try:
                offered = list(commands())
            except Exception as exc:  # a plugin's commands() failed: say so when run
                ctx.meta["heron.app_error"] = exc
                offered = []
            for command in offered:
                if command.name and command.name not in self.commands:
                    found[command.name] = command
        ctx.meta["heron.app_commands"] = found
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*sorted(self.commands), *sorted(self._app_commands(ctx))]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            command = self._app_commands(ctx).get(cmd_name)
        if command is None and ctx.meta.get("heron.app_error") is not None:
            error = ctx.meta["heron.app_error"]
            raise click.UsageError(f"No such command {cmd_name!r}; the app, which may add "
                                   f"it, could not be loaded: {error}")
        if command is None:
            component = _component_offering(cmd_name, ctx.meta.get("heron.app"))
            if component is not None:
                raise click.UsageError(f"`heron {cmd_name}` is a command of the {component} "
                                       f"component, which the app does not use; add it: "
                                       f"App(components=[{component!r}, ...]).")
        return command


def _component_offering(cmd_name: str, application: Any) -> str | None:
    """The installed component, not used by the app, whose plugin offers ``cmd_name``.

    Components declare themselves under the ``heron.components`` entry point
    (heron.auth does, in heron's pyproject.toml); only asked when a command is missing.
    """
    if application is None:
        return None
    from importlib.metadata import entry_points

    from heron.plugins import load_plugin

    for entry in entry_points(group="heron.components"):
        if entry.name in application.plugins:
            continue
        try:
            offered = load_plugin(entry.value).commands(application)
            if any(command.name == cmd_name for command in offered):
                return entry.name
        except Exception:  # a broken component must not hide the real error
            continue
    return None


@click.group(cls=HeronGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--app", "app", metavar="APP", is_eager=True, expose_value=False,
              callback=lambda ctx, _param, value: ctx.meta.__setitem__("heron.app_spec", value),
              help="The app whose own commands to offer (default: HERON_APP or app.py).")
@click.version_option(__version__, "--version", prog_name="heron", message="%(prog)s %(version)s")
def main() -> None:
    """heron: run, inspect and manage a heron app.

    The app is found from the APP argument (module:attr, module:create_app()
    or module), HERON_APP (the environment, then .env), or app.py in the
    current folder.  Commands the app adds (@app.cli.command(), its components
    and plugins) are listed after heron's own.
    """


main.add_command(run_command)
main.add_command(routes_command)
main.add_command(check_command)
main.add_command(db_group)
main.add_command(shell_command)
main.add_command(new_group)
main.add_command(collectstatic_command)
