"""The ``<link rel="alternate">`` tag that lets browsers and readers find a feed."""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["feed_link_tag"]

_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}


def feed_link_tag(href: str, title: str = "", kind: str = "rss") -> Any:
    """``<link rel="alternate" type="application/rss+xml" title="..." href="...">`` for a
    page's ``<head>``, escaped and marked safe for templates.

    Args:
        href: the feed's URL (``url_for("feed")``).
        title: what a reader shows for it.
        kind: ``"rss"`` or ``"atom"``.

    Raises:
        ValueError: for another ``kind``.
    """
    from markupsafe import Markup

    if kind not in _TYPES:
        raise ValueError(f"feed_link_tag(kind=...) is 'rss' or 'atom', not {kind!r}")
    attrs = f'rel="alternate" type="{_TYPES[kind]}"'
    if title:
        attrs += f' title="{escape(title)}"'
    return Markup(f'<link {attrs} href="{escape(href)}">')
