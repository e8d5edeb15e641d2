"""Route matching: static paths by dict lookup, dynamic paths by a segment tree.

The tree is compiled once at startup.  Matching walks it segment by segment
(literal children by dict lookup, then parameter children by specificity), so
its cost depends on the depth of the path, not on the number of routes.  Every
outcome -- a match, a miss, a wrong method, a slash redirect, a mount -- comes
back as a value; nothing is raised through the matcher.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from heron.converters import Converter, IntConverter, PathConverter, StringConverter
from heron.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from heron.routing import Mount, Route

__all__ = ["Matcher", "MethodNotAllowed", "MountMatch", "NotFound", "Redirect", "RouteMatch"]


class RouteMatch(NamedTuple):
    """A hit: the route and its converted path parameters."""

    route: Route
    params: dict[str, Any]


# Building the tuple directly skips NamedTuple's Python-level __new__ (hot path).
_route_match = tuple.__new__


class MountMatch:
    __slots__ = ("mount",)

    def __init__(self, mount: Mount) -> None:
        self.mount = mount


class NotFound:
    __slots__ = ()


class MethodNotAllowed:
    __slots__ = ("allowed",)

    def __init__(self, allowed: set[str]) -> None:
        self.allowed = allowed


class Redirect:
    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


MatchResult = RouteMatch | MountMatch | NotFound | MethodNotAllowed | Redirect
_NOT_FOUND = NotFound()
_NO = object()

# A segment matcher turns one URL segment into {name: value}, or returns _NO.
SegmentMatcher = Callable[[str], Any]


def _param_matcher(name: str, converter: Converter) -> SegmentMatcher:
    to_python = converter.to_python
    if type(converter) is StringConverter:

        def match_str(segment: str) -> Any:
            return (name, segment)

        return match_str
    if type(converter) is IntConverter:

        def match_int(segment: str) -> Any:
            # isdigit() alone accepts non-ASCII digits such as "²".
            if segment.isdigit() and segment.isascii():
                try:
                    return (name, int(segment))
                except ValueError:  # more digits than int() reads (4,300 by default)
                    return _NO
            return _NO

        return match_int
    fullmatch = re.compile(converter.regex).fullmatch

    def match(segment: str) -> Any:
        if fullmatch(segment) is None:
            return _NO
        try:
            return (name, to_python(segment))
        except ValueError:
            return _NO

    return match


def _pattern_matcher(regex: re.Pattern[str], params: tuple[tuple[str, Converter], ...]) -> Any:
    def match(segment: str) -> Any:
        found = regex.fullmatch(segment)
        if found is None:
            return _NO
        try:
            return tuple(
                (name, conv.to_python(found.group(i)))
                for i, (name, conv) in enumerate(params, start=1)
            )
        except ValueError:
            return _NO

    return match


def _shape(segment: Any) -> Any:
    if isinstance(segment, str):
        return segment
    if segment[0] == "param":
        return ("param", type(segment[2]))
    return ("pattern", segment[1].pattern, tuple(type(conv) for _, conv in segment[2]))


class _Node:
    __slots__ = ("dynamic", "routes", "static", "tails")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        # (sort weight, identity key, matcher, child) -- tried in weight order.
        self.dynamic: list[tuple[int, tuple[Any, ...], SegmentMatcher, _Node]] = []
        # (name, converter, compiled regex, routes) for {x:path} at the end.
        self.tails: list[tuple[str, Converter, re.Pattern[str], dict[str, Route]]] = []
        self.routes: dict[str, Route] | None = None


class Matcher:
    """Find the route for a method and path among routes compiled at startup."""

    def __init__(
        self, routes: Iterable[Route], mounts: Iterable[Mount] = (), redirect_slashes: bool = True
    ) -> None:
        self.static: dict[str, dict[str, Route]] = {}
        self.root = _Node()
        self.mounts = sorted(mounts, key=lambda m: len(m.prefix), reverse=True)
        self.redirect_slashes = redirect_slashes
        self._shapes: dict[tuple[Any, ...], Route] = {}
        for route in routes:
            self._add(route)

    def _add(self, route: Route) -> None:
        template = route.template
        self._check_unique(route)
        if template.is_static:
            self._insert(self.static.setdefault(template.path, {}), route)
            return
        node = self.root
        for segment in template.segments[:-1]:
            node = self._child(node, segment)
        last = template.segments[-1]
        if isinstance(last, tuple) and last[0] == "param" and isinstance(last[2], PathConverter):
            _, name, conv = last
            for tail_name, tail_conv, _regex, routes in node.tails:
                if tail_name == name and type(tail_conv) is type(conv):
                    self._insert(routes, route)
                    return
            routes = {}
            self._insert(routes, route)
            node.tails.append((name, conv, re.compile(conv.regex, re.S), routes))
            node.tails.sort(key=lambda t: t[1].weight)
            return
        node = self._child(node, last)
        if node.routes is None:
            node.routes = {}
        self._insert(node.routes, route)

    def _check_unique(self, route: Route) -> None:
        # Paths differing only in parameter names ("/x/{id}", "/x/{pk}") match
        # the same URLs: the second route would never be reached.
        shape = tuple(_shape(segment) for segment in route.template.segments)
        for method in route.methods:
            other = self._shapes.setdefault((shape, method), route)
            if other is not route:
                raise ImproperlyConfigured(
                    f"Two routes answer {method} {other.template.path} and {route.template.path}"
                    f": {other.describe()} and {route.describe()}",
                    id="heron.routing.E001",
                )

    @staticmethod
    def _insert(routes: dict[str, Route], route: Route) -> None:
        for method in route.methods:
            other = routes.get(method)
            # A GET route answers HEAD only until a route declares HEAD itself.
            if other is not None and method in other.methods:
                raise ImproperlyConfigured(
                    f"Two routes answer {method} {route.template.path}: "
                    f"{other.describe()} and {route.describe()}",
                    id="heron.routing.E001",
                )
            routes[method] = route
        if "GET" in route.methods and "HEAD" not in routes:
            routes["HEAD"] = route

    def _child(self, node: _Node, segment: Any) -> _Node:
        if isinstance(segment, str):
            return node.static.setdefault(segment, _Node())
        if segment[0] == "param":
            _, name, conv = segment
            if isinstance(conv, PathConverter):
                raise ImproperlyConfigured(
                    f"{{{name}:path}} may only be the last part of a path",
                    id="heron.routing.E004",
                )
            key: tuple[Any, ...] = ("param", name, type(conv))
            weight, matcher = conv.weight, _param_matcher(name, conv)
        else:
            _, regex, params = segment
            key = ("pattern", regex.pattern)
            weight, matcher = 0, _pattern_matcher(regex, params)
        for _, existing_key, _, child in node.dynamic:
            if existing_key == key:
                return child
        child = _Node()
        node.dynamic.append((weight, key, matcher, child))
        node.dynamic.sort(key=lambda entry: entry[0])
        return child

    def match(self, method: str, path: str) -> MatchResult:
        """Resolve ``method`` and ``path`` to a :class:`RouteMatch` or a miss."""
        routes = self.static.get(path)
        if routes is not None:
            route = routes.get(method)
            if route is not None:
                return _route_match(RouteMatch, (route, {}))
        allowed: set[str] = set(routes) if routes else set()
        if path[:1] == "/":
            params: list[Any] = []
            route = self._walk(self.root, path[1:].split("/"), 0, method, params, allowed)
            if route is not None:
                return _route_match(RouteMatch, (route, dict(params)))
        if allowed:
            return MethodNotAllowed(allowed)
        for mount in self.mounts:
            prefix = mount.prefix
            if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                return MountMatch(mount)
        # "//host" would be a redirect to another site.
        if self.redirect_slashes and path != "/" and not path.startswith("//"):
            other = path[:-1] if path.endswith("/") else path + "/"
            if not isinstance(self.match_path_only(other), NotFound):
                return Redirect(other)
        return _NOT_FOUND

    def match_path_only(self, path: str) -> MatchResult:
        """Whether any route (any method) has this exact path."""
        if path in self.static:
            return MethodNotAllowed(set(self.static[path]))
        allowed: set[str] = set()
        if path[:1] == "/":
            self._walk(self.root, path[1:].split("/"), 0, "", [], allowed)
        return MethodNotAllowed(allowed) if allowed else _NOT_FOUND

    @staticmethod
    def _leaf(node: _Node, method: str, allowed: set[str]) -> Route | None:
        """The route for ``method`` at the node the whole path led to."""
        routes = node.routes
        if routes is not None:
            route = routes.get(method)
            if route is not None:
                return route
            allowed.update(routes)
        return None

    def _walk(
        self,
        node: _Node,
        segments: list[str],
        index: int,
        method: str,
        params: list[Any],
        allowed: set[str],
    ) -> Route | None:
        if index == len(segments):
            return self._leaf(node, method, allowed)
        segment = segments[index]
        last = index + 1 == len(segments)
        child = node.static.get(segment)
        if child is not None:
            found = (self._leaf(child, method, allowed) if last
                     else self._walk(child, segments, index + 1, method, params, allowed))
            if found is not None:
                return found
        if segment:
            for _, _, matcher, child in node.dynamic:
                value = matcher(segment)
                if value is _NO:
                    continue
                mark = len(params)
                if isinstance(value[0], str):
                    params.append(value)
                else:
                    params.extend(value)
                if last:
                    # Inlined leaf check: the common end of a match, one call less.
                    routes = child.routes
                    if routes is not None:
                        found = routes.get(method)
                        if found is not None:
                            return found
                        allowed.update(routes)
                else:
                    found = self._walk(child, segments, index + 1, method, params, allowed)
                    if found is not None:
                        return found
                del params[mark:]
        if node.tails:
            rest = "/".join(segments[index:])
            for name, conv, regex, routes in node.tails:
                if not rest or regex.fullmatch(rest) is None:
                    continue
                route = routes.get(method)
                if route is None:
                    allowed.update(routes)
                    continue
                try:
                    params.append((name, conv.to_python(rest)))
                except ValueError:
                    continue
                return route
        return None
