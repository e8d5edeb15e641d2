"""Handler parameters: what a view's signature asks for, resolved per request.

At startup each view's signature is analysed once into a :class:`Plan`: one
:class:`Parameter` per argument, saying where its value comes from and how it
is converted.  Per request only the plan runs.

Where a value comes from:

- the request (or websocket): an argument annotated ``Request`` (or named
  ``request`` without annotation);
- a path parameter: an argument named like one of the path's ``{params}``;
- a dependency: ``Annotated[T, Depends(func)]`` (or ``= Depends(func)``);
- a body: an argument whose type is a pydantic model, a dataclass or a
  ``heron.forms.Form`` (or any type marked ``Body()``);
- a header or cookie: ``Annotated[str, Header()]``, ``Annotated[str, Cookie()]``;
- the query string: any other typed argument (``page: int = 1``,
  ``tags: list[str] = []``, ``Annotated[int, Field(ge=1, le=100)]``).

Invalid values give one 422 listing every problem (:class:`RequestValidationError`).
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import functools
import inspect
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated, Any, ClassVar

from heron.concurrency import is_async_callable, run_in_threadpool
from heron.exceptions import HTTPException, ImproperlyConfigured, RequestValidationError
from heron.requests import HTTPConnection

__all__ = [
    "Body",
    "Cookie",
    "Depends",
    "Header",
    "Parameter",
    "Plan",
    "Query",
    "analyse",
    "build_call",
]

Resolver = Callable[[Any], Any]
_EMPTY = inspect.Parameter.empty
_SEQUENCES = (list, tuple, set, frozenset)
_JSON_TYPES = ("application/json",)


# -- markers --------------------------------------------------------------------


class Param:
    """Where an argument's value comes from, with its documentation."""

    source: ClassVar[str] = ""

    def __init__(self, default: Any = _EMPTY, *, alias: str | None = None,
                 description: str | None = None, examples: list[Any] | None = None,
                 deprecated: bool = False, include_in_schema: bool = True) -> None:
        self.default = default
        self.alias = alias
        self.description = description
        self.examples = examples
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alias={self.alias!r})"


class Query(Param):
    """A query-string parameter: ``Annotated[int, Query(alias="per-page")] = 20``."""

    source = "query"


class Header(Param):
    """A request header; ``user_agent`` reads ``User-Agent`` unless ``alias`` says otherwise."""

    source = "header"


class Cookie(Param):
    """A cookie sent by the client."""

    source = "cookie"


class Path(Param):
    """A path parameter, with documentation (the path names it anyway)."""

    source = "path"


class Body(Param):
    """The request body, as JSON: for types heron would not take as a body by itself
    (``Annotated[list[Item], Body()]``)."""

    source = "body"


class Depends:
    """A dependency: the value of ``dependency(...)``, whose own arguments are
    resolved like a view's (query parameters, headers, other dependencies...).

    - Called once per request for all who ask (``use_cache=False``: every time).
    - A generator function's code after ``yield`` runs when the view is done, with
      the view's exception thrown in, if any (teardown: commit or roll back...).
    - Sync functions run in the thread pool.
    """

    def __init__(self, dependency: Callable[..., Any], *, use_cache: bool = True) -> None:
        self.dependency = dependency
        self.use_cache = use_cache

    def __repr__(self) -> str:
        return f"Depends({getattr(self.dependency, '__name__', self.dependency)!r})"


# -- the plan -------------------------------------------------------------------


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


def _type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    target = func if inspect.isfunction(func) or inspect.ismethod(func) else type(func).__call__
    while isinstance(target, functools.partial):
        target = target.func
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:
        pass
    # One unresolvable annotation (a name imported only for type checkers) must
    # not make the others unreadable: resolve them one by one, keep the rest raw.
    hints = {}
    globalns = getattr(target, "__globals__", None)
    for name, raw in dict(getattr(target, "__annotations__", {})).items():
        def probe() -> None: ...
        probe.__annotations__ = {"value": raw}
        try:
            hints[name] = typing.get_type_hints(probe, globalns, include_extras=True)["value"]
        except Exception:
            hints[name] = raw
    return hints


