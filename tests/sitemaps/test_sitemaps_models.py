"""ModelSitemap over a real SQLite table with more rows than one file's limit."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from heron import App
from heron.db import Model, db
from heron.sitemaps import ModelSitemap, Sitemaps, StaticSitemap
from heron.testing import TestClient

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ROWS = 25
START = datetime(2026, 2, 1, 10, 0, tzinfo=UTC)


class SitemapArticle(Model):
    """A table of the test's own (the name is unique across heron's tests)."""

    slug: Mapped[str] = mapped_column(String(40), unique=True)
    body: Mapped[str] = mapped_column(Text, default="x" * 200)
    public: Mapped[bool] = mapped_column(default=True)
    changed_at: Mapped[datetime]


class ArticleSitemap(ModelSitemap):
    model = SitemapArticle
    route = "article"
    params = {"slug": "slug"}
    lastmod_field = "changed_at"
    changefreq = "weekly"
    limit = 10

    def filter(self, statement: Select[Any]) -> Select[Any]:
        return statement.where(SitemapArticle.public)


@pytest.fixture
def app(make_app: Any, tmp_path: Path) -> Iterator[App]:
    app: App = make_app(database_url=f"sqlite:///{tmp_path / 'sitemap.sqlite3'}")
    engine = db.state(app).engine()
    Model.metadata.create_all(engine, tables=[SitemapArticle.__table__])  # type: ignore[list-item]
    with db.context(app), db.transaction() as session:
        session.add_all([SitemapArticle(slug=f"article-{n:02}", public=n != 7,
                                        changed_at=START + timedelta(days=n))
                         for n in range(1, ROWS + 2)])

    @app.get("/articles/{slug}")
    def article(slug: str) -> str:
        return slug

    @app.get("/")
    def home() -> str:
        return "home"

    return app


def locs(text: str, tag: str) -> list[str]:
    root = ET.fromstring(text.encode())
    assert root.tag == f"{NS}{tag}"
    child = "url" if tag == "urlset" else "sitemap"
    return [e.findtext(f"{NS}loc") or "" for e in root.findall(f"{NS}{child}")]


def test_pages_of_a_model_with_more_rows_than_the_limit(app: App) -> None:
    Sitemaps({"articles": ArticleSitemap()}).add_routes(app)
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with TestClient(app) as client:
        event.listen(db.state(app).async_engine().sync_engine, "before_cursor_execute", record)
        pages = locs(client.get("/sitemap.xml").text, "sitemapindex")
        # 25 public rows (one of 26 is hidden), 10 a file.
        assert pages == ["http://testserver/sitemap-articles.xml",
                         "http://testserver/sitemap-articles.xml?p=2",
                         "http://testserver/sitemap-articles.xml?p=3"]
        found: list[str] = []
        for page in pages:
            response = client.get(page.removeprefix("http://testserver"))
            found += locs(response.text, "urlset")
        assert client.get("/sitemap-articles.xml?p=4").status_code == 404
        last = client.get("/sitemap-articles.xml?p=3")
        assert last.headers["last-modified"] == "Fri, 27 Feb 2026 10:00:00 GMT"
        assert client.get("/sitemap-articles.xml?p=3", headers={
            "if-modified-since": last.headers["last-modified"]}).status_code == 304
        root = ET.fromstring(last.content)
        assert root.findtext(f"{NS}url/{NS}lastmod") == "2026-02-23T10:00:00+00:00"
        assert root.findtext(f"{NS}url/{NS}changefreq") == "weekly"
    expected = [f"http://testserver/articles/article-{n:02}" for n in range(1, ROWS + 2)
                if n != 7]
    assert found == expected
    # Each page is one query for only the columns it needs, LIMIT 10 at its OFFSET.
    pages_sql = [s for s in statements if "LIMIT" in s]
    assert pages_sql
    for sql in pages_sql:
        assert "body" not in sql
        assert "slug" in sql
        assert "changed_at" in sql
    assert any("count(*)" in s for s in statements)


def test_default_params_are_the_primary_key(app: App) -> None:
    @app.get("/by-id/{id:int}")
    def by_id(id: int) -> str:
        return str(id)

    Sitemaps({"ids": ModelSitemap(SitemapArticle, "by_id", limit=50),
              "pages": StaticSitemap(["home"])}).add_routes(app)
    with TestClient(app) as client:
        urls = locs(client.get("/sitemap-ids.xml").text, "urlset")
    assert urls == [f"http://testserver/by-id/{n}" for n in range(1, ROWS + 2)]


def test_bad_model_sitemaps_fail_when_made() -> None:
    with pytest.raises(ValueError, match="needs a model"):
        ModelSitemap(SitemapArticle)
    with pytest.raises(ValueError, match="'title'"):
        ModelSitemap(SitemapArticle, "article", params={"slug": "title"})
