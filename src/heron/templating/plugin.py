"""heron.templating as a plug-in: ``app.templates``, made on first use (an app
that renders no template never imports Jinja2), and its settings section."""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron.plugins import Plugin
from heron.settings import settings_section

if TYPE_CHECKING:
    from heron.app import App
    from heron.exceptions import ImproperlyConfigured
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

    def checks(self, app: App) -> list[ImproperlyConfigured]:
        """Templates naming a static file the manifest lacks (heron.templating.E001),
        when the app serves collected static files."""
        from heron._static import app_manifest

        if app_manifest(app) is None:
            return []  # nothing to check: Jinja2 stays unimported
        from heron.templating._templates import missing_static_names

        return missing_static_names(app)


plugin = TemplatingPlugin
