"""Rate limits on views and routers: ``@rate_limit("100/minute", key="ip")``.

Counters live in a cache store (``rate_limit_cache``), so with Redis every process
of the app shares them.  A fixed window counts requests per calendar window of the
period; a sliding window weighs the previous window's count by how much of it still
overlaps the last period (smoother, as Cloudflare's limiter does), at the cost of a
second read.  A request over the limit gets 429 with ``Retry-After``; every response
of a limited route carries ``RateLimit-Limit``, ``RateLimit-Remaining``,
``RateLimit-Reset`` and ``RateLimit-Policy``.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from heron.cache.base import CacheUnavailable
from heron.cache.policies import attach
from heron.exceptions import HTTPException
from heron.routing import Router

if TYPE_CHECKING:
    from heron.cache.client import Cache
    from heron.requests import Request
    from heron.responses import Response

__all__ = ["RateLimit", "RateLimited", "parse_rate", "rate_limit"]

T = TypeVar("T")
logger = logging.getLogger("heron.cache")
_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
            "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*")
_KEYS = ("ip", "user")
#: Numbers the limits put on routers, so that two routers' limits never share a
#: counter (their names and prefixes may be equal, or empty); the same code numbers
#: them the same in every process.
_ROUTER_LIMITS = itertools.count(1)


def parse_rate(rate: str) -> tuple[int, int]:
    """``"100/minute"`` -> ``(100, 60)``: requests, and the period in seconds.

    Periods: ``second``, ``minute``, ``hour``, ``day`` (or ``s``, ``m``, ``h``,
    ``d``; plurals too), with an optional count: ``"10/5m"``.

    Raises:
        ValueError: anything else.
    """
    match = _RATE.fullmatch(rate.lower()) if isinstance(rate, str) else None
    unit = None
    if match:
        word = match.group(3)  # a plural's "s" only after a word: "ms" is not minutes
        unit = _PERIODS.get(word) or (_PERIODS.get(word[:-1]) if len(word) > 2
                                      and word.endswith("s") else None)
    if (match is None or unit is None or int(match.group(1)) < 1
            or int(match.group(2) or 1) < 1):
        raise ValueError(f"A rate is 'count/period' such as '100/minute' or '10/5m', "
                         f"not {rate!r}")
    return int(match.group(1)), int(match.group(2) or 1) * unit


class RateLimited(HTTPException):
    """429: the client went over a rate limit; ``Retry-After`` says when to come back."""

    def __init__(self, retry_after: int, headers: dict[str, str]) -> None:
        super().__init__(429, f"Too many requests; try again in {retry_after} seconds.",
                         {**headers, "Retry-After": str(retry_after)})
        self.retry_after = retry_after


@dataclass(frozen=True)
class RateLimit:
    """One limit: ``limit`` requests per ``period`` seconds per key."""

    limit: int
    period: int
    key: str | Callable[[Request], Any]
    window: str
    methods: frozenset[str] | None
    group: str | None
    cache: str | None
    fail_open: bool | None

    @property
    def policy(self) -> str:
        return f"{self.limit};w={self.period}"


def rate_limit(rate: str, *, key: str | Callable[[Request], Any] = "ip",
               window: str = "fixed", methods: list[str] | None = None,
               group: str | None = None, cache: str | None = None,
               fail_open: bool | None = None) -> Callable[[T], T]:
    """Limit how often a client may call a view, or the routes of a router together.

    Args:
        rate: ``"100/minute"``, ``"5/second"``, ``"1000/day"``, ``"10/5m"``...
        key: whose requests are counted together: ``"ip"`` (the client's address),
            ``"user"`` (the logged-in user, else the address; needs heron.auth), or
            ``key(request)`` returning a string (sync or async).
        window: ``"fixed"`` (per calendar window) or ``"sliding"``.
        methods: count only these methods (``["POST"]``); default: all.
        group: routes with the same group share their counters (default: the view, or
            the router the limit decorates).
        cache: the named cache holding the counters (default: ``rate_limit_cache``).
        fail_open: when that cache is down, let requests through (``True``) or answer
            503 (``False``); default: the ``rate_limit_fail_open`` setting.
    """
    limit, period = parse_rate(rate)
    if window not in ("fixed", "sliding"):
        raise ValueError(f"window must be 'fixed' or 'sliding', not {window!r}")
    if isinstance(key, str) and key not in _KEYS:
        raise ValueError(f"key must be 'ip', 'user' or a function of the request, not {key!r}")
    chosen = None if methods is None else frozenset(m.upper() for m in methods)

    def decorate(target: T) -> T:
        named = group
        if named is None and isinstance(target, Router):
            named = f"router:{target.name or target.prefix or '/'}#{next(_ROUTER_LIMITS)}"
        return attach("rate_limit", RateLimit(limit, period, key, window, chosen, named,
                                              cache, fail_open))(target)

    return decorate


class Limiter:
    """Counts one route's requests against its limits, in its cache."""

    def __init__(self, limits: list[tuple[RateLimit, Cache, str, bool]]) -> None:
        self.limits = limits  # (limit, cache, group, fail_open)

    async def check(self, request: Request) -> dict[str, str] | None:
        """Count the request; raises :class:`RateLimited` over a limit.  Returns the
        headers of the tightest limit, or ``None`` when none applied."""
        tightest: tuple[int, int, RateLimit] | None = None  # (remaining, reset, limit)
        for limit, cache, group, fail_open in self.limits:
            if limit.methods is not None and request.method not in limit.methods:
                continue
            try:
                identity = await _identity(limit, request)
                used, reset = await _count(limit, cache.strict, f"{group}:{identity}")
            except CacheUnavailable:
                if fail_open:
                    logger.warning("Rate limit %s for %s skipped: its cache is down",
                                   limit.policy, group)
                    continue
                raise
            remaining = max(0, limit.limit - math.ceil(used))
            if used > limit.limit:
                raise RateLimited(max(1, reset), _headers(limit, 0, reset))
            if tightest is None or remaining < tightest[0]:
                tightest = (remaining, reset, limit)
        if tightest is None:
            return None
        remaining, reset, limit = tightest
        return _headers(limit, remaining, reset)

    @staticmethod
    def stamp(response: Response, headers: dict[str, str]) -> None:
        for name, value in headers.items():
            response.headers.setdefault(name, value)


def _headers(limit: RateLimit, remaining: int, reset: int) -> dict[str, str]:
    return {"RateLimit-Limit": str(limit.limit), "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(reset), "RateLimit-Policy": limit.policy}


async def _identity(limit: RateLimit, request: Request) -> str:
    key = limit.key
    if callable(key):
        from heron.concurrency import is_async_callable

        value = await key(request) if is_async_callable(key) else key(request)
        return f"key:{value}"
    if key == "user" and "auser" in request.app.request_attributes:
        user = await request.auser()
        if getattr(user, "is_authenticated", False):
            return f"user:{user.pk}"
    client = request.client
    return f"ip:{client.host if client else 'unknown'}"


async def _count(limit: RateLimit, cache: Cache, counter: str) -> tuple[float, int]:
    """This request counted: the requests in the window (weighted when sliding), and
    the seconds until the window resets."""
    now = time.time()
    index, into = divmod(now, limit.period)
    reset = max(1, math.ceil(limit.period - into))
    current = f"rl:{counter}:{int(index)}"
    if limit.window == "fixed":
        return await cache.aincr(current, ttl=limit.period + 1), reset
    # Sliding: the previous window weighs as much as it overlaps the last period.
    used = await cache.aincr(current, ttl=2 * limit.period + 1)
    previous = await cache.aget(f"rl:{counter}:{int(index) - 1}", 0)
    weight = 1 - into / limit.period
    return used + (previous if isinstance(previous, int) else 0) * weight, reset
