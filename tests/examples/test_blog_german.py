"""The blog example in its second language: German pages (a date, a plural), the feed's
title, the language switcher, and heron's own text (an error page) in German too."""

from __future__ import annotations

import asyncio
import importlib
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from heron.db import db
from heron.testing import TestClient, extract_csrf_token

ROOT = Path(__file__).resolve().parents[2]
MODULE = "examples.blog.app"
GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}
PUBLISHED = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("HERON_DATABASE_URL", f"sqlite:///{tmp_path / 'blog-de.sqlite3'}")
    monkeypatch.setenv("HERON_SECRET_KEY", "blog-german-test-secret")
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    module = importlib.import_module(MODULE)
    yield module.app
    asyncio.run(db.state(module.app).dispose())
    sys.modules.pop(MODULE, None)


@pytest.fixture
def posts(app: Any, db_clean: None) -> None:
    from examples.blog.models import Post

    with db.transaction() as session:
        session.add_all([
            Post(title="Kurz", slug="kurz", author="Ada", body="Ein kurzer Beitrag.",
                 published_at=PUBLISHED),
            Post(title="Lang", slug="lang", author="Grace", body="Wort " * 600,
                 published_at=PUBLISHED + timedelta(days=1)),
        ])


def test_the_pages_in_german(app: Any, posts: None) -> None:
    with TestClient(app) as client:
        page = client.get("/", headers=GERMAN)
        assert page.headers["content-language"] == "de"
        text = page.text
        assert text.startswith('<!doctype html>')
        assert '<html lang="de" dir="ltr">' in text
        assert "<h1>Neueste Beiträge</h1>" in text
        assert "14. März 2026" in text  # the date, as German writes it
        assert "1 Minute Lesezeit" in text
        assert "3 Minuten Lesezeit" in text
        assert 'title="Das Heron-Blog (RSS)"' in text
        assert '<option value="de" lang="de" selected>Deutsch</option>' in text
        english = client.get("/").text
        assert "<h1>Latest posts</h1>" in english
        assert "March 14, 2026" in english
        assert "1 minute read" in english
        assert "3 minutes read" in english
        post = client.get("/posts/kurz", headers=GERMAN).text
        assert "← Alle Beiträge" in post
        assert "<title>Kurz · Das Heron-Blog</title>" in post
        missing = client.get("/posts/nichts", headers={**GERMAN, "Accept": "text/html"})
        assert missing.status_code == 404
        assert "404 Nicht gefunden" in missing.text  # heron's own text, from heron's catalog
        assert "Diesen Beitrag gibt es nicht." in missing.text  # the blog's


def test_the_feed_title_in_german(app: Any, posts: None) -> None:
    with TestClient(app) as client:
        rss = client.get("/feed.xml", headers=GERMAN)
        atom = client.get("/atom.xml", headers=GERMAN)
        english = client.get("/feed.xml")
    channel = ET.fromstring(rss.content).find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Das Heron-Blog"
    assert channel.findtext("description") == "Notizen zum Bauen von Websites mit heron."
    assert channel.findtext("language") == "de"
    assert "Accept-Language" in rss.headers["vary"]
    feed = ET.fromstring(atom.content)
    assert feed.findtext("{http://www.w3.org/2005/Atom}title") == "Das Heron-Blog"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "de"
    assert ET.fromstring(english.content).findtext("channel/title") == "The Heron Blog"


def test_the_language_switcher(app: Any, posts: None) -> None:
    with TestClient(app) as client:
        page = client.get("/posts/kurz")
        token = extract_csrf_token(page.text)
        switched = client.post("/i18n/setlang", data={
            "language": "de", "next": "/posts/kurz", "csrf_token": token})
        assert switched.status_code == 303
        assert switched.headers["location"] == "/posts/kurz"
        assert "Alle Beiträge" in client.get("/posts/kurz").text  # the cookie, no header
        back = client.post("/i18n/setlang", data={"language": "en", "csrf_token": token})
        assert back.status_code == 303
        assert "All posts" in client.get("/posts/kurz").text
        assert client.post("/i18n/setlang", data={
            "language": "xx", "csrf_token": token}).status_code == 400


def test_the_admin_in_german(app: Any, posts: None) -> None:
    from heron.auth import create_user

    with db.transaction() as session:
        create_user(session, app, "ada", "correct horse battery", is_staff=True,
                    is_superuser=True)
    with TestClient(app) as client:
        token = extract_csrf_token(client.get("/auth/login", headers=GERMAN).text)
        assert client.post("/auth/login", headers=GERMAN, data={
            "username": "ada", "password": "correct horse battery",
            "csrf_token": token}).status_code == 303
        listing = client.get("/admin/app/post/", headers=GERMAN).text
        assert "Blog-Verwaltung" in listing  # the project's title, from its catalog
        assert "<h1>Beiträge</h1>" in listing
        assert "Beitrag hinzufügen" in listing  # heron's words around the project's
        assert ">Veröffentlicht am</a>" in listing  # a label made from a column name
        form = client.get("/admin/app/post/add/", headers=GERMAN).text
        assert "<legend>Text</legend>" in form
        assert "Verlauf" in form
        assert "Sichern und weiter bearbeiten" in form
