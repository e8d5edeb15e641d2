"""The ``heron`` command line: ``heron run``, ``heron routes``, ``heron check``...

Each command lives in its own module; components and later batteries add
commands to :data:`main` (a click group).
"""

from __future__ import annotations

import click

from heron.__about__ import __version__
from heron.cli.auth import changepassword_command, createsuperuser_command
from heron.cli.db import db_group
from heron.cli.inspect import check_command, routes_command
from heron.cli.serve import run_command
from heron.cli.shell import shell_command

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="heron", message="%(prog)s %(version)s")
def main() -> None:
    """heron: run, inspect and manage a heron app.

    The app is found from the APP argument (module:attr or module), the
    HERON_APP environment variable, or app.py in the current folder.
    """


main.add_command(run_command)
main.add_command(routes_command)
main.add_command(check_command)
main.add_command(db_group)
main.add_command(shell_command)
main.add_command(createsuperuser_command)
main.add_command(changepassword_command)
