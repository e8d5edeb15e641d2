"""Choosing the language and time zone of each request, and keeping them active
while the app answers it.

The order (docs/i18n.md): the URL prefix (``language_url_prefix``), the logged-in
user's ``language`` (a request hook, :func:`user_preferences`), the language cookie,
``Accept-Language``, then ``language_code``.  Time zone: the user's ``timezone``,
the time zone cookie, then ``time_zone``.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import MutableMapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from heron._parsing import parse_cookie_header
from heron.i18n._catalogs import Catalogs, normalize
from heron.i18n._state import _timezone, _translation, zone
from heron.plugins import GETTEXT_KEY, LANGUAGE_KEY, STATIC_ROOT_KEY

if TYPE_CHECKING:
    import datetime as dt

    from heron.requests import HTTPConnection
    from heron.responses import Response
    from heron.types import ASGIApp, Receive, Scope, Send

__all__ = ["I18nMiddleware", "LanguageChooser", "parse_accept_language"]

#: Scope keys: where the language came from ("url", "user", "cookie", "header",
#: "default"), and the time zone chosen.
SOURCE_KEY = "heron.language.source"
TIMEZONE_KEY = "heron.timezone"

_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*")
_MAX_HEADER = 2000


def parse_accept_language(header: str) -> list[str]:
    """The language tags of an ``Accept-Language`` header, best first (by q-value, then
    order).  Malformed entries are skipped; ``q=0`` means "not this one"."""
    if len(header) > _MAX_HEADER:
        header = header[:_MAX_HEADER].rpartition(",")[0]
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:50]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not _TAG.fullmatch(tag):
            continue
        quality = 1.0
        params = params.strip()
        if params:
            name, _, value = params.partition("=")
            if name.strip().lower() != "q":
                continue
            try:
                quality = float(value.strip())
            except ValueError:
                continue
            if not 0.0 <= quality <= 1.0 or quality != quality:
                continue
        if quality > 0:
            weighted.append((-quality, index, tag.lower()))
    weighted.sort()
    return [tag for _, _, tag in weighted]


class LanguageChooser:
    """What an app offers (its settings, read once) and how a request picks from it."""

    def __init__(self, settings: Any, catalogs: Catalogs) -> None:
        self.catalogs = catalogs
        self.offered = [normalize(code) for code in settings.languages]
        self._offered = set(self.offered)
        self.default = normalize(settings.language_code)
        self.cookie_name: str = settings.language_cookie_name
        self.url_prefix: bool = settings.language_url_prefix
        self.tz_cookie_name: str = settings.time_zone_cookie_name or ""
        self.default_tz: dt.tzinfo = zone(settings.time_zone) or datetime.UTC
        self.multilingual = len(self._offered) > 1
        # Browsers send a few distinct headers over and over: parse each once (bounded).
        self.from_header = lru_cache(maxsize=512)(self._from_header)

    def match(self, code: str) -> str | None:
        """The offered language ``code`` asks for: itself, its general language
        (``de-at`` -> ``de``), or an offered variant of it (``de`` -> ``de-at``)."""
        code = normalize(code)
        if code in self._offered:
            return code
        base = code.partition("-")[0]
        if base in self._offered:
            return base
        for offered in self.offered:
            if offered.partition("-")[0] == base:
                return offered
        return None

    def _from_header(self, header: str) -> str | None:
        for tag in parse_accept_language(header):
            if tag == "*":
                return self.default
            found = self.match(tag)
            if found is not None:
                return found
        return None

    def url_language(self, scope: Scope) -> str | None:
        """The language of the path's first segment (``/de/...``), when prefixes are on:
        the segment moves to ``root_path``, so routing and ``url_for`` see it as a mount."""
        root: str = scope.get("root_path", "")
        path: str = scope["path"]
        inner = path[len(root):] if root and path.startswith(root) else path
        segment = inner[1:].partition("/")[0]
        if not segment or len(segment) > 16:
            return None
        code = normalize(segment)
        if code not in self._offered or segment != segment.lower():
            return None
        scope[STATIC_ROOT_KEY] = root
        scope["root_path"] = f"{root}/{segment}"
        if not path.startswith(root):  # a server that sends path without root_path
            scope["path"] = inner[len(segment) + 1:] or "/"
        return code

    def choose(self, scope: Scope) -> tuple[str, str, dt.tzinfo | None]:
        """The request's language, where it came from, and its time zone (None: default)."""
        cookies: dict[str, str] | None = None
        accept = ""
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookies = parse_cookie_header(value.decode("latin-1"))
            elif name == b"accept-language":
                accept = value.decode("latin-1")
        timezone = None
        if self.tz_cookie_name and cookies and self.tz_cookie_name in cookies:
            timezone = zone(cookies[self.tz_cookie_name])
        if not self.multilingual:
            return self.default, "default", timezone
        if self.url_prefix:
            found = self.url_language(scope)
            if found is not None:
                return found, "url", timezone
        if cookies and self.cookie_name in cookies:
            found = self.match(cookies[self.cookie_name])
            if found is not None:
                return found, "cookie", timezone
        if accept:
            found = self.from_header(accept)
            if found is not None:
                return found, "header", timezone
        return self.default, "default", timezone