def _is_connection_type(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, HTTPConnection)


def _split_annotated(annotation: Any) -> tuple[Any, list[Any]]:
    """``Annotated[int, Query(), Field(ge=1)]`` -> ``(Annotated[int, Field(ge=1)], [Query()])``."""
    if typing.get_origin(annotation) is not Annotated:
        return annotation, []
    base, *extras = typing.get_args(annotation)
    markers = [e for e in extras if isinstance(e, (Param, Depends))]
    rest = [e for e in extras if not isinstance(e, (Param, Depends))]
    return (Annotated[(base, *rest)] if rest else base), markers  # type: ignore[valid-type]


def _bare(annotation: Any) -> Any:
    """The type without ``Annotated`` and without ``| None``."""
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    args = typing.get_args(annotation)
    if args and type(None) in args and _is_union(annotation):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return _bare(rest[0])
    return annotation


def _is_union(annotation: Any) -> bool:
    import types

    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _is_model(annotation: Any) -> bool:
    """A pydantic model, a dataclass or a TypedDict: something with fields."""
    if not isinstance(annotation, type):
        return False
    import typing_extensions

    # typing_extensions' check knows both TypedDicts (pydantic wants that one on 3.11).
    if dataclasses.is_dataclass(annotation) or typing_extensions.is_typeddict(annotation):
        return True
    return any(base.__module__.startswith("pydantic") and base.__name__ == "BaseModel"
               for base in annotation.__mro__)


#: A class attribute that marks a type as a form body (heron.forms.Form sets it):
#: the view receives it bound to the request's form data.
FORM_MARKER = "__heron_form__"


def _is_form(annotation: Any) -> bool:
    return isinstance(annotation, type) and getattr(annotation, FORM_MARKER, False) is True


def contains_model(annotation: Any) -> bool:
    """Whether ``annotation`` is or holds (``list[Item]``, ``Item | None``) a model."""
    if _is_model(annotation):
        return True
    return any(contains_model(arg) for arg in typing.get_args(annotation)
               if not isinstance(arg, (str, int, float, bool)) and arg is not type(None))


def _is_query_type(annotation: Any) -> bool:
    """Types a query string can carry: scalars, enums, literals, and lists of them."""
    import datetime
    import decimal
    import uuid

    bare = _bare(annotation)
    if bare in (str, int, float, bool, decimal.Decimal, uuid.UUID, datetime.date,
                datetime.datetime, datetime.time, datetime.timedelta, Any):
        return True
    if isinstance(bare, type) and issubclass(bare, enum.Enum):
        return True
    origin = typing.get_origin(bare)
    if origin is typing.Literal:
        return True
    if origin in _SEQUENCES or _is_union(bare):
        return all(_is_query_type(arg) for arg in typing.get_args(bare)
                   if arg is not Ellipsis and arg is not type(None))
    return False


def _many(annotation: Any) -> bool:
    bare = _bare(annotation)
    return typing.get_origin(bare) in _SEQUENCES or bare in _SEQUENCES


def _scalar_converter(annotation: Any, where: str) -> Callable[[Any], Any] | None:
    """How to turn the text of a query value, header or cookie into ``annotation``.

    ``str`` needs nothing; ``int`` and ``float`` have fast paths; everything
    else goes through a pydantic ``TypeAdapter`` made here, once.
    """
    if annotation is str or annotation is Any or annotation is _EMPTY:
        return None
    if annotation is int:
        return _to_int
    if annotation is float:
        return _to_float
    return _adapter_converter(annotation, where)


