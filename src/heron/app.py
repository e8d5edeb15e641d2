"""The application: an ASGI 3 callable that owns settings, routes and components."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from heron import _context, _matcher
from heron._components import Component, load_component
from heron._errors import error_response
from heron._matcher import MountMatch, RouteMatch
from heron._parsing import check_path
from heron._scope import route_path
from heron.checks import ConfigurationErrors, run_checks
from heron.concurrency import configure_threadpool
from heron.converters import DEFAULT_CONVERTERS, Converter
from heron.datastructures import State
from heron.exceptions import (
    HTTPException,
    ImproperlyConfigured,
    RequestValidationError,
    ServiceUnavailable,
    URLBuildError,
    WebSocketDisconnect,
)
from heron.params import build_call, build_hook, build_responder, takes_only_path_params
from heron.plugins import Finalizer, Gate, Plugin, RequestHook, ResponseHook, load_plugin
from heron.requests import ClientDisconnect, HTTPConnection, Request
from heron.responses import RedirectResponse, Response, make_response
from heron.routing import WEBSOCKET, Mount, PathTemplate, Route, RouteDecorators, Router
from heron.settings import Settings
from heron.types import ASGIApp, Receive, Scope, Send
from heron.websockets import WebSocket, WebSocketState

if TYPE_CHECKING:
    import click

__all__ = ["App", "Middleware"]

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("heron.error")


@dataclass
class Middleware:
    """An ASGI middleware class and its options, wrapped around the app at startup."""

    cls: Callable[..., ASGIApp]
    options: dict[str, Any] = field(default_factory=dict)
    #: For plugins: inside the app's own middleware (compression) rather than around it.
    inner: bool = False

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return self.cls(app, **self.options)


class App(RouteDecorators):
    """A heron application.

    >>> app = App(debug=True)
    >>> @app.get("/")
    ... async def index():
    ...     return "Hello"

    Args:
        settings: a :class:`Settings` (or subclass) instance; when omitted one is
            made from ``HERON_*`` environment variables and ``.env``.
        components: packages (names or modules) to wire in: their routers,
            templates, static files, ``plugin`` and ``setup(app)`` hooks.
        plugins: :class:`~heron.plugins.Plugin` instances, classes or module
            names to add after the default ones (see docs/architecture.md).
        middleware: :class:`Middleware` entries, outermost first.
        root: the folder of the app's own ``templates/`` and ``static/``;
            defaults to the folder of the module that created the app.
        **overrides: individual settings (``debug=True``), applied on top.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        components: Sequence[str | ModuleType] = (),
        plugins: Sequence[Plugin | type[Plugin] | str] = (),
        middleware: Sequence[Middleware] = (),
        root: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> None:
        # Plugins and components are loaded (imported) first, so that their settings
        # sections are known before ``overrides`` and the environment are read.
        loaded_plugins = [load_plugin(p) for p in (*self.default_plugins, *plugins)]
        loaded_components = [c if isinstance(c, Component) else load_component(c)
                             for c in components]
        for component in loaded_components:
            extra = getattr(component.module, "plugin", None)
            if extra is not None:
                loaded_plugins.append(load_plugin(extra))
        sections = [p.settings for p in loaded_plugins if p.settings is not None]
        if settings is None:
            settings = self.settings_class.with_sections(*sections)(**overrides)
        else:
            settings.extend(*sections)
            settings.update(**overrides)
        self.settings = settings
        self.root = Path(root).resolve() if root is not None else _caller_folder()
        self.router = Router()
        self.state = State()
        self.extensions: dict[str, Any] = {}
        self.converters: dict[str, type[Converter]] = dict(DEFAULT_CONVERTERS)
        self.user_middleware: list[Middleware] = list(middleware)
        self.startup_hooks: list[Callable[[], Any]] = []
        self.shutdown_hooks: list[Callable[[], Any]] = []
        self.components: dict[str, Component] = {}
        self.context_processors: list[Callable[[Any], dict[str, Any] | None]] = []
        #: Functions turning an exception into another (a lost database into a
        #: 503, say) before error handlers see it; ``None`` keeps it.
        self.exception_translators: list[Callable[[Exception], Exception | None]] = []
        #: The plugins of this app by name, in the order they were added.
        self.plugins: dict[str, Plugin] = {}
        self._providers: dict[str, Callable[[], Any]] = {}
        #: Loaders of request attributes plugins provide (``request.user``), by name.
        self.request_attributes: dict[str, Callable[[Any], Any]] = {}
        self._stack: ASGIApp | None = None
        self._cli: click.Group | None = None
        self._gate: Gate | None = None
        self._finalize: Finalizer | None = None
        self._request_hooks: tuple[RequestHook, ...] = ()
        self._response_hooks: tuple[ResponseHook, ...] = ()
        self._finalizers: tuple[Finalizer, ...] = ()
        self._plugin_routes_added = False
        self._names: dict[str, list[Route]] = {}
        for plugin in loaded_plugins[:len(self.default_plugins)]:
            self.add_plugin(plugin)
        for component in loaded_components:
            self.add_component(component)
        for plugin in loaded_plugins[len(self.default_plugins):len(self.default_plugins)
                                     + len(plugins)]:
            self.add_plugin(plugin)

    #: Plugins every app of this class starts with (``heron.App`` lists heron's
    #: batteries that are on by default; this core class has none).
    default_plugins: tuple[Plugin | type[Plugin] | str, ...] = ()
    #: The settings class an app makes when given none (plugins' sections are added).
    settings_class: type[Settings] = Settings

    # -- registration -------------------------------------------------------

    def _check_not_started(self) -> None:
        if self._stack is not None:
            raise RuntimeError("The app has started: routes and middleware are fixed now.")

    def route(
        self, path: str, methods: list[str] | None = None, name: str | None = None, **options: Any
    ) -> Callable[[F], F]:
        """Register a view for ``path`` and ``methods`` (default ``GET``)."""
        self._check_not_started()
        return self.router.route(path, methods, name, **options)

    def add_route(self, path: str, endpoint: Callable[..., Any],
                  methods: list[str] | None = None, name: str | None = None,
                  **options: Any) -> None:
        self._check_not_started()
        self.router.add_route(path, endpoint, methods, name, **options)

    def include(self, router: Router, prefix: str = "") -> None:
        """Serve a :class:`Router`'s routes (the blueprint) under an optional prefix."""
        self._check_not_started()
        self.router.include(router, prefix)

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        """Serve any ASGI app (Starlette, Django, another heron app...) under ``path``."""
        self._check_not_started()
        self.router.mount(path, app, name)

    def add_converter(self, name: str, converter: type[Converter]) -> None:
        """Make ``{param:name}`` usable in paths."""
        self.converters[name] = converter

    def add_middleware(self, cls: Callable[..., ASGIApp], **options: Any) -> None:
        """Wrap the app in an ASGI middleware; ones added earlier run first (outermost)."""
        self._check_not_started()
        self.user_middleware.append(Middleware(cls, options))

    def before_request(self, func: F) -> F:
        """Run ``func(request)`` before every view; a returned value replaces the view's."""
        return self.router.before_request(func)

    def after_request(self, func: F) -> F:
        """Run ``func(request, response)`` after every view; it may return a new response."""
        return self.router.after_request(func)

    def on_error(self, key: type[BaseException] | int) -> Callable[[F], F]:
        """Handle an exception class or an HTTP status: ``func(request, exc)``."""
        return self.router.on_error(key)

    def on_startup(self, func: F) -> F:
        """Run ``func()`` (sync or async) when the server starts; a failure stops it."""
        self.startup_hooks.append(func)
        return func

    def on_shutdown(self, func: F) -> F:
        """Run ``func()`` when the server stops."""
        self.shutdown_hooks.append(func)
        return func

    def context_processor(self, func: F) -> F:
        """Add ``func(request) -> dict`` to the variables of every rendered template."""
        self.context_processors.append(func)
        return func

    def add_component(self, spec: str | ModuleType | Component) -> Component:
        """Wire in a component package (see :mod:`heron._components`)."""
        self._check_not_started()
        component = spec if isinstance(spec, Component) else load_component(spec)
        if component.name in self.components:
            raise ImproperlyConfigured(
                f"Two components are named {component.name!r}", id="heron.components.E003"
            )
        self.components[component.name] = component
        if component.router is not None:
            if component.router.name:
                self.router.include(component.router)
            else:
                namespace = Router(name=component.name)
                namespace.include(component.router)
                self.router.include(namespace)
        plugin = getattr(component.module, "plugin", None)
        if plugin is not None:
            self.add_plugin(plugin)
        if component.setup is not None:
            component.setup(self)
        return component

    def add_plugin(self, spec: Plugin | type[Plugin] | str) -> Plugin:
        """Add a :class:`~heron.plugins.Plugin` (an instance, a class or a module
        holding ``plugin``) and call its ``setup(app)``.

        Raises:
            ImproperlyConfigured: it cannot be loaded, or its name is taken
                (heron.plugins.E001-E003).
        """
        self._check_not_started()
        plugin = load_plugin(spec)
        name = plugin.name or type(plugin).__qualname__
        if name in self.plugins:
            if type(self.plugins[name]) is type(plugin):
                return self.plugins[name]  # listed twice (a default, then explicitly)
            raise ImproperlyConfigured(f"Two plugins are named {name!r}: "
                                       f"{self.plugins[name]!r} and {plugin!r}",
                                       id="heron.plugins.E003")
        self.plugins[name] = plugin
        if plugin.settings is not None:
            self.settings.extend(plugin.settings)
        plugin.setup(self)
        self.request_attributes.update(plugin.request_attributes(self))
        return plugin

    def plugin(self, name: str) -> Plugin | None:
        """The plugin called ``name``, or None when the app does not use it."""
        return self.plugins.get(name)

    @property
    def cli(self) -> click.Group:
        """A click group for the app's own commands, listed by ``heron --help``::

            @app.cli.command()
            def init_db():
                ...
        """
        if self._cli is None:
            import click

            self._cli = click.Group(name="app", help="The app's own commands.")
        return self._cli

    def commands(self) -> list[click.Command]:
        """Every command the app offers: its own (``app.cli``), then its plugins'."""
        found: list[click.Command] = list(self.cli.commands.values())
        for plugin in self.plugins.values():
            found += plugin.commands(self)
        return found

    # -- startup ------------------------------------------------------------

    def check(self) -> list[ImproperlyConfigured]:
        """Every configuration problem found (what ``heron check`` prints): the
        registered checks (:mod:`heron.checks`), each plugin's, and the routes'."""
        problems = run_checks(self, [_core_settings_check] + [
            plugin.checks for plugin in self.plugins.values()])
        if self._stack is None:  # a running app's routes are compiled and checked already
            self._add_plugin_routes()
            try:
                self._compile()
            except ImproperlyConfigured as exc:
                problems.append(exc)
        return problems

    def setup(self) -> ASGIApp:
        """Check the configuration, compile routes and compose the middleware stack.

        Runs once, at server startup (or on the first request when the server
        does not send lifespan events).

        Raises:
            ConfigurationErrors: every configuration problem found, at once.
        """
        if self._stack is not None:
            return self._stack
        problems = self.check()
        if problems:
            raise ConfigurationErrors(problems)
        configure_threadpool(self.settings.thread_pool_size)
        plugins = list(self.plugins.values())
        self._gate = _chain_gates([g for p in plugins for g in p.gates(self)])
        self._request_hooks = tuple(h for p in plugins for h in p.request_hooks(self))
        self._response_hooks = tuple(h for p in plugins for h in p.response_hooks(self))
        self._finalizers = tuple(f for p in plugins for f in p.finalizers(self))
        self._finalize = _chain_finalizers(self._finalizers)
        self._wrap_routes(plugins)
        self._stack = self._compose()
        return self._stack

    def _wrap_routes(self, plugins: list[Plugin]) -> None:
        """Let each plugin wrap each route's handler, once."""
        for routes in self._names.values():
            for route in routes:
                if not route.methods or route.is_websocket:
                    continue
                handler = route.handler
                for plugin in reversed(plugins):  # the first plugin ends outermost
                    handler = plugin.wrap_route(self, route, handler)
                if handler is not route.handler:
                    route.handler = handler
                    route.direct = None  # a wrapper needs the request

    def _add_plugin_routes(self) -> None:
        """Routes plugins add from settings (the OpenAPI document...), once."""
        if self._plugin_routes_added:
            return
        self._plugin_routes_added = True
        for plugin in list(self.plugins.values()):
            plugin.routes(self)

    def _compile(self) -> None:
        routes: list[Route] = []
        mounts: list[Mount] = []
        for item in self.router.flatten(self.converters):
            if isinstance(item, Route):
                routes.append(item)
            else:
                mounts.append(item)
        static = self._static_files()
        if static is not None:
            mounts.append(Mount(self.settings.static_url.rstrip("/"), static, "static"))
        names: dict[str, list[Route]] = {}
        for route in routes:
            same = names.setdefault(route.name, [])
            if same and all(other.endpoint is not route.endpoint for other in same):
                raise ImproperlyConfigured(
                    f"Two routes are named {route.name!r}: {same[0].describe()} at "
                    f"{same[0].path} and {route.describe()} at {route.path}; pass name=...",
                    id="heron.routing.E002",
                )
            same.append(route)
            where = f"View {route.describe()} for {route.path}"
            respond = None if route.is_websocket else \
                build_responder(route.endpoint, route.options, where)
            call = build_call(route.endpoint, route.template.converters, where, respond)
            route.plan = call.plan  # type: ignore[attr-defined]
            route.handler = call if route.is_websocket else self._wrap_view(route, call)
            if (route.handler is call and not route.is_websocket and respond is None
                    and takes_only_path_params(route.endpoint, route.template.converters)):
                route.direct = route.endpoint  # called as view(**params): no adapter
        for mount in mounts:
            if mount.name:
                if mount.name in names:
                    raise ImproperlyConfigured(
                        f"The mount at {mount.prefix} and {names[mount.name][0].path} are both "
                        f"named {mount.name!r}; pass another name=...",
                        id="heron.routing.E010",
                    )
                pseudo = Route(mount.prefix + "/{path:path}", mount.app, frozenset(), mount.name,
                               "", (), {})
                pseudo.template = PathTemplate.parse(pseudo.path, self.converters)
                names.setdefault(mount.name, []).append(pseudo)
        http = [r for r in routes if not r.is_websocket]
        sockets = [r for r in routes if r.is_websocket]
        self._http_matcher = _matcher.Matcher(http, mounts, self.settings.redirect_slashes)
        self._ws_matcher = _matcher.Matcher(sockets, mounts, redirect_slashes=False)
        self._static_routes = self._http_matcher.static
        # Longest prefix first; for equal prefixes the most deeply nested router.
        self._prefixes = sorted(
            self.router.prefixes(), key=lambda p: (len(p[0]), len(p[1])), reverse=True
        )
        self._names = names
        self._max_headers = self.settings.max_header_count
        self._root_routers: tuple[Router, ...] = (self.router,)

    def _static_files(self) -> ASGIApp | None:
        from heron.staticfiles import StaticFiles

        folders = [self.root / self.settings.static_dir]
        folders += [c.static_dir for c in self.components.values() if c.static_dir]
        existing = [f for f in folders if f.is_dir()]
        if not existing:
            return None
        return StaticFiles(existing, max_age=0 if self.settings.debug else 3600)

    def _wrap_view(self, route: Route, call: Callable[[Any], Any]) -> Callable[[Request], Any]:
        befores = [build_hook(f) for r in route.routers for f in r.before_request_funcs]
        # Guards a decorator put on the view (login_required...): after the routers' hooks.
        befores += getattr(route.endpoint, "__heron_guards__", ())
        afters = [build_hook(f) for r in reversed(route.routers) for f in r.after_request_funcs]
        if not befores and not afters:
            return call  # _http coerces the value; no extra coroutine per request

        routers = route.routers

        async def handle_with_hooks(request: Request) -> Response:
            try:
                for before in befores:
                    value = await before(request)
                    if value is not None:
                        break
                else:
                    value = await call(request)
                response = make_response(value)
            except Exception as exc:
                response = await self._handle_exception(request, exc, routers)
            for after in afters:
                response = await after(request, response) or response
            return response

        return handle_with_hooks

    def _compose(self) -> ASGIApp:
        outer: list[Middleware] = []
        inner: list[Middleware] = []
        for plugin in self.plugins.values():
            for entry in plugin.middleware(self):
                (inner if entry.inner else outer).append(entry)
        entries = [*outer, *self.user_middleware, *inner]
        if not entries:
            return self  # __call__ handles requests itself
        stack: ASGIApp = self._reenter
        for entry in reversed(entries):
            stack = entry.wrap(stack)
        return stack

    # -- URLs ---------------------------------------------------------------

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """The path of route ``name`` with ``params`` filled in (extras go to the query).

        Raises:
            URLBuildError: unknown name (with close matches) or a missing parameter.
        """
        if self._stack is None:  # routes may still be added: compile what is there now
            self._compile()
        routes = self._names.get(name)
        if not routes:
            import difflib

            close = difflib.get_close_matches(name, self._names, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise URLBuildError(f"No route is named {name!r}{hint}")
        # Like werkzeug: of the routes whose parameters are all given, the one using the most.
        usable = [r for r in routes if all(p in params for p in r.template.converters)]
        if usable:
            return max(usable, key=lambda r: len(r.template.converters)).url_path(params)
        return routes[0].url_path(params)

    url_for = url_path_for

    # -- ASGI ---------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point, and the innermost app of the middleware stack.

        The server's call finds ``scope["app"]`` unset: heron sets it and runs
        the middleware, which ends by calling this method again.  Without
        middleware the request is handled at once, saving a coroutine per request.
        """
        if scope.get("app") is not self:
            scope["app"] = self
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
                return
            stack = self._stack or self.setup()
            if stack is not self:
                await stack(scope, receive, send)
                return
        # Batteries reached without a request argument (``db.session``) find the
        # request through a context variable; only apps using them pay for it.
        if _context.enabled and scope.get("heron.context") is None:
            await self._call_in_context(scope, receive, send)
            return
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await self._websocket(scope, receive, send)
            return
        # A view without parameters never sees the request: make it only when needed.
        request: Request | None = None
        route: Route | None = None
        routers = self._root_routers
        try:
            if len(scope["headers"]) > self._max_headers:
                raise HTTPException(431, f"Too many request headers (the limit is "
                                         f"{self._max_headers}).")
            if self._gate is not None:
                early = self._gate(scope)
                if early is not None:
                    raise _Answer(early)
            raw_path = scope.get("raw_path")
            if raw_path and b"%" in raw_path:
                check_path(raw_path)
            path = route_path(scope) if scope.get("root_path") else scope["path"]
            # Static paths are one dict lookup, done here; the matcher does the rest.
            static = self._static_routes.get(path)
            route = static.get(scope["method"]) if static is not None else None
            if route is not None:
                params: dict[str, Any] = {}
                result: Any = None
            else:
                result = self._http_matcher.match(scope["method"], path)
                if result.__class__ is RouteMatch:
                    route, params = result
            if route is not None:
                scope["route"] = route
                scope["path_params"] = params
                routers = route.routers
                if route.direct is not None:
                    value = await (route.direct(**params) if params else route.direct())
                else:
                    request = Request(scope, receive)
                    if self._request_hooks:
                        for hook in self._request_hooks:
                            await hook(request)
                    value = await route.handler(request)
                response = value if isinstance(value, Response) else make_response(value)
            elif result.__class__ is MountMatch:
                await self._call_mount(result.mount, scope, receive, send)  # type: ignore[union-attr]
                return
            else:
                routers = self._routers_for(path)
                request = Request(scope, receive)
                for hook in self._request_hooks:
                    await hook(request)
                response = await self._unmatched(request, result, routers)
        except ClientDisconnect:
            if request is not None and request._form is not None:
                await request.close()  # the uploads' temporary files
            return
        except _Answer as answer:
            response = answer.response
        except Exception as exc:
            if request is None:
                request = Request(scope, receive)
            response = await self._handle_exception(request, exc, routers)
        if _context.CLEANUP_KEY in scope:
            # Close the view's database sessions now: their connections go back
            # to the pool before the response is sent, and an uncommitted
            # SQLite write no longer locks out the session store below.
            from heron._context import run_cleanups

            await run_cleanups(scope, failed=False)
        if request is not None and self._response_hooks:
            for respond in self._response_hooks:
                try:
                    response = await respond(request, response, routers)
                except Exception as exc:  # a store that is down (503)...
                    response = await self._handle_exception(request, exc, routers)
        if self._finalize is not None:
            self._finalize(scope, response, route)
        try:
            await response(scope, receive, send)
        finally:
            if request is not None and request._form is not None:
                await request.close()

    async def _call_in_context(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Makes the scope reachable by ``db.session`` and friends, then handles
        # the request in __call__ as usual, then runs what they left to clean up.
        from heron._context import current_scope, run_cleanups

        scope["heron.context"] = True
        token = current_scope.set(scope)
        try:
            await self(scope, receive, send)
        finally:
            current_scope.reset(token)
            await run_cleanups(scope, failed=False)

    async def _reenter(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The innermost app of the middleware stack: marks the scope (even one a
        # middleware rebuilt without "app") so that __call__ handles it directly.
        scope["app"] = self
        await self(scope, receive, send)

    async def _unmatched(
        self, request: Request, result: Any, routers: tuple[Router, ...]
    ) -> Response:
        if isinstance(result, _matcher.Redirect):
            query = request.scope.get("query_string", b"")
            # The matched path is decoded: encode it again so that "%", "?" and
            # "#" in it stay part of the path.
            path = request.scope.get("root_path", "") + result.path
            location = quote(path, safe="/:@!$&'()*+,;=~")
            if query:
                location += "?" + query.decode("latin-1")
            status = 301 if request.method in ("GET", "HEAD") else 308
            return RedirectResponse(location, status)
        if isinstance(result, _matcher.MethodNotAllowed):
            allowed = ", ".join(sorted(result.allowed | {"OPTIONS"}))
            if request.method == "OPTIONS":
                return Response(status_code=204, headers={"allow": allowed})
            exc = HTTPException(405, f"Method {request.method} is not allowed here.",
                                {"allow": allowed})
        else:
            exc = HTTPException(404, f"Nothing is found at {request.path}.")
        return await self._handle_exception(request, exc, routers)

    def _routers_for(self, path: str) -> tuple[Router, ...]:
        for prefix, chain in self._prefixes:
            if prefix and (path == prefix or path.startswith(prefix + "/")):
                return chain
        return (self.router,)

    async def _call_mount(self, mount: Mount, scope: Scope, receive: Receive, send: Send) -> None:
        # As the ASGI spec reads: ``path`` stays the full path and ``root_path``
        # grows by the mount prefix; the mounted app strips it for its routing.
        child = dict(scope)
        child["root_path"] = scope.get("root_path", "") + mount.prefix
        child.pop("route", None)
        child.pop("path_params", None)
        child.pop("heron.context", None)
        if self._finalizers and scope["type"] == "http":
            send = self._finalize_send(scope, send)
        await mount.app(child, receive, send)

    def _finalize_send(self, scope: Scope, send: Send) -> Send:
        """A ``send`` that runs the finalizers on a mounted app's response headers."""
        finalizers = self._finalizers

        async def send_finalized(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                carrier = Response.__new__(Response)
                # ASGI lets an app send names in any case: lower them to compare.
                carrier.raw_headers = [(k.lower(), v) for k, v in message.get("headers", [])]
                carrier.status_code = message["status"]
                for finalize in finalizers:
                    finalize(scope, carrier, None)
                message = {**message, "headers": carrier.raw_headers}
            await send(message)

        return send_finalized

    async def _handle_exception(
        self, conn: HTTPConnection, exc: Exception, routers: Sequence[Router]
    ) -> Response:
        for translate in self.exception_translators:
            translated = translate(exc)
            if translated is not None:
                translated.__cause__ = exc
                exc = translated
                break
        handler, key = _find_handler(exc, routers)
        reference = None
        if isinstance(exc, ServiceUnavailable):
            reference = self._log_unhandled(conn, exc, exc.message)
        if key == 500:
            # A catch-all 500 page must not hide the error from the logs.
            reference = self._log_unhandled(conn, exc)
        if handler is not None:
            try:
                return make_response(await build_hook(handler)(conn, exc))
            except Exception as handler_exc:
                exc = handler_exc  # the handler itself failed: fall through to a 500
                reference = None
        if isinstance(exc, RequestValidationError):
            from heron._errors import validation_response

            return validation_response(exc)
        if isinstance(exc, HTTPException):
            return error_response(conn, exc.status_code, exc.detail, exc.headers, reference)
        reference = reference or self._log_unhandled(conn, exc)
        if self.settings.debug:
            from heron._debug import debug_response

            try:
                return debug_response(conn, exc)
            except Exception:  # never let the debug page turn one error into two
                logger.exception("The debug page failed [ref %s]", reference)
        return error_response(conn, 500, "The server could not answer this request.",
                              reference=reference)

    def _log_unhandled(self, conn: HTTPConnection, exc: Exception, message: str = "") -> str:
        import uuid

        reference = uuid.uuid4().hex[:12]
        method = conn.scope.get("method", "WEBSOCKET")
        logger.error("Unhandled %s on %s %s [ref %s]%s", type(exc).__name__, method,
                     conn.scope.get("path"), reference, f": {message}" if message else "",
                     exc_info=exc.__cause__ or exc if message else exc)
        return reference

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        try:
            if len(scope["headers"]) > self._max_headers:
                raise HTTPException(431, "Too many request headers.")
            if self._gate is not None and self._gate(scope) is not None:
                raise HTTPException(400, "Refused before routing.")
            raw_path = scope.get("raw_path")
            if raw_path and b"%" in raw_path:
                check_path(raw_path)
        except HTTPException as exc:
            await websocket.close(1008, str(exc.detail)[:120])
            return
        path = route_path(scope) if scope.get("root_path") else scope["path"]
        result = self._ws_matcher.match(WEBSOCKET, path)
        if result.__class__ is MountMatch:
            await self._call_mount(result.mount, scope, receive, send)  # type: ignore[union-attr]
            return
        if result.__class__ is not RouteMatch:
            await websocket.close(1008, "No websocket route here")
            return
        route = result.route  # type: ignore[union-attr]
        scope["route"] = route
        scope["path_params"] = result.params  # type: ignore[union-attr]
        try:
            for hook in self._request_hooks:
                await hook(websocket)
            await route.handler(websocket)
        except WebSocketDisconnect:
            pass
        except ServiceUnavailable as exc:
            self._log_unhandled(websocket, exc, exc.message)
            if websocket.client_state is not WebSocketState.DISCONNECTED:
                await websocket.close(1011, "Service unavailable")
            return
        except HTTPException as exc:
            # Bad input read by the view (a malformed query, say): a policy
            # violation, not a server error.
            if websocket.client_state is not WebSocketState.DISCONNECTED:
                await websocket.close(1008, str(exc.detail)[:120])
            return
        except Exception as exc:
            self._log_unhandled(websocket, exc)
            if websocket.client_state is not WebSocketState.DISCONNECTED:
                await websocket.close(1011, "Internal error")
            return
        if websocket.client_state is not WebSocketState.DISCONNECTED:
            await websocket.close(1000)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        try:
            await self.startup()
        except Exception as exc:
            # A configuration mistake needs its message, not a traceback.
            trace = None if isinstance(exc, ImproperlyConfigured) else exc
            logging.getLogger("heron").error("Startup failed: %s", exc, exc_info=trace)
            await send({"type": "lifespan.startup.failed",
                        "message": f"heron could not start: {type(exc).__name__}: {exc}"})
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        failures = await self.shutdown()
        if failures:
            await send({"type": "lifespan.shutdown.failed", "message": "; ".join(failures)})
        else:
            await send({"type": "lifespan.shutdown.complete"})

    async def startup(self) -> None:
        """Set the app up and run its startup hooks, then those of mounted heron apps.

        Servers trigger this through the ASGI lifespan protocol; a mounted heron
        app gets no lifespan events of its own, so its parent runs it here.
        """
        self.setup()
        for hook in self.startup_hooks:
            await build_hook(hook)()
        for plugin in self.plugins.values():
            await plugin.on_startup(self)
        for child in self.mounted_apps():
            await child.startup()

    async def shutdown(self) -> list[str]:
        """Run shutdown hooks (mounted heron apps first); return the failures."""
        failures = []
        for child in self.mounted_apps():
            failures += await child.shutdown()
        for hook in self.shutdown_hooks:
            try:
                await build_hook(hook)()
            except Exception as exc:
                logging.getLogger("heron").error("Shutdown hook failed: %s", exc, exc_info=exc)
                failures.append(f"{type(exc).__name__}: {exc}")
        for plugin in reversed(self.plugins.values()):
            try:
                await plugin.on_shutdown(self)
            except Exception as exc:
                logging.getLogger("heron").error("Shutdown of %r failed: %s", plugin, exc,
                                                 exc_info=exc)
                failures.append(f"{type(exc).__name__}: {exc}")
        return failures

    # -- what plugins provide ------------------------------------------------

    def provide(self, name: str, factory: Callable[[], Any]) -> None:
        """Make ``app.<name>`` the value ``factory()`` returns, made on first use
        (how heron.templating gives ``app.templates``, heron.cache ``app.cache``).

        Raises:
            ImproperlyConfigured: ``name`` is an attribute of the app already
                (heron.plugins.E004).
        """
        existing = getattr(type(self), name, None)
        if name in self.__dict__ or (existing is not None
                                     and not isinstance(existing, _Provided)):
            raise ImproperlyConfigured(f"App attribute {name!r} exists already; a plugin "
                                       "cannot provide it", id="heron.plugins.E004")
        if existing is None:
            # A class-level descriptor, not __getattr__: a class with __getattr__
            # makes every attribute lookup on its instances slower, per request.
            setattr(App, name, _Provided(name))
        self._providers[name] = factory

    def forget(self, name: str) -> None:
        """Drop the value made for ``app.<name>``, so that the next use makes another."""
        self.__dict__.pop(name, None)

    if TYPE_CHECKING:  # for type checkers only: the attributes plugins provide
        def __getattr__(self, name: str) -> Any: ...

    # -- introspection ------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether the app has started (its routes and middleware are fixed)."""
        return self._stack is not None

    def routes(self) -> list[Route]:
        """Every route, compiled (what ``heron routes`` lists), the OpenAPI ones included."""
        if self._stack is None:
            self._add_plugin_routes()
            self._compile()
        return self.compiled_routes()

    def compiled_routes(self) -> list[Route]:
        """The routes as last compiled, without compiling again (for plugins' hooks
        at startup, which run after the routes compiled)."""
        seen: list[Route] = []
        for routes in self._names.values():
            seen += [r for r in routes if r.methods and r not in seen]
        return seen

    def mounted_apps(self) -> list[App]:
        """The heron apps mounted in this one (they start and stop with it)."""
        return [m.app for m in self._http_matcher.mounts if isinstance(m.app, App)]

    def __repr__(self) -> str:
        return f"<App root={str(self.root)!r} debug={self.settings.debug}>"


def _find_handler(
    exc: Exception, routers: Iterable[Router]
) -> tuple[Callable[..., Any] | None, Any]:
    """The error handler for ``exc`` and the key it was registered under.

    An HTTPException is found by its status first; any other error by its
    classes, then as the 500 it becomes.  Inner routers win over outer ones.
    """
    keys: list[Any] = [exc.status_code] if isinstance(exc, HTTPException) else []
    keys += type(exc).__mro__
    if not isinstance(exc, HTTPException):
        keys.append(500)
    for router in reversed(list(routers)):
        for key in keys:
            handler = router.error_handlers.get(key)
            if handler is not None:
                return handler, key
    return None, (500 if not isinstance(exc, HTTPException) else None)


class _Provided:
    """``app.<name>`` for a value a plugin provides: made on first use by the app's
    factory, then kept in the instance (this descriptor is not consulted again)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, app: App | None, owner: type[App]) -> Any:
        if app is None:
            return self
        factory = app._providers.get(self.name)
        if factory is None:
            raise AttributeError(f"{owner.__name__!r} object has no attribute "
                                 f"{self.name!r} (no plugin of this app provides it)")
        value = app.__dict__[self.name] = factory()
        return value


class _Answer(Exception):
    """Internal: a gate answered before routing; send its response."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _caller_folder() -> Path:
    frame = sys._getframe(2)
    filename = frame.f_globals.get("__file__")
    return Path(filename).resolve().parent if filename else Path.cwd()



def _core_settings_check(app: App) -> list[ImproperlyConfigured]:
    """The core's own settings: a secret key outside debug."""
    if not app.settings.secret_key and not app.settings.debug:
        return [ImproperlyConfigured(
            "secret_key is not set. Set HERON_SECRET_KEY (or App(secret_key=...)) to a long "
            "random value, e.g. the output of: python -c \"import secrets; "
            "print(secrets.token_urlsafe(50))\"; or turn on debug for development",
            id="heron.settings.E001",
        )]
    return []


def _chain_gates(gates: list[Gate]) -> Gate | None:
    """One gate running ``gates`` in order (the first answer wins); the gate itself
    when there is one, None when there is none: nothing to loop over per request."""
    if len(gates) <= 1:
        return gates[0] if gates else None
    chain = tuple(gates)

    def run_gates(scope: Scope) -> Response | None:
        for gate in chain:
            early = gate(scope)
            if early is not None:
                return early
        return None

    return run_gates


def _chain_finalizers(finalizers: tuple[Finalizer, ...]) -> Finalizer | None:
    """One finalizer running ``finalizers`` in order (as :func:`_chain_gates`)."""
    if len(finalizers) <= 1:
        return finalizers[0] if finalizers else None

    def run_finalizers(scope: Scope, response: Response, route: Route | None) -> None:
        for finalize in finalizers:
            finalize(scope, response, route)

    return run_finalizers
