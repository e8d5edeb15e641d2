"""Sitemaps served over HTTP, parsed with an XML parser and held to the protocol's rules."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from typing import Any

import pytest

from heron import App, Router
from heron.sitemaps import Sitemap, Sitemaps, StaticSitemap
from heron.testing import TestClient

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
W3C = re.compile(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d))?")


def urlset(text: str) -> list[ET.Element]:
    root = ET.fromstring(text.encode())
    assert root.tag == f"{NS}urlset"
    urls = root.findall(f"{NS}url")
    assert len(urls) <= 50_000
    for url in urls:
        loc = url.findtext(f"{NS}loc") or ""
        assert loc.startswith(("http://", "https://"))
        assert len(loc) < 2048
        lastmod = url.findtext(f"{NS}lastmod")
        assert lastmod is None or W3C.fullmatch(lastmod), lastmod
    return urls


def index(text: str) -> list[str]:
    root = ET.fromstring(text.encode())
    assert root.tag == f"{NS}sitemapindex"
    return [s.findtext(f"{NS}loc") or "" for s in root.findall(f"{NS}sitemap")]


class Numbers(Sitemap):
    """``count`` numbered pages, from a sync items()."""

    changefreq = "daily"

    def __init__(self, count: int, limit: int = 50_000) -> None:
        self.numbers = list(range(1, count + 1))
        self.limit = limit

    def items(self) -> list[int]:
        return self.numbers

    def location(self, item: int) -> str:
        return f"/n/{item}"

    def lastmod(self, item: int) -> datetime:
        return datetime(2026, 1, 1, 12, 0, tzinfo=UTC).replace(day=1 + item % 28)

    def priority(self, item: int) -> float:  # type: ignore[override]
        return 1.0 if item == 1 else 0.5


class AsyncNumbers(Numbers):
    async def items(self) -> list[int]:  # type: ignore[override]
        return self.numbers


def serve(make_app: Any, sitemaps: Sitemaps, *, router: Router | None = None) -> App:
    app: App = make_app()

    @app.get("/")
    def home() -> str:
        return "home"

    @app.get("/about")
    def about() -> str:
        return "about"

    if router is not None:
        sitemaps.add_routes(router)
        app.include(router)
    else:
        sitemaps.add_routes(app)
    return app


def test_one_small_section_is_the_urlset_itself(make_app: Any) -> None:
    app = serve(make_app, Sitemaps({"pages": StaticSitemap(["home", "about"],
                                                           changefreq="monthly")}))
    with TestClient(app) as client:
        response = client.get("/sitemap.xml")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/xml; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=3600"
        urls = urlset(response.text)
        assert [u.findtext(f"{NS}loc") for u in urls] == [
            "http://testserver/", "http://testserver/about"]
        assert {u.findtext(f"{NS}changefreq") for u in urls} == {"monthly"}
        assert "last-modified" not in response.headers  # no lastmod known
        same = client.get("/sitemap-pages.xml")
        assert same.text == response.text
        assert client.get("/sitemap.xml", headers={"if-none-match": response.headers["etag"]}
                          ).status_code == 304


@pytest.mark.parametrize("kind", [Numbers, AsyncNumbers])
def test_paging_past_the_limit_gives_an_index_of_every_page(make_app: Any,
                                                           kind: type[Numbers]) -> None:
    app = serve(make_app, Sitemaps({"numbers": kind(25, limit=10)}))
    with TestClient(app) as client:
        locs = index(client.get("/sitemap.xml").text)
        assert locs == ["http://testserver/sitemap-numbers.xml",
                        "http://testserver/sitemap-numbers.xml?p=2",
                        "http://testserver/sitemap-numbers.xml?p=3"]
        seen: list[str] = []
        for loc in locs:
            page = client.get(loc.removeprefix("http://testserver"))
            assert page.status_code == 200
            urls = urlset(page.text)
            assert len(urls) <= 10
            seen += [u.findtext(f"{NS}loc") or "" for u in urls]
        assert seen == [f"http://testserver/n/{n}" for n in range(1, 26)]
        first = urlset(client.get("/sitemap-numbers.xml").text)[0]
        assert first.findtext(f"{NS}lastmod") == "2026-01-02T12:00:00+00:00"
        assert first.findtext(f"{NS}priority") == "1.0"
        assert first.findtext(f"{NS}changefreq") == "daily"
        assert client.get("/sitemap-numbers.xml?p=4").status_code == 404
        assert client.get("/sitemap-nothing.xml").status_code == 404


def test_several_sections_give_an_index(make_app: Any) -> None:
    sitemaps = Sitemaps({"pages": StaticSitemap(["home"]), "numbers": Numbers(3)})
    with TestClient(serve(make_app, sitemaps)) as client:
        assert index(client.get("/sitemap.xml").text) == [
            "http://testserver/sitemap-pages.xml", "http://testserver/sitemap-numbers.xml"]
        empty = Sitemaps({"pages": StaticSitemap([]), "more": StaticSitemap([])})
    with TestClient(serve(make_app, empty)) as client:
        # An empty section still has its page 1 (an empty urlset), no page 2.
        assert urlset(client.get("/sitemap-pages.xml").text) == []
        assert client.get("/sitemap-pages.xml?p=2").status_code == 404


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1e3", "1.5", "", " 1", "\u0661",
                                  "9" * 5000, "%00"])
def test_bad_page_numbers_are_400(make_app: Any, page: str) -> None:
    app = serve(make_app, Sitemaps({"numbers": Numbers(25, limit=10)}))
    with TestClient(app) as client:
        for path in ("/sitemap-numbers.xml", "/sitemap.xml"):
            response = client.get(f"{path}?p={page}")
            assert response.status_code == 400, (path, page)
            assert page == "%00" or "whole number" in response.text


def test_last_modified_is_the_newest_lastmod_and_answers_304(make_app: Any) -> None:
    class Dated(Sitemap):
        def items(self) -> list[date]:
            return [date(2026, 5, 1), date(2026, 4, 2)]

        def location(self, item: date) -> str:
            return f"/day/{item.isoformat()}"

        def lastmod(self, item: date) -> date:
            return item

    with TestClient(serve(make_app, Sitemaps({"days": Dated()}))) as client:
        response = client.get("/sitemap.xml")
        urls = urlset(response.text)
        assert [u.findtext(f"{NS}lastmod") for u in urls] == ["2026-05-01", "2026-04-02"]
        modified = response.headers["last-modified"]
        assert modified == "Fri, 01 May 2026 00:00:00 GMT"
        assert client.get("/sitemap.xml", headers={"if-modified-since": modified}
                          ).status_code == 304
        assert client.get("/sitemap.xml", headers={
            "if-modified-since": "Thu, 30 Apr 2026 00:00:00 GMT"}).status_code == 200


def test_alternates_hostile_and_too_long_locations(make_app: Any) -> None:
    class Pages(Sitemap):
        def items(self) -> list[str]:
            return ["/a?x=1&y=<2>\x01", "/" + "l" * 3000, "https://cdn.example.com/b"]

        def alternates(self, item: str) -> dict[str, str]:
            return {"de": "/de" + item[:10]} if item.startswith("/a") else {}

    with TestClient(serve(make_app, Sitemaps({"pages": Pages()}))) as client:
        response = client.get("/sitemap.xml")
    assert b"<2>" not in response.content
    assert b"\x01" not in response.content
    urls = urlset(response.text)
    assert [u.findtext(f"{NS}loc") for u in urls] == [
        "http://testserver/a?x=1&y=<2>", "https://cdn.example.com/b"]
    links = urls[0].findall(f"{XHTML}link")
    assert [link.attrib for link in links] == [
        {"rel": "alternate", "hreflang": "de", "href": "http://testserver/de/a?x=1&y=<"}]


def test_routes_in_a_namespaced_router_and_site_url(make_app: Any) -> None:
    router = Router("/seo", name="seo")
    sitemaps = Sitemaps({"pages": StaticSitemap(["home"]), "n": Numbers(2)},
                        site_url="https://www.example.org/")
    with TestClient(serve(make_app, sitemaps, router=router)) as client:
        assert index(client.get("/seo/sitemap.xml").text) == [
            "https://www.example.org/seo/sitemap-pages.xml",
            "https://www.example.org/seo/sitemap-n.xml"]
        urls = urlset(client.get("/seo/sitemap-n.xml").text)
        assert urls[0].findtext(f"{NS}loc") == "https://www.example.org/n/1"


@pytest.mark.parametrize(("sections", "message"), [
    ({}, "at least one"),
    ({"bad name": StaticSitemap([])}, "section name"),
    ({"x": "not a sitemap"}, "not a Sitemap"),
    ({"x": StaticSitemap([], changefreq="sometimes")}, "changefreq"),
    ({"x": StaticSitemap([], priority=2.0)}, "priority"),
    ({"x": Numbers(1, limit=50_001)}, "limit"),
    ({"x": Numbers(1, limit=0)}, "limit"),
])
def test_bad_declarations_fail_when_made(sections: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Sitemaps(sections)
