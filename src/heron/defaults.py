"""``heron.App``: the core :class:`heron.app.App` with heron's batteries that are on
by default, because they make every app safer or are needed by most.

The core names no battery; this module, above the batteries, does.  Leave one
out with ``class MyApp(App): default_plugins = ...``; see docs/architecture.md.
"""

from __future__ import annotations

from heron.app import App as CoreApp
from heron.plugins import Plugin

__all__ = ["DEFAULT_PLUGINS", "App"]

#: heron's default batteries, by module, in the order they wrap the request.
DEFAULT_PLUGINS: tuple[Plugin | type[Plugin] | str, ...] = (
    "heron.middleware.plugin",
    "heron.security",
    "heron.sessions.plugin",
    "heron.csrf",
    "heron.cache.plugin",
    "heron._templating_plugin",
    "heron._api_routes",
)


class App(CoreApp):
    __doc__ = CoreApp.__doc__
    default_plugins = DEFAULT_PLUGINS
