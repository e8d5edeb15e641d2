"""The interface every cache store implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from heron.exceptions import ServiceUnavailable

__all__ = ["Cache", "CacheUnavailable", "check_ttl"]


class CacheUnavailable(ServiceUnavailable):
    """The cache store cannot be reached (a Redis server that is down, say).

    The app answers 503 when this escapes a view.
    """


def check_ttl(ttl: int | None) -> None:
    """A time to live is a positive number of seconds, or ``None`` for no expiry."""
    if ttl is not None and ttl <= 0:
        raise ValueError(f"ttl must be a positive number of seconds or None, not {ttl!r}")


class Cache(ABC):
    """An async key-value store with expiry.

    Values are anything JSON can hold.  ``ttl`` is the time to live in
    seconds; ``None`` keeps the value until it is deleted or evicted.
    """

    @abstractmethod
    async def get(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default``."""

    @abstractmethod
    async def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Store ``value`` under ``key``."""

    @abstractmethod
    async def add(self, key: str, value: Any, ttl: int | None = None) -> bool:
        """Store ``value`` only if ``key`` is absent; True when it was stored."""

    @abstractmethod
    async def replace(self, key: str, value: Any, ttl: int | None = None) -> bool:
        """Store ``value`` only if ``key`` exists; True when it was stored."""

    @abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove ``key``; True when it existed."""

    @abstractmethod
    async def incr(self, key: str, delta: int = 1, ttl: int | None = None) -> int:
        """Add ``delta`` to the integer under ``key`` (0 when absent) and return it.

        ``ttl`` applies when the key is created, so a counter of failures
        in a window expires with the window.
        """

    async def close(self) -> None:  # noqa: B027 (most stores hold nothing to release)
        """Release connections (called when the app shuts down)."""