def _for_text(annotation: Any) -> Any:
    """``annotation`` with each ``Literal`` of non-text values (``Literal[1, 2]``)
    taking their text too (``"1"``): pydantic compares literals exactly, and a
    query string, header or path only carries text."""
    import types

    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        table = {(str(v).lower() if isinstance(v, bool) else
                  str(v.value if isinstance(v, enum.Enum) else v)): v
                 for v in args if not isinstance(v, str)}
        if not table:
            return annotation
        from pydantic import BeforeValidator

        texts = {v for v in args if isinstance(v, str)}

        def from_text(value: Any) -> Any:
            if isinstance(value, str) and value not in texts:
                return table.get(value, value)
            return value

        return Annotated[annotation, BeforeValidator(from_text)]
    if origin is Annotated:
        return Annotated[(_for_text(args[0]), *annotation.__metadata__)]  # type: ignore[valid-type]
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_for_text(arg) for arg in args)]  # noqa: UP007
    if origin in _SEQUENCES and args:
        return origin[tuple(arg if arg is Ellipsis else _for_text(arg) for arg in args)]
    return annotation


def _adapter_converter(annotation: Any, where: str) -> Callable[[Any], Any]:
    from pydantic import TypeAdapter

    try:
        adapter = TypeAdapter(_for_text(annotation))
    except Exception as exc:
        raise ImproperlyConfigured(f"{where}: heron cannot validate the type {annotation!r}: "
                                   f"{exc}", id="heron.params.E002") from None
    return adapter.validate_python


def _to_int(text: Any) -> int:
    if type(text) is int:
        return text
    if isinstance(text, str) and len(text) <= 20:
        stripped = text.strip()
        if stripped.lstrip("+-").isdigit() and stripped.isascii():
            return int(stripped)
    raise _ConversionError("int_parsing", "Input should be a valid integer", text)


def _to_float(text: Any) -> float:
    import math

    try:
        if isinstance(text, str) and not text.isascii():
            raise ValueError  # float() reads other scripts' digits; pydantic does not
        value = float(text)
    except (TypeError, ValueError):
        raise _ConversionError("float_parsing", "Input should be a valid number",
                               text) from None
    if not math.isfinite(value):
        raise _ConversionError("finite_number", "Input should be a finite number", text)
    return value


class _ConversionError(Exception):
    def __init__(self, type_: str, message: str, value: Any) -> None:
        self.type = type_
        self.message = message
        self.value = value


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


def analyse(func: Callable[..., Any], path_params: Any, where: str) -> Plan:
    """The plan of ``func``: where each argument's value comes from.

    ``path_params``: the path's parameter names, or a mapping of names to their
    converters (so that ``id: int`` on ``{id:int}`` needs no second conversion).

    Raises:
        ImproperlyConfigured: an argument heron cannot supply (heron.params.E001), a
            type it cannot validate (E002), two bodies (E003), ``Path()`` on a name
            the path lacks (E004).
    """
    types = path_params if isinstance(path_params, _PathTypes) else \
        _PathTypes(path_types(path_params))
    hints = _type_hints(func)
    parameters: list[Parameter] = []
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
                inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target))


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


def _path_converter(annotation: Any, where: str) -> Callable[[Any], Any]:
    # The route's converter ran already ({id:int} gives an int): validate only
    # when the annotation asks for something else.
    adapter = _adapter_converter(annotation, where)
    bare = _bare(annotation)
    # Constraints (Annotated[int, Field(ge=1)]) must run even on a value of the right type.
    plain = isinstance(bare, type) and not isinstance(bare, enum.EnumMeta) \
        and typing.get_origin(annotation) is not Annotated and annotation is bare

    def convert(value: Any) -> Any:
        if plain and isinstance(value, bare):
            return value
        return adapter(value)

    return convert


def _body_converter(annotation: Any, where: str) -> Callable[[bytes], Any]:
    bare = _bare(annotation)
    validate_json = getattr(bare, "model_validate_json", None)
    if validate_json is not None and bare is annotation:
        return validate_json  # type: ignore[no-any-return]
    from pydantic import TypeAdapter

    try:
        return TypeAdapter(annotation).validate_json
    except Exception as exc:
        raise ImproperlyConfigured(f"{where}: heron cannot validate the type {annotation!r}: "
                                   f"{exc}", id="heron.params.E002") from None


