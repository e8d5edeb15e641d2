"""Two languages end to end: a small app's catalog made by the real ``heron i18n``
commands (extract -> init de -> translate -> compile), then its pages in German."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from heron.cli import main
from heron.testing import TestClient, extract_csrf_token

APP = '''
import datetime as dt
from pathlib import Path

from heron import App, render
from heron.forms import Form, ValidationError, field
from heron.i18n import gettext as _, gettext_lazy, ngettext, get_language, pgettext

GREETING = gettext_lazy("Welcome to the shop")

app = App(secret_key="polyglot secret", languages=["en", "de"], language_url_prefix=True,
          time_zone_cookie_name="tz", root=Path(__file__).parent)


class NameForm(Form):
    name: str = field(label=gettext_lazy("Your name"), max_length=20)

    def clean_name(self, value: str) -> str:
        if value == "admin":
            raise ValidationError(_("That name is reserved."))
        return value


@app.get("/")
async def index(request):
    return render(request, "index.html", greeting=GREETING,
                  when=dt.datetime(2026, 3, 14, 12, 30, tzinfo=dt.UTC))


@app.get("/apples/{n:int}")
def apples(n: int):  # a sync view: run in the thread pool
    return ngettext("%(num)d apple", "%(num)d apples", n) % {"num": n}


@app.get("/month")
async def month():
    return pgettext("month", "May") + "|" + get_language()


@app.route("/name", methods=["GET", "POST"])
async def name(request):
    form = await NameForm.from_request(request)
    if form.is_valid():
        return "ok"
    return render(request, "form.html", form=form, status_code=422 if form.is_bound else 200)
'''

INDEX = '''<!doctype html>
<html lang="{{ language }}" dir="{{ language_dir }}">
<h1>{{ greeting }}</h1>
<p>{% trans %}Hello, world!{% endtrans %}</p>
<p>{% trans count=3 %}One item{% pluralize %}{{ count }} items{% endtrans %}</p>
<p class="date">{{ when|date("long") }}</p>
<p class="num">{{ 1234567.5|number }}</p>
<p class="price">{{ 1234.5|currency("EUR") }}</p>
<a href="{{ url_for('name') }}">{{ _("Your name") }}</a>
</html>
'''

FORM = '<form method="post">{{ form }}</form>'

GERMAN = {
    "Welcome to the shop": "Willkommen im Laden",
    "Hello, world!": "Hallo, Welt!",
    "Your name": "Ihr Name",
    "That name is reserved.": "Dieser Name ist vergeben.",
    ("month", "May"): "Mai",
    "%(num)d apple": ("%(num)d Apfel", "%(num)d Äpfel"),
    "One item": ("Ein Artikel", "%(count)s Artikel"),
}


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(main, ["--app", "polyglot_shop:app", "i18n", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def _translate(po: Path) -> None:
    from babel.messages.pofile import read_po, write_po

    with po.open("rb") as file:
        catalog = read_po(file)
    for message in catalog:
        key = (message.context, message.id[0] if isinstance(message.id, tuple) else message.id)
        found = GERMAN.get(key) if message.context else GERMAN.get(key[1])
        if found is not None:
            message.string = found
    with po.open("wb") as file:
        write_po(file, catalog)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Any]]:
    root = tmp_path_factory.mktemp("polyglot")
    (root / "polyglot_shop.py").write_text(textwrap.dedent(APP))
    (root / "templates").mkdir()
    (root / "templates" / "index.html").write_text(INDEX)
    (root / "templates" / "form.html").write_text(FORM)
    sys.path.insert(0, str(root))
    sys.modules.pop("polyglot_shop", None)
    try:
        extracted = _invoke("extract")
        inited = _invoke("init", "-l", "de")
        _translate(root / "locales" / "de" / "LC_MESSAGES" / "messages.po")
        compiled = _invoke("compile")
        module = importlib.import_module("polyglot_shop")
        yield root, extracted + inited + compiled, module.app
    finally:
        sys.path.remove(str(root))
        sys.modules.pop("polyglot_shop", None)


def test_the_commands_report_each_file_and_catalog(project: tuple[Path, str, Any]) -> None:
    root, output, _ = project
    assert "extracting polyglot_shop.py (python)" in output
    assert "extracting templates/index.html (template)" in output
    assert "messages.pot (" in output
    assert "created " in output
    assert "de/LC_MESSAGES/messages.po" in output
    assert "compiled " in output
    assert "7 of 7 messages translated" in output
    assert (root / "locales" / "de" / "LC_MESSAGES" / "messages.mo").is_file()


def test_a_page_in_german_by_url_prefix(project: tuple[Path, str, Any]) -> None:
    *_, app = project
    with TestClient(app) as client:
        page = client.get("/de/")
        assert page.status_code == 200
        assert '<html lang="de" dir="ltr">' in page.text
        assert "<h1>Willkommen im Laden</h1>" in page.text
        assert "Hallo, Welt!" in page.text
        assert "3 Artikel" in page.text
        assert "14. März 2026" in page.text
        assert "1.234.567,5" in page.text
        assert "1.234,50\xa0€" in page.text
        assert 'href="/de/name">Ihr Name</a>' in page.text  # url_for keeps the prefix
        assert page.headers["content-language"] == "de"
        english = client.get("/")
        assert "<h1>Welcome to the shop</h1>" in english.text
        assert "March 14, 2026" in english.text
        assert "€1,234.50" in english.text
        assert 'href="/name"' in english.text


def test_plurals_in_a_sync_view(project: tuple[Path, str, Any]) -> None:
    *_, app = project
    with TestClient(app) as client:
        assert [client.get(f"/de/apples/{n}").text for n in (1, 2, 5)] == [
            "1 Apfel", "2 Äpfel", "5 Äpfel"]
        assert client.get("/apples/1").text == "1 apple"
        assert client.get("/apples/5").text == "5 apples"
        assert client.get("/de/month").text == "Mai|de"
        assert client.get("/month").text == "May|en"


def test_a_form_error_in_german(project: tuple[Path, str, Any]) -> None:
    *_, app = project
    with TestClient(app) as client:
        page = client.get("/de/name")
        assert "Ihr Name" in page.text
        token = extract_csrf_token(page.text)
        wrong = client.post("/de/name", data={"name": "admin", "csrf_token": token})
        assert wrong.status_code == 422
        assert "Dieser Name ist vergeben." in wrong.text
        english = client.post("/name", data={"name": "admin", "csrf_token": token})
        assert "That name is reserved." in english.text


def test_accept_language_and_cookie_choose_without_prefix(
        project: tuple[Path, str, Any]) -> None:
    *_, app = project
    with TestClient(app) as client:
        page = client.get("/", headers={"accept-language": "fr;q=0.9, de-AT;q=0.8, en;q=0.1"})
        assert "Willkommen im Laden" in page.text
        assert page.headers["vary"] == "Accept-Language, Cookie"
        assert page.headers["content-language"] == "de"
        client.cookies.set("heron_language", "de")
        assert "Willkommen" in client.get("/").text
        # The URL prefix wins over the cookie.
        assert client.get("/en/month").text == "May|en"
        assert "vary" not in client.get("/en/month").headers


def test_an_error_page_in_the_requests_language(project: tuple[Path, str, Any]) -> None:
    *_, app = project
    with TestClient(app) as client:
        page = client.get("/de/nothing-here")
        assert page.status_code == 404
        assert '<html lang="de">' in page.text
        # An unknown language prefix is no prefix: the path is simply not found.
        assert client.get("/xx/month").status_code == 404
        assert client.get("/DE/month").status_code == 404
