"""Whole responses in the cache: ``@cache_page`` on views and routers, and the site-wide
page cache (the ``cache_site_seconds`` setting).

A GET is looked up before its view runs; on a miss the view's response is stored
after the other batteries have had their say (so a response that set a cookie or that
the session made private is seen as such) and only if every cache could keep it: a
status of 200, 301 or 404, no ``Set-Cookie``, no ``private``, ``no-store`` or
``no-cache``, no ``Vary: *``, no CSP nonce in its body.  A request carrying
``Authorization`` is neither served from nor stored in the cache unless the policy
varies on that header.

Like Django's, the cache learns the headers each page varies on (its ``Vary`` and the
policy's ``vary``) and keys every copy on their values, so ``Accept-Language`` or a
cookie named in ``vary`` give each visitor the right copy.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from heron.cache.http import cache_control_directives, has_plain_body, patch_cache_control
from heron.cache.policies import attach
from heron.plugins import REFUSED_KEY, UNCACHEABLE_KEY
from heron.responses import Response

if TYPE_CHECKING:
    from heron.cache.client import Cache
    from heron.requests import Request

__all__ = ["PagePolicy", "cache_page"]

T = TypeVar("T")
SCOPE_KEY = "heron.cache.page"  # the lookup's (cache, policy, base key), for storing
STATUS_KEY = "heron.cache.status"  # hit, miss or bypass, for the debug header
RAISED_KEY = "heron.cache.raised"  # the view raised: its error page is negotiated on Accept
_CACHEABLE_STATUS = frozenset({200, 301, 404})
_REFUSING = ("private", "no-store", "no-cache")
_MAGIC = b"heron-page-1\n"


@dataclass(frozen=True)
class PagePolicy:
    """How long a route's pages are kept, and what their copies are keyed on."""

    seconds: int
    vary: tuple[str, ...] = ()
    key: Callable[[Request], Any] | None = None
    cache: str | None = None


def cache_page(seconds: int, *, vary: Iterable[str] = (),
               key: Callable[[Request], Any] | None = None,
               cache: str | None = None) -> Callable[[T], T]:
    """Keep a view's (or every route of a router's) GET responses for ``seconds``.

    Args:
        seconds: how long a page is kept, and its ``Cache-Control: max-age``.
        vary: request headers each copy is keyed on besides the response's ``Vary``
            (``["Accept-Language"]``; ``["Cookie"]`` or ``["Authorization"]`` to cache
            per visitor the pages that would otherwise be skipped).
        key: ``key(request)`` (sync or async) replaces the URL in the key: pages
            whose key is equal are one page (``lambda r: r.path_params["slug"]``).
        cache: the named cache to keep them in (default: the ``cache_pages`` setting).
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
        raise ValueError(f"cache_page() needs a positive number of seconds, not {seconds!r}")
    names = tuple(name.strip() for name in vary)
    return attach("page", PagePolicy(seconds, names, key, cache))


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\0".join(parts).encode("utf-8", "surrogateescape"),
                           digest_size=16).hexdigest()


class PageCache:
    """Looks pages up and stores them, for the routes of one policy."""

    def __init__(self, cache: Cache, policy: PagePolicy) -> None:
        self.cache = cache
        self.policy = policy
        self.varied = frozenset(name.lower() for name in policy.vary)

    async def base_key(self, request: Request) -> str:
        if self.policy.key is not None:
            from heron.concurrency import is_async_callable

            custom = self.policy.key(request)
            if is_async_callable(self.policy.key):
                custom = await custom
            return f"key:{custom}"
        scope = request.scope
        host = request.headers.get("host", "")
        query = scope.get("query_string", b"").decode("latin-1")
        return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}" \
               f"{scope['path']}?{query}"

    async def lookup(self, request: Request) -> Response | None:
        """The stored copy of this request's page, or ``None`` (a miss or a bypass)."""
        scope = request.scope
        if request.method not in ("GET", "HEAD") or (
                "authorization" in request.headers and "authorization" not in self.varied):
            scope[STATUS_KEY] = "bypass"
            return None
        base = await self.base_key(request)
        scope[SCOPE_KEY] = (self, base)
        scope[STATUS_KEY] = "miss"
        names = await self.cache.aget("page-vary:" + _digest(base))
        if not isinstance(names, list):
            return None
        data = await self.cache.aget_bytes("page:" + _digest(base, *self._values(request, names)))
        response = _decode(data) if data is not None else None
        if response is not None:
            scope[STATUS_KEY] = "hit"
            scope.pop(SCOPE_KEY)
        return response

    @staticmethod
    def _values(request: Request, names: list[str]) -> list[str]:
        headers = request.headers
        return [f"{name}={','.join(headers.getlist(name))}" for name in names]

    async def store(self, request: Request, response: Response, base: str) -> None:
        """Keep ``response`` if every rule allows it, with its caching headers set."""
        if request.method != "GET" or not _storable(request, response):
            request.scope[STATUS_KEY] = "bypass"
            return
        vary = {n.strip().lower() for n in response.headers.get("vary", "").split(",")
                if n.strip()}
        if "*" in vary:
            request.scope[STATUS_KEY] = "bypass"
            return
        seconds = self.policy.seconds
        directives = cache_control_directives(response)
        for directive in ("s-maxage", "max-age"):  # the view's own, shorter, lifetime wins
            try:
                seconds = min(seconds, int(str(directives[directive])))
                break
            except (KeyError, ValueError):
                continue
        if seconds <= 0:
            return
        if request.scope.get(RAISED_KEY):
            vary.add("accept")  # an error page is HTML or problem JSON by Accept
            response.headers.add_vary("Accept")
        names = sorted(vary | self.varied)
        if self.policy.vary:
            response.headers.add_vary(*self.policy.vary)
        patch_cache_control(response, max_age=seconds)
        response.headers.setdefault("expires", formatdate(time.time() + seconds, usegmt=True))
        await self.cache.aset("page-vary:" + _digest(base), names, seconds)
        await self.cache.aset_bytes("page:" + _digest(base, *self._values(request, names)),
                                    _encode(response), seconds)


def _storable(request: Request, response: Response) -> bool:
    if response.status_code not in _CACHEABLE_STATUS or not has_plain_body(response):
        return False
    scope = request.scope
    if scope.get(UNCACHEABLE_KEY) or scope.get(REFUSED_KEY):
        return False
    if any(name == b"set-cookie" for name, _ in response.raw_headers):
        return False
    directives = cache_control_directives(response)
    return not any(directive in directives for directive in _REFUSING)


def _encode(response: Response) -> bytes:
    head = {"status": response.status_code, "stored": time.time(),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")]
                        for k, v in response.raw_headers if k != b"age"]}
    return _MAGIC + orjson.dumps(head) + b"\n" + response.body


def _decode(data: bytes) -> Response | None:
    if not data.startswith(_MAGIC):
        return None  # written by another version of heron: a miss
    head_end = data.index(b"\n", len(_MAGIC))
    try:
        head: dict[str, Any] = orjson.loads(data[len(_MAGIC):head_end])
    except orjson.JSONDecodeError:
        return None
    response = Response(data[head_end + 1:], head["status"])
    response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1"))
                            for k, v in head["headers"]]
    age = max(0, int(time.time() - head["stored"]))
    response.raw_headers.append((b"age", b"%d" % age))
    return response
