"""``heron i18n``: update keeps translations and adds new messages; each mistake says
what to run instead; components and lazy/context keywords are extracted."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from heron.cli import main

APP = '''
from pathlib import Path
from heron import App
from heron.i18n import gettext as _, gettext_lazy, pgettext_lazy, npgettext

app = App(secret_key="x", root=Path(__file__).parent)
LABEL = gettext_lazy("Label")
MENU = pgettext_lazy("menu", "Open")
# Translators: the count of unread letters
UNREAD = lambda n: npgettext("mail", "%(n)d letter", "%(n)d letters", n)
'''


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "postroom_app.py").write_text(APP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("postroom_app", None)
    yield tmp_path
    sys.modules.pop("postroom_app", None)


def heron(*args: str) -> Result:
    return CliRunner().invoke(main, ["--app", "postroom_app:app", "i18n", *args])


def test_extract_finds_every_keyword_and_translator_comments(project: Path) -> None:
    assert heron("extract").exit_code == 0
    pot = (project / "locales" / "messages.pot").read_text()
    assert 'msgid "Label"' in pot
    assert 'msgctxt "menu"\nmsgid "Open"' in pot
    assert 'msgctxt "mail"\nmsgid "%(n)d letter"\nmsgid_plural "%(n)d letters"' in pot
    assert "#. the count of unread letters" in pot


def test_update_keeps_translations_and_adds_new_messages(project: Path) -> None:
    from babel.messages.pofile import read_po, write_po

    assert heron("extract").exit_code == 0
    assert heron("init", "-l", "pt-br").exit_code == 0
    po = project / "locales" / "pt_BR" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as file:
        catalog = read_po(file)
    catalog["Label"].string = "Rótulo"
    with po.open("wb") as file:
        write_po(file, catalog)
    source = project / "postroom_app.py"
    source.write_text(source.read_text() + 'NEW = gettext_lazy("Inbox")\n')
    assert heron("extract").exit_code == 0
    updated = heron("update")
    assert updated.exit_code == 0, updated.output
    assert "updated " in updated.output
    assert "1 of 4 messages translated" in updated.output
    text = po.read_text()
    assert 'msgid "Inbox"' in text
    assert 'msgstr "Rótulo"' in text
    compiled = heron("compile", "-l", "pt-br")
    assert "compiled " in compiled.output
    assert (po.with_suffix(".mo")).is_file()


def test_mistakes_say_what_to_run(project: Path) -> None:
    early = heron("init", "-l", "de")
    assert early.exit_code != 0
    assert "run `heron i18n extract` first" in early.output
    assert heron("extract").exit_code == 0
    no_catalog = heron("compile")
    assert no_catalog.exit_code != 0
    assert "run `heron i18n init -l LANG` first" in no_catalog.output
    missing = heron("update", "-l", "fr")
    assert "No catalog for 'fr' yet" in missing.output
    assert "heron i18n init -l fr" in missing.output
    unknown = heron("init", "-l", "xx-nowhere")
    assert unknown.exit_code != 0
    assert "is no language code Babel knows" in unknown.output
    assert heron("init", "-l", "de").exit_code == 0
    twice = heron("init", "-l", "de")
    assert twice.exit_code != 0
    assert "exists already; run `heron i18n update`" in twice.output
    nowhere = heron("extract", "--component", "no_such_package_here")
    assert nowhere.exit_code != 0
    assert "No component or package 'no_such_package_here'" in nowhere.output


def test_a_component_has_its_own_catalogs(project: Path) -> None:
    package = project / "postroom_parcels"
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "templates" / "parcel.html").write_text(
        "<p>{% trans %}Your parcel{% endtrans %}</p>{{ _('Track it') }}")
    result = heron("extract", "--component", "postroom_parcels")
    assert result.exit_code == 0, result.output
    assert "extracting templates/parcel.html (template)" in result.output
    pot = (package / "locales" / "messages.pot").read_text()
    assert 'msgid "Your parcel"' in pot
    assert 'msgid "Track it"' in pot
    assert not (project / "locales").exists()
