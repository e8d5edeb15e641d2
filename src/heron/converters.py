"""Path parameter converters: ``{id:int}``, ``{slug}``, ``{rest:path}``, ...

A converter is a class with a ``regex`` matching one URL segment (``path``
may span several), ``to_python`` turning the matched text into a value and
``to_url`` turning a value back into URL text.  ``to_python`` may raise
``ValueError`` to reject a segment, which then does not match.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

if TYPE_CHECKING:
    import uuid

__all__ = [
    "DEFAULT_CONVERTERS",
    "Converter",
    "FloatConverter",
    "IntConverter",
    "PathConverter",
    "StringConverter",
    "UUIDConverter",
]

_INFINITY = float("inf")


class Converter:
    """Base class for converters; subclass it for a custom one.

    >>> class SlugConverter(Converter):
    ...     regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"
    """

    regex: ClassVar[str] = "[^/]+"
    #: Tried before plain strings at the same place in a path (more specific).
    weight: ClassVar[int] = 50

    def to_python(self, value: str) -> Any:
        return value

    def to_url(self, value: Any) -> str:
        return quote(str(value), safe="")


class StringConverter(Converter):
    """Any non-empty text without a slash (the default)."""

    weight = 100


class IntConverter(Converter):
    """A non-negative integer in decimal, of at most 4,300 digits (what ``int()`` reads)."""

    regex = r"[0-9]+"
    weight = 10

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


class FloatConverter(Converter):
    """A non-negative decimal number such as ``3`` or ``2.5``, within a float's range."""

    regex = r"[0-9]+(?:\.[0-9]+)?"
    weight = 20

    def to_python(self, value: str) -> float:
        number = float(value)
        if number == _INFINITY:  # "9" * 400: no number a view can use
            raise ValueError(f"{value[:20]}... is too large for a float")
        return number

    def to_url(self, value: Any) -> str:
        return repr(float(value))


class UUIDConverter(Converter):
    """A UUID in its canonical hyphenated form, any case."""

    regex = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    weight = 10

    def to_python(self, value: str) -> uuid.UUID:
        from uuid import UUID

        return UUID(value)

    def to_url(self, value: Any) -> str:
        return str(value)


class PathConverter(Converter):
    """The rest of the path, slashes included (only as the last parameter)."""

    regex = r".+"
    weight = 1000

    def to_url(self, value: Any) -> str:
        return quote(str(value), safe="/")


DEFAULT_CONVERTERS: dict[str, type[Converter]] = {
    "str": StringConverter,
    "int": IntConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
    "path": PathConverter,
}
