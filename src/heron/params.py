"""Handler parameters: what a view's signature asks for, resolved per request.

At startup each view's signature is analysed once into a plan: a list of
``(argument name, resolver)`` pairs.  Per request only the plan runs.  Today a
view may ask for the request (or websocket) and its path parameters; typed
query, body, header and dependency parameters plug in here as more resolvers.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from typing import Any

from heron.concurrency import is_async_callable, run_in_threadpool
from heron.exceptions import ImproperlyConfigured
from heron.requests import HTTPConnection

__all__ = ["build_call"]

Resolver = Callable[[Any], Any]


def _connection(conn: Any) -> Any:
    return conn


def _path_param(name: str) -> Resolver:
    def resolve(conn: Any) -> Any:
        return conn.scope["path_params"][name]

    return resolve


def _type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    target = func if inspect.isfunction(func) or inspect.ismethod(func) else type(func).__call__
    try:
        return typing.get_type_hints(target)
    except Exception:  # unresolvable forward references: fall back to raw annotations
        return dict(getattr(target, "__annotations__", {}))


def _is_connection_type(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, HTTPConnection)


def plan(func: Callable[..., Any], path_params: set[str], where: str) -> list[tuple[str, Resolver]]:
    """The resolvers for each argument of ``func``.

    Raises:
        ImproperlyConfigured: for an argument heron cannot supply (heron.params.E001).
    """
    hints = _type_hints(func)
    steps: list[tuple[str, Resolver]] = []
    for name, param in inspect.signature(func).parameters.items():
        annotation = hints.get(name, inspect.Parameter.empty)
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        # An unannotated (or unresolvable) "request"/"websocket" means the connection.
        untyped = annotation is inspect.Parameter.empty or isinstance(annotation, str)
        if _is_connection_type(annotation) or (
            untyped and name in ("request", "websocket", "ws")
        ):
            steps.append((name, _connection))
        elif name in path_params:
            steps.append((name, _path_param(name)))
        elif param.default is inspect.Parameter.empty:
            raise ImproperlyConfigured(
                f"{where} takes an argument {name!r} that heron cannot supply: it is not a "
                f"path parameter ({', '.join(sorted(path_params)) or 'none'}) nor the request",
                id="heron.params.E001",
            )
    return steps


def build_call(
    func: Callable[..., Any], path_params: set[str], where: str
) -> Callable[[Any], Awaitable[Any]]:
    """Compile ``func`` into ``call(connection) -> awaitable result``.

    Async functions run on the loop; sync ones in heron's thread pool.
    """
    steps = plan(func, path_params, where)
    names = [name for name, _ in steps]
    is_async = is_async_callable(func)

    if is_async and not steps:
        return lambda conn: func()  # type: ignore[no-any-return]
    if is_async and len(steps) == 1 and steps[0][1] is _connection:
        return func  # the view takes just the request
    if is_async and all(n in path_params for n in names) and set(names) == path_params:
        return lambda conn: func(**conn.scope["path_params"])  # type: ignore[no-any-return]

    def arguments(conn: Any) -> dict[str, Any]:
        return {name: resolve(conn) for name, resolve in steps}

    if is_async:
        return lambda conn: func(**arguments(conn))  # type: ignore[no-any-return]
    return lambda conn: run_in_threadpool(func, **arguments(conn))


def build_hook(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """An async callable for a sync or async hook (sync ones run in the thread pool)."""
    if is_async_callable(func):
        return func

    async def call(*args: Any) -> Any:
        return await run_in_threadpool(func, *args)

    return call



def takes_only_path_params(func: Callable[..., Any], path_params: set[str]) -> bool:
    """True for an ``async def`` view whose parameters are exactly the path's.

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
    return all(p.kind in keyword for p in parameters) and {
        p.name for p in parameters
    } == path_params
