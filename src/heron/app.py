"""The application: an ASGI 3 callable that owns settings, routes and components."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from heron import _matcher
from heron._components import Component, load_component
from heron._dispatch import Dispatcher
from heron._static import static_app, static_checks
from heron.checks import ConfigurationErrors, run_checks
from heron.concurrency import configure_threadpool
from heron.converters import DEFAULT_CONVERTERS, Converter
from heron.datastructures import State
from heron.exceptions import (
    ImproperlyConfigured,
    URLBuildError,
)
from heron.params import (
    analyse,
    build_hook,
    build_responder,
    compile_plan,
    takes_only_path_params,
)
from heron.plugins import Finalizer, Gate, Plugin, RequestHook, ResponseHook, load_plugin
from heron.requests import Request
from heron.responses import Response, make_response
from heron.routing import (
    Mount,
    PathTemplate,
    Route,
    RouteDecorators,
    Router,
    view_hooks,
)
from heron.settings import Settings
from heron.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    import click

__all__ = ["App", "Middleware"]

#: Route decorator options the core reads (heron.params): the rest come from plugins.
CORE_ROUTE_OPTIONS = frozenset({"response_model", "status_code", "dependencies"})

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


class App(Dispatcher, RouteDecorators):
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
        api: API mode for the whole app, as ``Router(api=True)`` gives it to a
            router's routes: every error is problem JSON and heron.auth's guards
            answer 401/403, whatever the client accepts (docs/errors.md).
        dependencies: ``Depends(func)`` run before every view, for their effect
            (docs/api.md#dependencies).
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
        api: bool = False,
        dependencies: Sequence[Any] = (),
        **overrides: Any,
    ) -> None:
        # Plugins and components are loaded (imported) first, so that their settings
        # sections are known before ``overrides`` and the environment are read.
        loaded_plugins = [load_plugin(p) for p in (*self.default_plugins, *plugins)]
        loaded_components = [c if isinstance(c, Component) else load_component(c)
                             for c in components]
        self._component_plugins: dict[str, Plugin] = {}
        for component in loaded_components:
            extra = getattr(component.module, "plugin", None)
            if extra is not None:
                loaded = self._component_plugins[component.name] = load_plugin(extra)
                loaded_plugins.append(loaded)
        sections = [p.settings for p in loaded_plugins if p.settings is not None]
        if settings is None:
            settings = self.settings_class.with_sections(*sections)(**overrides)
        else:
            settings.extend(*sections)
            settings.update(**overrides)
        self.settings = settings
        self.root = Path(root).resolve() if root is not None else _caller_folder()
        self.router = Router(api=api, dependencies=dependencies)
        #: Replacements for dependencies, for tests: ``{get_db: fake_db}`` makes every
        #: ``Depends(get_db)`` call ``fake_db`` instead (docs/testing.md).
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
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
        self._uses_context = False  # set at startup: a plugin reads heron._context
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

    def on_error(self, key: type[BaseException] | int, *,
                 model: Any = None) -> Callable[[F], F]:
        """Handle an exception class or an HTTP status: ``func(request, exc)``;
        ``model`` declares the error shape (see :meth:`Router.on_error`)."""
        return self.router.on_error(key, model=model)

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
        router = component.router_factory(self) if component.router_factory is not None \
            else component.router
        if router is not None:
            if router.name:
                self.router.include(router)
            else:
                namespace = Router(name=component.name)
                namespace.include(router)
                self.router.include(namespace)
        plugin = self._component_plugins.pop(component.name, None) \
            or getattr(component.module, "plugin", None)
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
            if self.plugins[name] is plugin:
                return plugin
            raise ImproperlyConfigured(
                f"Two plugins are named {name!r}: {self.plugins[name]!r} and {plugin!r}; "
                "to configure a default plugin, list your own in a subclass's "
                "default_plugins instead", id="heron.plugins.E003")
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

    def check(self, *, deploy: bool = False) -> list[ImproperlyConfigured]:
        """Every configuration problem found (what ``heron check`` prints): the
        registered checks (:mod:`heron.checks`), each plugin's, and the routes'.

        With ``deploy``, the deployment checks follow (``heron check --deploy``): what
        is wrong only in production, the core's and each plugin's ``deploy_checks``.
        A problem whose id has ``W`` (``heron.security.W003``) is a warning."""
        problems = run_checks(self, [_core_settings_check, static_checks] + [
            plugin.checks for plugin in self.plugins.values()])
        if self._stack is None:  # a running app's routes are compiled and checked already
            self._add_plugin_routes()
            try:
                self._compile()
            except ConfigurationErrors as exc:
                problems += exc.problems
            except ImproperlyConfigured as exc:
                problems.append(exc)
            else:
                problems += self._check_route_options()
        if deploy:
            from heron._deploy import deploy_problems

            problems += deploy_problems(self)
        return problems

    def _check_route_options(self) -> list[ImproperlyConfigured]:
        """Keyword options of route decorators that neither the core nor a plugin reads
        (a typo such as ``tag=`` would otherwise be ignored)."""
        known = CORE_ROUTE_OPTIONS.union(*(p.route_options for p in self.plugins.values()))
        problems = []
        for route in self.compiled_routes():
            unknown = sorted(set(route.options) - known)
            if unknown:
                import difflib

                close = difflib.get_close_matches(unknown[0], known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(ImproperlyConfigured(
                    f"{route.describe()} for {route.path} has the option(s) "
                    f"{', '.join(map(repr, unknown))}, which nothing in this app reads{hint}",
                    id="heron.routing.E015"))
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
        self._uses_context = any(p.needs_request_context(self) for p in plugins)
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
        problems: list[ImproperlyConfigured] = []  # every route's, reported together
        for route in routes:
            try:
                self._compile_route(route, names)
            except ImproperlyConfigured as exc:
                problems.append(exc)
        for mount in mounts:
            if mount.name:
                if mount.name in names:
                    problems.append(ImproperlyConfigured(
                        f"The mount at {mount.prefix} and {names[mount.name][0].path} are both "
                        f"named {mount.name!r}; pass another name=...",
                        id="heron.routing.E010",
                    ))
                    continue
                pseudo = Route(mount.prefix + "/{path:path}", mount.app, frozenset(), mount.name,
                               "", (), {})
                pseudo.template = PathTemplate.parse(pseudo.path, self.converters)
                names.setdefault(mount.name, []).append(pseudo)
        if problems:
            raise problems[0] if len(problems) == 1 else ConfigurationErrors(problems)
        self._build_matchers(routes, mounts, names)

    def _compile_route(self, route: Route, names: dict[str, list[Route]]) -> None:
        """Analyse one view and make its handler (once, at startup)."""
        same = names.setdefault(route.name, [])
        if same and all(_view_of(other.endpoint) is not _view_of(route.endpoint)
                        for other in same):
            raise ImproperlyConfigured(
                f"Two routes are named {route.name!r}: {same[0].describe()} at "
                f"{same[0].path} and {route.describe()} at {route.path}; pass name=...",
                id="heron.routing.E002",
            )
        same.append(route)
        where = f"View {route.describe()} for {route.path}"
        respond = None if route.is_websocket else \
            build_responder(route.endpoint, route.options, where)
        given = route.options.get("dependencies", ())
        dependencies = [*(d for router in route.routers for d in router.dependencies),
                        *(given if isinstance(given, (list, tuple)) else [given])]
        route.plan = analyse(route.endpoint, route.template.converters, where, dependencies)
        call = compile_plan(route.plan, respond)
        route.handler = call if route.is_websocket else self._wrap_view(route, call)
        if (route.handler is call and not route.is_websocket and respond is None
                and not dependencies
                and takes_only_path_params(route.endpoint, route.template.converters)):
            route.direct = route.endpoint  # called as view(**params): no adapter

    def _build_matchers(self, routes: list[Route], mounts: list[Mount],
                        names: dict[str, list[Route]]) -> None:
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
        return static_app(self)

    def _wrap_view(self, route: Route, call: Callable[[Any], Any]) -> Callable[[Request], Any]:
        befores = [build_hook(f) for r in route.routers for f in r.before_request_funcs]
        # Hooks a decorator put on the view (login_required...): after the routers' hooks.
        befores += view_hooks(route.endpoint)
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
        entries = [*self._request_signals(), *outer, *self.user_middleware, *inner]
        if not entries:
            return self  # __call__ handles requests itself
        stack: ASGIApp = self._reenter
        for entry in reversed(entries):
            stack = entry.wrap(stack)
        return stack

    def _request_signals(self) -> list[Middleware]:
        # Only a project that imported heron.signals and connected a receiver pays
        # for the signals: a look-up, not an import (blinker stays unloaded).
        signals = sys.modules.get("heron.signals")
        if signals is None or not (signals.request_started.receivers
                                   or signals.request_finished.receivers):
            return []
        return [Middleware(signals._RequestSignals, {"sender": self})]

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
        existing = getattr(type(self), name, _ABSENT)
        if name in self.__dict__ or name in self._providers or (
                existing is not _ABSENT and not isinstance(existing, _Provided)):
            raise ImproperlyConfigured(f"App attribute {name!r} exists already; a plugin "
                                       "cannot provide it", id="heron.plugins.E004")
        if existing is _ABSENT:
            # A class-level descriptor, not __getattr__: a class with __getattr__
            # makes every attribute lookup on its instances slower, per request.
            setattr(type(self), name, _Provided(name))
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


_ABSENT: Any = object()


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


def _caller_folder() -> Path:
    frame = sys._getframe(2)
    filename = frame.f_globals.get("__file__")
    return Path(filename).resolve().parent if filename else Path.cwd()


def _view_of(endpoint: Any) -> Any:
    """What a route serves: the class of a class-based view's verb (its routes share a
    name), else the function itself."""
    return getattr(endpoint, "view_class", endpoint)



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
