"""Cross-site request forgery protection, on by default.

Every POST, PUT, PATCH and DELETE must carry a token tied to the client's
session, in the form field ``csrf_token`` or the ``X-CSRF-Token`` header, and,
when the browser says where it comes from, the right ``Origin``.  Templates
get the token from ``csrf_input()`` / ``csrf_token()``.  See docs/security.md.

Exempt without a decorator: requests that authenticate with an
``Authorization`` header and send no cookies (API clients), and cookie-less
requests whose body is not something an HTML form can send (JSON from a
script, an empty DELETE).  Neither carries a browser's ambient credentials; a
cookie-less *form* post still needs a token, or a page elsewhere could log
a visitor into the attacker's account (login CSRF).
"""

from __future__ import annotations

import base64
import dataclasses
import hmac
import logging
import secrets
from collections.abc import Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from heron.exceptions import HTTPException, ImproperlyConfigured
from heron.plugins import REFUSED_KEY, Handler, Plugin
from heron.settings import settings_section

if TYPE_CHECKING:
    from heron.app import App
    from heron.requests import HTTPConnection, Request
    from heron.routing import Route
    from heron.settings import Settings

__all__ = [
    "UNSAFE_METHODS",
    "CSRFError",
    "CSRFSettings",
    "csrf_exempt",
    "get_token",
    "rotate_token",
]

F = TypeVar("F", bound=Callable[..., Any])
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_KEY = "_csrf"
_SECRET_BYTES = 32
# The bodies an HTML form (or a no-CORS fetch) can send cross-site without a preflight.
_SIMPLE_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# Schemes a browser adds to requests by itself, cross-site ones included.
_AMBIENT_SCHEMES = frozenset({"basic", "digest", "negotiate", "ntlm"})
logger = logging.getLogger("heron.security")


class CSRFError(HTTPException):
    """403: the CSRF check failed.  ``reason`` is shown only in debug."""

    def __init__(self, reason: str, debug: bool) -> None:
        from heron.i18n import gettext

        detail = reason if debug else gettext("The request was refused by the CSRF check.")
        super().__init__(403, detail)
        self.reason = reason


def csrf_exempt(view: F) -> F:
    """Turn the CSRF check off for one view.  Dangerous: read docs/security.md first.

    Only for views that a cookie-carrying browser can never abuse, such as a
    webhook that checks its own signature.
    """
    view.__heron_csrf_exempt__ = True  # type: ignore[attr-defined]
    return view


def is_exempt(view: Callable[..., Any]) -> bool:
    return getattr(view, "__heron_csrf_exempt__", False) is True


def _new_secret() -> str:
    return secrets.token_urlsafe(_SECRET_BYTES)


def get_token(conn: HTTPConnection) -> str:
    """A token for this client's session, masked afresh on every call.

    Masking (a random pad XORed with the secret, sent together) makes each
    rendered page different, so compression cannot leak the secret (BREACH).
    The first call stores a secret in the session.
    """
    return _token_of(conn.session)


def _token_of(session: MutableMapping[str, Any]) -> str:
    """A masked token for the secret ``session`` holds (one is stored when it has none);
    heron's test client calls it on the session it reads from the store."""
    secret = session.get(SESSION_KEY)
    if not isinstance(secret, str) or _decode(secret) is None:
        secret = session[SESSION_KEY] = _new_secret()
    raw = _decode(secret)
    assert raw is not None
    pad = secrets.token_bytes(len(raw))
    return _encode(pad + bytes(a ^ b for a, b in zip(pad, raw, strict=True)))


def rotate_token(conn: HTTPConnection) -> None:
    """Give the session a new secret (on login), so tokens seen before stop working."""
    conn.session[SESSION_KEY] = _new_secret()


def _unmask(token: str) -> bytes | None:
    raw = _decode(token)
    if raw is None or len(raw) != 2 * _SECRET_BYTES:
        return None
    pad, masked = raw[:_SECRET_BYTES], raw[_SECRET_BYTES:]
    return bytes(a ^ b for a, b in zip(pad, masked, strict=True))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes | None:
    if len(text) > 200:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        return None


