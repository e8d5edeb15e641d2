"""Find the app to serve, as Flask does: ``module:attr``, ``module:create_app(...)``,
``module`` alone (its ``app``, else its ``create_app``/``make_app`` factory), from an
argument, ``HERON_APP`` (the environment, then ``.env``) or ``app.py``."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from heron.settings import _read_dotenv

__all__ = ["AppNotFound", "find_app", "find_app_spec", "import_string"]

#: Attributes that hold the app itself, then functions that make it, tried in this order
#: when a module is named without an attribute.
APP_NAMES = ("app", "application")
FACTORY_NAMES = ("create_app", "make_app")


class AppNotFound(Exception):
    """No app could be found; the message says everything that was tried."""


def find_app_spec(spec: str | None) -> str:
    """The app's spec (``module``, ``module:attr`` or ``module:factory(...)``): the
    argument, else ``HERON_APP`` from the environment or ``.env``, else ``app.py``.

    Raises:
        AppNotFound: none of them names an app.
    """
    if spec:
        return spec
    if os.environ.get("HERON_APP"):
        return os.environ["HERON_APP"]
    from_file = _read_dotenv(".env").get("HERON_APP")
    if from_file:
        return from_file
    if os.path.isfile("app.py"):
        return "app"
    raise AppNotFound(
        "No app given. Tried: the APP argument, the HERON_APP environment variable, "
        f"HERON_APP in a .env file and an app.py file in {os.getcwd()}. Pass one like "
        "`heron run myproject.app:app` or `heron run 'myproject.app:create_app()'`."
    )


def find_app(spec: str | None) -> tuple[Any, str]:
    """Import (or make) the app and return ``(app, spec)``, where ``spec`` names it
    so that another process finds the same app: ``"module:attr"``, or
    ``"module:create_app()"`` when a factory made it.

    - ``module:attr`` is the object (``attr`` may be dotted); a plain ``def``
      there is a factory and is called with no arguments;
    - ``module:create_app("dev", debug=True)`` calls the function with those
      arguments, which must be Python literals (read with :func:`ast.literal_eval`,
      never evaluated);
    - ``module`` alone: its ``app`` or ``application``, else the result of its
      ``create_app()`` or ``make_app()``, else the same in its ``app`` submodule.

    Raises:
        AppNotFound: with what was tried, when nothing importable is found, the
            spec cannot be read, or a factory cannot be called or returns no app.
    """
    spec = find_app_spec(spec)
    module_name, _, attr = (part.strip() for part in spec.partition(":"))
    if not module_name:
        raise AppNotFound(f"{spec!r} names no module: write module:attr, such as "
                          "`myproject.app:app`.")
    target = _parse_target(spec, attr) if attr else None
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = _import(module_name, spec)
    if target is None:
        return _search(module)
    return _resolve(module, target)


@dataclass
class _Target:
    """What comes after the colon: a (dotted) name, and the call when there is one."""

    name: str
    call: bool = False
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    text: str = ""


def _parse_target(spec: str, attr: str) -> _Target:
    try:
        expression = ast.parse(attr, mode="eval").body
    except SyntaxError:
        raise AppNotFound(
            f"Could not read {attr!r} (in {spec!r}) as an attribute name or a call: write "
            "module:app or module:create_app(), with literal arguments if any."
        ) from None
    call = expression if isinstance(expression, ast.Call) else None
    name = _dotted(call.func if call is not None else expression)
    if name is None:
        raise AppNotFound(
            f"{attr!r} (in {spec!r}) is neither an attribute name nor a call of a function "
            "by its name: write module:app or module:create_app()."
        )
    if call is None:
        return _Target(name, text=name)
    try:
        args = [ast.literal_eval(arg) for arg in call.args]
        if any(keyword.arg is None for keyword in call.keywords):
            raise ValueError("**")
        kwargs = {str(keyword.arg): ast.literal_eval(keyword.value) for keyword in call.keywords}
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise AppNotFound(
            f"The arguments of {attr!r} (in {spec!r}) must be Python literals (strings, "
            "numbers, True, False, None, and lists, tuples or dicts of them), as heron reads "
            "them without running code."
        ) from None
    return _Target(name, True, args, kwargs, ast.unparse(call))


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        parent = _dotted(node.value)
        return f"{parent}.{node.attr}" if parent is not None else None
    return None


def _import(module_name: str, spec: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise AppNotFound(
                f"Could not import module {module_name!r} (from {spec!r}) with the "
                f"current folder {os.getcwd()} on the path."
            ) from exc
        raise


def _resolve(module: ModuleType, target: _Target) -> tuple[Any, str]:
    """The object ``target`` names in ``module``, called when it is a factory."""
    found: Any = module
    try:
        for part in target.name.split("."):
            found = getattr(found, part)
    except AttributeError:
        raise AppNotFound(
            f"Module {module.__name__!r} has no attribute {target.name!r}; name the app "
            f"explicitly, e.g. `{module.__name__}:my_app` or `{module.__name__}:create_app()`."
        ) from None
    if target.call:
        made = _call_factory(found, module, target)
        return made, f"{module.__name__}:{target.text}"
    if _is_factory(found):
        return _call_factory(found, module, target), f"{module.__name__}:{target.name}()"
    return found, f"{module.__name__}:{target.name}"


def _is_factory(obj: Any) -> bool:
    # An ASGI app is an async callable, so a plain function cannot be one: it makes one.
    return inspect.isfunction(obj) and not inspect.iscoroutinefunction(obj)


def _call_factory(factory: Any, module: ModuleType, target: _Target) -> Any:
    shown = f"{module.__name__}:{target.text if target.call else target.name + '()'}"
    if not _is_factory(factory):
        raise AppNotFound(f"{module.__name__}:{target.name} is not a function that makes the "
                          f"app ({type(factory).__name__}), so {shown} cannot be called.")
    try:
        inspect.signature(factory).bind(*target.args, **target.kwargs)
    except TypeError as exc:
        raise AppNotFound(f"The factory {shown} cannot be called with these arguments: "
                          f"{exc}.") from None
    made = factory(*target.args, **target.kwargs)
    if made is None or not callable(made):
        raise AppNotFound(f"The factory {shown} returned {made!r}, not an app; end it with "
                          "`return app`.")
    return made


def _search(module: ModuleType) -> tuple[Any, str]:
    """A module named without an attribute: its app, else what its factory makes."""
    for name in APP_NAMES:
        found = getattr(module, name, None)
        if found is not None and not isinstance(found, ModuleType) and not _is_factory(found):
            return found, f"{module.__name__}:{name}"
    for name in FACTORY_NAMES:
        found = getattr(module, name, None)
        if _is_factory(found):
            return _call_factory(found, module, _Target(name, call=True, text=f"{name}()")), \
                f"{module.__name__}:{name}()"
    submodule = f"{module.__name__}.app"
    if hasattr(module, "__path__") and importlib.util.find_spec(submodule) is not None:
        return _search(importlib.import_module(submodule))
    tried = " or ".join(map(repr, APP_NAMES))
    factories = " or ".join(f"{name}()" for name in FACTORY_NAMES)
    raise AppNotFound(
        f"Module {module.__name__!r} has no app: no attribute {tried} and no factory "
        f"function {factories}. Name the app explicitly, e.g. `{module.__name__}:my_app` "
        f"or `{module.__name__}:build_app()`."
    )


def import_string(target: str) -> Any:
    """The object ``package.module:name`` (or ``package.module.name``) names.

    Raises:
        ImportError: the module cannot be imported.
        AttributeError: the module has no such name.
        ValueError: ``target`` names no attribute.
    """
    module_name, sep, attr = target.partition(":")
    if not sep:
        module_name, _, attr = target.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"{target!r} is not 'package.module:name'")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj
