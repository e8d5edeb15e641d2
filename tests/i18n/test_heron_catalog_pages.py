"""heron's own pages in German, end to end: the admin's change list, a plural, a form
error (422), heron.auth's login page and a wrong login, and an error page (404), with
``Accept-Language: de``; and the same pages in English without it."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from heron import App
from heron.admin import ModelAdmin, site
from heron.auth import create_user
from heron.db import Model, db
from heron.forms import Form, field
from heron.i18n import gettext_lazy
from heron.requests import Request
from heron.testing import TestClient, extract_csrf_token
from heron.testing.database import prepare_schema

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
PASSWORD = "correct horse battery"


class HcatBook(Model):
    title: Mapped[str] = mapped_column(String(100))

    def __str__(self) -> str:
        return self.title


class HcatBookAdmin(ModelAdmin):
    # The project's own words, translated by the project's catalog (tmp_path/locales).
    verbose_name = gettext_lazy("book")
    verbose_name_plural = gettext_lazy("books")
    list_display = ("title",)
    list_filter = ("title",)


class HcatSignupForm(Form):
    name: str = field(max_length=5)
    age: int


def _project_catalog(root: Path) -> None:
    """The app's German catalog: its model's names, and one of heron's messages
    said its own way (the app's catalog wins over heron's)."""
    catalog = Catalog(locale="de")
    catalog.add("book", "Buch")
    catalog.add("books", "Bücher")
    catalog.add("Site administration", "Hcat-Verwaltung")
    folder = root / "locales" / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as file:
        write_mo(file, catalog)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    _project_catalog(tmp_path)
    site.register(HcatBook, HcatBookAdmin)
    app = App(secret_key="heron catalog pages", root=tmp_path, allowed_hosts=["testserver"],
              access_log=False, languages=["en", "de"], mail_backend="memory",
              components=["heron.auth", "heron.admin"],
              database_url=f"sqlite:///{tmp_path / 'hcat.sqlite3'}",
              password_time_cost=1, password_memory_cost=8 * 1024, password_parallelism=1)

    @app.post("/signup")
    async def signup(request: Request) -> object:
        form = await HcatSignupForm.from_request(request)
        if not form.is_valid():
            return form.render(), 422
        return "ok"

    prepare_schema(app)
    with db.context(app):
        create_user(db.session, app, "admin", PASSWORD, is_staff=True, is_superuser=True)
        db.session.add_all([HcatBook(title="Faust"), HcatBook(title="Effi Briest")])
        db.session.commit()
    try:
        yield app
    finally:
        site.unregister(HcatBook)
        db.state(app).engine().dispose()


def _log_in(client: TestClient, headers: dict[str, str]) -> None:
    token = extract_csrf_token(client.get("/auth/login", headers=headers).text)
    response = client.post("/auth/login", headers=headers, data={
        "username": "admin", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text[:500]


def _text(response: object) -> str:
    return html.unescape(response.text)  # type: ignore[attr-defined]


def test_the_admin_change_list_in_german(app: App) -> None:
    with TestClient(app) as client:
        _log_in(client, GERMAN)
        page = client.get("/admin/app/hcat_book/", headers=GERMAN)
        assert page.status_code == 200
        assert page.headers["content-language"] == "de"
        text = _text(page)
        assert '<html lang="de" dir="ltr">' in text
        assert "<h1>Bücher</h1>" in text
        assert "Buch hinzufügen" in text
        assert "<summary>Nach Title</summary>" in text
        assert ">Filter</h2>" in text
        assert "Ausgewählte Zeilen löschen" in text  # the action, translated lazily
        assert "0 von 2 ausgewählt" in text
        assert 'data-text="{sel} von {cnt} ausgewählt"' in text
        assert ">Alle</a>" in text  # pgettext("filter", "All")
        assert "Abmelden" in text
        assert "Passwort ändern" in text
        assert "Hcat-Verwaltung" in _text(client.get("/admin/", headers=GERMAN))
        english = _text(client.get("/admin/app/hcat_book/"))
        assert "<h1>Books</h1>" in english
        assert "Add book" in english
        assert "0 of 2 selected" in english
        assert "Delete selected rows" in english


def test_a_plural_in_german(app: App) -> None:
    with TestClient(app) as client:
        _log_in(client, GERMAN)
        token = extract_csrf_token(client.get("/admin/app/hcat_book/", headers=GERMAN).text)

        def delete(ids: list[str]) -> str:
            confirm = _text(client.post("/admin/app/hcat_book/", headers=GERMAN, data={
                "csrf_token": token, "action": "delete_selected", "_selected": ids}))
            assert "Sind Sie sicher?" in confirm
            done = client.post("/admin/app/hcat_book/", headers=GERMAN, follow_redirects=True,
                               data={"csrf_token": token, "action": "delete_selected",
                                     "_selected": ids, "post": "yes"})
            return confirm + _text(done)

        with db.context(app):
            ids = [str(book.id) for book in db.session.query(HcatBook).order_by(HcatBook.id)]
        one = delete(ids[:1])
        assert "Ausgewählte Zeilen löschen: 1 Buch." in one
        assert "1 Buch gelöscht." in one
        with db.context(app):
            books = [HcatBook(title="Woyzeck"), HcatBook(title="Lenz")]
            db.session.add_all(books)
            db.session.commit()
            ids = [str(book.id) for book in books]
        both = delete(ids)
        assert "Ausgewählte Zeilen löschen: 2 Bücher." in both
        assert "2 Bücher gelöscht." in both


def test_a_form_error_in_german(app: App) -> None:
    with TestClient(app) as client:
        _log_in(client, GERMAN)
        token = extract_csrf_token(client.get("/admin/app/hcat_book/add/", headers=GERMAN).text)
        page = client.post("/admin/app/hcat_book/add/", headers=GERMAN,
                           data={"csrf_token": token, "title": "", "_save": "1"})
        assert page.status_code == 422
        text = _text(page)
        assert "Bitte korrigieren Sie die unten aufgeführten Fehler." in text
        assert "Dieses Feld ist erforderlich." in text
        assert "Sichern und neu hinzufügen" in text
        bad = {"name": "Friedrich", "age": "x", "csrf_token": token}
        signup = client.post("/signup", headers=GERMAN, data=bad)
        assert signup.status_code == 422
        text = _text(signup)
        assert "Dieser Wert darf höchstens 5 Zeichen haben." in text
        assert "Bitte eine ganze Zahl eingeben." in text
        english = _text(client.post("/signup", data=bad))
        assert "Ensure this value has at most 5 characters." in english
        assert "Enter a whole number." in english


def test_an_error_page_in_german(app: App) -> None:
    with TestClient(app) as client:
        page = client.get("/no/such/page", headers={**GERMAN, "Accept": "text/html"})
        assert page.status_code == 404
        text = _text(page)
        assert '<html lang="de">' in text
        assert "<h1>404 Nicht gefunden</h1>" in text
        assert "Unter /no/such/page wurde nichts gefunden." in text
        english = _text(client.get("/no/such/page", headers={"Accept": "text/html"}))
        assert "<h1>404 Not Found</h1>" in english
        assert "Nothing is found at /no/such/page." in english
        problem = client.get("/no/such/page", headers={**GERMAN, "Accept": "application/json"})
        assert problem.json()["title"] == "Not Found"  # problem JSON stays machine text


def test_the_login_page_and_a_wrong_login_in_german(app: App) -> None:
    with TestClient(app) as client:
        page = client.get("/auth/login", headers=GERMAN)
        text = _text(page)
        assert "<title>Anmelden</title>" in text
        assert '<label for="id_username">Benutzername</label>' in text
        assert '<label for="id_password">Passwort</label>' in text
        assert "Passwort vergessen?" in text
        token = extract_csrf_token(page.text)
        wrong = client.post("/auth/login", headers=GERMAN, data={
            "username": "admin", "password": "wrong", "csrf_token": token})
        assert wrong.status_code == 400
        assert "Anmeldung fehlgeschlagen: Benutzername oder Passwort ist falsch." in _text(wrong)
        empty = client.post("/auth/login", headers=GERMAN, data={"csrf_token": token})
        assert empty.status_code == 422
        assert "Benutzername fehlt." in _text(empty)
        assert "Bitte Passwort eingeben." in _text(empty)
        english = client.post("/auth/login", data={
            "username": "admin", "password": "wrong", "csrf_token": token})
        assert "Please enter a correct username and password." in _text(english)


def test_the_password_validators_and_the_reset_mail_in_german(app: App) -> None:
    from heron.mail import mailer

    with TestClient(app) as client:
        _log_in(client, GERMAN)
        page = client.get("/auth/password/change", headers=GERMAN)
        assert "<title>Passwort ändern</title>" in _text(page)
        changed = client.post("/auth/password/change", headers=GERMAN, data={
            "csrf_token": extract_csrf_token(page.text), "old_password": PASSWORD,
            "password1": "1234", "password2": "1234"})
        assert changed.status_code == 422
        text = _text(changed)
        assert "Dieses Passwort ist zu kurz. Es muss mindestens 10 Zeichen enthalten." in text
        assert "Dieses Passwort besteht nur aus Ziffern." in text
        assert "Neues Passwort (wiederholen)" in text
    with db.context(app):
        from sqlalchemy import select

        from heron.auth import get_user_model

        model = get_user_model(app)
        user = db.session.scalars(select(model)).one()
        user.email = "admin@example.com"
        db.session.commit()
    with TestClient(app) as client:
        form = client.get("/auth/password/reset", headers=GERMAN)
        client.post("/auth/password/reset", headers=GERMAN, data={
            "csrf_token": extract_csrf_token(form.text), "email": "admin@example.com"})
    (message,) = mailer(app).outbox
    assert message.subject == "Passwort auf testserver zurücksetzen"
    assert message.body.startswith("Hallo admin,\n")
    assert "innerhalb von 60 Minuten:" in message.body
    assert message.html is not None
    assert ">Neues Passwort wählen</a>" in message.html
