"""``heron collectstatic``: gather the static files for production (docs/static-files.md).

Every file of the app's static folder, its components' and its plugins' goes into
``static_root`` twice: under its name and under a content-hashed name
(``css/site.3f2a9c1b0d4e.css``), with ``.gz`` (and, with ``heron[brotli]``, ``.br``)
copies next to each, and ``staticfiles.json`` mapping names to hashed names.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType

import click

from heron._static import (
    MANIFEST_NAME,
    collected_folder,
    root_problems,
    static_folders,
)
from heron.cli import _collect
from heron.cli._app import app_options, load_app

__all__ = ["collectstatic_command"]

#: From this many files on, a progress bar shows (below it, the counts are enough).
BAR_THRESHOLD = 100


@click.command("collectstatic")
@app_options()
@click.option("--clear", is_flag=True,
              help="Empty static_root first, removing files of earlier versions.")
@click.option("-n", "--dry-run", is_flag=True, help="Say what would be done; write nothing.")
@click.option("--no-compress", is_flag=True, help="Write no .gz or .br copies.")
@click.option("-v", "--verbose", is_flag=True, help="Name every file written.")
def collectstatic_command(app: str | None, clear: bool, dry_run: bool, no_compress: bool,
                          verbose: bool) -> None:
    """Gather every static file into static_root for production: hashed names, a
    manifest, url() in CSS pointing at hashed names, gzip and brotli copies.

    Run it on every deploy; it writes only what changed.  With debug off the app
    then serves static_root and static() in templates gives hashed URLs.
    """
    application, spec = load_app(app)
    problems = root_problems(application)
    for problem in problems:
        click.echo(f"{problem.id}: {problem.message}", err=True)
    if problems:
        sys.exit(1)
    root = collected_folder(application)
    folders = [folder for folder in static_folders(application) if folder.is_dir()]
    prefix = application.settings.static_url.rstrip("/") + "/"
    would = "would be " if dry_run else ""
    click.echo(f"Collecting the static files of {spec} into {_show(root)}"
               + (" (dry run: nothing is written)" if dry_run else ""))
    if clear:
        _clear(root, dry_run, would)
    sources, hidden = _collect.gather(folders)
    sources = _drop_manifest_name(sources)
    click.echo(f"  {_count(len(sources), 'file')} in {_count(len(folders), 'folder')}"
               + "".join(f"\n    {_show(folder)}" for folder in folders))
    if hidden:
        click.echo(f"  {_count(len(hidden), 'file')} hidden by a file of the same name in an "
                   "earlier folder (the one served)")
        if verbose:
            for source in hidden:
                click.echo(f"    {source.name}: {_show(source.path)} not used")
    brotli = None if no_compress else _collect.load_brotli()
    if not no_compress and brotli is None:
        click.echo('  note: brotli is not installed, so only .gz copies are written; '
                   'pip install "heron[brotli]" for .br copies too')
    plan, done = _run(sources, root, prefix, dry_run, not no_compress, brotli, verbose,
                      fresh=clear)
    if verbose:
        for name in done.copied:
            click.echo(f"    {name} {would}written")
    _report(plan, done, root, would, no_compress, brotli is not None)


def _run(sources: list[_collect.Source], root: Path, prefix: str, dry_run: bool,
         compress: bool, brotli: ModuleType | None, verbose: bool, *, fresh: bool,
         ) -> tuple[_collect.Plan, _collect.Collected]:
    """Hash and write, behind a progress bar when there are many files."""
    if len(sources) < BAR_THRESHOLD or verbose:
        plan = _collect.plan(sources, prefix)
        done = _collect.write(plan, root, dry_run=dry_run, compress=compress, brotli=brotli,
                              fresh=fresh)
        return plan, done
    with click.progressbar(length=2 * len(sources), label="  hashing and writing") as bar:
        plan = _collect.plan(sources, prefix, progress=lambda source: bar.update(1))
        done = _collect.write(plan, root, dry_run=dry_run, compress=compress, brotli=brotli,
                              fresh=fresh, progress=lambda name: bar.update(1))
    return plan, done


def _report(plan: _collect.Plan, done: _collect.Collected, root: Path, would: str,
            no_compress: bool, has_brotli: bool) -> None:
    click.echo(f"  {_count(len(done.copied), 'file')} {would}written, "
               f"{len(done.unchanged)} unchanged (each of the {_count(len(plan.paths), 'file')} "
               "under its name and its hashed name)")
    click.echo(f"  {_count(plan.rewritten, 'reference')} (url() and @import) "
               f"{would}rewritten to hashed names in {_count(plan.restyled, 'CSS file')}")
    if not no_compress:
        kinds = [f"{done.compressed['gzip']} .gz"]
        if has_brotli:
            kinds.append(f"{done.compressed['brotli']} .br")
        click.echo(f"  compressed copies: {', '.join(kinds)} (files under "
                   f"{_collect.MIN_COMPRESS_SIZE} bytes and compressed kinds are left out)")
    for css_name, url in plan.missing:
        click.echo(f"warning: {css_name} refers to {url}, which is no static file; "
                   "left as it is", err=True)
    if plan.cycles:
        click.echo("note: these CSS files refer to one another, so they link to each other's "
                   f"plain names: {', '.join(plan.cycles)}", err=True)
    click.echo(f"Manifest {would}written: {_show(root / MANIFEST_NAME)} "
               f"({_count(len(plan.paths), 'name')})")


def _clear(root: Path, dry_run: bool, would: str) -> None:
    if root.is_dir() and any(root.iterdir()) and not (root / MANIFEST_NAME).is_file():
        raise click.ClickException(
            f"--clear would empty {_show(root)}, which holds files but no {MANIFEST_NAME}: "
            "heron collectstatic did not make it. Empty it yourself, or set static_root to "
            "another folder")
    removed = _collect.clear(root, dry_run)
    click.echo(f"  {_count(len(removed), 'entry', 'entries')} of {_show(root)} "
               f"{would}removed")


def _drop_manifest_name(sources: list[_collect.Source]) -> list[_collect.Source]:
    kept = [s for s in sources if s.name != MANIFEST_NAME]
    if len(kept) != len(sources):
        click.echo(f"warning: the static file {MANIFEST_NAME} is left out: the manifest takes "
                   "its name; rename it", err=True)
    return kept


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def _show(path: Path) -> str:
    """``path`` relative to the current folder when it is below it."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) \
            else str(path)
    except ValueError:
        return str(path)
