"""The plug-in seam: how a battery (heron's own or a third party's) joins an app.

A :class:`Plugin` contributes through a few typed hooks, each optional.  The app
calls them once, when the plugin is added or at startup, and composes what they
return into its request path; per request it pays only for what was contributed:

============================  ==========================================================
hook                          when it runs
============================  ==========================================================
:meth:`Plugin.setup`          once, when the plugin is added (register routes, hooks)
:meth:`Plugin.checks`         at startup and by ``heron check``: configuration problems
:meth:`Plugin.deploy_checks`  by ``heron check --deploy``: problems only production has
:meth:`Plugin.gates`          per request, before routing, on the raw scope (sync)
:meth:`Plugin.request_hooks`  per request that builds a ``Request``, before its view (async)
:meth:`Plugin.response_hooks` after the view of such a request, on its response (async)
:meth:`Plugin.finalizers`     on every response, error pages and mounted apps included (sync)
:meth:`Plugin.wrap_route`     once per route at startup: wrap the route's handler
:meth:`Plugin.middleware`     at startup: ASGI middleware around the app
:meth:`Plugin.commands`       when the ``heron`` command loads the app: click commands
:meth:`Plugin.template_globals`  when templates are first used: names for every template
:meth:`Plugin.on_startup`     when the server starts (after the app's own hooks are set)
:meth:`Plugin.on_shutdown`    when the server stops
============================  ==========================================================

Folders (``templates_dir``, ``static_dir``, ``migrations_dir``) and the route
options the plugin understands (``route_options``) are plain attributes.  See
docs/architecture.md for the layers and a worked example.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from heron.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    import click

    from heron.app import App, Middleware
    from heron.requests import HTTPConnection, Request
    from heron.responses import Response
    from heron.routing import Route, Router
    from heron.types import Scope

__all__ = [
    "GETTEXT_KEY",
    "LANGUAGE_KEY",
    "REFUSED_KEY",
    "STATIC_ROOT_KEY",
    "UNCACHEABLE_KEY",
    "Finalizer",
    "Gate",
    "Handler",
    "Plugin",
    "RequestHook",
    "ResponseHook",
    "load_plugin",
]

#: The scope key a plugin sets (to True) when it refuses a request after routing (the
#: CSRF check does): response hooks then persist nothing (no session is saved).
REFUSED_KEY = "heron.refused"
#: The scope key a plugin sets (to True) when the response being made holds something
#: made for this request alone that a response header must match (a CSP nonce in the
#: page): a server-side page cache never stores it for another request.
UNCACHEABLE_KEY = "heron.uncacheable"
#: The scope key where a translation plugin (heron.i18n) keeps the request's gettext
#: callable (``str -> str``); the core's error pages translate their text through it.
GETTEXT_KEY = "heron.gettext"
#: The scope key where a plugin that moves part of the path into ``root_path`` (heron.i18n's
#: ``/de/`` prefix) keeps the root path from before: static file URLs stay under it, so a
#: file has one URL in every language.
STATIC_ROOT_KEY = "heron.static_root_path"
#: The scope key of the request's language code (``"de"``), set by heron.i18n: the
#: ``<html lang>`` of the core's error pages, and ``request.language``.
LANGUAGE_KEY = "heron.language"

#: Runs before routing on the raw scope: returns a response to answer with at
#: once, raises an HTTPException for an error page, or returns None to go on.
Gate = Callable[["Scope"], "Response | None"]
#: Runs once a request object exists, before its view (loads what the view may read).
RequestHook = Callable[["HTTPConnection"], Awaitable[None]]
#: Runs after the view of a request with a request object: returns the response to send.
ResponseHook = Callable[["Request", "Response", "Sequence[Router]"], Awaitable["Response"]]
#: Runs on every HTTP response before it is sent, the matched route or None.
Finalizer = Callable[["Scope", "Response", "Route | None"], None]
#: A route's handler: takes the request, returns the view's value (or raises).
Handler = Callable[["Request"], Awaitable[Any]]


class Plugin:
    """Base class of a battery: override the hooks it needs; each default adds nothing.

    A plugin instance belongs to one app.  ``name`` must be unique in an app
    (``"heron.csrf"``, ``"acme.audit"``); adding a second plugin of the same
    name is an error.
    """

    name: ClassVar[str] = ""
    #: Folders the app serves or searches, like a component's.
    templates_dir: Path | None = None
    static_dir: Path | None = None
    migrations_dir: Path | None = None
    #: Keyword options of route decorators this plugin reads (``tags=...``);
    #: an option no plugin and no core part knows is a startup error.
    route_options: ClassVar[frozenset[str]] = frozenset()
    #: The plugin's settings section (a :func:`heron.settings.settings_section`
    #: class): its fields join ``app.settings``, read from ``HERON_*`` like the rest.
    settings: ClassVar[type | None] = None

    def setup(self, app: App) -> None:
        """Called once when the plugin is added to ``app``."""

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        """Configuration problems, each with its own id (see docs/checks.md)."""
        return ()

    def deploy_checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        """Problems that matter only in production (a setting fine in development, such
        as a cookie without Secure), reported by ``heron check --deploy`` and
        ``app.check(deploy=True)``, never at startup.  An id with ``W``
        (``acme.audit.W001``) is a warning, one with ``E`` an error (docs/checks.md)."""
        return ()

    def needs_request_context(self, app: App) -> bool:
        """Whether the plugin's code reaches the current request through heron's context
        variable (``db.session`` does); asked at startup.  The app keeps the request there
        only when a plugin says so, since it costs a little on every request."""
        return False

    def routes(self, app: App) -> None:
        """Called at startup before routes compile: add routes that depend on settings."""

    def gates(self, app: App) -> Iterable[Gate]:
        """Functions run on every request's scope before routing."""
        return ()

    def request_hooks(self, app: App) -> Iterable[RequestHook]:
        """Async functions run when a request object is made, before its view."""
        return ()

    def response_hooks(self, app: App) -> Iterable[ResponseHook]:
        """Async functions run on the response of a request that had a request object."""
        return ()

    def finalizers(self, app: App) -> Iterable[Finalizer]:
        """Functions run on every response (headers every response must carry)."""
        return ()

    def request_attributes(self, app: App) -> dict[str, Callable[[HTTPConnection], Any]]:
        """Loaders behind request attributes the core declares but does not own
        (``"user"`` and ``"auser"`` for ``request.user``/``await request.auser()``)."""
        return {}

    def wrap_route(self, app: App, route: Route, handler: Handler) -> Handler:
        """Wrap one route's handler, once at startup; return ``handler`` to leave it."""
        return handler

    def middleware(self, app: App) -> Iterable[Middleware]:
        """ASGI middleware around the app (``Middleware(..., inner=True)`` goes inside
        the app's own middleware)."""
        return ()

    def commands(self, app: App) -> Iterable[click.Command]:
        """click commands the ``heron`` command offers for this app."""
        return ()

    def template_globals(self, app: App) -> dict[str, Any]:
        """Names every template sees (functions, values)."""
        return {}

    def template_filters(self, app: App) -> dict[str, Callable[..., Any]]:
        """Jinja2 filters every template can use."""
        return {}

    def template_extensions(self, app: App) -> Iterable[Any]:
        """Jinja2 extensions (classes or dotted names) every template environment loads."""
        return ()

    def migration_branches(self, app: App) -> Iterable[Any]:
        """More migration branches (``heron.db.migrations.Owner``) chosen at run time,
        for ``heron db`` (heron.auth: the default user model's shipped tables)."""
        return ()

    def post_migrate(self, app: App) -> None:
        """Called after ``heron db migrate`` (heron.auth makes permission rows here)."""

    async def on_startup(self, app: App) -> None:
        """Called when the server starts; a failure stops it."""

    async def on_shutdown(self, app: App) -> None:
        """Called when the server stops."""

    def __repr__(self) -> str:
        return f"<Plugin {self.name or type(self).__qualname__}>"


def load_plugin(spec: Plugin | type[Plugin] | str) -> Plugin:
    """A plugin from an instance, a class, or ``"package.module"`` holding ``plugin``
    (an instance or a class) or ``"package.module:attr"``.

    Raises:
        ImproperlyConfigured: it cannot be imported or is not a plugin
            (heron.plugins.E001, heron.plugins.E002).
    """
    found: Any = spec
    if isinstance(spec, str):
        import importlib

        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"Plugin {spec!r} could not be imported: {exc}", id="heron.plugins.E001"
            ) from exc
        found = getattr(module, attr or "plugin", None)
    if isinstance(found, type) and issubclass(found, Plugin):
        found = found()
    if not isinstance(found, Plugin):
        raise ImproperlyConfigured(
            f"{spec!r} is not a heron Plugin (a module with a 'plugin', a Plugin subclass "
            "or an instance)", id="heron.plugins.E002")
    return found
