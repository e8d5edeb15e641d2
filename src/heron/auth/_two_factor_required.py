"""``auth_two_factor_required``: the route wrapper that sends users without a second
factor to the security page once their grace period is over.

Wrapped once at startup, and only when the setting is not ``"none"``; heron.auth's
own pages (``auth:*``: login, logout, the security and setup pages) are left
alone.  Per request it costs a look at the session, and a query only until the
session is known to be fine (a second factor used or enrolled, or a grace
period running, both kept in the session).  Requests with an API token or a JWT
are never asked: their user logged in some other way.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from heron.auth._login import TOKEN_KEY, USER_KEY
from heron.auth.two_factor import SATISFIED_KEY, afactors, requires_two_factor

if TYPE_CHECKING:
    from heron.app import App
    from heron.plugins import Handler
    from heron.requests import Request
    from heron.routing import Route

__all__: list[str] = []

GRACE_KEY = "_auth_2fa_grace_until"


def exempt(route: Route) -> bool:
    """heron.auth's own pages stay open (else nobody could set a factor up)."""
    return route.name.startswith("auth:") or "WEBSOCKET" in route.methods


def wrap(app: App, route: Route, handler: Handler) -> Handler:
    """``handler`` behind the requirement."""

    async def two_factor_required(request: Request) -> Any:
        if await _must_set_up(request):
            return _to_setup(request)
        return await handler(request)

    return two_factor_required


async def _must_set_up(request: Request) -> bool:
    app = request.app
    if app.settings.session_cookie_name not in request.cookies:
        return False
    if request.scope.get("heron.session") is None:
        await request.load_session()
    session = request.session
    if session.get(USER_KEY) is None or session.get(SATISFIED_KEY):
        return False
    grace = session.get(GRACE_KEY)
    if isinstance(grace, int) and time.time() < grace:
        return False
    # The request's own user, found as request.user finds it (an API token or JWT
    # first, a scheme it ignores falls back to the session); the view then reuses it.
    user = await request.auser()
    if TOKEN_KEY in request.scope or not user.is_authenticated \
            or not requires_two_factor(app.settings, user):
        return False
    if (await afactors(user)).any:
        session[SATISFIED_KEY] = 1
        return False
    from heron.auth._two_factor_views import agrace_until

    return time.time() >= await agrace_until(request, user)


def _to_setup(request: Request) -> Any:
    from heron.auth.guards import _wants_api, resolve_url
    from heron.exceptions import HTTPException
    from heron.responses import RedirectResponse

    if _wants_api(request):
        from heron.i18n import gettext

        raise HTTPException(403, gettext("Two-factor login is required for this account: "
                                         "set it up on the security page."))
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = resolve_url(request, "auth:security") + "?next=" + quote(wanted, safe="")
    return RedirectResponse(target, 303 if request.method != "GET" else 302)
