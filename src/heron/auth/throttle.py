"""Counting failures in a time window, in the cache store (so every process agrees).

Login uses it: too many failed logins for one username, or from one address,
within ``window`` seconds answer 429 with ``Retry-After`` until the window ends.
With ``cache_url = "redis://..."`` the count holds across processes and machines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from heron.exceptions import HTTPException
from heron.i18n import gettext

if TYPE_CHECKING:
    from heron.cache import Cache

__all__ = ["Throttle", "Throttled"]


class Throttled(HTTPException):
    """429 Too Many Requests, with ``Retry-After``."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(429, gettext("Too many failed attempts; try again later."),
                         {"retry-after": str(retry_after)})
        self.retry_after = retry_after


@dataclass
class Throttle:
    """At most ``limit`` failures per key within ``window`` seconds.

    The window starts at the first failure and is fixed: it does not slide,
    so a client that keeps failing waits at most ``window`` seconds.
    """

    cache: Cache
    prefix: str
    limit: int
    window: int

    @property
    def _store(self) -> Cache:
        # Counts are state, not a cache: a store that is down must not read as no
        # failures (it answers 503 instead).
        return self.cache.strict

    def _key(self, key: str) -> str:
        return f"throttle:{self.prefix}:{key}"

    async def failures(self, key: str) -> int:
        count = await self._store.aget(self._key(key), 0)
        return count if isinstance(count, int) else 0

    async def retry_after(self, key: str) -> int | None:
        """Seconds until ``key`` may try again, or ``None`` when it is not blocked."""
        if await self.failures(key) < self.limit:
            return None
        started = await self._store.aget(self._key(key) + ":start")
        now = time.time()
        if not isinstance(started, (int, float)):
            return self.window
        return max(1, int(started + self.window - now + 0.999))

    async def check(self, key: str) -> None:
        """Raise :class:`Throttled` (429) when ``key`` used up its failures."""
        wait = await self.retry_after(key)
        if wait is not None:
            raise Throttled(wait)

    async def fail(self, key: str) -> int:
        """Count one failure; return the count in the current window."""
        await self._store.aadd(self._key(key) + ":start", time.time(), ttl=self.window)
        return await self._store.aincr(self._key(key), ttl=self.window)

    async def take(self, key: str) -> None:
        """Count an attempt *before* making it; raise :class:`Throttled` when it is
        one too many.

        Counting first, rather than checking and counting the failure after a slow
        password check, means that attempts made at the same time cannot all pass
        the check before any of them is counted.  Uncount a success with
        :meth:`give_back`.
        """
        if await self.fail(key) > self.limit:
            raise Throttled(await self.retry_after(key) or self.window)

    async def give_back(self, key: str) -> None:
        """Uncount an attempt :meth:`take` counted (it succeeded)."""
        if await self._store.aincr(self._key(key), -1, ttl=self.window) <= 0:
            await self.reset(key)

    async def reset(self, key: str) -> None:
        """Forget ``key``'s failures (after a success)."""
        await self._store.adelete(self._key(key))
        await self._store.adelete(self._key(key) + ":start")
