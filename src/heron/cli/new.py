"""``heron new``: start a project (``heron new project NAME``) or add a component to
one (``heron new component NAME``).

The files come from the templates in ``scaffold/`` (package data): each ``*.tmpl``
file is rendered with :class:`string.Template` (``${package}``, ``$$`` for a dollar
sign), and in paths ``__package__`` and ``__component__`` become the names and a
leading ``dot-`` a dot (``dot-env`` is ``.env``).
"""

from __future__ import annotations

import os
import secrets
import shlex
import string
from collections.abc import Mapping
from pathlib import Path

import click

from heron.__about__ import __version__
from heron.cli._scaffold import (
    CannotRegister,
    find_project,
    name_problem,
    register_component,
)

__all__ = ["new_group", "render_tree"]

#: The templates of each kind of scaffold, a folder each.
SCAFFOLD = Path(__file__).parent / "scaffold"
_SUFFIX = ".tmpl"


def render_tree(source: Path, target: Path, values: Mapping[str, str], *,
                keep: frozenset[str] = frozenset()) -> list[Path]:
    """Render every ``*.tmpl`` file under ``source`` into ``target``; return the paths
    written.  Files whose path relative to ``target`` is in ``keep`` and that exist
    already are left alone.

    Raises:
        KeyError, ValueError: a template names a value not in ``values``, or has a
            ``$`` that is not a placeholder (heron's own scaffold has neither).
    """
    written: list[Path] = []
    for template in sorted(source.rglob("*" + _SUFFIX)):
        parts = [_render_name(part, values) for part in template.relative_to(source).parts]
        path = target.joinpath(*parts)
        if "/".join(parts) in keep and path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        text = string.Template(template.read_text(encoding="utf-8")).substitute(values)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _render_name(part: str, values: Mapping[str, str]) -> str:
    part = part.removesuffix(_SUFFIX)
    if part.startswith("dot-"):
        part = "." + part.removeprefix("dot-")
    for marker in ("package", "component"):
        if marker in values:
            part = part.replace(f"__{marker}__", values[marker])
    return part


def _title(name: str) -> str:
    return " ".join(word.capitalize() for word in name.split("_") if word) or name


def _shown(path: Path) -> str:
    """``path`` as the user would type it from the current folder."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        relative = str(path)
    shown = str(path) if relative.startswith("..") else relative
    return shlex.quote(shown)


def _refuse_existing(target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise click.ClickException(f"{_shown(target)} exists and is not a folder.")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise click.ClickException(
            f"The folder {_shown(target)} exists already and is not empty; heron new does "
            "not overwrite it. Choose another name or folder, or pass --force to write "
            "into it (files of the same names are replaced).")


@click.group("new")
def new_group() -> None:
    """Start a project, or add a component to one."""


@new_group.command("project")
@click.argument("name")
@click.argument("directory", required=False,
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--minimal", is_flag=True, help="A one-file app (app.py) instead of a project.")
@click.option("--force", is_flag=True,
              help="Write into DIRECTORY even when it is not empty, replacing files of the "
                   "same names (an existing .env is kept).")
def new_project(name: str, directory: Path | None, minimal: bool, force: bool) -> None:
    """Make the project NAME in DIRECTORY (default: ./NAME), ready to run.

    A package NAME with the app (create_app(), with heron.auth and heron.admin),
    its settings read from the environment and .env (a secret key is generated),
    a components/ folder, templates/, static/, migrations/, tests/ using heron's
    pytest plugin, a pyproject.toml and a README.  --minimal makes a one-file app.
    """
    problem = name_problem(name, project=True)
    if problem:
        raise click.BadParameter(problem, param_hint="NAME")
    target = directory if directory is not None else Path(name)
    _refuse_existing(target, force)
    values = {"package": name, "title": _title(name), "heron_version": __version__,
              "secret_key": secrets.token_urlsafe(50)}
    kind = "minimal" if minimal else "project"
    written = render_tree(SCAFFOLD / kind, target, values, keep=frozenset({".env"}))
    what = "one-file app" if minimal else "project"
    click.echo(f"Created the {what} {name} in {_shown(target)} ({len(written)} files).")
    if target / ".env" not in written:
        click.echo("Kept the existing .env (its secret key and settings).")
    steps = [(f"cd {_shown(target)}", "")]
    if not minimal:
        steps += [("heron db migrate", "create the database, instance/db.sqlite3"),
                  ("heron createsuperuser", "a user who may log in to the admin")]
    steps.append(("heron run --reload", "http://127.0.0.1:8000/"
                  + ("" if minimal else " and the admin at /admin/")))
    _echo_steps(steps)
    if not minimal:
        click.echo("\nThen run the tests with `pytest`; README.md lists the other commands.")


@new_group.command("component")
@click.argument("name")
@click.option("--force", is_flag=True,
              help="Write into the component's folder even when it exists, replacing files "
                   "of the same names.")
def new_component(name: str, force: bool) -> None:
    """Add the component NAME to the project in this folder.

    It is made in PACKAGE/components/NAME/: its pages (routes.py, under /NAME/),
    a model (models.py) and its migrations/ folder, its admin (admin.py),
    templates/NAME/, static/NAME/ and tests/; then it is added to the app's
    components=[...] list (or the line to add is printed).
    """
    problem = name_problem(name, project=False)
    if problem:
        raise click.BadParameter(problem, param_hint="NAME")
    try:
        project = find_project(Path.cwd())
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    target = project.package_dir / "components" / name
    _refuse_existing(target, force)
    title = _title(name)
    values = {"package": project.package, "component": name, "title": title,
              "model": title.replace(" ", "") + "Entry"}
    written = render_tree(SCAFFOLD / "component", project.package_dir / "components", values)
    click.echo(f"Created the component {name} in {_shown(target)} ({len(written)} files).")
    dotted = f"{project.package}.components.{name}"
    if project.app_file is None:
        reason = "no app module was found"
    else:
        try:
            added = register_component(project.app_file, dotted)
        except CannotRegister as exc:
            reason = str(exc)
        else:
            done = "Added" if added else "It is listed already:"
            click.echo(f"{done} {dotted!r} in the components=[...] list of "
                       f"{_shown(project.app_file)}.")
            reason = ""
    if reason:
        click.echo(f"Add it to the components=[...] list of your App ({reason}), as "
                   f"this line:\n\n    \"{dotted}\",\n")
    _echo_steps([(f"heron db makemigrations -m {shlex.quote(name)}",
                  f"the migration of {values['model']}'s table"),
                 ("heron db migrate", "apply it"),
                 ("heron run --reload", f"its pages: http://127.0.0.1:8000/{name}/")])


def _echo_steps(steps: list[tuple[str, str]]) -> None:
    click.echo("\nNext steps:")
    width = max(len(command) for command, _ in steps)
    for command, comment in steps:
        click.echo(f"  {command.ljust(width)}  # {comment}" if comment else f"  {command}")
