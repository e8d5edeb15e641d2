"""Atom 1.0 output, parsed with an XML parser and held to RFC 4287's rules."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

import pytest
from feeds_helpers import HOSTILE, default_app, feed_app

from heron import Request
from heron.feeds import AtomFeed, Feed
from heron.testing import TestClient

NS = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)")


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text.encode())
    assert root.tag == f"{NS}feed"
    return root


def rfc3339(value: str | None) -> datetime:
    assert value is not None
    assert RFC3339.fullmatch(value), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.mark.parametrize("path", ["/atom.xml", "/async-atom.xml"])
def test_atom_feed_and_entries_follow_the_rules(make_app: Any, path: str) -> None:
    with TestClient(default_app(make_app)) as client:
        response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = parse(response.text)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    # Required: id, title, updated; a self link; an author (feed or every entry).
    assert feed.findtext(f"{NS}id") == f"http://testserver{path}"
    assert feed.findtext(f"{NS}title") == "Stories & notes"
    assert feed.findtext(f"{NS}subtitle") == "The newest stories."
    assert rfc3339(feed.findtext(f"{NS}updated")).isoformat() == "2026-03-05T12:00:00+00:00"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{NS}link")}
    assert links == {"alternate": "http://testserver/stories/",
                     "self": f"http://testserver{path}"}
    assert feed.findtext(f"{NS}author/{NS}name") == "The Editors"

    entries = feed.findall(f"{NS}entry")
    assert len(entries) == 2
    ids = set()
    for entry in entries:
        ids.add(entry.findtext(f"{NS}id"))
        assert entry.findtext(f"{NS}title")
        rfc3339(entry.findtext(f"{NS}updated"))
        rfc3339(entry.findtext(f"{NS}published"))
        alternate = [link for link in entry.findall(f"{NS}link")
                     if link.get("rel") == "alternate"]
        assert len(alternate) == 1
        assert (alternate[0].get("href") or "").startswith("http://testserver/stories/")
        assert entry.findtext(f"{NS}author/{NS}name") == "Ann Author"
        summary = entry.find(f"{NS}summary")
        assert summary is not None
        assert summary.get("type") == "html"
        assert summary.text == "A <b>bold</b> body & more."
    assert len(ids) == 2
    first, second = entries
    assert first.findtext(f"{NS}author/{NS}email") == "ann@example.com"
    assert [c.get("term") for c in first.findall(f"{NS}category")] == ["news", "heron"]
    enclosure = [link.attrib for link in first.findall(f"{NS}link")
                 if link.get("rel") == "enclosure"]
    assert enclosure == [{"rel": "enclosure", "href": "http://testserver/media/2.mp3",
                          "length": "12345", "type": "audio/mpeg"}]
    # An entry never updated: its updated is its publication date.
    assert rfc3339(second.findtext(f"{NS}updated")) == rfc3339(
        second.findtext(f"{NS}published"))


class Anonymous(Feed):
    feed_type = AtomFeed
    title = HOSTILE

    def items(self, request: Request) -> list[int]:
        return [1, 2]

    def item_title(self, item: int) -> str:
        return f"<b>{item}</b> & \x07"

    def item_link(self, item: int) -> str:
        return f"/n/{item}"


def test_feed_without_authors_names_its_title_and_escapes(make_app: Any) -> None:
    with TestClient(feed_app(make_app, ("/anon.xml", Anonymous()))) as client:
        response = client.get("/anon.xml")
    assert b"<script>" not in response.content
    assert b"\x07" not in response.content
    feed = parse(response.text)
    assert feed.findtext(f"{NS}author/{NS}name") == feed.findtext(f"{NS}title")
    titles = [e.findtext(f"{NS}title") for e in feed.findall(f"{NS}entry")]
    assert titles == ["<b>1</b> & ", "<b>2</b> & "]
    for entry in feed.findall(f"{NS}entry"):
        assert entry.find(f"{NS}author") is None  # the feed's author covers it
        rfc3339(entry.findtext(f"{NS}updated"))  # the feed's date


def test_feed_type_must_be_a_writer() -> None:
    with pytest.raises(TypeError, match="feed_type"):
        Feed(str)  # type: ignore[arg-type]
