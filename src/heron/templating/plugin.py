"""heron.templating as a plug-in: ``app.templates``, made on first use (an app
that renders no template never imports Jinja2), and its settings section."""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron.plugins import Plugin
from heron.settings import settings_section

if TYPE_CHECKING:
    from heron.app import App
    from heron.templating import Templates

__all__ = ["TemplatingPlugin"]


@settings_section
class TemplatingSettings:
    """heron.templating's settings (docs/templates.md)."""

    #: Re-read changed templates; ``None`` follows ``debug``.
    template_auto_reload: bool | None = None


class TemplatingPlugin(Plugin):
    """Gives every app ``app.templates``: the app's, its components' and its plugins'
    template folders, with every plugin's template globals and filters."""

    name = "heron.templating"
    settings = TemplatingSettings

    def setup(self, app: App) -> None:
        def make() -> Templates:
            from heron.templating import Templates

            return Templates(app)

        app.provide("templates", make)


plugin = TemplatingPlugin
