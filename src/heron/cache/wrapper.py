"""One route's handler wrapped by what heron.cache's decorators and settings ask of it.

Made once per route at startup; a route nothing applies to keeps its handler.  In
order: rate limits, the page cache's lookup, ``@condition``, the view, then
``@cache_control``/``@never_cache``, automatic ETags and the rate-limit headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heron.cache.http import (
    ConditionPolicy,
    ControlPolicy,
    not_modified,
    not_modified_response,
    run_conditionally,
    with_weak_etag,
)
from heron.cache.pages import RAISED_KEY, PageCache, PagePolicy
from heron.cache.plugin import named_cache
from heron.cache.ratelimit import Limiter, RateLimit
from heron.responses import Response, make_response

if TYPE_CHECKING:
    from heron.app import App
    from heron.plugins import Handler
    from heron.requests import Request
    from heron.routing import Route

__all__ = ["wrap"]


def wrap(app: App, route: Route, handler: Handler, policies: dict[str, Any]) -> Handler:
    """``handler`` with the route's caching and rate limits, or ``handler`` itself."""
    settings = app.settings
    answers_get = "GET" in route.methods
    where = f"The route {route.path}"
    control: ControlPolicy | None = policies.get("control")
    condition: ConditionPolicy | None = policies.get("condition")
    page: PagePolicy | None = policies.get("page")
    if page is None and settings.cache_site_seconds and answers_get:
        page = PagePolicy(settings.cache_site_seconds)
    if (control is not None and control.never) or not answers_get:
        page = None
    pages = None if page is None else PageCache(
        named_cache(app, page.cache, "cache_pages", where), page)
    limits: list[RateLimit] = policies.get("rate_limit", [])
    limiter = Limiter([
        (limit, named_cache(app, limit.cache, "rate_limit_cache", where),
         limit.group or f"view:{route.name or route.path}",
         settings.rate_limit_fail_open if limit.fail_open is None else limit.fail_open)
        for limit in limits]) if limits else None
    etags = settings.cache_etags and answers_get
    if not (pages or condition or control or limiter or etags):
        return handler

    async def respond(request: Request) -> Response:
        try:
            value = await handler(request)
        except Exception:
            request.scope[RAISED_KEY] = True
            raise
        response = value if isinstance(value, Response) else make_response(value)
        if control is not None:
            control.apply(response)
        return response

    async def cached_handler(request: Request) -> Response:
        headers = None if limiter is None else await limiter.check(request)
        response = None if pages is None else await pages.lookup(request)
        if response is not None:
            if not_modified(request, response.headers.get("etag"),
                            _last_modified(response)) == 304:
                response = not_modified_response(response)
        elif condition is not None:
            response = await run_conditionally(condition, request, lambda: respond(request))
        else:
            response = await respond(request)
        if etags:
            response = with_weak_etag(request, response)
        if headers:
            Limiter.stamp(response, headers)
        return response

    return cached_handler


def _last_modified(response: Response) -> float | None:
    value = response.headers.get("last-modified")
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
