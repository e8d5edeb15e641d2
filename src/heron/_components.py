"""Components: packages that bring routes, templates, static files and hooks.

A component is an importable package.  heron looks in it for:

- ``router``: a :class:`~heron.Router` (in the package or its ``routes`` or
  ``views`` module); its URL names are namespaced by the component's name;
- or ``component_router(app)``: a function returning the router made from the
  app's settings (another prefix, some pages left out), or ``None`` for none;
- ``models``: a module imported at once, so its models join the metadata that
  migrations compare;
- ``templates/``, ``static/`` and ``migrations/`` folders next to its ``__init__``;
- ``setup(app)``: a function called once when the app is created, to register
  hooks, middleware or settings.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from heron.exceptions import ImproperlyConfigured
from heron.routing import Router

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["Component", "load_component"]


@dataclass
class Component:
    """What heron found in a component package."""

    name: str
    module: ModuleType
    router: Router | None
    templates_dir: Path | None
    static_dir: Path | None
    migrations_dir: Path | None
    setup: Callable[[App], Any] | None
    #: ``component_router(app)``: the router, made once the app's settings are known.
    router_factory: Callable[[App], Router | None] | None = None


def _import(name: str, tried: list[str]) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name and not name.startswith(f"{exc.name}."):
            raise  # the module exists but one of *its* imports is missing
        tried.append(name)
        return None


def load_component(spec: str | ModuleType) -> Component:
    """Import a component package and collect what it provides.

    Raises:
        ImproperlyConfigured: when the package cannot be imported (heron.components.E001).
    """
    tried: list[str] = []
    module = spec if isinstance(spec, ModuleType) else _import(spec, tried)
    if module is None:
        raise ImproperlyConfigured(
            f"Component {spec!r} could not be imported (tried: {', '.join(tried)}); "
            "is the package on the Python path?",
            id="heron.components.E001",
        )
    name = getattr(module, "component_name", module.__name__.rsplit(".", 1)[-1])
    factory = getattr(module, "component_router", None)
    router = None if factory is not None else getattr(module, "router", None)
    for sub in ("routes", "views"):
        if router is not None or factory is not None:
            break
        submodule = _import(f"{module.__name__}.{sub}", [])
        router = getattr(submodule, "router", None) if submodule else None
    if router is not None and not isinstance(router, Router):
        raise ImproperlyConfigured(
            f"Component {name!r} has a 'router' that is not a heron Router",
            id="heron.components.E002",
        )
    _import(f"{module.__name__}.models", [])  # registers the component's models
    folder = Path(module.__file__).parent if module.__file__ else None

    def subdir(child: str) -> Path | None:
        if folder is None:
            return None
        path = folder / child
        return path if path.is_dir() else None

    return Component(
        name=name,
        module=module,
        router=router,
        templates_dir=subdir("templates"),
        static_dir=subdir("static"),
        migrations_dir=subdir("migrations"),
        setup=getattr(module, "setup", None),
        router_factory=factory,
    )
