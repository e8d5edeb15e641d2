"""What heron.cache's decorators attach to a view or a router, and how a route finds it.

``@cache_page``, ``@cache_control``, ``@never_cache``, ``@condition`` and
``@rate_limit`` apply to a view function or to a :class:`~heron.routing.Router` (all
its routes).  They only record what they were given; heron.cache's plugin reads it
once per route at startup and wraps the route's handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from heron.routing import Router

if TYPE_CHECKING:
    from heron.routing import Route

__all__ = ["attach", "route_policies"]

T = TypeVar("T")
_KEY = "heron.cache"
_ATTRIBUTE = "__heron_cache__"
#: Kinds of which a route may have several (a router's limit and the view's own).
_ADDITIVE = ("rate_limit",)


def attach(kind: str, value: Any) -> Callable[[T], T]:
    """A decorator recording ``value`` under ``kind`` on a view function or a router."""

    def decorate(target: T) -> T:
        if isinstance(target, Router):
            found = target.extensions.setdefault(_KEY, {})
        elif callable(target):
            found = target.__dict__.setdefault(_ATTRIBUTE, {})
        else:
            raise TypeError(f"@{kind} decorates a view function or a Router, "
                            f"not {type(target).__name__}")
        if kind in _ADDITIVE:
            found.setdefault(kind, []).append(value)
        else:
            found[kind] = value
        return target

    return decorate


def route_policies(route: Route) -> dict[str, Any]:
    """What applies to ``route``: its routers' (outermost first), then its view's, which
    win; the kinds in ``_ADDITIVE`` collect every one, outermost first."""
    merged: dict[str, Any] = {}
    sources = [router.extensions.get(_KEY) for router in route.routers]
    sources.append(getattr(route.endpoint, _ATTRIBUTE, None))
    for found in sources:
        for kind, value in (found or {}).items():
            if kind in _ADDITIVE:
                merged.setdefault(kind, []).extend(value)
            else:
                merged[kind] = value
    return merged
