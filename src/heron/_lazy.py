"""Lazy package exports: names a package offers but imports only on first use.

A battery whose code needs heavy libraries (SQLAlchemy, Jinja2) keeps its package
import cheap, so that its settings section and plugin can load with every app::

    __getattr__ = lazy_exports(__name__, {"db": "heron.db.database"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``exports`` maps each name to the
    module holding it; the value is imported on first use and kept in the package."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
