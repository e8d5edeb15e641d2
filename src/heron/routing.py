"""Routes and routers (blueprints): path templates, decorators, hooks, URL building.

A :class:`Router` collects routes, hooks and error handlers; it can carry a
URL prefix and a name (its namespace for ``url_for``) and include other
routers.  The :class:`~heron.App` owns a root router and, at startup, flattens
the tree into :class:`Route` objects and compiles them into a matcher.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from heron.converters import Converter, PathConverter
from heron.exceptions import ImproperlyConfigured, URLBuildError
from heron.types import ASGIApp
from heron.views import ClassView, MethodView

__all__ = [
    "Mount", "PathTemplate", "Route", "RouteDecorators", "Router", "add_view_hook", "view_hooks",
]

F = TypeVar("F", bound=Callable[..., Any])
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
WEBSOCKET = "WEBSOCKET"

_PARAM = re.compile(r"{([^{}:]*)(?::([^{}]*))?}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# A parsed segment: a literal str, ("param", name, converter) for a whole
# segment, or ("pattern", compiled regex, ((name, converter), ...)) for a
# segment mixing text and parameters such as "{name}.{ext}".
Segment = Any


@dataclass(frozen=True)
class PathTemplate:
    """A parsed path such as ``/posts/{id:int}``: its segments and parameters."""

    path: str
    segments: tuple[Segment, ...]
    converters: Mapping[str, Converter]

    @property
    def is_static(self) -> bool:
        return not self.converters

    @classmethod
    def parse(cls, path: str, converters: Mapping[str, type[Converter]]) -> PathTemplate:
        """Parse ``path`` using the named ``converters``.

        Raises:
            ImproperlyConfigured: for a bad parameter name, an unknown converter,
                a repeated parameter or a ``path`` parameter that is not last.
        """
        if not path.startswith("/"):
            raise ImproperlyConfigured(
                f"Route path {path!r} must start with '/'", id="heron.routing.E005"
            )
        found: dict[str, Converter] = {}
        segments: list[Segment] = []
        for text in path[1:].split("/"):
            params = []
            for m in _PARAM.finditer(text):
                name, conv_name = m.group(1), m.group(2) or "str"
                if not _NAME.match(name):
                    raise ImproperlyConfigured(
                        f"Bad parameter name {name!r} in route path {path!r}",
                        id="heron.routing.E006",
                    )
                if conv_name not in converters:
                    known = ", ".join(sorted(converters))
                    raise ImproperlyConfigured(
                        f"Unknown converter {conv_name!r} in route path {path!r} "
                        f"(known: {known}; add one with app.add_converter)",
                        id="heron.routing.E003",
                    )
                if name in found:
                    raise ImproperlyConfigured(
                        f"Parameter {name!r} appears twice in route path {path!r}",
                        id="heron.routing.E011",
                    )
                found[name] = converters[conv_name]()
                params.append((name, found[name], m))
            if not params:
                if "{" in text or "}" in text:
                    raise ImproperlyConfigured(
                        f"Unbalanced brace in route path {path!r}", id="heron.routing.E012"
                    )
                segments.append(text)
            elif len(params) == 1 and params[0][2].group(0) == text:
                segments.append(("param", params[0][0], params[0][1]))
            else:
                segments.append(_mixed_segment(text, params, path))
        for segment in segments[:-1]:
            if (
                isinstance(segment, tuple)
                and segment[0] == "param"
                and isinstance(segment[2], PathConverter)
            ):
                raise ImproperlyConfigured(
                    f"{{{segment[1]}:path}} may only be the last part of a path ({path!r})",
                    id="heron.routing.E004",
                )
        return cls(path, tuple(segments), found)

    def build(self, params: Mapping[str, Any], route_name: str) -> str:
        """Fill in the parameters; raise :class:`URLBuildError` naming a missing one."""
        missing = [name for name in self.converters if name not in params]
        if missing:
            raise URLBuildError(
                f"url_for({route_name!r}) is missing parameter {missing[0]!r} "
                f"(route path {self.path})"
            )

        def fill(m: re.Match[str]) -> str:
            name = m.group(1)
            return self.converters[name].to_url(params[name])

        return _PARAM.sub(fill, self.path)


def _mixed_segment(text: str, params: list[Any], path: str) -> Segment:
    regex, last = "", 0
    for _, conv, m in params:
        if isinstance(conv, PathConverter):
            raise ImproperlyConfigured(
                f"A path parameter must be a whole segment in {path!r}", id="heron.routing.E004"
            )
        regex += re.escape(text[last : m.start()]) + f"({conv.regex})"
        last = m.end()
    regex += re.escape(text[last:])
    return ("pattern", re.compile(regex), tuple((name, conv) for name, conv, _ in params))


_VIEW_HOOKS = "__heron_view_hooks__"


def add_view_hook(view: Callable[..., Any], hook: Callable[..., Any]) -> None:
    """Run ``hook(request)`` before ``view``, after its routers' ``before_request``
    hooks; a value it returns answers instead of the view.  Hooks added later run
    first, as decorators apply bottom-up (``login_required`` uses this).  Applied
    once, when the routes compile."""
    setattr(view, _VIEW_HOOKS, (hook, *view_hooks(view)))


def view_hooks(view: Callable[..., Any]) -> tuple[Callable[..., Any], ...]:
    """The hooks :func:`add_view_hook` gave ``view``, in the order they run."""
    hooks: tuple[Callable[..., Any], ...] = getattr(view, _VIEW_HOOKS, ())
    return hooks


class Route:
    """One endpoint at one path, made by :meth:`Router.flatten` at startup.

    Attributes:
        path: the full path template, prefixes included.
        endpoint: the user's view function.
        methods: the HTTP methods it answers (``{"WEBSOCKET"}`` for websockets).
        name: the full, namespaced name for ``url_for`` (``"blog:post"``).
        routers: the routers it was declared in, outermost first (for hooks).
        options: extra keywords given to the decorator (for OpenAPI and others).
        api: whether a router it is in (the app's own included) is in API mode.
        handler: the compiled request handler, set by the app at startup.
        extensions: what plugins computed for this route at startup, by plugin name.
    """

    __slots__ = (
        "api",
        "direct",
        "endpoint",
        "extensions",
        "handler",
        "methods",
        "name",
        "namespace",
        "options",
        "path",
        "plan",
        "routers",
        "template",
    )

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: frozenset[str],
        name: str,
        namespace: str,
        routers: tuple[Router, ...],
        options: dict[str, Any],
    ) -> None:
        self.path = path
        self.endpoint = endpoint
        self.methods = methods
        self.name = name
        self.namespace = namespace
        self.routers = routers
        self.options = options
        self.api = any(router.api for router in routers)
        self.template: PathTemplate
        self.handler: Any = None
        #: What the view's signature asks for (heron.params.Plan; set at startup).
        self.plan: Any = None
        self.direct: Callable[..., Any] | None = None
        #: What plugins computed for this route at startup, by plugin name.
        self.extensions: dict[str, Any] = {}

    @property
    def is_websocket(self) -> bool:
        return WEBSOCKET in self.methods

    def url_path(self, params: Mapping[str, Any]) -> str:
        """The path with ``params`` filled in; extra params become the query string."""
        path = self.template.build(params, self.name)
        extra = {k: v for k, v in params.items() if k not in self.template.converters}
        if extra:
            path += "?" + urlencode(_query_items(extra))
        return path

    def describe(self) -> str:
        qualname = getattr(self.endpoint, "__qualname__", repr(self.endpoint))
        module = getattr(self.endpoint, "__module__", "?")
        return f"{module}.{qualname} ({self.name!r})"

    def __repr__(self) -> str:
        methods = ",".join(sorted(self.methods))
        return f"<Route {methods} {self.path} name={self.name!r}>"


def _query_items(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    items = []
    for key, value in params.items():
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        items += [(key, str(v)) for v in values]
    return items


@dataclass
class Mount:
    """A foreign ASGI app served under a path prefix."""

    prefix: str
    app: ASGIApp
    name: str | None = None


@dataclass
class _RouteSpec:
    path: str
    endpoint: Callable[..., Any]
    methods: frozenset[str]
    name: str | None
    options: dict[str, Any] = field(default_factory=dict)


class RouteDecorators:
    """The verb decorators, shared by :class:`Router` and :class:`~heron.App`.

    Both define ``route(path, methods, name, **options)``; these call it.
    """

    def route(
        self, path: str, methods: list[str] | None = None, name: str | None = None, **options: Any
    ) -> Callable[[F], F]:
        raise NotImplementedError

    def get(self, path: str, name: str | None = None, **options: Any) -> Callable[[F], F]:
        """Route ``GET`` (and so ``HEAD``) requests for ``path``."""
        return self.route(path, ["GET"], name, **options)

    def post(self, path: str, name: str | None = None, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["POST"], name, **options)

    def put(self, path: str, name: str | None = None, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["PUT"], name, **options)

    def patch(self, path: str, name: str | None = None, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["PATCH"], name, **options)

    def delete(self, path: str, name: str | None = None, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["DELETE"], name, **options)

    def websocket(self, path: str, name: str | None = None, **options: Any) -> Callable[[F], F]:
        """Route websocket connections for ``path``; the view takes a ``WebSocket``."""
        return self.route(path, [WEBSOCKET], name, **options)


class Router(RouteDecorators):
    """A group of routes with a shared prefix, namespace, hooks and error handlers.

    This is heron's blueprint.  Declare routes with the decorators, then
    ``app.include(router)``.  Routers nest: ``router.include(other)``.

    Args:
        prefix: prepended to every path in this router (``"/blog"``).
        name: the namespace of its route names (``url_for("blog:post")``).
        tags: OpenAPI tags for its routes (and those of routers it includes).
        api: API mode for its routes (and those of routers it includes): every
            error is problem JSON and heron.auth's guards answer 401/403 instead of
            redirecting to the login page, whatever the client accepts (docs/errors.md).
        dependencies: ``Depends(func)`` run before each view of this router (and of
            routers it includes), for their effect: a check that raises, a
            transaction... (docs/api.md#dependencies).
    """

    def __init__(self, prefix: str = "", *, name: str | None = None,
                 tags: list[str] | None = None, api: bool = False,
                 dependencies: Sequence[Any] = ()) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ImproperlyConfigured(
                f"Router prefix {prefix!r} must start with '/' and not end with one",
                id="heron.routing.E007",
            )
        if name is not None and (":" in name or not name):
            raise ImproperlyConfigured(
                f"Router name {name!r} must be non-empty and contain no ':'",
                id="heron.routing.E013",
            )
        self.prefix = prefix
        self.name = name
        #: OpenAPI tags of the router's operations (docs/api.md).
        self.tags = list(tags or ())
        #: ``Depends(...)`` run before each of its views (docs/api.md#dependencies).
        self.dependencies: list[Any] = list(dependencies)
        #: API mode (docs/errors.md#api-mode): read by the error responses and by
        #: batteries through ``request.api_mode``.
        self.api = api
        self.before_request_funcs: list[Callable[..., Any]] = []
        self.after_request_funcs: list[Callable[..., Any]] = []
        self.error_handlers: dict[type[BaseException] | int, Callable[..., Any]] = {}
        self._specs: list[_RouteSpec] = []
        self._children: list[tuple[Router, str]] = []
        self._mounts: list[Mount] = []
        #: What plugins' decorators attach to the router (``cache_page(60)(router)``),
        #: by plugin name; they read it back from ``route.routers`` at startup.
        self.extensions: dict[str, Any] = {}

    # -- declaring routes ---------------------------------------------------

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: list[str] | tuple[str, ...] | frozenset[str] | None = None,
        name: str | None = None,
        **options: Any,
    ) -> None:
        """Register ``endpoint`` for ``path`` (methods default to ``GET``).

        Extra keyword ``options`` are kept on the route for later consumers
        (OpenAPI summaries, tags, response models...).  A class-based view (a
        :class:`~heron.views.MethodView` subclass or what its ``as_view()`` returns)
        becomes one route per verb it defines, or per verb of ``methods``.
        """
        view: Any = endpoint
        if isinstance(view, type) and issubclass(view, MethodView):
            view = view.as_view()
        if isinstance(view, ClassView):
            for method, function in view.endpoints(methods):
                self.add_route(path, function, [method], name or view.name, **options)
            return
        upper = frozenset(m.upper() for m in (methods or ["GET"]))
        unknown = upper - HTTP_METHODS - {WEBSOCKET}
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown HTTP method(s) {sorted(unknown)} for route {path!r}",
                id="heron.routing.E008",
            )
        if name is not None and (":" in name or not name):
            raise ImproperlyConfigured(
                f"Route name {name!r} must be non-empty and contain no ':'",
                id="heron.routing.E014",
            )
        self._specs.append(_RouteSpec(path, endpoint, upper, name, options))

    def route(
        self, path: str, methods: list[str] | None = None, name: str | None = None, **options: Any
    ) -> Callable[[F], F]:
        """Decorator form of :meth:`add_route`."""

        def decorator(func: F) -> F:
            self.add_route(path, func, methods, name, **options)
            return func

        return decorator

    def include(self, router: Router, prefix: str = "") -> None:
        """Serve another router's routes here, under an optional extra prefix."""
        if router is self:
            raise ImproperlyConfigured("A router cannot include itself", id="heron.routing.E009")
        self._children.append((router, prefix.rstrip("/")))

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        """Serve any ASGI app under ``path``; it sees the rest of the path."""
        self._mounts.append(Mount(path.rstrip("/"), app, name))

    # -- hooks and errors ---------------------------------------------------

    def before_request(self, func: F) -> F:
        """Run ``func(request)`` before each view of this router.

        Returning a response (or any value a view may return) skips the view.
        """
        self.before_request_funcs.append(func)
        return func

    def after_request(self, func: F) -> F:
        """Run ``func(request, response)`` after each view; it may return a new response."""
        self.after_request_funcs.append(func)
        return func

    def on_error(self, key: type[BaseException] | int, *,
                 model: Any = None) -> Callable[[F], F]:
        """Handle an exception class or an HTTP status with ``func(request, exc)``.

        ``model`` declares the error shape (a pydantic model, dataclass...): what
        ``func`` returns is validated and written as JSON with the error's status,
        and the OpenAPI document describes the answers of this router's routes
        for that error with it (docs/api.md#your-own-error-shapes).

        Raises:
            ImproperlyConfigured: a model pydantic cannot validate (heron.params.E007).
        """

        def decorator(func: F) -> F:
            if model is None:
                self.error_handlers[key] = func
                return func
            from heron.params import error_responder

            where = f"The error handler {getattr(func, '__qualname__', func)!r}"
            self.error_handlers[key] = error_responder(func, model, where)
            return func

        return decorator

    # -- compiling ----------------------------------------------------------

    def flatten(
        self,
        converters: Mapping[str, type[Converter]],
        prefix: str = "",
        namespace: str = "",
        chain: tuple[Router, ...] = (),
    ) -> Iterator[Route | Mount]:
        """Yield every route and mount below this router with full paths and names."""
        prefix = prefix + self.prefix
        if self.name:
            namespace = f"{namespace}:{self.name}" if namespace else self.name
        chain = (*chain, self)
        for spec in self._specs:
            local = spec.name or str(getattr(spec.endpoint, "__name__", "route"))
            full_name = f"{namespace}:{local}" if namespace else local
            path = prefix + spec.path
            route = Route(path, spec.endpoint, spec.methods, full_name, namespace, chain,
                          spec.options)
            route.template = PathTemplate.parse(path, converters)
            yield route
        for mount in self._mounts:
            name = mount.name
            if name and namespace:
                name = f"{namespace}:{name}"
            yield Mount(prefix + mount.prefix, mount.app, name)
        for child, child_prefix in self._children:
            yield from child.flatten(converters, prefix + child_prefix, namespace, chain)

    def prefixes(self, prefix: str = "", chain: tuple[Router, ...] = ()) -> Iterator[
        tuple[str, tuple[Router, ...]]
    ]:
        """Yield (full prefix, router chain) for every router, for 404 handling."""
        prefix = prefix + self.prefix
        chain = (*chain, self)
        yield prefix, chain
        for child, child_prefix in self._children:
            yield from child.prefixes(prefix + child_prefix, chain)
