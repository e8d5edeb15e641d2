"""heron.i18n in a real browser: Chromium's own Accept-Language chooses the page's
language, the language menu (a CSRF-checked POST to /i18n/setlang) switches it and the
cookie keeps it, an Arabic page is laid out right to left, and the dates and prices
follow the language and the visitor's time zone cookie.  Screenshots go to
build/test-artifacts/i18n/."""

from __future__ import annotations

import os
import secrets
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from app_server import AppServer  # tests/app_server.py
    from playwright.sync_api import Browser, ConsoleMessage, Page

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "test-artifacts" / "i18n"
APP = "polyglot_bakery:app"

SOURCE = '''
import datetime as dt
from pathlib import Path

from heron import App, render
from heron.i18n import gettext as _, gettext_lazy

TAGLINE = gettext_lazy("Bread baked before sunrise")
app = App(root=Path(__file__).parent)


@app.get("/")
async def index(request):
    return render(request, "index.html", tagline=TAGLINE, baked=dt.datetime(
        2026, 3, 14, 5, 30, tzinfo=dt.UTC), loaves=[(_("Rye"), 4.5), (_("Spelt"), 1234.5)])
'''

PAGE = '''<!doctype html>
<html lang="{{ language }}" dir="{{ language_dir }}">
<head><meta charset="utf-8"><title>{{ _("The Bakery") }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="{{ static('bakery.svg') }}">
<link rel="stylesheet" href="{{ static('bakery.css') }}"></head>
<body>
<header><h1>{{ _("The Bakery") }}</h1>
<form method="post" action="{{ url_for('heron_setlang') }}" class="languages">
  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
  <input type="hidden" name="next" value="/">
  <label for="language">{{ _("Language") }}</label>
  <select id="language" name="language">
    {% for code, name in [("en", "English"), ("de", "Deutsch"), ("ar", "العربية")] %}
    <option value="{{ code }}"{% if code == language %} selected{% endif %}>{{ name }}</option>
    {% endfor %}
  </select>
  <button>{{ _("Change") }}</button>
</form></header>
<main>
<p class="tagline">{{ tagline }}</p>
<p class="baked">{% trans when=baked|datetime("long") %}Baked at {{ when }}{% endtrans %}</p>
<ul>{% for name, price in loaves %}<li><span>{{ name }}</span>
<span class="price">{{ price|currency("EUR") }}</span></li>{% endfor %}</ul>
<p>{% trans count=loaves|length %}One kind today{% pluralize %}{{ count }} kinds today\
{% endtrans %}</p>
</main></body></html>
'''

CSS = '''
body { font: 17px/1.5 system-ui, sans-serif; margin: 0; background: #fbf7f0; color: #2b2118; }
header { display: flex; justify-content: space-between; align-items: center; gap: 1rem;
  padding: 1rem 2rem; background: #7a4b22; color: #fff; }
header h1 { margin: 0; font-size: 1.5rem; }
.languages { display: flex; gap: .5rem; align-items: center; }
.languages select, .languages button { font: inherit; padding: .25rem .5rem; }
main { max-width: 36rem; margin: 2rem auto; padding: 0 1.5rem; }
.tagline { font-size: 1.25rem; font-style: italic; }
ul { list-style: none; padding: 0; }
li { display: flex; justify-content: space-between; padding: .5rem 0;
  border-bottom: 1px solid #e3d5c2; }
.price { font-variant-numeric: tabular-nums; font-weight: 600; }
'''

TRANSLATIONS = {
    "de": {"The Bakery": "Die Bäckerei", "Language": "Sprache", "Change": "Wechseln",
           "Bread baked before sunrise": "Brot, gebacken vor Sonnenaufgang",
           "Rye": "Roggen", "Spelt": "Dinkel", "Baked at %(when)s": "Gebacken am %(when)s",
           "One kind today": ("Heute eine Sorte", "Heute %(count)s Sorten")},
    "ar": {"The Bakery": "المخبز", "Language": "اللغة", "Change": "تغيير",
           "Bread baked before sunrise": "خبز مخبوز قبل شروق الشمس",
           "Rye": "الجاودار", "Spelt": "الحنطة", "Baked at %(when)s": "خُبز في %(when)s",
           "One kind today": ("لا أنواع اليوم", "نوع واحد اليوم", "نوعان اليوم",
                              "%(count)s أنواع اليوم", "%(count)s نوعًا اليوم",
                              "%(count)s نوع اليوم")},
}


