"""How a value read from the request (query text, header, path parameter, JSON
body) becomes the type a signature asks for; each converter is made once, at startup."""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable
from typing import Annotated, Any

from heron.exceptions import ImproperlyConfigured
from heron.params._annotations import _SEQUENCES, _bare
from heron.params._markers import _EMPTY


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
