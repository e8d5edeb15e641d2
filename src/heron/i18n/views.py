"""``POST /i18n/setlang``: keep the visitor's choice of language in a cookie.

Like Django's ``set_language``: a form posts ``language`` (and ``next``, the page to
go back to); the view sets the language cookie and redirects.  It is an unsafe
method, so heron.csrf checks its token like any other form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from heron.exceptions import HTTPException
from heron.responses import RedirectResponse

if TYPE_CHECKING:
    from heron.requests import Request

__all__ = ["safe_next", "setlang"]

_ONE_YEAR = 365 * 24 * 3600


def safe_next(target: str | None, host: str | None = None) -> str | None:
    """``target`` when it is a path on this site (or a URL on ``host``), else None: an
    open redirect to another site is never followed."""
    if not target or len(target) > 2000 or any(ch in target for ch in "\\\r\n\t\x00"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or not host or parts.netloc != host:
            return None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/") or target.startswith("//"):
        return None
    return target


async def setlang(request: Request) -> RedirectResponse:
    """Set the language cookie to the posted ``language`` and go back to ``next``
    (or the page the form was on).  A language the app does not offer is a 400."""
    from heron.i18n._plugin import chooser

    found = chooser(request.app)
    form = await request.form()
    wanted = form.get("language")
    # An offered language, or a regional form of one ("de-AT" when "de" is offered).
    language = found.match(wanted) if isinstance(wanted, str) and wanted.strip() else None
    if language is None:
        raise HTTPException(400, "Choose one of the languages this site offers.")
    next_value = form.get("next")
    host = request.headers.get("host")
    target = safe_next(next_value if isinstance(next_value, str) else None, host) \
        or safe_next(request.headers.get("referer"), host) or "/"
    if found.url_prefix:
        target = _with_prefix(target, language, found.offered)
    response = RedirectResponse(target, 303)
    settings = request.app.settings
    response.set_cookie(settings.language_cookie_name, language, max_age=_ONE_YEAR,
                        path="/", samesite="lax", secure=request.is_secure, httponly=False)
    return response


def _with_prefix(target: str, language: str, offered: list[str]) -> str:
    """``/de/page`` becomes ``/fr/page`` when French is chosen (prefixed URLs)."""
    path, mark, query = target.partition("?")
    segment, _, rest = path[1:].partition("/")
    if segment in offered:
        return f"/{language}/{rest}{mark}{query}"
    return target
