"""HTTP caching headers for views: ``@cache_control``, ``@never_cache``, ``@condition``,
and automatic weak ETags.

``@condition(etag=..., last_modified=...)`` runs its functions before the view and
answers ``304 Not Modified`` (or ``412 Precondition Failed``) from them alone, by the
rules of RFC 9110 section 13: the view, the expensive part, never runs for a client
whose copy is current.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar

from heron.cache.policies import attach
from heron.exceptions import HTTPException
from heron.responses import Response

if TYPE_CHECKING:
    from heron.requests import Request

__all__ = [
    "cache_control",
    "condition",
    "never_cache",
    "not_modified",
    "patch_cache_control",
    "weak_etag",
]

T = TypeVar("T")
#: Headers a 304 repeats from the response it stands for (RFC 9110 15.4.5).
_KEPT_ON_304 = (b"cache-control", b"content-location", b"etag", b"expires", b"vary",
                b"last-modified")


# -- Cache-Control -------------------------------------------------------------------------


def _directives(value: str) -> dict[str, str | bool]:
    found: dict[str, str | bool] = {}
    for part in value.split(","):
        name, sep, argument = part.strip().partition("=")
        if name:
            found[name.lower()] = argument.strip().strip('"') if sep else True
    return found


def cache_control_directives(response: Response) -> dict[str, str | bool]:
    """The response's ``Cache-Control`` directives: ``{"max-age": "60", "public": True}``."""
    value = response.headers.get("cache-control")
    return _directives(value) if value else {}


def patch_cache_control(response: Response, **directives: Any) -> None:
    """Merge ``directives`` into the response's ``Cache-Control``.

    Underscores become dashes (``max_age=60`` is ``max-age=60``); ``True`` writes a
    bare directive, ``False`` or ``None`` removes one.  ``public`` and ``private``
    exclude each other: the one given wins.  A smaller ``max-age`` already present
    is kept, as Django does, so a stricter view is never loosened.
    """
    current = cache_control_directives(response)
    for name, value in directives.items():
        directive = name.replace("_", "-").lower()
        if directive == "max-age" and value is not None and "max-age" in current:
            try:
                value = min(int(str(current["max-age"])), int(value))
            except ValueError:
                pass
        if value is None or value is False:
            current.pop(directive, None)
            continue
        if directive in ("public", "private"):
            current.pop("private" if directive == "public" else "public", None)
        current[directive] = value
    text = ", ".join(name if value is True else f"{name}={value}"
                     for name, value in current.items())
    if text:
        response.headers["cache-control"] = text
    else:
        del response.headers["cache-control"]


@dataclass(frozen=True)
class ControlPolicy:
    """What ``@cache_control`` or ``@never_cache`` put on a route's responses."""

    directives: dict[str, Any]
    never: bool = False

    def apply(self, response: Response) -> None:
        if self.never:
            patch_cache_control(response, max_age=0, no_cache=True, no_store=True,
                                must_revalidate=True, private=True, public=None)
            response.headers["expires"] = formatdate(time.time(), usegmt=True)
        else:
            patch_cache_control(response, **self.directives)


def cache_control(**directives: Any) -> Callable[[T], T]:
    """Set ``Cache-Control`` directives on a view's (or a router's) responses.

        @app.get("/logo-info")
        @cache_control(max_age=3600, public=True)
        def logo_info(): ...

    Directives: ``public``, ``private``, ``no_cache``, ``no_store``, ``max_age``,
    ``s_maxage``, ``must_revalidate``, ``proxy_revalidate``, ``no_transform``,
    ``immutable``, ``stale_while_revalidate``, ``stale_if_error`` (and any other,
    dashes for underscores).
    """
    if directives.get("public") and directives.get("private"):
        raise ValueError("cache_control(): public and private exclude each other")
    return attach("control", ControlPolicy(directives))


def never_cache(target: T) -> T:
    """Tell every cache, the browser's included, not to keep the view's (or a router's)
    responses; the page cache skips them even when the whole site is cached."""
    return attach("control", ControlPolicy({}, never=True))(target)


# -- conditional requests ------------------------------------------------------------------


def _quoted(etag: str) -> str:
    if etag.startswith(('"', 'W/"')) and etag.endswith('"'):
        return etag
    if '"' in etag:
        raise ValueError(f"An ETag may not hold '\"': {etag!r}")
    return f'"{etag}"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def _date(header: str | None) -> float | None:
    if not header:
        return None
    try:
        return parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # an unparsable date is ignored, as RFC 9110 says


def _timestamp(value: datetime | float | None) -> float | None:
    if value is None or isinstance(value, float | int):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # naive is UTC, as heron.db stores it
    return value.timestamp()