# -- running a plan -------------------------------------------------------------


def _error(location: str, field: str, message: str, type_: str) -> dict[str, Any]:
    return {"location": location, "field": field, "message": message, "type": type_}


def _pydantic_errors(exc: Any, location: str, prefix: str) -> list[dict[str, Any]]:
    errors = []
    for item in exc.errors(include_url=False, include_input=False):
        path = [prefix] if prefix else []
        path += [str(part) for part in item["loc"]]
        errors.append(_error(location, ".".join(path), item["msg"], item["type"]))
    return errors


def _read(conn: Any, parameter: Parameter) -> Any:
    source = parameter.source
    if source == "query":
        query = conn.query_params
        return query.getlist(parameter.key) if parameter.many else query.get(parameter.key)
    if source == "header":
        headers = conn.headers
        return headers.getlist(parameter.key) if parameter.many else headers.get(parameter.key)
    if source == "cookie":
        return conn.cookies.get(parameter.key)
    return conn.scope["path_params"].get(parameter.name)


def _simple_value(conn: Any, parameter: Parameter, errors: list[dict[str, Any]]) -> Any:
    raw = _read(conn, parameter)
    if raw is None or (parameter.many and not raw):
        if parameter.required:
            errors.append(_error(parameter.source, parameter.key or parameter.name,
                                 "Field required", "missing"))
            return None
        return copy.copy(parameter.default)  # a list default is the view's own each time
    convert = parameter.convert
    if convert is None:
        return raw
    try:
        return convert(raw)
    except _ConversionError as exc:
        errors.append(_error(parameter.source, parameter.key, exc.message, exc.type))
    except Exception as exc:
        if type(exc).__name__ != "ValidationError":
            raise
        found = _pydantic_errors(exc, parameter.source, parameter.key)
        # A list's item errors name the item: "tags.1".
        errors.extend(found)
    return None


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def _body_value(conn: Any, parameter: Parameter, errors: list[dict[str, Any]]) -> Any:
    body = await conn.body()
    if not body:
        if parameter.required:
            errors.append(_error("body", "", "A JSON body is required", "missing"))
            return None
        return copy.copy(parameter.default)
    content_type = conn.content_type
    if content_type not in _JSON_TYPES and not content_type.endswith("+json"):
        raise HTTPException(415, f"Expected a JSON body (application/json), got "
                                 f"{content_type or 'no content type'!r}.")
    assert parameter.convert is not None
    try:
        return parameter.convert(body)
    except Exception as exc:
        if type(exc).__name__ != "ValidationError":
            raise
        problems = exc.errors(include_url=False, include_input=False)  # type: ignore[attr-defined]
        if any(p["type"] == "json_invalid" for p in problems):
            raise HTTPException(400, f"Malformed JSON body: {problems[0]['msg']}") from None
        errors.extend(_pydantic_errors(exc, "body", ""))
    return None


async def _form_value(conn: Any, parameter: Parameter) -> Any:
    form_class = _bare(parameter.annotation)
    return await form_class.from_request(conn)


class _Resolution:
    """The state of one request's resolution: the values read from the request,
    cached dependencies, teardowns."""

    __slots__ = ("cache", "errors", "stack", "values")

    def __init__(self, stack: AsyncExitStack | None) -> None:
        self.cache: dict[Callable[..., Any], Any] = {}
        self.errors: list[dict[str, Any]] = []
        self.stack = stack
        self.values: dict[Parameter, Any] = {}


async def _read_all(conn: Any, plan: Plan, state: _Resolution) -> None:
    """Read and validate every value of the request that ``plan`` and its
    dependencies ask for, before any dependency runs: an invalid request runs
    no user code."""
    values, errors = state.values, state.errors
    for parameter in plan.parameters:
        source = parameter.source
        if source in ("connection", "default"):
            continue
        if source == "dependency":
            assert parameter.dependency is not None
            await _read_all(conn, parameter.dependency, state)
        elif source == "body":
            values[parameter] = await _body_value(conn, parameter, errors)
        elif source == "form":
            values[parameter] = await _form_value(conn, parameter)
        else:
            values[parameter] = _simple_value(conn, parameter, errors)


