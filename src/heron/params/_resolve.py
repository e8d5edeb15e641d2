"""Running a plan per request: read and validate the request's values (one 422 for
every problem), call the dependencies (cached, with their teardowns), then the view."""

from __future__ import annotations

import copy
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from heron._parsing import check_json_text
from heron.concurrency import is_async_callable, run_in_threadpool
from heron.exceptions import HTTPException, RequestValidationError
from heron.params._annotations import _bare
from heron.params._converters import _ConversionError
from heron.params._plan import Parameter, Plan, analyse, override_plan

__all__ = ["build_call", "build_hook", "compile_plan"]

Resolver = Callable[[Any], Any]
_JSON_TYPES = ("application/json",)


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
    app = conn.scope.get("app")
    if app is None or not app.settings.allow_nul_in_text:
        check_json_text(body)
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
            await _read_all(conn, _dependency_plan(conn, parameter), state)
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
            value = await _dependency(conn, parameter, state)
            if not parameter.hidden:
                arguments[parameter.name] = value
        else:
            arguments[parameter.name] = values[parameter]
    return arguments


def _dependency_plan(conn: Any, parameter: Parameter) -> Plan:
    """The plan of a dependency, or of its replacement in ``app.dependency_overrides``."""
    sub = parameter.dependency
    assert sub is not None
    overrides = getattr(conn.scope.get("app"), "dependency_overrides", None)
    if overrides:
        replacement = overrides.get(sub.func)
        if replacement is not None:
            return override_plan(sub, replacement)
    return sub


async def _dependency(conn: Any, parameter: Parameter, state: _Resolution) -> Any:
    assert parameter.dependency is not None
    key = parameter.dependency.func  # an override shares its original's cache entry
    if parameter.use_cache and key in state.cache:
        return state.cache[key]
    sub = _dependency_plan(conn, parameter)
    func = sub.func
    arguments = await _arguments(conn, sub, state)
    if sub.is_generator:
        assert state.stack is not None
        value = await state.stack.enter_async_context(_as_context(func, arguments))
    elif sub.is_async:
        value = await func(**arguments)
    else:
        value = await run_in_threadpool(func, **arguments)
    if parameter.use_cache:
        state.cache[key] = value
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
    respond: Callable[[Any], Any] | None = None, dependencies: Sequence[Any] = (),
) -> Callable[[Any], Awaitable[Any]]:
    """Compile ``func`` into ``call(connection) -> awaitable result``.

    Async functions run on the loop; sync ones in heron's thread pool.  ``respond``
    turns the view's return value into a response inside the call, so that
    dependencies' teardowns see what it raises.  ``dependencies`` (``Depends(...)``
    of the app, routers and route) run first, for their effect.
    """
    return compile_plan(analyse(func, path_params, where, dependencies), respond)


def compile_plan(plan: Plan, respond: Callable[[Any], Any] | None = None,
                 ) -> Callable[[Any], Awaitable[Any]]:
    """:func:`build_call`'s second step, for a plan already analysed: the call may be
    the view itself (a bound method too) when it needs no adapting."""
    return _compile(plan, respond)


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
    has_dependencies = any(p.source == "dependency" for p in steps)

    async def call(conn: Any) -> Any:
        # An override may be a generator where the dependency it replaces is not.
        stack = AsyncExitStack() if teardown or (
            has_dependencies and getattr(conn.scope.get("app"), "dependency_overrides", None)
        ) else None
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


def build_hook(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """An async callable for a sync or async hook (sync ones run in the thread pool)."""
    if is_async_callable(func):
        return func

    async def call(*args: Any) -> Any:
        return await run_in_threadpool(func, *args)

    return call
