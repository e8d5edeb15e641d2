"""Localized formats and humanize helpers (en and de), lazy strings, overrides, checks,
and the cost of heron.i18n for an app that offers one language."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from heron import App
from heron.i18n import (
    LazyString,
    activate,
    deactivate,
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_number,
    format_percent,
    format_time,
    get_language,
    get_timezone,
    gettext,
    gettext_lazy,
    intcomma,
    localtime,
    make_aware,
    naturalday,
    naturaltime,
    ngettext,
    ngettext_lazy,
    npgettext,
    ordinal,
    override,
    override_timezone,
    pgettext,
    pgettext_lazy,
    text_direction,
)
from heron.testing import TestClient

NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)


def test_numbers_dates_and_currencies_in_english_and_german() -> None:
    moment = dt.datetime(2026, 5, 4, 22, 30, tzinfo=dt.UTC)
    with override("en"):
        assert format_number(1234567.891) == "1,234,567.891"
        assert format_decimal(Decimal("1234.5"), "#,##0.00") == "1,234.50"
        assert format_currency(1234.5, "USD") == "$1,234.50"
        assert format_percent(0.256) == "26%"
        assert format_date(dt.date(2026, 5, 4), "long") == "May 4, 2026"
        assert format_time(dt.time(14, 5), "short") == "2:05\u202fPM"
    with override("de"):
        assert format_number(1234567.891) == "1.234.567,891"
        assert format_currency(1234.5, "EUR") == "1.234,50\xa0€"
        assert format_percent(0.256) == "26\xa0%"
        assert format_date(dt.date(2026, 5, 4), "long") == "4. Mai 2026"
        assert format_number(1234.5, locale="en") == "1,234.5"
        with override_timezone("Europe/Berlin"):
            # 22:30 UTC is already the next day in Berlin.
            assert format_date(moment) == "05.05.2026"
            assert format_datetime(moment, "short") == "05.05.26, 00:30"
            assert format_time(moment, "short") == "00:30"
        assert format_datetime(moment, "short", tzinfo="America/New_York") == "04.05.26, 18:30"


def test_humanize_in_english_and_german() -> None:
    with override("en"):
        assert naturaltime(NOW - dt.timedelta(minutes=3), now=NOW) == "3 minutes ago"
        assert naturaltime(NOW + dt.timedelta(hours=2), now=NOW) == "in 2 hours"
        assert naturaltime(NOW - dt.timedelta(seconds=2), now=NOW) == "now"
        assert naturaltime(dt.timedelta(days=2)) == "2 days ago"
        assert intcomma(1234567) == "1,234,567"
        assert intcomma("12345.5") == "12,345.5"
        assert intcomma("not a number") == "not a number"
        assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101)] == [
            "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd",
            "101st"]
        assert naturalday(dt.date(2026, 5, 4), today=dt.date(2026, 5, 4)) == "today"
        assert naturalday(dt.date(2026, 5, 3), today=dt.date(2026, 5, 4)) == "yesterday"
        assert naturalday(dt.date(2026, 5, 5), today=dt.date(2026, 5, 4)) == "tomorrow"
        assert naturalday(dt.date(2026, 5, 9), today=dt.date(2026, 5, 4)) == "May 9, 2026"
    with override("de"):
        assert naturaltime(NOW - dt.timedelta(minutes=3), now=NOW) == "vor 3 Minuten"
        assert naturaltime(NOW + dt.timedelta(hours=2), now=NOW) == "in 2 Stunden"
        assert intcomma(1234567) == "1.234.567"
        assert ordinal(2) == "2."
        assert naturalday(dt.date(2026, 5, 9), today=dt.date(2026, 5, 4)) == "09.05.2026"
    assert ordinal(1, locale="fr") == "1er"
    assert ordinal(5, locale="ja") == "5"  # no rule for Japanese: the number


def test_right_to_left() -> None:
    assert [text_direction(code) for code in ("ar", "he", "fa", "ur", "en", "de", "ja")] == [
        "rtl", "rtl", "rtl", "rtl", "ltr", "ltr", "ltr"]
    assert text_direction("ar-eg") == "rtl"
    assert text_direction("xx-unknown") == "ltr"


def test_time_zone_helpers() -> None:
    naive = dt.datetime(2026, 1, 15, 9, 30)
    assert make_aware(naive, "America/New_York") == dt.datetime(2026, 1, 15, 14, 30,
                                                               tzinfo=dt.UTC)
    with override_timezone("Europe/Berlin") as zone:
        assert get_timezone() is zone
        assert localtime(dt.datetime(2026, 7, 1, 10, 0)).hour == 12  # naive = UTC
        assert make_aware(dt.datetime(2026, 7, 1, 12, 0)).hour == 10
    with pytest.raises(ValueError, match="Unknown time zone"), \
            override_timezone("Nowhere/Special"):
        pass


def test_lazy_strings_translate_when_used(tmp_path: Path) -> None:
    po_folder = tmp_path / "locales" / "de" / "LC_MESSAGES"
    po_folder.mkdir(parents=True)
    _write_mo(po_folder / "messages.mo", {
        "Name": "Name (de)", ("menu", "File"): "Datei",
        ("%(n)d file", "%(n)d files"): ("%(n)d Datei", "%(n)d Dateien")})
    app = App(root=tmp_path, secret_key="x", languages=["en", "de"])
    label = gettext_lazy("Name")
    menu = pgettext_lazy("menu", "File")
    files = ngettext_lazy("%(n)d file", "%(n)d files", 3)
    assert isinstance(label, LazyString)
    with override("de", app):
        assert str(label) == "Name (de)"
        assert label == "Name (de)"
        assert f"{menu}!" == "Datei!"
        assert files % {"n": 3} == "3 Dateien"
        assert ngettext("%(n)d file", "%(n)d files", 1) == "%(n)d Datei"
        assert npgettext("x", "a", "b", 2) == "b"
        assert pgettext("menu", "File") == "Datei"
        assert gettext("A message no catalog has") == "A message no catalog has"
        assert label.upper() == "NAME (DE)"
        assert "de" in label
        assert len(label) == 9
        assert label.__html__() == "Name (de)"
        assert get_language() == "de"
    assert str(label) == "Name"
    assert pickle.loads(pickle.dumps(label)) == "Name"
    token = activate("de", app)
    try:
        assert gettext("Name") == "Name (de)"
        with override("de-AT", app):  # a regional variant falls back to its language
            assert gettext("Name") == "Name (de)"
            assert get_language() == "de-at"
    finally:
        deactivate(token)
    assert gettext("Name") == "Name"


def _write_mo(path: Path, messages: dict[object, object]) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    catalog = Catalog(locale="de")
    for key, value in messages.items():
        context = None
        if isinstance(key, tuple) and not isinstance(value, tuple):
            context, key = key
        catalog.add(key, value, context=context)  # type: ignore[arg-type]
    with path.open("wb") as file:
        write_mo(file, catalog)


@pytest.mark.parametrize(("settings", "ids"), [
    ({"languages": ["en", "de"], "language_code": "fr"}, ["heron.i18n.E002"]),
    ({"languages": ["en", "not a code"]}, ["heron.i18n.E001"]),
    ({"languages": []}, ["heron.i18n.E001", "heron.i18n.E002"]),
    ({"time_zone": "Mars/Olympus"}, ["heron.i18n.E003"]),
])
def test_bad_settings_fail_at_startup(tmp_path: Path, settings: dict[str, object],
                                      ids: list[str]) -> None:
    app = App(root=tmp_path, secret_key="x", allowed_hosts=["testserver"],
              **settings)  # type: ignore[arg-type]
    assert sorted(problem.id for problem in app.check()) == ids
    with pytest.raises(RuntimeError, match=ids[0]), TestClient(app):
        pass


def test_templates_translate_with_one_language_and_no_babel(tmp_path: Path) -> None:
    # The default app (one language) renders {% trans %} without importing Babel or
    # adding any middleware.
    script = textwrap.dedent("""
        import json, sys
        from pathlib import Path
        from heron import App, render
        from heron.testing import TestClient

        root = Path(sys.argv[1])
        (root / "templates").mkdir()
        (root / "templates" / "t.html").write_text(
            '<html lang="{{ language }}" dir="{{ language_dir }}">'
            '{% trans %}Hello{% endtrans %} {{ _("World") }}</html>')
        app = App(root=root, secret_key="x")

        @app.get("/")
        async def index(request):
            return render(request, "t.html")

        with TestClient(app) as client:
            text = client.get("/").text
            missing = client.get("/missing").text
        print(json.dumps([text, "<html lang=\\"en\\">" in missing, "babel" in sys.modules,
                          type(app._stack).__name__]))
    """)
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True,
                            capture_output=True, text=True, timeout=60)
    text, error_lang, babel_loaded, _ = json.loads(result.stdout.strip().splitlines()[-1])
    assert text == '<html lang="en" dir="ltr">Hello World</html>'
    assert error_lang is True
    assert babel_loaded is False


def test_the_template_filters(tmp_path: Path) -> None:
    from heron import render

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "f.html").write_text(
        "{{ 1234|intcomma }}|{{ 3|ordinal }}|{{ 0.5|percent }}|{{ 9.5|currency('EUR') }}|"
        "{{ d|date('short') }}|{{ t|time('short') }}|{{ ago|naturaltime }}|"
        "{{ d|naturalday }}|{{ none|date }}|{{ 12.5|decimal('0.00') }}")
    app = App(root=tmp_path, secret_key="x", languages=["en", "de"])

    @app.get("/")
    async def index(request):  # type: ignore[no-untyped-def]
        return render(request, "f.html", d=dt.date(2026, 1, 2), t=dt.time(9, 5),
                      ago=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5), none=None)

    with TestClient(app) as client:
        assert client.get("/").text == (
            "1,234|3rd|50%|€9.50|1/2/26|9:05\u202fAM|5 minutes ago|Jan 2, 2026||12.50")
        german = client.get("/", headers={"accept-language": "de"}).text
        assert german == ("1.234|3.|50\xa0%|9,50\xa0€|02.01.26|09:05|vor 5 Minuten|"
                          "02.01.2026||12,50")


def test_text_direction_follows_the_active_language_each_call() -> None:
    # The active language is read on every call (a cache keyed on "no argument" once
    # kept the first answer), and the direction comes from Babel's locale data.
    from heron.i18n import override, text_direction

    with override("ar"):
        assert text_direction() == "rtl"
    with override("en"):
        assert text_direction() == "ltr"
    with override("he"):
        assert text_direction() == "rtl"
    assert text_direction("fa-IR") == "rtl"
    assert text_direction("de") == "ltr"
