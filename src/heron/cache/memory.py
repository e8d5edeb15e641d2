"""The in-process cache store: fast, and private to one process."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

import orjson

from heron.cache.base import Cache, check_ttl

__all__ = ["MemoryCache"]


class MemoryCache(Cache):
    """A bounded LRU dictionary with per-key expiry.

    Values are kept JSON-encoded, so a caller mutating what it got back never
    changes what is stored, as with a real server.

    Args:
        max_entries: least recently used keys are evicted above this.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()

    def _live(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value

    def _store(self, key: str, value: bytes, ttl: int | None) -> None:
        expires = None if ttl is None else time.monotonic() + ttl
        self._data[key] = (value, expires)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    async def get(self, key: str, default: Any = None) -> Any:
        value = self._live(key)
        return default if value is None else orjson.loads(value)

    async def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        check_ttl(ttl)
        self._store(key, orjson.dumps(value), ttl)

    async def add(self, key: str, value: Any, ttl: int | None = None) -> bool:
        check_ttl(ttl)
        if self._live(key) is not None:
            return False
        self._store(key, orjson.dumps(value), ttl)
        return True

    async def replace(self, key: str, value: Any, ttl: int | None = None) -> bool:
        check_ttl(ttl)
        if self._live(key) is None:
            return False
        self._store(key, orjson.dumps(value), ttl)
        return True

    async def delete(self, key: str) -> bool:
        existed = self._live(key) is not None
        self._data.pop(key, None)
        return existed

    async def incr(self, key: str, delta: int = 1, ttl: int | None = None) -> int:
        check_ttl(ttl)
        current = self._live(key)
        if current is None:
            total = delta
            self._store(key, b"%d" % total, ttl)
        else:
            total = int(orjson.loads(current)) + delta
            self._data[key] = (b"%d" % total, self._data[key][1])  # keeps its expiry
        return total

    async def clear(self) -> None:
        """Forget everything."""
        self._data.clear()
