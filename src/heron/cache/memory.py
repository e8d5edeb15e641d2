"""The in-process cache store: fast, bounded, and private to one process."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

from heron.cache.base import Store

__all__ = ["MemoryStore", "NullStore"]


class MemoryStore(Store):
    """A least-recently-used dictionary with per-key expiry, safe across threads.

    Args:
        max_entries: above this many keys, the least recently used are evicted.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries!r}")
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        # Sync views in several threads and the event loop share one store.
        self._lock = threading.Lock()

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

    def _store(self, key: str, value: bytes, ttl: float | None) -> None:
        self._data[key] = (value, None if ttl is None else time.monotonic() + ttl)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._live(key)

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        with self._lock:
            return [self._live(key) for key in keys]

    def set(self, key: str, value: bytes, ttl: float | None, only: str | None = None) -> bool:
        with self._lock:
            if only is not None and (self._live(key) is None) != (only == "absent"):
                return False
            self._store(key, value, ttl)
            return True

    def set_many(self, items: dict[str, bytes], ttl: float | None) -> None:
        with self._lock:
            for key, value in items.items():
                self._store(key, value, ttl)

    def delete(self, keys: Sequence[str]) -> int:
        with self._lock:
            found = 0
            for key in keys:
                found += self._live(key) is not None
                self._data.pop(key, None)
            return found

    def incr(self, key: str, delta: int, ttl: float | None) -> int:
        with self._lock:
            current = self._live(key)
            if current is None:
                total = delta
                self._store(key, b"%d" % total, ttl)
                return total
            try:
                total = int(current) + delta
            except ValueError:
                raise ValueError(f"The value under {key!r} is not an integer") from None
            self._data[key] = (b"%d" % total, self._data[key][1])  # keeps its expiry
            return total

    def touch(self, key: str, ttl: float | None) -> bool:
        with self._lock:
            value = self._live(key)
            if value is None:
                return False
            self._store(key, value, ttl)
            return True

    def clear(self, prefix: str) -> None:
        with self._lock:
            for key in [k for k in self._data if k.startswith(prefix)]:
                del self._data[key]

    def unlock(self, key: str, token: bytes) -> None:
        with self._lock:
            if self._live(key) == token:
                del self._data[key]


class NullStore(Store):
    """Keeps nothing: every read misses.  For turning caching off without code changes."""

    def get(self, key: str) -> bytes | None:
        return None

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [None] * len(keys)

    def set(self, key: str, value: bytes, ttl: float | None, only: str | None = None) -> bool:
        return only != "present"

    def set_many(self, items: dict[str, bytes], ttl: float | None) -> None:
        pass

    def delete(self, keys: Sequence[str]) -> int:
        return 0

    def incr(self, key: str, delta: int, ttl: float | None) -> int:
        return delta

    def touch(self, key: str, ttl: float | None) -> bool:
        return False

    def clear(self, prefix: str) -> None:
        pass

    def unlock(self, key: str, token: bytes) -> None:
        pass