class I18nMiddleware:
    """Sets the request's language and time zone for the app below it, and marks the
    response (``Content-Language``; ``Vary`` when the language was negotiated)."""

    def __init__(self, app: ASGIApp, chooser: LanguageChooser) -> None:
        self.app = app
        self.chooser = chooser

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        chooser = self.chooser
        language, source, timezone = chooser.choose(scope)
        translation = chooser.catalogs.translation(language)
        scope[LANGUAGE_KEY] = language
        scope[SOURCE_KEY] = source
        scope[GETTEXT_KEY] = translation.gettext
        timezone = timezone or chooser.default_tz
        scope[TIMEZONE_KEY] = timezone
        token = _translation.set(translation)
        tz_token = _timezone.set(timezone)
        try:
            if kind == "http" and chooser.multilingual:
                send = _marking_send(scope, send)
            await self.app(scope, receive, send)
        finally:
            _translation.reset(token)
            _timezone.reset(tz_token)


def mark_response(scope: Scope, response: Response) -> None:
    """``Content-Language``, and ``Vary`` when the request negotiated its language, on a
    response object (a response hook: the page cache then keys its copies on them)."""
    if "content-language" not in response.headers:
        response.headers["content-language"] = scope[LANGUAGE_KEY]
        if scope.get(SOURCE_KEY) != "url":
            response.headers.add_vary("Accept-Language", "Cookie")


def _marking_send(scope: Scope, send: Send) -> Send:
    # For answers no response hook saw (views without parameters, mounted apps).
    async def marked(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(name.lower() == b"content-language" for name, _ in headers):
                headers.append((b"content-language", scope[LANGUAGE_KEY].encode("latin-1")))
                if scope.get(SOURCE_KEY) != "url":
                    headers.append((b"vary", b"Accept-Language, Cookie"))
                message = {**message, "headers": headers}
        await send(message)

    return marked


async def user_preferences(conn: HTTPConnection, chooser: LanguageChooser,
                           state: dict[str, bool]) -> None:
    """A request hook: the logged-in user's ``language`` and ``timezone`` attributes
    (when the user model has them) win over the cookie and the header."""
    if not state.get("has_prefs", True):
        return
    loader = conn.app.request_attributes.get("auser")
    if loader is None or not conn.cookies:
        return  # no heron.auth, or an anonymous visitor: nothing to load
    user = conn.scope.get("heron.user") or await loader(conn)
    if not getattr(user, "is_authenticated", False):
        return
    kind = type(user)
    if not (hasattr(kind, "language") or hasattr(kind, "timezone")):
        state["has_prefs"] = False  # the user model has neither: never load for this again
        return
    wanted = getattr(user, "language", None)
    found = chooser.match(wanted) if isinstance(wanted, str) and wanted else None
    if found is not None and chooser.multilingual and conn.scope.get(SOURCE_KEY) != "url":
        translation = chooser.catalogs.translation(found)
        conn.scope[LANGUAGE_KEY] = found
        conn.scope[SOURCE_KEY] = "user"
        conn.scope[GETTEXT_KEY] = translation.gettext
        _translation.set(translation)  # the middleware's reset restores the outer value
    name = getattr(user, "timezone", None)
    timezone = zone(name) if isinstance(name, str) else None
    if timezone is not None:
        conn.scope[TIMEZONE_KEY] = timezone
        _timezone.set(timezone)
