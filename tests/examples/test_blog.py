"""The blog example (feeds, sitemaps, robots.txt), end to end on a throwaway SQLite file.

``db_clean`` applies the example's committed migrations (and heron's) once for the
module and empties the tables after each test.  Feeds and the sitemap are parsed with
an XML parser; staff write a post through the admin and it reaches the feed.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from heron.db import db
from heron.testing import TestClient, extract_csrf_token

ROOT = Path(__file__).resolve().parents[2]
MODULE = "examples.blog.app"
PASSWORD = "correct horse battery"
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('blog') / 'blog.sqlite3'}"


@pytest.fixture
def module(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("HERON_DATABASE_URL", database_url)
    monkeypatch.setenv("HERON_SECRET_KEY", "blog-test-secret")
    monkeypatch.setenv("HERON_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("HERON_PASSWORD_MEMORY_COST", "8")
    monkeypatch.setenv("HERON_PASSWORD_PARALLELISM", "1")
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    loaded = importlib.import_module(MODULE)
    yield loaded
    asyncio.run(db.state(loaded.app).dispose())
    sys.modules.pop(MODULE, None)


@pytest.fixture
def app(module: Any) -> Any:
    return module.app


@pytest.fixture
def posts(app: Any, db_clean: None) -> None:
    """Two published posts (one with a hostile title), a draft and one still to come."""
    from examples.blog.models import Post

    with db.transaction() as session:
        session.add_all([
            Post(title="Hello, heron", slug="hello-heron", author="Ada",
                 body="The first post.\n\nIt has two paragraphs.",
                 published_at=NOW - timedelta(days=2)),
            Post(title="Feeds & <sitemaps>", slug="feeds-and-sitemaps", author="Grace",
                 body="RSS, Atom & sitemaps in heron.", published_at=NOW - timedelta(days=1)),
            Post(title="A draft", slug="a-draft", author="Ada", body="Not yet."),
            Post(title="Tomorrow", slug="tomorrow", author="Ada", body="Soon.",
                 published_at=NOW + timedelta(days=1)),
        ])


def test_runs_in_production_mode_without_problems(app: Any) -> None:
    assert app.settings.debug is False
    assert app.check() == []


def test_the_pages(app: Any, posts: None) -> None:
    with TestClient(app) as client:
        index = client.get("/")
        assert index.status_code == 200
        text = index.text
        assert text.index("Feeds &amp; &lt;sitemaps&gt;") < text.index("Hello, heron")
        assert "A draft" not in text
        assert "Tomorrow" not in text
        assert ('<link rel="alternate" type="application/rss+xml" '
                'title="The Heron Blog (RSS)" href="/feed.xml">') in text
        assert 'type="application/atom+xml" title="The Heron Blog (Atom)"' in text
        page = client.get("/posts/hello-heron")
        assert page.status_code == 200
        assert "<p>It has two paragraphs.</p>" in page.text
        for hidden in ("a-draft", "tomorrow", "nothing"):
            assert client.get(f"/posts/{hidden}").status_code == 404


def test_the_rss_feed(app: Any, posts: None) -> None:
    with TestClient(app) as client:
        response = client.get("/feed.xml")
        assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"
        assert client.get("/feed.xml", headers={"if-none-match": response.headers["etag"]}
                          ).status_code == 304
    channel = ET.fromstring(response.content).find("channel")
    assert channel is not None
    assert channel.findtext("title") == "The Heron Blog"
    assert channel.findtext("link") == "http://testserver/"
    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == ["Feeds & <sitemaps>", "Hello, heron"]
    first = items[0]
    assert first.findtext("link") == "http://testserver/posts/feeds-and-sitemaps"
    assert first.findtext("description") == "<p>RSS, Atom &amp; sitemaps in heron.</p>"
    assert first.findtext("{http://purl.org/dc/elements/1.1/}creator") == "Grace"
    assert parsedate_to_datetime(first.findtext("pubDate") or "") == NOW - timedelta(days=1)


def test_the_atom_feed(app: Any, posts: None) -> None:
    with TestClient(app) as client:
        response = client.get("/atom.xml")
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.content)
    assert feed.findtext(f"{ATOM}id") == "http://testserver/atom.xml"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}author/{ATOM}name") for e in entries] == ["Grace", "Ada"]
    assert all(e.findtext(f"{ATOM}updated") for e in entries)


def test_the_sitemap_and_robots(app: Any, posts: None) -> None:
    with TestClient(app) as client:
        index = ET.fromstring(client.get("/sitemap.xml").content)
        pages = [s.findtext(f"{SITEMAP}loc") for s in index.findall(f"{SITEMAP}sitemap")]
        assert pages == ["http://testserver/sitemap-pages.xml",
                         "http://testserver/sitemap-posts.xml"]
        listed = ET.fromstring(client.get("/sitemap-posts.xml").content)
        urls = listed.findall(f"{SITEMAP}url")
        assert sorted(u.findtext(f"{SITEMAP}loc") or "" for u in urls) == [
            "http://testserver/posts/feeds-and-sitemaps", "http://testserver/posts/hello-heron"]
        assert all(u.findtext(f"{SITEMAP}lastmod") for u in urls)
        assert client.get("/sitemap-posts.xml?p=2").status_code == 404
        assert client.get("/sitemap-posts.xml?p=two").status_code == 400
        robots = client.get("/robots.txt").text
    assert robots == ("User-agent: *\nDisallow: /admin/\n\n"
                      "Sitemap: http://testserver/sitemap.xml\n")


def test_staff_write_a_post_in_the_admin_and_it_reaches_the_feed(app: Any,
                                                                 posts: None) -> None:
    from heron.auth import create_user

    with db.transaction() as session:
        create_user(session, app, "ada", PASSWORD, is_staff=True, is_superuser=True)
    with TestClient(app) as client:
        token = extract_csrf_token(client.get("/auth/login").text)
        assert client.post("/auth/login", data={
            "username": "ada", "password": PASSWORD, "csrf_token": token}).status_code == 303
        add = "/admin/app/post/add/"
        page = client.get(add)
        assert page.status_code == 200
        published = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        saved = client.post(add, data={
            "csrf_token": extract_csrf_token(page.text), "title": "Written in the admin",
            "slug": "written-in-the-admin", "author": "Ada", "body": "From the admin.",
            "published_at": published, "_save": "1"})
        assert saved.status_code == 303, saved.text
        feed = client.get("/feed.xml").text
    assert "<title>Written in the admin</title>" in feed


def test_the_migrations_build_the_tables_the_models_describe(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env["HERON_DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    env["PYTHONPATH"] = str(ROOT)
    for command in ("migrate", "check"):
        result = subprocess.run(
            [sys.executable, "-m", "heron", "db", "--app", f"{MODULE}:app", command],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
