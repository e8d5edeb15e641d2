"""heron.feeds as a component: ``feed_link_tag`` in every template.

Feeds work without it; add ``"heron.feeds"`` to an app's components to use the
tag helper in templates (``{{ feed_link_tag(url_for("feed"), "Posts") }}``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heron.plugins import Plugin

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["FeedsPlugin", "plugin"]


class FeedsPlugin(Plugin):
    """Adds the ``feed_link_tag`` template global."""

    name = "heron.feeds"

    def template_globals(self, app: App) -> dict[str, Any]:
        from heron.feeds.links import feed_link_tag

        return {"feed_link_tag": feed_link_tag}


plugin = FeedsPlugin
