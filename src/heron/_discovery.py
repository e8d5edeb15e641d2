"""Find the app to serve: ``module:attr``, ``module`` with an ``app``, ``HERON_APP``,
or ``app.py`` in the current folder."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

__all__ = ["AppNotFound", "find_app", "find_app_spec", "import_string"]


class AppNotFound(Exception):
    """No app could be found; the message says everything that was tried."""


def find_app_spec(spec: str | None) -> str:
    """The ``module:attr`` string to import, from an argument, ``HERON_APP`` or ``app.py``."""
    if spec:
        return spec
    if os.environ.get("HERON_APP"):
        return os.environ["HERON_APP"]
    if os.path.isfile("app.py"):
        return "app"
    raise AppNotFound(
        "No app given. Tried: the APP argument, the HERON_APP environment variable and an "
        f"app.py file in {os.getcwd()}. Pass one like `heron run myproject.app:app`."
    )


def find_app(spec: str | None) -> tuple[Any, str]:
    """Import and return ``(app, "module:attr")``.

    Raises:
        AppNotFound: with what was tried, when nothing importable is found.
    """
    spec = find_app_spec(spec)
    module_name, _, attr = spec.partition(":")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise AppNotFound(
                f"Could not import module {module_name!r} (from {spec!r}) with the "
                f"current folder {os.getcwd()} on the path."
            ) from exc
        raise
    names = [attr] if attr else ["app", "application"]
    for name in names:
        target: Any = module
        try:
            for part in name.split("."):
                target = getattr(target, part)
        except AttributeError:
            continue
        return target, f"{module_name}:{name}"
    raise AppNotFound(
        f"Module {module_name!r} has no attribute {' or '.join(map(repr, names))}; "
        f"name the app explicitly, e.g. `{module_name}:my_app`."
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
