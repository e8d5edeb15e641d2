"""heron's own catalog (src/heron/locales/): every message heron marks has a German
translation, and the shipped .mo and .pot files are what the .po and the source give.

The messages are extracted from heron's source here, the way ``heron i18n extract
--component heron`` does (the same keywords, file patterns and Jinja options), so a
new message without a German translation fails this test with its text and place.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import heron
from heron.i18n._catalogs import HERON_LOCALES
from heron.i18n.commands import _JINJA_OPTIONS, KEYWORDS, METHOD_MAP

HERON = Path(heron.__file__).resolve().parent
GERMAN = HERON_LOCALES / "de" / "LC_MESSAGES" / "messages.po"

Key = tuple[str | None, str]


@pytest.fixture(scope="module")
def extracted() -> dict[Key, tuple[Any, list[tuple[str, int]]]]:
    """heron's messages as ``heron i18n extract -c heron`` finds them:
    ``{(context, msgid): (msgid or (singular, plural), [(file, line)])}``."""
    options = {pattern: _JINJA_OPTIONS for pattern, method in METHOD_MAP if "jinja" in method}
    found: dict[Key, tuple[Any, list[tuple[str, int]]]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            HERON, METHOD_MAP, options, KEYWORDS, ("Translators:",)):
        if Path(filename).parts[:1] == ("locales",):
            continue
        key = (context, message[0] if isinstance(message, tuple) else message)
        if key in found:
            found[key][1].append((filename, lineno))
        else:
            found[key] = (message, [(filename, lineno)])
    return found


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def test_heron_marks_its_text_in_every_battery(
        extracted: dict[Key, tuple[Any, list[tuple[str, int]]]]) -> None:
    files = {place[0].split("/")[0] for _, places in extracted.values() for place in places}
    assert {"admin", "auth", "forms", "_errors.py", "i18n"} <= files
    assert (None, "Save and add another") in extracted
    assert ("filter", "All") in extracted  # a context for a word with several meanings
    plural = extracted[(None, "%(count)d %(name)s deleted.")][0]
    assert plural == ("%(count)d %(name)s deleted.", "%(count)d %(name)s deleted.")


def test_every_message_of_heron_has_a_german_translation(
        extracted: dict[Key, tuple[Any, list[tuple[str, int]]]]) -> None:
    catalog = _read(GERMAN, "de")
    assert catalog.num_plurals == 2
    problems = []
    for (context, msgid), (message, places) in sorted(
            extracted.items(), key=lambda item: (item[0][1], item[0][0] or "")):
        entry = catalog.get(msgid, context=context)
        where = ", ".join(f"{file}:{line}" for file, line in places)
        if entry is None:
            problems.append(f"not in de/messages.po: {msgid!r} ({where})")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy or not all(strings):
            problems.append(f"untranslated or fuzzy: {msgid!r} ({where})")
        if isinstance(message, tuple) != isinstance(entry.id, tuple):
            problems.append(f"plural in one place, not in the other: {msgid!r} ({where})")
    assert not problems, (
        "Translate these in src/heron/locales/de/LC_MESSAGES/messages.po (heron i18n "
        "extract/update/compile -c heron):\n" + "\n".join(problems))
    stale = [entry.id for entry in catalog if entry.id and (
        entry.context, entry.id[0] if isinstance(entry.id, tuple) else entry.id)
        not in extracted]
    assert not stale, f"messages heron no longer has (run heron i18n update -c heron): {stale}"
    errors = [(entry.id, error) for entry, error in catalog.check()]
    assert not errors  # placeholders match their msgid's


def test_the_shipped_mo_is_compiled_from_the_po(tmp_path: Path) -> None:
    catalog = _read(GERMAN, "de")
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    shipped = GERMAN.with_suffix(".mo").read_bytes()
    assert shipped == compiled.getvalue(), \
        "src/heron/locales/de/LC_MESSAGES/messages.mo is stale: run heron i18n compile -c heron"


def test_the_shipped_pot_holds_heron_s_messages(
        extracted: dict[Key, tuple[Any, list[tuple[str, int]]]]) -> None:
    template = _read(HERON_LOCALES / "messages.pot")
    shipped = {(entry.context, entry.id[0] if isinstance(entry.id, tuple) else entry.id)
               for entry in template if entry.id}
    assert shipped == set(extracted), \
        "src/heron/locales/messages.pot is stale: run heron i18n extract -c heron"


def test_forms_messages_follow_the_language_with_their_values_and_plurals() -> None:
    from heron.datastructures import FormData
    from heron.forms import Form, field
    from heron.forms.messages import pydantic_message
    from heron.i18n import override

    class HcatTrip(Form):
        name: str = field(max_length=1)
        nights: int = field(ge=1)
        tags: list[str] = field(choices=["a", "b", "c"], min_length=2)

    data = FormData([("name", "Ulm"), ("nights", "0"), ("tags", "a")])
    with override("de"):
        assert HcatTrip(data).errors == {
            "name": ["Dieser Wert darf höchstens 1 Zeichen haben."],
            "nights": ["Dieser Wert muss größer oder gleich 1 sein."],
            "tags": ["Bitte mindestens 2 Einträge auswählen."]}
        # pydantic's own English sentence gives way to heron's, in German
        assert pydantic_message({"type": "uuid_parsing", "msg": "Input should be a valid UUID"}
                                ) == "Bitte einen gültigen Wert eingeben."
    assert HcatTrip(data).errors == {
        "name": ["Ensure this value has at most 1 character."],
        "nights": ["Ensure this value is greater than or equal to 1."],
        "tags": ["Select at least 2 items."]}
    assert pydantic_message({"type": "uuid_parsing", "msg": "Input should be a valid UUID"}
                            ) == "Input should be a valid UUID."