async def _resolve(conn: Any, plan: Plan, state: _Resolution) -> dict[str, Any]:
    """The arguments of ``plan``'s function: the request's values read by
    :func:`_read_all`, then the dependencies, called in signature order."""
    await _read_all(conn, plan, state)
    if state.errors:
        # Several dependencies may read the same value: report each problem once.
        unique = {tuple(error.items()): error for error in state.errors}
        raise RequestValidationError(list(unique.values()))
    return await _arguments(conn, plan, state)


async def _arguments(conn: Any, plan: Plan, state: _Resolution) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    values = state.values
    for parameter in plan.parameters:
        source = parameter.source
        if source == "connection":
            arguments[parameter.name] = conn
        elif source == "default":
            continue
        elif source == "dependency":
            arguments[parameter.name] = await _dependency(conn, parameter, state)
        else:
            arguments[parameter.name] = values[parameter]
    return arguments


async def _dependency(conn: Any, parameter: Parameter, state: _Resolution) -> Any:
    sub = parameter.dependency
    assert sub is not None
    func = sub.func
    if parameter.use_cache and func in state.cache:
        return state.cache[func]
    arguments = await _arguments(conn, sub, state)
    if sub.is_generator:
        assert state.stack is not None
        value = await state.stack.enter_async_context(_as_context(func, arguments))
    elif sub.is_async:
        value = await func(**arguments)
    else:
        value = await run_in_threadpool(func, **arguments)
    if parameter.use_cache:
        state.cache[func] = value
    return value


def _as_context(func: Callable[..., Any], arguments: dict[str, Any]) -> Any:
    """An async context manager around a (sync or async) generator dependency."""
    if inspect.isasyncgenfunction(func):
        return asynccontextmanager(func)(**arguments)

    @asynccontextmanager
    async def sync_generator() -> AsyncIterator[Any]:
        generator = func(**arguments)
        # StopIteration cannot cross a future: step in the thread, report "done" instead.
        done, value = await run_in_threadpool(_step, generator.__next__)
        if done:
            raise RuntimeError(f"The dependency {func.__name__} did not yield")
        try:
            yield value
        except BaseException as exc:
            done, _ = await run_in_threadpool(_step, generator.throw, exc)
            if done:
                return
            raise RuntimeError(f"The dependency {func.__name__} yielded twice") from exc
        else:
            done, _ = await run_in_threadpool(_step, generator.__next__)
            if not done:
                raise RuntimeError(f"The dependency {func.__name__} yielded twice")

    return sync_generator()


