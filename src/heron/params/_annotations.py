"""Reading a signature's annotations: type hints, ``Annotated`` markers, and what
kind of type an annotation is (a model, a form, a query-string type, a list)."""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any

from heron.params._markers import Depends, Param
from heron.requests import HTTPConnection

__all__ = ["FORM_MARKER", "contains_model"]

_SEQUENCES = (list, tuple, set, frozenset)


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
