"""robots.txt: rules, the Sitemap line, line breaks kept out."""

from __future__ import annotations

from typing import Any

from heron import App
from heron.sitemaps import RobotsRule, RobotsTxt, Sitemaps, StaticSitemap
from heron.testing import TestClient


def make(make_app: Any, robots: RobotsTxt, with_sitemap: bool = True) -> App:
    app: App = make_app()

    @app.get("/")
    def home() -> str:
        return "home"

    if with_sitemap:
        Sitemaps({"pages": StaticSitemap(["home"])}).add_routes(app)
    app.add_route("/robots.txt", robots.view, name="robots")
    return app


def test_default_allows_everything_and_names_the_sitemap(make_app: Any) -> None:
    with TestClient(make(make_app, RobotsTxt())) as client:
        response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert response.text == ("User-agent: *\nDisallow:\n\n"
                             "Sitemap: http://testserver/sitemap.xml\n")


def test_default_without_a_sitemap_route(make_app: Any) -> None:
    with TestClient(make(make_app, RobotsTxt(), with_sitemap=False)) as client:
        assert client.get("/robots.txt").text == "User-agent: *\nDisallow:\n"


def test_rules_and_sitemaps(make_app: Any) -> None:
    robots = RobotsTxt(
        [RobotsRule("*", disallow=["/admin/", "/drafts\r\nUser-agent: evil"]),
         RobotsRule("BadBot", disallow=["/"], crawl_delay=2.5),
         RobotsRule("GoodBot", allow=["/public/"])],
        sitemaps=["sitemap", "/other.xml", "https://cdn.example.com/s.xml"],
        site_url="https://www.example.org", max_age=None)
    with TestClient(make(make_app, robots)) as client:
        response = client.get("/robots.txt")
    assert "cache-control" not in response.headers
    assert response.text == (
        "User-agent: *\nDisallow: /admin/\nDisallow: /drafts User-agent: evil\n\n"
        "User-agent: BadBot\nDisallow: /\nCrawl-delay: 2.5\n\n"
        "User-agent: GoodBot\nAllow: /public/\n\n"
        "Sitemap: https://www.example.org/sitemap.xml\n"
        "Sitemap: https://www.example.org/other.xml\n"
        "Sitemap: https://cdn.example.com/s.xml\n")


def test_an_unknown_sitemap_route_named_on_purpose_is_an_error(make_app: Any) -> None:
    """A route named in ``sitemaps`` that does not exist is the developer's mistake: it is
    not skipped quietly (the default, ``sitemap``, is skipped when absent)."""
    app = make(make_app, RobotsTxt(sitemaps=["nowhere"]), with_sitemap=False)
    with TestClient(app) as client:
        assert client.get("/robots.txt").status_code == 500
