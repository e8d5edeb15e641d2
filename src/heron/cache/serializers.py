"""How a cache turns values into bytes: JSON (the default) or MessagePack, never pickle.

Integers are stored as decimal text with either, so that ``incr`` (which the store
does itself, as Redis's INCRBY does) and ``get`` agree on them.  Neither format can
run code when a value is read, so a store holding untrusted data is safe to read.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from heron.exceptions import ImproperlyConfigured, MissingDependency

__all__ = ["JSONSerializer", "MsgpackSerializer", "Serializer", "serializer"]

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1  # what a Redis counter holds


class Serializer(Protocol):
    """Turns a value into bytes and back; raises ``TypeError`` for a value it cannot hold."""

    name: str

    def dumps(self, value: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


class JSONSerializer:
    """JSON through orjson: what JSON holds (tuples come back as lists)."""

    name = "json"

    def dumps(self, value: Any) -> bytes:
        try:
            return orjson.dumps(value)
        except orjson.JSONEncodeError as exc:  # a TypeError too; say what it was
            raise TypeError(f"A cache value must be JSON: {exc}") from None

    def loads(self, data: bytes) -> Any:
        return orjson.loads(data)


class MsgpackSerializer:
    """MessagePack (``pip install msgpack``): smaller and faster than JSON, and holds bytes."""

    name = "msgpack"

    def __init__(self) -> None:
        try:
            import msgpack
        except ImportError:
            raise MissingDependency("msgpack", "msgpack") from None
        self._msgpack = msgpack

    def dumps(self, value: Any) -> bytes:
        # int subclasses too (IntEnum): packed, IntEnum(50) would be b"2" and read as 2.
        if isinstance(value, int) and not isinstance(value, bool):
            if not _INT_MIN <= value <= _INT_MAX:
                raise TypeError(f"A cache integer must fit in 64 bits, not {value!r}")
            return b"%d" % value
        try:
            packed: bytes = self._msgpack.packb(value, use_bin_type=True)
        except (TypeError, ValueError, OverflowError) as exc:
            raise TypeError(f"A cache value must be MessagePack: {exc}") from None
        return packed

    def loads(self, data: bytes) -> Any:
        # Decimal text is an integer (or a counter): no MessagePack value but an
        # integer begins with a digit or "-", and those are stored as text.
        if data[:1].isdigit() or data[:1] == b"-":
            return int(data)
        return self._msgpack.unpackb(data, raw=False, strict_map_key=False)


def serializer(name: str) -> Serializer:
    """The serializer called ``name`` (``json`` or ``msgpack``).

    Raises:
        ImproperlyConfigured: another name (heron.cache.E003).
    """
    if name == "json":
        return JSONSerializer()
    if name == "msgpack":
        return MsgpackSerializer()
    raise ImproperlyConfigured(f"Cache serializer {name!r} is not one heron has; use json or "
                               "msgpack (pickle is never offered: it runs code on load)",
                               id="heron.cache.E003")