def _write_site(folder: Path) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    (folder / "polyglot_bakery.py").write_text(textwrap.dedent(SOURCE))
    (folder / "templates").mkdir()
    (folder / "templates" / "index.html").write_text(PAGE)
    (folder / "static").mkdir()
    (folder / "static" / "bakery.css").write_text(CSS)
    (folder / "static" / "bakery.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
        '<circle cx="8" cy="8" r="7" fill="#7a4b22"/></svg>')
    for language, messages in TRANSLATIONS.items():
        catalog = Catalog(locale=language)
        for message, text in messages.items():
            key = (message, "%(count)s kinds today") if isinstance(text, tuple) else message
            catalog.add(key, text)
        target = folder / "locales" / language / "LC_MESSAGES"
        target.mkdir(parents=True)
        with (target / "messages.mo").open("wb") as file:
            write_mo(file, catalog)


@pytest.fixture(scope="module")
def bakery(tmp_path_factory: pytest.TempPathFactory,
           serve_app: Callable[..., AppServer]) -> AppServer:
    folder = tmp_path_factory.mktemp("bakery")
    _write_site(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env.update({
        "HERON_SECRET_KEY": secrets.token_urlsafe(32),
        "HERON_DEBUG": "0",
        "HERON_ALLOWED_HOSTS": "127.0.0.1",
        "HERON_LANGUAGES": "en,de,ar",
        "HERON_TIME_ZONE_COOKIE_NAME": "tz",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    })
    return serve_app(APP, env)


def test_the_browsers_language_then_the_menu_then_right_to_left(
        browser: Browser, bakery: AppServer) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="de-DE", viewport={"width": 900, "height": 560})
    context.add_cookies([{"name": "tz", "value": "Europe/Berlin", "url": bakery.url}])
    page: Page = context.new_page()
    problems: list[ConsoleMessage] = []
    page.on("console", lambda message: problems.append(message)
            if message.type in ("error", "warning") else None)
    try:
        response = page.goto(bakery.url + "/")
        assert response is not None
        assert response.status == 200
        assert response.headers["content-language"] == "de"
        assert page.locator("h1").inner_text() == "Die Bäckerei"
        assert page.locator("html").get_attribute("dir") == "ltr"
        # 05:30 UTC is 06:30 in Berlin, written the German way; prices in euros, German style.
        assert "Gebacken am 14. März 2026, 06:30:00 MEZ" in page.locator(".baked").inner_text()
        assert page.locator(".price").all_inner_texts() == ["4,50\xa0€", "1.234,50\xa0€"]
        assert page.get_by_text("Heute 2 Sorten").is_visible()
        page.screenshot(path=SHOTS / "bakery-de.png", full_page=True)

        page.get_by_label("Sprache").select_option("ar")
        with page.expect_navigation():
            page.get_by_role("button", name="Wechseln").click()
        assert page.locator("html").get_attribute("lang") == "ar"
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("h1").inner_text() == "المخبز"
        # Laid out right to left: the title sits right of the language menu.
        title = page.locator("h1").bounding_box()
        menu = page.locator("form.languages").bounding_box()
        assert title is not None
        assert menu is not None
        assert title["x"] > menu["x"]
        page.screenshot(path=SHOTS / "bakery-ar.png", full_page=True)

        page.reload()  # the cookie keeps the choice over the browser's German
        assert page.locator("html").get_attribute("lang") == "ar"
        page.get_by_label("اللغة").select_option("en")
        with page.expect_navigation():
            page.get_by_role("button", name="تغيير").click()
        assert page.locator("h1").inner_text() == "The Bakery"
        assert page.locator(".price").all_inner_texts() == ["€4.50", "€1,234.50"]
        page.screenshot(path=SHOTS / "bakery-en.png", full_page=True)
        assert problems == [], [message.text for message in problems]
    finally:
        context.close()
