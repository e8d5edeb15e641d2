"""``login_required``, ``permission_required`` and ``staff_required``.

Each decorates a view (sync or async) or guards a whole :class:`~heron.Router`.
The check runs before the view, with the user loaded the way the view will use
it (``db.session`` in a worker thread for ``def`` views, ``db.async_session``
for ``async def`` ones), so ``request.user`` is ready inside.

Who is refused gets:

- a browser (HTML): a redirect to the ``login_url`` setting with ``?next=`` the
  page it wanted, when nobody is logged in; 403 when the user lacks permission;
- in API mode (``Router(api=True)``, ``App(api=True)``), whatever the client
  accepts, and for an API client elsewhere (it accepts or sends JSON, or sent
  ``Authorization``): 401 or 403 as problem JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from heron.exceptions import HTTPException
from heron.i18n import gettext
from heron.requests import HTTPConnection, Request
from heron.responses import RedirectResponse, Response
from heron.routing import Router, add_view_hook

__all__ = [
    "check_mounts",
    "login_required",
    "permission_required",
    "safe_next",
    "staff_required",
]


T = TypeVar("T")
Check = Callable[[Any], bool]
Guard = Callable[[Request], Awaitable[Response | None]]


def _route_is_sync(request: Request) -> bool:
    # The plan says it, made at startup: no inspection per request.
    route = request.scope.get("route")
    return route is not None and route.plan is not None and not route.plan.is_async


def _wants_api(request: Request) -> bool:
    from heron._errors import wants_json

    return request.api_mode or "authorization" in request.headers or wants_json(request)


def resolve_url(conn: HTTPConnection, target: str) -> str:
    """A path as it is, or the path of a route name (``"auth:login"``), mount prefix
    included: what the ``login_url`` and ``*_redirect_url`` settings hold."""
    if "/" in target:
        return target
    root: str = conn.scope.get("root_path", "")
    return root + conn.app.url_path_for(target)


def login_url(conn: HTTPConnection, setting: str | None = None) -> str:
    """The ``login_url`` setting as a path (it may be a route name)."""
    return resolve_url(conn, setting or conn.app.settings.login_url)


def _to_login(request: Request) -> Response:
    if _wants_api(request):
        raise HTTPException(401, gettext("Authentication is required."),
                            {"www-authenticate": 'Bearer realm="api"'})
    # The path as the client sent it (percent-escapes such as %2F kept), with the
    # mount prefix; decoded as heron's router does when the server gives no raw path.
    raw = request.scope.get("raw_path")
    wanted = raw.decode("latin-1") if raw else quote(request.path, safe="/")
    query = request.scope.get("query_string", b"")
    if query:
        wanted += "?" + query.decode("latin-1")
    target = login_url(request)
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}next={quote(wanted, safe='/')}", 302)


def _(message: str) -> str:
    # Marks a message for heron's catalog; the guard translates it when it refuses.
    return message


def _make_guard(check: Check, refuse_status: int, message: str,
                values: dict[str, str] | None = None) -> Guard:
    """A guard: loads the user, then ``check(user)``; refuses with a login redirect
    (or 401) for anonymous users and ``refuse_status`` for the others (with
    ``message`` in the request's language, ``values`` put in)."""

    def decide(request: Request, user: Any, allowed: bool) -> Response | None:
        if allowed:
            return None
        if not user.is_authenticated:
            return _to_login(request)
        text = gettext(message)
        raise HTTPException(refuse_status, text % values if values else text)

    async def guard(request: Request) -> Response | None:
        if _route_is_sync(request):
            from heron.concurrency import run_in_threadpool

            def load_and_check() -> tuple[Any, bool]:
                user = request.user
                return user, user.is_authenticated and check(user)

            user, allowed = await run_in_threadpool(load_and_check)
        else:
            user = await request.auser()
            allowed = user.is_authenticated and await _acheck(check, user)
        return decide(request, user, allowed)

    guard.check = check  # type: ignore[attr-defined]
    # Marks it for the OpenAPI document (the operation needs credentials) and check_mounts.
    guard.requires_authentication = True  # type: ignore[attr-defined]
    return guard


async def _acheck(check: Check, user: Any) -> bool:
    # Permission checks need the database: load them async first, then check.
    if getattr(check, "needs_permissions", False):
        await user.aget_all_permissions()
    return check(user)


def _apply(guard: Guard, target: T) -> T:
    if isinstance(target, Router):
        target.before_request(guard)
        return target
    add_view_hook(target, guard)  # type: ignore[arg-type]
    return target


def check_mounts(router: Router, guarded: bool = False) -> None:
    """Refuse an app mounted below a router that a guard protects (at startup).

    Guards run before the router's views; a mounted ASGI app has none, so it would
    be served to anyone.

    Raises:
        ImproperlyConfigured: heron.auth.E005.
    """
    from heron.exceptions import ImproperlyConfigured

    guarded = guarded or any(getattr(f, "requires_authentication", False)
                             for f in router.before_request_funcs)
    if guarded and router._mounts:
        raise ImproperlyConfigured(
            f"The app mounted at {router._mounts[0].prefix!r} is below a router guarded by "
            "login_required, staff_required or permission_required, which do not cover "
            "mounted apps: mount it elsewhere and protect it by itself",
            id="heron.auth.E005",
        )
    for child, _ in router._children:
        check_mounts(child, guarded)


def login_required(target: T) -> T:
    """Only logged-in (active) users get through.

    >>> @app.get("/account")
    ... @login_required
    ... def account(request):
    ...     return f"Hello {request.user.username}"

    ``login_required(router)`` guards every route of a router.
    """
    return _apply(_make_guard(lambda user: True, 403, _("Forbidden.")), target)


def staff_required(target: T) -> T:
    """Only logged-in staff users (``is_staff``) get through; others get 403."""
    return _apply(_make_guard(lambda user: bool(user.is_staff), 403,
                              _("This page is for staff only.")), target)


def permission_required(*perms: str) -> Callable[[T], T]:
    """Only users with every permission of ``perms`` get through; others get 403.

    >>> @app.post("/posts/{id:int}/publish")
    ... @permission_required("blog.publish_post")
    ... def publish(request, id: int): ...

    Superusers have every permission.  Use ``user.has_perm(perm, obj)`` in the
    view for a check against one object.
    """
    if not perms or not all(isinstance(p, str) and "." in p for p in perms):
        raise ValueError('permission_required takes permissions as "component.codename"')
    wanted: Sequence[str] = perms

    def check(user: Any) -> bool:
        return bool(user.has_perms(wanted))

    check.needs_permissions = True  # type: ignore[attr-defined]
    names = ", ".join(perms)
    guard = _make_guard(check, 403, _("This needs the permission %(names)s."),
                        {"names": names})
    return lambda target: _apply(guard, target)


def safe_next(conn: HTTPConnection, value: str | None) -> str | None:
    """``value`` if it is a URL on this site to send the user to, else ``None``.

    Refuses other hosts, scheme-relative ``//evil.example``, backslash tricks
    (``/\\evil.example``, which browsers read as ``//``), other schemes
    (``javascript:``) and control characters.
    """
    if not value or len(value) > 2048:
        return None
    if any(ord(c) < 32 or c == "\x7f" for c in value) or "\\" in value:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return None
        host = conn.headers.get("host", "")
        if parts.netloc.lower() != host.lower():
            return None
        if conn.url.scheme == "https" and parts.scheme != "https":
            return None
        return value
    if not value.startswith("/") or value.startswith("//"):
        return None
    return value