def _step(advance: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
    try:
        return False, advance(*args)
    except StopIteration:
        return True, None


def build_call(
    func: Callable[..., Any], path_params: Collection[str], where: str,
    respond: Callable[[Any], Any] | None = None,
) -> Callable[[Any], Awaitable[Any]]:
    """Compile ``func`` into ``call(connection) -> awaitable result``.

    Async functions run on the loop; sync ones in heron's thread pool.  ``respond``
    turns the view's return value into a response inside the call, so that
    dependencies' teardowns see what it raises.
    """
    plan = analyse(func, path_params, where)
    call = _compile(plan, respond)
    call.plan = plan  # type: ignore[attr-defined]
    return call


def _compile(plan: Plan, respond: Callable[[Any], Any] | None) -> Callable[[Any], Awaitable[Any]]:
    func = plan.func
    is_async = plan.is_async
    steps = plan.parameters
    simple = all(p.source in ("connection", "path", "default") and p.convert is None
                 for p in steps)

    if simple and respond is None:
        # The request and path parameters only: no validation, no adapter.
        names = [(p.name, p.source) for p in steps if p.source != "default"]
        if not names:
            if is_async:
                return lambda conn: func()  # type: ignore[no-any-return]
            return lambda conn: run_in_threadpool(func)
        if is_async and len(names) == 1 and names[0][1] == "connection":
            return func  # type: ignore[return-value]

        def arguments(conn: Any) -> dict[str, Any]:
            params = conn.scope.get("path_params", {})
            return {name: conn if source == "connection" else params[name]
                    for name, source in names}

        if is_async:
            return lambda conn: func(**arguments(conn))  # type: ignore[no-any-return]
        return lambda conn: run_in_threadpool(func, **arguments(conn))

    teardown = plan.has_teardown

    async def call(conn: Any) -> Any:
        stack = AsyncExitStack() if teardown else None
        if stack is None:
            values = await _resolve(conn, plan, _Resolution(None))
            value = await func(**values) if is_async else \
                await run_in_threadpool(func, **values)
            return respond(value) if respond is not None else value
        async with stack:
            values = await _resolve(conn, plan, _Resolution(stack))
            if plan.is_generator:
                value = await stack.enter_async_context(_as_context(func, values))
            else:
                value = await func(**values) if is_async else \
                    await run_in_threadpool(func, **values)
            return respond(value) if respond is not None else value

    return call


_UNSET: Any = object()


def response_model(func: Callable[..., Any], options: dict[str, Any]) -> Any:
    """The model a view's answers are validated with: the ``response_model`` option
    (``None``: none), else the return annotation when it holds a pydantic model or
    dataclass (``-> Post``, ``-> list[Post]``), else ``None``."""
    model = options.get("response_model", _UNSET)
    if model is _UNSET:
        hint = _type_hints(func).get("return", _EMPTY)
        model = hint if hint is not _EMPTY and not isinstance(hint, str) \
            and contains_model(_bare(hint)) else None
    return model


def build_responder(func: Callable[..., Any], options: dict[str, Any],
                    where: str) -> Callable[[Any], Any] | None:
    """What turns a view's return value into its response, when the route says more
    than the default coercion: a ``response_model`` (or a return annotation holding
    a pydantic model or dataclass) validates and filters the value, ``status_code``
    sets the status.  ``None`` when neither applies."""
    model = response_model(func, options)
    if model is None and "response_model" not in options:
        returned = _type_hints(func).get("return")
        if isinstance(returned, str) and returned not in ("None", "str", "Any"):
            # A name only imported for type checkers, or a class defined in a function:
            # the annotation cannot filter anything, and saying nothing would hide a leak.
            import logging

            logging.getLogger("heron.params").warning(
                "%s: the return annotation %r cannot be resolved, so it does not validate "
                "or filter the view's answers; import it at module level or pass "
                "response_model=", where, returned)
    status: int | None = options.get("status_code")
    if model is None and status is None:
        return None
    from heron.responses import Response, make_response

    if model is None and status is not None:
        fixed = status

        def with_status(value: Any) -> Any:
            if isinstance(value, (Response, tuple)):
                return value
            response = make_response(value)
            response.status_code = fixed
            return response

        return with_status
    from pydantic import TypeAdapter

    try:
        adapter = TypeAdapter(model)
    except Exception as exc:
        raise ImproperlyConfigured(f"{where}: heron cannot validate the response model "
                                   f"{model!r}: {exc}", id="heron.params.E005") from None
    validate, dump = adapter.validate_python, adapter.dump_json
    code = status or 200

    def respond(value: Any) -> Any:
        if isinstance(value, Response):
            return value
        if isinstance(value, tuple):
            # (body, status[, headers]): the body is filtered all the same.
            if not value or value[0] is None or isinstance(value[0], Response):
                return value
            body = Response(dump(validate(value[0], from_attributes=True)),
                            media_type="application/json")
            return (body, *value[1:])
        # Only the declared fields are written (a subclass's extra ones are not).
        return Response(dump(validate(value, from_attributes=True)), code,
                        media_type="application/json")

    return respond


def build_hook(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """An async callable for a sync or async hook (sync ones run in the thread pool)."""
    if is_async_callable(func):
        return func

    async def call(*args: Any) -> Any:
        return await run_in_threadpool(func, *args)

    return call


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
