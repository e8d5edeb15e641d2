"""Signature analysis at startup: a view's (or dependency's) :class:`Plan`, one
:class:`Parameter` per argument saying where its value comes from and how it is
converted."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from heron.concurrency import is_async_callable
from heron.exceptions import ImproperlyConfigured
from heron.params._annotations import (
    _bare,
    _is_connection_type,
    _is_form,
    _is_query_type,
    _many,
    _split_annotated,
    _type_hints,
    contains_model,
)
from heron.params._converters import (
    _adapter_converter,
    _body_converter,
    _path_converter,
    _scalar_converter,
)
from heron.params._markers import _EMPTY, Depends, Param

__all__ = ["Parameter", "Plan", "analyse", "override_plan", "path_types", "plan",
           "takes_only_path_params"]


@dataclasses.dataclass(eq=False)
class Parameter:
    """One argument of a view or dependency and where its value comes from."""

    name: str
    #: ``connection``, ``path``, ``query``, ``header``, ``cookie``, ``body``,
    #: ``form``, ``dependency`` or ``default`` (left to its default value).
    source: str
    #: The name in the request (query key, header name, cookie name).
    key: str = ""
    annotation: Any = Any
    default: Any = _EMPTY
    marker: Param | None = None
    dependency: Plan | None = None
    use_cache: bool = True
    many: bool = False  # a list from repeated query keys or headers
    convert: Callable[[Any], Any] | None = None  # None: the value as it is
    #: A dependency of the route, a router or the app (``dependencies=[...]``): it
    #: runs, but its value is not an argument of the view.
    hidden: bool = False

    @property
    def required(self) -> bool:
        return self.default is _EMPTY

    @property
    def description(self) -> str | None:
        return self.marker.description if self.marker is not None else None


@dataclasses.dataclass(eq=False)
class Plan:
    """How to call a view (or dependency): its parameters, in signature order."""

    func: Callable[..., Any]
    parameters: list[Parameter]
    is_async: bool
    is_generator: bool = False
    #: The path's parameter types the plan was made with (to analyse an override).
    path_types: Any = None
    #: The plans of ``app.dependency_overrides`` replacing this one, by replacement.
    overrides: dict[Callable[..., Any], Plan] = dataclasses.field(default_factory=dict)

    def all_parameters(self) -> Iterator[Parameter]:
        """Every parameter, dependencies' ones included (what OpenAPI documents)."""
        for parameter in self.parameters:
            if parameter.dependency is not None:
                yield from parameter.dependency.all_parameters()
            else:
                yield parameter

    @property
    def body(self) -> Parameter | None:
        return next((p for p in self.all_parameters() if p.source in ("body", "form")), None)

    @property
    def has_teardown(self) -> bool:
        return self.is_generator or any(
            p.dependency is not None and p.dependency.has_teardown for p in self.parameters)

    @property
    def needs_request(self) -> bool:
        return any(p.source != "default" for p in self.parameters)


def path_types(converters: Any) -> dict[str, Any]:
    """What each path parameter's converter gives: ``{"id": int, "slug": str}``.

    ``converters`` maps names to converters (a route template's); a plain set of
    names means text for all.
    """
    if not isinstance(converters, dict):
        return dict.fromkeys(converters, str)
    types = {}
    for name, converter in converters.items():
        try:
            returned = typing.get_type_hints(converter.to_python).get("return", Any)
        except Exception:
            returned = Any
        types[name] = str if returned is Any else returned
    return types


def analyse(func: Callable[..., Any], path_params: Any, where: str,
            dependencies: Sequence[Any] = ()) -> Plan:
    """The plan of ``func``: where each argument's value comes from.

    ``path_params``: the path's parameter names, or a mapping of names to their
    converters (so that ``id: int`` on ``{id:int}`` needs no second conversion).
    ``dependencies``: ``Depends(...)`` that run before ``func``'s own (those of its
    routers and route), whose values it does not take.

    Raises:
        ImproperlyConfigured: an argument heron cannot supply (heron.params.E001), a
            type it cannot validate (E002), two bodies (E003), ``Path()`` on a name
            the path lacks (E004), an entry of ``dependencies`` that is not a
            ``Depends`` (E006).
    """
    types = path_params if isinstance(path_params, _PathTypes) else \
        _PathTypes(path_types(path_params))
    hints = _type_hints(func)
    parameters = [_declared(number, dependency, types, where)
                  for number, dependency in enumerate(dependencies)]
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        signature = None
    for name, param in (signature.parameters.items() if signature else ()):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        parameters.append(_parameter(name, param, hints.get(name, _EMPTY), types, where))
    # A body a shared dependency reads appears once per use: the same body.
    bodies = list({(p.name, repr(p.annotation)): p
                   for p in Plan(func, parameters, False).all_parameters()
                   if p.source in ("body", "form")}.values())
    if len(bodies) > 1:
        raise ImproperlyConfigured(
            f"{where} takes more than one body ({', '.join(p.name for p in bodies)}); "
            "put them in one model", id="heron.params.E003")
    target = func
    while isinstance(target, functools.partial):
        target = target.func
    return Plan(func, parameters, is_async_callable(func),
                inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target),
                path_types=types)


