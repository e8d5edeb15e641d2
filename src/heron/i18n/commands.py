"""``heron i18n extract | init | update | compile``: message catalogs with Babel.

Each command works on one package: the app's own (its root folder, the default),
a component (``--component blog``) or heron's own (``--component heron``).  Its
catalogs live in ``<package>/locales/``: ``messages.pot`` (the extracted template)
and ``<lang>/LC_MESSAGES/messages.po`` / ``.mo`` (docs/i18n.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from heron.i18n._catalogs import DOMAIN, to_locale

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

    from heron.app import App

__all__ = ["i18n_group"]

#: The functions whose string arguments are messages (Babel's keyword specs).
KEYWORDS: dict[str, Any] = {
    "_": None, "gettext": None, "gettext_lazy": None,
    "ngettext": (1, 2), "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2), "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
_TEMPLATES = ("html", "htm", "xml", "txt", "jinja", "j2")
METHOD_MAP = [("**.py", "python")] + [
    (f"**/templates/**.{ext}", "jinja2.ext:babel_extract") for ext in _TEMPLATES]
_JINJA_OPTIONS = {"extensions": "jinja2.ext.do", "trimmed": "false"}


def _app() -> App | None:
    found: App | None = click.get_current_context().meta.get("heron.app")
    return found


def package_folder(component: str | None) -> Path:
    """The folder of the package whose catalogs a command works on."""
    app = _app()
    if component is None:
        if app is None:
            raise click.UsageError("No app is loaded: run this through the heron command "
                                   "(heron --app APP i18n ...), or give --component.")
        return app.root
    if app is not None and component in app.components:
        module = app.components[component].module
    else:
        try:
            module = importlib.import_module(component)
        except ImportError as exc:
            raise click.UsageError(f"No component or package {component!r}: {exc}") from exc
    if not getattr(module, "__file__", None):
        raise click.UsageError(f"{component!r} is not a package with a folder")
    return Path(module.__file__).resolve().parent  # type: ignore[arg-type]


def _parse_language(language: str) -> Any:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(to_locale(language))
    except (UnknownLocaleError, ValueError) as exc:
        raise click.BadParameter(f"{language!r} is no language code Babel knows "
                                 "(use codes like de, fr, pt-br)", param_hint="--language") from exc


def _po_files(locales: Path, language: str | None) -> Iterator[tuple[str, Path]]:
    if language is not None:
        name = to_locale(language)
        path = locales / name / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not path.is_file():
            raise click.ClickException(
                f"No catalog for {language!r} yet ({path}); run `heron i18n init -l {language}`"
                " first")
        yield name, path
        return
    found = sorted(locales.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    if not found:
        raise click.ClickException(f"No catalogs in {locales} yet; run `heron i18n init -l "
                                   "LANG` first")
    for path in found:
        yield path.parents[1].name, path


def _read_po(path: Path, locale: Any = None) -> Catalog:
    from babel.messages.pofile import read_po

    with path.open("rb") as file:
        return read_po(file, locale=locale, domain=DOMAIN)


def _write_po(catalog: Catalog, path: Path, **options: Any) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        write_po(file, catalog, width=76, **options)


def _template(locales: Path) -> Path:
    pot = locales / f"{DOMAIN}.pot"
    if not pot.is_file():
        raise click.ClickException(f"No {pot} yet; run `heron i18n extract` first")
    return pot


component_option = click.option(
    "--component", "-c", default=None, metavar="NAME",
    help="A component (or package, 'heron' for heron's own); default: the app's own folder.")


@click.group("i18n")
def i18n_group() -> None:
    """Translations: extract messages, start, update and compile catalogs."""


@i18n_group.command("extract")
@component_option
def extract_command(component: str | None) -> None:
    """Collect the messages of Python files and templates into locales/messages.pot."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    folder = package_folder(component)
    locales = folder / "locales"
    catalog = Catalog(project=component or folder.name, charset="utf-8", fuzzy=False)

    def progress(filename: str, method: str, options: dict[str, str]) -> None:
        kind = "template" if "jinja" in method else "python"
        click.echo(f"  extracting {filename} ({kind})")

    options = {pattern: _JINJA_OPTIONS for pattern, method in METHOD_MAP if "jinja" in method}
    for filename, lineno, message, comments, context in extract_from_dir(
            folder, METHOD_MAP, options, KEYWORDS, ("Translators:",), callback=progress,
            strip_comment_tags=True):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments,
                    context=context)
    pot = locales / f"{DOMAIN}.pot"
    _write_po(catalog, pot, sort_by_file=True)
    click.echo(f"wrote {pot} ({len(catalog)} messages)")


@i18n_group.command("init")
@component_option
@click.option("--language", "-l", required=True, help="The new catalog's language (de).")
def init_command(component: str | None, language: str) -> None:
    """Start the catalog of a new language from locales/messages.pot."""
    locale = _parse_language(language)
    locales = package_folder(component) / "locales"
    pot = _template(locales)
    path = locales / to_locale(language) / "LC_MESSAGES" / f"{DOMAIN}.po"
    if path.exists():
        raise click.ClickException(f"{path} exists already; run `heron i18n update` to merge "
                                   "new messages into it")
    catalog = _read_po(pot, locale)
    catalog.locale = locale
    catalog.revision_date = catalog.creation_date
    catalog.fuzzy = False
    _write_po(catalog, path)
    click.echo(f"created {path} ({len(catalog)} messages to translate)")


@i18n_group.command("update")
@component_option
@click.option("--language", "-l", default=None, help="Only this language's catalog.")
def update_command(component: str | None, language: str | None) -> None:
    """Merge locales/messages.pot into every catalog (new messages, obsolete ones)."""
    locales = package_folder(component) / "locales"
    template = _read_po(_template(locales))
    for name, path in _po_files(locales, language):
        catalog = _read_po(path, _parse_language(name))
        catalog.update(template, no_fuzzy_matching=False)
        _write_po(catalog, path, ignore_obsolete=False)
        click.echo(f"updated {path} ({_progress(catalog)})")


@i18n_group.command("compile")
@component_option
@click.option("--language", "-l", default=None, help="Only this language's catalog.")
def compile_command(component: str | None, language: str | None) -> None:
    """Compile every catalog (.po) into the .mo file heron reads."""
    from babel.messages.mofile import write_mo

    locales = package_folder(component) / "locales"
    for name, path in _po_files(locales, language):
        catalog = _read_po(path, _parse_language(name))
        errors = [(message.id, error) for message, error in catalog.check()]
        for message_id, error in errors:
            click.echo(f"  {path}: {message_id!r}: {error}", err=True)
        mo = path.with_suffix(".mo")
        with mo.open("wb") as file:
            write_mo(file, catalog, use_fuzzy=False)
        click.echo(f"compiled {mo} ({_progress(catalog)})")
    app = _app()
    if app is not None and "_heron_i18n_catalogs" in app.__dict__:
        app.__dict__["_heron_i18n_catalogs"].clear()


def _progress(catalog: Catalog) -> str:
    messages = [message for message in catalog if message.id]
    done = sum(1 for message in messages if message.string and not message.fuzzy
               and (not isinstance(message.string, tuple) or all(message.string)))
    return f"{done} of {len(messages)} messages translated"