def not_modified(request: Request, etag: str | None,
                 last_modified: datetime | float | None) -> int | None:
    """The status the request's preconditions give against ``etag`` and ``last_modified``:
    304, 412, or ``None`` to go on (RFC 9110 13.2.2, in its order)."""
    headers = request.headers
    modified = _timestamp(last_modified)
    safe = request.method in ("GET", "HEAD")
    if_match = headers.get("if-match")
    if if_match is not None:
        # Strong comparison: a weak tag never matches.
        if not (if_match.strip() == "*" and etag is not None) and (
                etag is None or etag.startswith("W/") or etag not in _tags(if_match)):
            return 412
    elif modified is not None:
        since = _date(headers.get("if-unmodified-since"))
        if since is not None and int(modified) > since:
            return 412
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if etag is not None and (if_none_match.strip() == "*" or _opaque(etag) in
                                 {_opaque(tag) for tag in _tags(if_none_match)}):
            return 304 if safe else 412
    elif safe and modified is not None:
        since = _date(headers.get("if-modified-since"))
        if since is not None and int(modified) <= since:
            return 304
    return None


def not_modified_response(response: Response) -> Response:
    """A 304 standing for ``response``: its validators and caching headers, no body."""
    answer = Response(None, 304)
    answer.raw_headers = [(k, v) for k, v in response.raw_headers if k in _KEPT_ON_304]
    return answer


@dataclass(frozen=True)
class ConditionPolicy:
    """What ``@condition`` computes before the view."""

    etag: Callable[..., Any] | None
    last_modified: Callable[..., Any] | None

    async def validators(self, request: Request) -> tuple[str | None, datetime | float | None]:
        etag = await _call(self.etag, request)
        modified = await _call(self.last_modified, request)
        return (None if etag is None else _quoted(str(etag))), modified


async def _call(func: Callable[..., Any] | None, request: Request) -> Any:
    if func is None:
        return None
    from heron.concurrency import is_async_callable, run_in_threadpool

    if is_async_callable(func):
        return await func(request, **request.path_params)
    # A plain function may query the database: off the event loop, as sync views are.
    return await run_in_threadpool(func, request, **request.path_params)


def condition(*, etag: Callable[..., str | Awaitable[str | None] | None] | None = None,
              last_modified: Callable[..., Any] | None = None) -> Callable[[T], T]:
    """Answer conditional requests for a view from cheap functions, before the view runs.

    Each function takes the request and the path parameters (``def post_etag(request,
    id)``), sync or async, and returns the current ETag (quoted or not) or last
    modification time (a datetime, naive meaning UTC), or ``None`` when unknown.  A
    client whose copy is current gets 304 (GET, HEAD); a write whose ``If-Match`` or
    ``If-Unmodified-Since`` is stale gets 412; otherwise the view runs and its
    response gets the ``ETag`` and ``Last-Modified`` headers.
    """
    if etag is None and last_modified is None:
        raise ValueError("condition() needs etag=, last_modified= or both")
    return attach("condition", ConditionPolicy(etag, last_modified))


async def run_conditionally(policy: ConditionPolicy, request: Request,
                            respond: Callable[[], Awaitable[Response]]) -> Response:
    """``respond()`` unless the request's preconditions answer first; validators added."""
    etag, modified = await policy.validators(request)
    status = not_modified(request, etag, modified)
    if status == 412:
        raise HTTPException(412)
    response = None if status == 304 else await respond()
    if response is not None and not 200 <= response.status_code < 300:
        return response
    validators = Response(None, 304) if response is None else response
    if etag is not None:
        validators.headers.setdefault("etag", etag)
    stamp = _timestamp(modified)
    if stamp is not None:
        validators.headers.setdefault("last-modified", formatdate(stamp, usegmt=True))
    return validators


# -- automatic weak ETags ------------------------------------------------------------------


def weak_etag(body: bytes) -> str:
    """A weak ETag for a body: the same bytes always give the same tag."""
    return f'W/"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def has_plain_body(response: Response) -> bool:
    """A response whose whole body is in ``response.body`` (not streamed, not a file)."""
    return type(response).__call__ is Response.__call__ and isinstance(
        getattr(response, "body", None), bytes)


def with_weak_etag(request: Request, response: Response) -> Response:
    """Give a GET's 200 response a weak ETag from its body, and answer 304 when the
    client already has it."""
    if (response.status_code != 200 or request.method not in ("GET", "HEAD")
            or not has_plain_body(response) or "etag" in response.headers
            or cache_control_directives(response).get("no-store")):
        return response
    response.headers["etag"] = weak_etag(response.body)
    if not_modified(request, response.headers["etag"], None) == 304:
        return not_modified_response(response)
    return response


def merge_vary(response: Response, names: Iterable[str]) -> None:
    """Add header names to the response's ``Vary``."""
    names = [n for n in names if n]
    if names:
        response.headers.add_vary(*names)
