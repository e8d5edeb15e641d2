"""What every cache store does: bytes under keys, with expiry, for sync and async callers.

A :class:`Store` keeps raw bytes; :class:`heron.cache.Cache` in front of it makes
keys, encodes values and decides what a store that is down means.  A store
implements its operations once; the async ones of a store that does no I/O (memory,
null) are the sync ones, and the Redis store writes each operation once as steps run
by a sync and an async client.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from heron.exceptions import ServiceUnavailable

__all__ = ["CacheUnavailable", "Store", "check_ttl"]


class CacheUnavailable(ServiceUnavailable):
    """The cache store cannot be reached (a Redis server that is down, say).

    A :class:`~heron.cache.Cache` turns it into a miss unless it is strict; when it
    escapes a view the app answers 503.
    """


#: The longest time to live (about 31 years): beyond it, use ``None`` (no expiry).
MAX_TTL = 10**9


def check_ttl(ttl: float | None) -> None:
    """A time to live is a positive number of seconds (up to :data:`MAX_TTL`), or
    ``None`` for no expiry."""
    if ttl is not None and (isinstance(ttl, bool) or not 0 < ttl <= MAX_TTL):
        raise ValueError(f"ttl must be a positive number of seconds (at most {MAX_TTL}) or "
                         f"None for no expiry, not {ttl!r}")


class Store(ABC):
    """Raw bytes under full keys (the cache's prefix and version already in them).

    ``ttl`` is in seconds (``None``: until deleted or evicted).  ``only`` on
    :meth:`set` is ``"absent"`` (add), ``"present"`` (replace) or ``None``.
    """

    #: Other processes see what this store holds (Redis): worth a lock across
    #: processes so that one of them, not all, fills a missing key.
    shared: ClassVar[bool] = False

    @abstractmethod
    def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or ``None``."""

    @abstractmethod
    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The bytes under each key, in order (``None`` for a missing one)."""

    @abstractmethod
    def set(self, key: str, value: bytes, ttl: float | None, only: str | None = None) -> bool:
        """Store ``value``; False when ``only`` forbade it."""

    @abstractmethod
    def set_many(self, items: dict[str, bytes], ttl: float | None) -> None:
        """Store every item with the same ``ttl``."""

    @abstractmethod
    def delete(self, keys: Sequence[str]) -> int:
        """Remove the keys; how many existed."""

    @abstractmethod
    def incr(self, key: str, delta: int, ttl: float | None) -> int:
        """Add ``delta`` to the integer under ``key`` (0 when absent; a new key gets ``ttl``).

        Raises:
            ValueError: the key holds something that is not an integer.
        """

    @abstractmethod
    def touch(self, key: str, ttl: float | None) -> bool:
        """Give ``key`` a new time to live; False when it does not exist."""

    @abstractmethod
    def clear(self, prefix: str) -> None:
        """Remove every key that starts with ``prefix`` (and nothing else)."""

    @abstractmethod
    def unlock(self, key: str, token: bytes) -> None:
        """Delete ``key`` if it still holds ``token`` (a lock this process took)."""

    def close(self) -> None:  # noqa: B027 (most stores hold nothing to release)
        """Release connections."""

    # The async operations.  A store that does no I/O keeps these.
    async def aget(self, key: str) -> bytes | None:
        return self.get(key)

    async def aget_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return self.get_many(keys)

    async def aset(self, key: str, value: bytes, ttl: float | None,
                   only: str | None = None) -> bool:
        return self.set(key, value, ttl, only)

    async def aset_many(self, items: dict[str, bytes], ttl: float | None) -> None:
        self.set_many(items, ttl)

    async def adelete(self, keys: Sequence[str]) -> int:
        return self.delete(keys)

    async def aincr(self, key: str, delta: int, ttl: float | None) -> int:
        return self.incr(key, delta, ttl)

    async def atouch(self, key: str, ttl: float | None) -> bool:
        return self.touch(key, ttl)

    async def aclear(self, prefix: str) -> None:
        self.clear(prefix)

    async def aunlock(self, key: str, token: bytes) -> None:
        self.unlock(key, token)

    async def aclose(self) -> None:
        self.close()
