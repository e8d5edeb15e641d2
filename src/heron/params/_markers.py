"""The markers a signature uses to say where a value comes from: ``Query()``,
``Header()``, ``Cookie()``, ``Path()``, ``Body()`` and ``Depends(func)``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

__all__ = ["Body", "Cookie", "Depends", "Header", "Param", "Path", "Query"]

_EMPTY = inspect.Parameter.empty


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