def _declared(number: int, dependency: Any, types: _PathTypes, where: str) -> Parameter:
    """A dependency given in ``dependencies=[...]``, run for its effect."""
    if not isinstance(dependency, Depends):
        raise ImproperlyConfigured(
            f"{where}: dependencies=[...] holds {dependency!r}, which is not a Depends(func); "
            "write dependencies=[Depends(func)]", id="heron.params.E006")
    name = getattr(dependency.dependency, "__name__", repr(dependency.dependency))
    sub = analyse(dependency.dependency, types, f"{where}, dependency {name!r}")
    return Parameter(f"<dependency {number}>", "dependency", dependency=sub,
                     use_cache=dependency.use_cache, hidden=True)


def override_plan(original: Plan, replacement: Callable[..., Any]) -> Plan:
    """The plan of ``replacement``, standing for the dependency ``original``
    (``app.dependency_overrides``); made on first use, then kept.

    Raises:
        ImproperlyConfigured: the replacement takes what heron cannot supply.
    """
    found = original.overrides.get(replacement)
    if found is None:
        name = getattr(original.func, "__name__", repr(original.func))
        found = original.overrides[replacement] = analyse(
            replacement, original.path_types if original.path_types is not None else (),
            f"The override of the dependency {name!r}")
    return found


class _PathTypes(dict[str, Any]):
    """Path parameter names and the types their converters give."""


def _parameter(name: str, param: inspect.Parameter, hint: Any, path_params: _PathTypes,
               where: str) -> Parameter:
    annotation, markers = _split_annotated(hint)
    default = param.default
    if isinstance(default, (Param, Depends)):
        markers.append(default)
        default = default.default if isinstance(default, Param) else _EMPTY
    marker = markers[-1] if markers else None
    untyped = hint is _EMPTY or isinstance(hint, str)

    if isinstance(marker, Depends):
        sub = analyse(marker.dependency, path_params, f"{where}, dependency {name!r}")
        return Parameter(name, "dependency", annotation=annotation, dependency=sub,
                         use_cache=marker.use_cache)
    if _is_connection_type(annotation) or (untyped and name in ("request", "websocket", "ws")):
        return Parameter(name, "connection", annotation=annotation)
    if isinstance(marker, Param):
        source = marker.source
    elif name in path_params:
        source = "path"
    elif untyped:
        if default is not _EMPTY:
            return Parameter(name, "default", default=default)
        raise ImproperlyConfigured(
            f"{where} takes an argument {name!r} that heron cannot supply: it is not a "
            f"path parameter ({', '.join(sorted(path_params)) or 'none'}) nor the request; "
            "give it a type to read it from the query string",
            id="heron.params.E001",
        )
    elif _is_form(_bare(annotation)):
        source = "form"
    elif contains_model(_bare(annotation)) or _bare(annotation) is dict \
            or typing.get_origin(_bare(annotation)) is dict:
        source = "body"
    elif _is_query_type(annotation):
        source = "query"
    else:
        raise ImproperlyConfigured(
            f"{where} takes an argument {name!r} of type {annotation!r} that heron cannot "
            "supply: not the request, a path or query parameter, a body model nor a "
            "dependency (use Annotated[..., Depends(func)])",
            id="heron.params.E001",
        )
    if source == "path" and name not in path_params:
        raise ImproperlyConfigured(f"{where}: {name!r} is marked Path() but the path has no "
                                   f"{{{name}}}", id="heron.params.E004")
    if source == "form":
        return Parameter(name, "form", annotation=annotation, default=default, marker=marker)
    if source == "body":
        return Parameter(name, "body", annotation=annotation, default=default, marker=marker,
                         convert=_body_converter(annotation, f"{where}, argument {name!r}"))
    key = marker.alias if marker is not None and marker.alias else name
    if source == "header" and not (marker is not None and marker.alias):
        key = name.replace("_", "-")
    many = _many(annotation)
    if source == "path":
        given = path_params.get(name, str)
        convert = None if annotation in (_EMPTY, Any, given) else \
            _path_converter(annotation, f"{where}, argument {name!r}")
    elif many:
        convert = _adapter_converter(annotation, f"{where}, argument {name!r}")
    else:
        convert = _scalar_converter(annotation, f"{where}, argument {name!r}")
    return Parameter(name, source, key=key.lower() if source == "header" else key,
                     annotation=annotation, default=default, marker=marker, many=many,
                     convert=convert)


def plan(func: Callable[..., Any], path_params: Collection[str],
         where: str) -> list[tuple[str, Any]]:
    """``(argument name, source)`` pairs of ``func``'s plan, in signature order."""
    return [(p.name, p.source) for p in analyse(func, path_params, where).parameters]


def takes_only_path_params(func: Callable[..., Any], path_params: Collection[str]) -> bool:
    """True for an ``async def`` view whose parameters are exactly the path's, untyped
    or typed as the path's converters give them.

    Such a view is called as ``view(**path_params)``, with no adapter and no
    request object per request.
    """
    if not is_async_callable(func):
        return False
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    if not (all(p.kind in keyword for p in parameters)
            and {p.name for p in parameters} == set(path_params)):
        return False
    try:
        planned = analyse(func, path_params, "")
    except ImproperlyConfigured:
        return False
    return all(p.source == "path" and p.convert is None for p in planned.parameters)