def _origin(scheme: str, netloc: str) -> str:
    """``scheme://host[:port]`` lower-cased, without the scheme's default port."""
    netloc = netloc.lower()
    host, sep, port = netloc.rpartition(":")
    if sep and "]" not in port and port == _DEFAULT_PORTS.get(scheme):
        netloc = host
    return f"{scheme.lower()}://{netloc}"


class CSRFProtection:
    """The check run before views on unsafe methods; built once from settings."""

    def __init__(self, settings: Settings) -> None:
        self.debug = settings.debug
        self.field = settings.csrf_field_name
        self.header = settings.csrf_header_name.lower()
        self.trusted: set[str] = set()
        self.trusted_suffixes: list[tuple[str, str]] = []
        for entry in settings.csrf_trusted_origins:
            parts = urlsplit(entry.strip())
            if not parts.scheme or not parts.netloc:
                # Else it would be ignored (and an empty Origin header trusted).
                raise ImproperlyConfigured(
                    f"csrf_trusted_origins entry {entry!r} needs a scheme and a host, "
                    f"e.g. 'https://{entry.strip()}'", id="heron.security.E002",
                )
            if parts.netloc.startswith("*."):
                self.trusted_suffixes.append((parts.scheme.lower(), parts.netloc[1:].lower()))
            else:
                self.trusted.add(_origin(parts.scheme, parts.netloc))
        # Origins CORS lets call the API: with credentials they are trusted as much as
        # csrf_trusted_origins; without, their requests pass only when they carry no
        # cookie and no form (nothing ambient to abuse).
        self.cors_any = "*" in settings.cors_allow_origins
        self.cors_origins: set[str] = set()
        for entry in settings.cors_allow_origins:
            parts = urlsplit(entry.strip())
            if entry != "*" and parts.scheme and parts.netloc:
                origin = _origin(parts.scheme, parts.netloc)
                if settings.cors_allow_credentials:
                    self.trusted.add(origin)
                else:
                    self.cors_origins.add(origin)

    def _fail(self, request: Request, reason: str) -> CSRFError:
        request.scope[REFUSED_KEY] = True
        logger.warning("CSRF check failed on %s %s: %s", request.method, request.path, reason)
        return CSRFError(reason, self.debug)

    def origin_allowed(self, origin: str, request: Request) -> bool:
        url = request.url
        if origin == _origin(url.scheme, url.netloc) or origin in self.trusted:
            return True
        scheme, _, netloc = origin.partition("://")
        return any(scheme == s and netloc.endswith(suffix) for s, suffix in self.trusted_suffixes)

    async def check(self, request: Request) -> None:
        """Raise :class:`CSRFError` unless the request is safe to act on."""
        headers = request.headers
        has_cookies = "cookie" in headers
        origin = headers.get("origin")
        if origin is not None and not self.origin_allowed(_origin(*_split_origin(origin)),
                                                          request):
            cors = self.cors_any or _origin(*_split_origin(origin)) in self.cors_origins
            if not (cors and not has_cookies and request.content_type not in _SIMPLE_TYPES):
                raise self._fail(request, f"Origin checking failed: {origin} does not match "
                                          "this site or a trusted origin.")
        authorization = headers.get("authorization")
        if not has_cookies and authorization is not None and \
                authorization.split(" ", 1)[0].lower() not in _AMBIENT_SCHEMES:
            return  # a token-authenticated API client: no ambient credentials
        content_type = request.content_type
        if not has_cookies and content_type not in _SIMPLE_TYPES:
            return  # a script's JSON (say) with no cookies: nothing to forge
        if origin is None and request.is_secure:
            referer = headers.get("referer")
            if not referer:
                raise self._fail(request, "Referer checking failed: no Referer and no Origin "
                                          "on an HTTPS request.")
            try:
                parts = urlsplit(referer)
            except ValueError:  # "https://[::1", say
                raise self._fail(request, "Referer checking failed: the Referer is "
                                          "malformed.") from None
            if parts.scheme != "https":
                raise self._fail(request, "Referer checking failed: the Referer is not HTTPS.")
            if not self.origin_allowed(_origin(parts.scheme, parts.netloc), request):
                raise self._fail(request, f"Referer checking failed: {referer} does not match "
                                          "this site or a trusted origin.")
        token = headers.get(self.header)
        if not token and content_type in ("application/x-www-form-urlencoded",
                                          "multipart/form-data"):
            form = await request.form()
            value = form.get(self.field)
            token = value if isinstance(value, str) else None
        if not token:
            raise self._fail(request, f"CSRF token missing: send it in the {self.field!r} "
                                      f"form field or the {headers_name(self.header)} header.")
        secret = request.session.get(SESSION_KEY)
        expected = _decode(secret) if isinstance(secret, str) else None
        given = _unmask(token)
        if expected is None or given is None or not hmac.compare_digest(given, expected):
            raise self._fail(request, "CSRF token incorrect: it does not belong to this "
                                      "session (expired, or from another session).")


