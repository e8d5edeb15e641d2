"""Serving feeds: content types, conditional GET, caching headers, URLs, the link tag."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from feeds_helpers import StoryFeed, default_app, feed_app

from heron import Request, render
from heron.feeds import AtomFeed, feed_link_tag
from heron.testing import TestClient


def test_conditional_get_answers_304(make_app: Any) -> None:
    with TestClient(default_app(make_app)) as client:
        for path in ("/rss.xml", "/atom.xml", "/async-rss.xml"):
            first = client.get(path)
            etag, modified = first.headers["etag"], first.headers["last-modified"]
            assert etag.startswith('"')
            assert etag.endswith('"')
            assert modified == "Thu, 05 Mar 2026 12:00:00 GMT"
            assert first.headers["cache-control"] == "public, max-age=300"

            again = client.get(path, headers={"if-none-match": etag})
            assert again.status_code == 304
            assert again.content == b""
            assert again.headers["etag"] == etag
            assert client.get(path, headers={"if-none-match": f'W/{etag}, "x"'}
                              ).status_code == 304
            assert client.get(path, headers={"if-modified-since": modified}).status_code == 304
            # A stale copy, or a header that is no date, gets the feed.
            assert client.get(path, headers={"if-none-match": '"old"'}).status_code == 200
            assert client.get(path, headers={
                "if-modified-since": "Wed, 04 Mar 2026 12:00:00 GMT"}).status_code == 200
            assert client.get(path, headers={"if-modified-since": "yesterday"}
                              ).status_code == 200
            head = client.head(path)
            assert head.status_code == 200
            assert head.headers["etag"] == etag


def test_site_url_and_max_age(make_app: Any) -> None:
    class Canonical(StoryFeed):
        site_url = "https://news.example.org/"
        max_age = None

    with TestClient(feed_app(make_app, ("/c.xml", Canonical()))) as client:
        response = client.get("/c.xml")
    assert "cache-control" not in response.headers
    chan = ET.fromstring(response.content).find("channel")
    assert chan is not None
    assert chan.findtext("link") == "https://news.example.org/stories/"
    assert chan.findtext("item/link") == "https://news.example.org/stories/2"
    self_link = chan.find("{http://www.w3.org/2005/Atom}link")
    assert self_link is not None
    assert self_link.get("href") == "https://news.example.org/c.xml"


def test_default_route_names(make_app: Any) -> None:
    app = default_app(make_app)
    assert app.url_path_for("story_feed") == "/rss.xml"
    assert app.url_path_for("story_feed_atom") == "/atom.xml"
    assert app.url_path_for("async_story_feed") == "/async-rss.xml"


def test_item_link_from_the_request(make_app: Any) -> None:
    class Linked(StoryFeed):
        def item_link(self, item: Any) -> str:
            return self.request.url_for("story", number=item.number)

    app = feed_app(make_app, ("/l.xml", Linked()))

    @app.get("/stories/{number:int}")
    def story(number: int) -> str:
        return str(number)

    with TestClient(app) as client:
        text = client.get("/l.xml").text
    chan = ET.fromstring(text).find("channel")
    assert chan is not None
    assert [i.findtext("link") for i in chan.findall("item")] == [
        "http://testserver/stories/2", "http://testserver/stories/1"]


def test_feed_link_tag_escapes_and_is_a_template_global(make_app: Any, tmp_path: Path) -> None:
    tag = feed_link_tag('/feed.xml?a=1&b="2"', 'Posts <& "more">')
    assert str(tag) == ('<link rel="alternate" type="application/rss+xml" '
                        'title="Posts &lt;&amp; &quot;more&quot;&gt;" '
                        'href="/feed.xml?a=1&amp;b=&quot;2&quot;">')
    assert 'type="application/atom+xml"' in feed_link_tag("/atom.xml", kind="atom")
    with pytest.raises(ValueError, match="'rss' or 'atom'"):
        feed_link_tag("/x", kind="json")

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "head.html").write_text(
        '<head>{{ feed_link_tag(url_for("story_feed"), "Stories") }}'
        '{{ feed_link_tag(url_for("story_feed_atom"), "Stories", "atom") }}</head>')
    app = feed_app(make_app, ("/rss.xml", StoryFeed()), ("/atom.xml", StoryFeed(AtomFeed)),
                   components=["heron.feeds"])

    @app.get("/")
    def index(request: Request) -> Any:
        return render(request, "head.html")

    with TestClient(app) as client:
        page = client.get("/").text
    assert ('<link rel="alternate" type="application/rss+xml" title="Stories" '
            'href="/rss.xml">') in page
    assert 'type="application/atom+xml" title="Stories" href="/atom.xml"' in page


def test_absolute_urls_keep_other_hosts() -> None:
    # A path joins the site's root; a full URL and a protocol-relative one (an enclosure
    # on a CDN) keep their host.
    from heron._xml import absolute_url

    base = "https://blog.example.com/root"
    assert absolute_url("/posts/1", base) == "https://blog.example.com/root/posts/1"
    assert absolute_url("http://cdn.example.com/a.mp3", base) == "http://cdn.example.com/a.mp3"
    assert absolute_url("//cdn.example.com/a.mp3", base) == "https://cdn.example.com/a.mp3"
