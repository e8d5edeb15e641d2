"""RSS 2.0 output, parsed with an XML parser and held to the RSS rules."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from feeds_helpers import HOSTILE, STORIES, StoryFeed, default_app, feed_app

from heron import Request
from heron.feeds import Feed
from heron.testing import TestClient

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"


def channel(text: str) -> ET.Element:
    root = ET.fromstring(text.encode())
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    found = root.find("channel")
    assert found is not None
    return found


@pytest.mark.parametrize("path", ["/rss.xml", "/async-rss.xml"])
def test_rss_channel_and_items_follow_the_rules(make_app: Any, path: str) -> None:
    with TestClient(default_app(make_app)) as client:
        response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    chan = channel(response.text)
    # Required channel elements.
    assert chan.findtext("title") == "Stories & notes"
    assert chan.findtext("link") == "http://testserver/stories/"
    assert chan.findtext("description") == "The newest stories."
    assert chan.findtext("language") == "en"
    self_link = chan.find(f"{ATOM}link")
    assert self_link is not None
    assert self_link.attrib == {"href": f"http://testserver{path}", "rel": "self",
                                "type": "application/rss+xml"}
    # lastBuildDate is the newest item's update.
    built = parsedate_to_datetime(chan.findtext("lastBuildDate") or "")
    assert built == datetime(2026, 3, 5, 12, 0, tzinfo=UTC)

    items = chan.findall("item")
    assert len(items) == len(STORIES)
    for item in items:
        assert item.findtext("title") or item.findtext("description")
        guid = item.find("guid")
        assert guid is not None
        assert guid.get("isPermaLink") == "true"
        assert guid.text == item.findtext("link")
        assert (item.findtext("link") or "").startswith("http://testserver/stories/")
        pubdate = parsedate_to_datetime(item.findtext("pubDate") or "")
        assert pubdate.tzinfo is not None
    first, second = items
    assert first.findtext("author") == "ann@example.com (Ann Author)"
    assert [c.text for c in first.findall("category")] == ["news", "heron"]
    enclosure = first.find("enclosure")
    assert enclosure is not None
    assert enclosure.attrib == {"url": "http://testserver/media/2.mp3", "length": "12345",
                                "type": "audio/mpeg"}
    assert first.findtext("description") == "A <b>bold</b> body & more."
    # No email: the name goes in dc:creator (RSS's author must be an email).
    assert second.find("author") is None
    assert second.findtext(f"{DC}creator") == "Ann Author"
    # A naive datetime is UTC.
    assert parsedate_to_datetime(second.findtext("pubDate") or "") == datetime(
        2026, 3, 1, 8, 0, tzinfo=UTC)


class HostileFeed(Feed):
    title = HOSTILE
    description = HOSTILE

    def items(self, request: Request) -> list[str]:
        return [HOSTILE]

    def item_link(self, item: str) -> str:
        return "/x?a=1&b=<2>"

    def item_description(self, item: str) -> str:
        return HOSTILE


def test_hostile_text_is_escaped_and_forbidden_characters_dropped(make_app: Any) -> None:
    with TestClient(feed_app(make_app, ("/hostile.xml", HostileFeed()))) as client:
        response = client.get("/hostile.xml")
    assert response.status_code == 200
    assert b"<script>" not in response.content
    assert b"\x00" not in response.content
    assert b"\x01" not in response.content
    chan = channel(response.text)  # parses: it is well-formed XML
    expected = "<script>alert('x')</script> &  \U0001f426 ]]>"
    assert chan.findtext("title") == expected
    item = chan.find("item")
    assert item is not None
    assert item.findtext("title") == expected
    assert item.findtext("description") == expected
    assert item.findtext("link") == "http://testserver/x?a=1&b=<2>"


class BareFeed(Feed):
    title = "Bare"
    link = "https://elsewhere.example/"
    description = "Items with a description only, a guid that is no link, no dates."

    def items(self, request: Request) -> list[int]:
        return [1]

    def item_link(self, item: int) -> str:
        return "https://elsewhere.example/1"

    def item_guid(self, item: int) -> str:
        return "tag:elsewhere.example,2026:1"


def test_custom_guid_is_no_permalink_and_absolute_links_are_kept(make_app: Any) -> None:
    with TestClient(feed_app(make_app, ("/bare.xml", BareFeed()))) as client:
        chan = channel(client.get("/bare.xml").text)
    assert chan.findtext("link") == "https://elsewhere.example/"
    item = chan.find("item")
    assert item is not None
    guid = item.find("guid")
    assert guid is not None
    assert (guid.text, guid.get("isPermaLink")) == ("tag:elsewhere.example,2026:1", "false")
    assert item.findtext("link") == "https://elsewhere.example/1"
    assert item.find("pubDate") is None
    # No dated item: lastBuildDate is now, and still RFC 822.
    assert parsedate_to_datetime(chan.findtext("lastBuildDate") or "").tzinfo is not None


def test_feed_values_may_be_methods_of_the_request(make_app: Any) -> None:
    class PerRequest(StoryFeed):
        def title(self, request: Request) -> str:  # type: ignore[override]
            return f"Stories for {request.query_params.get('who', 'everyone')}"

    with TestClient(feed_app(make_app, ("/r.xml", PerRequest()))) as client:
        chan = channel(client.get("/r.xml", params={"who": "Bo"}).text)
    assert chan.findtext("title") == "Stories for Bo"
    self_link = chan.find(f"{ATOM}link")
    assert self_link is not None
    assert self_link.get("href") == "http://testserver/r.xml"  # the query is not in it


def test_empty_feed_is_valid(make_app: Any) -> None:
    class Empty(Feed):
        title = "Nothing yet"

    with TestClient(feed_app(make_app, ("/empty.xml", Empty()))) as client:
        response = client.get("/empty.xml")
    chan = channel(response.text)
    assert chan.findall("item") == []
    assert chan.findtext("description") == ""
    assert "last-modified" not in response.headers