def headers_name(lower: str) -> str:
    return "-".join(part.capitalize() if part != "csrf" else "CSRF" for part in lower.split("-"))


def _split_origin(origin: str) -> tuple[str, str]:
    scheme, sep, netloc = origin.strip().partition("://")
    return (scheme, netloc) if sep else ("", origin)


# -- the plug-in ---------------------------------------------------------------


@settings_section
class CSRFSettings:
    """heron.csrf's settings (docs/security.md)."""

    #: Check a CSRF token on POST, PUT, PATCH and DELETE.
    csrf: bool = True
    #: Other origins allowed to post here (``https://app.example.com``,
    #: ``https://*.example.com``).
    csrf_trusted_origins: list[str] = dataclasses.field(default_factory=list)
    csrf_field_name: str = "csrf_token"
    csrf_header_name: str = "X-CSRF-Token"


class CSRFPlugin(Plugin):
    """Checks unsafe requests to views that are not exempt, before the view runs."""

    name = "heron.csrf"
    settings = CSRFSettings

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        if app.settings.csrf:
            try:
                CSRFProtection(app.settings)
            except ImproperlyConfigured as exc:
                return [exc]
        return []

    def deploy_checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        """The check turned off, or a plain-HTTP trusted origin (heron.csrf.W001, W002).

        The CSRF secret has no cookie of its own: it is kept in the session, whose
        cookie heron.sessions checks (heron.sessions.W001)."""
        settings = app.settings
        if not settings.csrf:
            return [ImproperlyConfigured(
                "csrf is off, so any site can make a visitor's browser post forms here with "
                "the visitor's cookies. Turn it back on (remove csrf=False or HERON_CSRF=0) "
                "and exempt only views with protection of their own (@csrf_exempt)",
                id="heron.csrf.W001")]
        plain = [o for o in settings.csrf_trusted_origins if o.strip().lower().startswith(
            "http://")]
        if plain:
            return [ImproperlyConfigured(
                f"csrf_trusted_origins contains {plain[0]!r}, a plain-HTTP origin: anyone "
                "on the network between it and its visitors can post here in its name. "
                "Trust its https:// origin instead", id="heron.csrf.W002")]
        return []

    def template_globals(self, app: App) -> dict[str, Any]:
        """``csrf_token()`` and ``csrf_input()`` in every template."""
        import jinja2
        from markupsafe import Markup

        from heron.templating import request_from_context

        field = app.settings.csrf_field_name

        @jinja2.pass_context
        def csrf_token(context: Any) -> str:
            return get_token(request_from_context(context))

        @jinja2.pass_context
        def csrf_input(context: Any) -> Markup:
            token = get_token(request_from_context(context))
            return Markup('<input type="hidden" name="{}" value="{}">').format(field, token)

        return {"csrf_token": csrf_token, "csrf_input": csrf_input}

    def wrap_route(self, app: App, route: Route, handler: Handler) -> Handler:
        if not app.settings.csrf or is_exempt(route.endpoint) \
                or not route.methods & UNSAFE_METHODS:
            return handler
        check = app.extensions.get(self.name)
        if check is None:
            check = app.extensions[self.name] = CSRFProtection(app.settings).check

        async def check_csrf(request: Request) -> Any:
            if request.scope["method"] in UNSAFE_METHODS:
                await check(request)
            return await handler(request)

        return check_csrf


plugin = CSRFPlugin
