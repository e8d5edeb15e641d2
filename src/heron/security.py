"""Secure defaults: host validation, security headers, HTTPS redirect and HSTS.

All on by default and configured by settings (docs/security.md).  Per view,
:func:`frame_options` and :func:`content_security_policy` change the headers a
view's responses get; a header the view sets itself always wins.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast

from heron.exceptions import HTTPException, ImproperlyConfigured
from heron.plugins import UNCACHEABLE_KEY, Finalizer, Gate, Plugin
from heron.settings import settings_section

if TYPE_CHECKING:
    from heron.app import App
    from heron.responses import Response
    from heron.routing import Route
    from heron.settings import Settings
    from heron.types import Scope

__all__ = ["SecuritySettings", "content_security_policy", "csp_nonce", "frame_options"]

F = TypeVar("F", bound=Callable[..., Any])
Header = tuple[bytes, bytes]
DEBUG_HOSTS = ("localhost", ".localhost", "127.0.0.1", "[::1]")
NONCE_KEY = "heron.csp_nonce"
_NAME = "heron.security"  # the plugin's name: its key in route.extensions
_YEAR = 365 * 24 * 3600  # the HSTS max-age production wants (and the preload list)
# Letters, digits, dots, hyphens (and underscores, common in container names),
# or a bracketed IPv6 address; then an optional port.
_HOST = re.compile(r"(?:[a-z0-9._-]+|\[[0-9a-f:.]+\])(?::[0-9]*)?")


def frame_options(value: str | None) -> Callable[[F], F]:
    """Set ``X-Frame-Options`` for one view: ``"SAMEORIGIN"``, ``"DENY"`` or ``None`` (none).

    >>> @frame_options("SAMEORIGIN")
    ... def embeddable(): ...
    """
    if value is not None and value.upper() not in ("DENY", "SAMEORIGIN"):
        raise ValueError("frame_options takes 'DENY', 'SAMEORIGIN' or None")

    def decorate(view: F) -> F:
        _overrides(view)["x_frame_options"] = value.upper() if value else None
        return view

    return decorate


def content_security_policy(policy: str | None) -> Callable[[F], F]:
    """Replace the ``content_security_policy`` setting for one view (``None``: no header)."""

    def decorate(view: F) -> F:
        _overrides(view)["content_security_policy"] = policy
        return view

    return decorate


def _format_policy(policy: str, nonce: str | None) -> bytes:
    value = policy.replace("{nonce}", f"'nonce-{nonce}'" if nonce else "")
    return " ".join(value.split()).replace(" ;", ";").encode("latin-1")


def _overrides(view: Any) -> dict[str, Any]:
    if "__heron_security__" not in view.__dict__:
        view.__heron_security__ = {}
    return view.__heron_security__  # type: ignore[no-any-return]


def csp_nonce(scope: Scope) -> str:
    """This request's Content-Security-Policy nonce, made on first use.

    Templates call it as ``csp_nonce()``: ``<script nonce="{{ csp_nonce() }}">``.
    The policy's ``{nonce}`` source is filled in only for responses that used it.
    """
    nonce = scope.get(NONCE_KEY)
    if nonce is None:
        nonce = scope[NONCE_KEY] = secrets.token_urlsafe(18)
        # The page holds the nonce its CSP header names: no page cache may replay it
        # under another request's header.
        scope[UNCACHEABLE_KEY] = True
    return nonce  # type: ignore[no-any-return]


# -- hosts ------------------------------------------------------------------


def effective_hosts(settings: Settings) -> list[str]:
    """``allowed_hosts``, or the localhost names in debug when it is empty."""
    if settings.allowed_hosts:
        return list(settings.allowed_hosts)
    return list(DEBUG_HOSTS) if settings.debug else []


def check_hosts(settings: Settings) -> ImproperlyConfigured | None:
    if not settings.allowed_hosts and not settings.debug:
        return ImproperlyConfigured(
            "allowed_hosts is empty, so every request would be refused. Set it to the host "
            "names this app serves, e.g. HERON_ALLOWED_HOSTS=example.com,.example.org "
            "(a leading dot also allows subdomains)",
            id="heron.security.E001",
        )
    return None


class HostValidator:
    """Checks a request's ``Host`` against ``allowed_hosts``; verdicts are memoised."""

    def __init__(self, patterns: Iterable[str], debug: bool = False) -> None:
        self.debug = debug
        self.reset(patterns)

    def reset(self, patterns: Iterable[str]) -> None:
        """Allow these patterns from now on (the gate already handed out sees them)."""
        patterns = [p.strip().lower().rstrip(".") for p in patterns if p.strip()]
        self.allow_all = "*" in patterns
        self.exact = {p for p in patterns if not p.startswith(".")}
        self.suffixes = tuple(p for p in patterns if p.startswith("."))
        self._seen: dict[bytes, bool] = {}

    def gate(self, scope: Scope) -> None:
        """The gate run before routing: a 400 for a Host this site does not serve."""
        headers = scope["headers"]
        # Clients send Host first: then a memoised verdict on its raw bytes is all a
        # request for an allowed host costs.
        if headers and headers[0][0] == b"host" and self._seen.get(headers[0][1]) is True:
            return
        self._judge(scope)

    def _judge(self, scope: Scope) -> None:
        for name, value in scope["headers"]:  # noqa: B007 (value is used after the loop)
            if name == b"host":
                break
        else:
            if scope.get("http_version") == "1.1":
                # RFC 9112 3.2: a server must answer 400 to an HTTP/1.1 request
                # without Host.
                raise HTTPException(400, "An HTTP/1.1 request must send a Host header.")
            # HTTP/1.0 without Host: the server's own name
            server = scope.get("server")
            value = (server[0] if server else "").encode("latin-1")
        verdict = self._seen.get(value)
        if verdict is None:
            verdict = self.allows(value.decode("latin-1"))
            if len(self._seen) < 1024:  # a flood of made-up hosts is not remembered
                self._seen[value] = verdict
        if not verdict:
            raise _bad_host(scope, self.debug)

    def check(self, scope: Scope) -> bool:
        """True when the request's Host is allowed."""
        try:
            self.gate(scope)
        except HTTPException:
            return False
        return True

    def allows(self, host: str) -> bool:
        host = host.strip().lower()
        if not _HOST.fullmatch(host):
            return False
        if host.startswith("["):
            domain = host[: host.index("]") + 1]
        else:
            domain = host.rpartition(":")[0] if ":" in host else host
        port = host[len(domain) + 1:]
        # A port is at most 65535: url_for would build URLs with "127.0.0.1:99999".
        if port and (len(port) > 5 or int(port) > 65535):
            return False
        domain = domain.rstrip(".")
        if self.allow_all:
            return True
        return domain in self.exact or any(
            domain == suffix[1:] or domain.endswith(suffix) for suffix in self.suffixes
        )


# -- headers ----------------------------------------------------------------


class ViewHeaders(NamedTuple):
    """The security headers of one view, computed at startup."""

    fixed: list[Header]
    #: The CSP header as sent without a nonce (HTML responses only).
    csp: Header | None
    #: The policy with ``{nonce}``, formatted when a template used the nonce.
    csp_template: str | None
    #: What a response carrying only its entity headers gets, by its first header
    #: (the content type), over HTTP and over HTTPS: filled on first use, so the
    #: common response costs a dict look-up and one list extension.
    blocks: dict[Header, list[Header]]
    secure_blocks: dict[Header, list[Header]]


_ENTITY = frozenset({b"content-type", b"content-length"})
# Responses a browser may open as a document that runs scripts.
_DOCUMENTS = (b"text/html", b"image/svg+xml", b"application/xhtml+xml", b"text/xml",
              b"application/xml")
_CSP = b"content-security-policy"
_MAX_BLOCKS = 64


class SecurityHeaders:
    """The headers added to every response, computed once per view at startup.

    ``Content-Security-Policy`` goes on documents that can run scripts (HTML,
    SVG, XHTML, XML) only: on other responses it would only cost bytes.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.hsts: Header | None = None
        if settings.hsts_seconds > 0 and not settings.debug:
            value = f"max-age={settings.hsts_seconds}"
            if settings.hsts_include_subdomains:
                value += "; includeSubDomains"
            if settings.hsts_preload:
                value += "; preload"
            self.hsts = (b"strict-transport-security", value.encode("latin-1"))
        self.default = self.for_view(None)

    def for_view(self, view: Any) -> ViewHeaders:
        """The headers for a view's responses, with its decorators' overrides."""
        settings = self.settings
        overrides = getattr(view, "__heron_security__", {}) if view is not None else {}
        headers: list[Header] = []
        if settings.content_type_nosniff:
            headers.append((b"x-content-type-options", b"nosniff"))
        frame = overrides.get("x_frame_options", settings.x_frame_options)
        if frame:
            headers.append((b"x-frame-options", frame.upper().encode("latin-1")))
        if settings.referrer_policy:
            headers.append((b"referrer-policy", settings.referrer_policy.encode("latin-1")))
        if settings.cross_origin_opener_policy:
            headers.append((b"cross-origin-opener-policy",
                            settings.cross_origin_opener_policy.encode("latin-1")))
        policy = overrides.get("content_security_policy", settings.content_security_policy)
        if not policy:
            return ViewHeaders(headers, None, None, {}, {})
        template = policy if "{nonce}" in policy else None
        return ViewHeaders(headers, (_CSP, _format_policy(policy, None)), template, {}, {})

    def finalize(self, scope: Scope, response: Response, route: Route | None) -> None:
        """The finalizer: add the headers of the route's view (the defaults for error
        pages and mounted apps) that the response does not set itself."""
        view = self.default if route is None else route.extensions.get(_NAME, self.default)
        raw = response.raw_headers
        https = scope.get("scheme") == "https"
        # The common response (a content type and a length, no CSP nonce used): its
        # additions depend on its first header only, and were computed before.
        if len(raw) == 2 and raw[0][0] == b"content-type" and raw[1][0] == b"content-length" \
                and NONCE_KEY not in scope:
            blocks = view.secure_blocks if https else view.blocks
            try:
                block = blocks[raw[0]]
            except (KeyError, TypeError):  # TypeError: a header given as a list (ASGI allows it)
                block = self._additions(view, raw, None, https)
                if len(blocks) < _MAX_BLOCKS and type(raw[0]) is tuple:  # types are few
                    blocks[raw[0]] = block
            raw += block
        else:
            raw += self._additions(view, raw, scope.get(NONCE_KEY), https)

    def _additions(
        self, view: ViewHeaders, raw: list[Header], nonce: str | None, https: bool
    ) -> list[Header]:
        """The headers to add to a response that has ``raw``."""
        if len(raw) == 2 and raw[0][0] == b"content-type" and raw[1][0] == b"content-length":
            present: frozenset[bytes] | set[bytes] = _ENTITY
            content_type = raw[0][1]
            added = list(view.fixed)
        else:
            present = {name for name, _ in raw}
            content_type = next((v for k, v in raw if k == b"content-type"), b"")
            added = [h for h in view.fixed if h[0] not in present]
        if view.csp is not None and _CSP not in present and content_type.startswith(_DOCUMENTS):
            if nonce is None or view.csp_template is None:
                added.append(view.csp)
            else:
                added.append((_CSP, _format_policy(view.csp_template, nonce)))
        if self.hsts is not None and https and b"strict-transport-security" not in present:
            added.append(self.hsts)
        return added


# -- the plug-in ---------------------------------------------------------------


@settings_section
class SecuritySettings:
    """heron.security's settings: allowed hosts, HTTPS, security headers (docs/security.md)."""

    #: Host names this app serves; a request for another Host gets 400.
    #: ``.example.com`` matches the domain and its subdomains, ``*`` any host.
    #: Empty means the localhost names in debug, and is an error in production.
    allowed_hosts: list[str] = dataclasses.field(default_factory=list)
    #: Redirect plain-HTTP requests to HTTPS (301).
    secure_redirect: bool = False
    #: ``Strict-Transport-Security`` max-age on HTTPS responses (0 = no header).
    hsts_seconds: int = 31536000
    hsts_include_subdomains: bool = False
    hsts_preload: bool = False
    #: ``X-Frame-Options``: ``DENY``, ``SAMEORIGIN`` or ``None`` (no header).
    x_frame_options: str | None = "DENY"
    #: Send ``X-Content-Type-Options: nosniff``.
    content_type_nosniff: bool = True
    referrer_policy: str | None = "same-origin"
    cross_origin_opener_policy: str | None = "same-origin"
    #: ``Content-Security-Policy``; ``{nonce}`` becomes the per-request nonce
    #: source (``'nonce-...'``) when a template used ``csp_nonce()``.
    content_security_policy: str | None = (
        "default-src 'self'; script-src 'self' {nonce}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'self'"
    )


class SecurityPlugin(Plugin):
    """Host validation and the HTTPS redirect before routing; security headers on
    every response (each view's computed once at startup)."""

    name = _NAME
    settings = SecuritySettings
    hosts: HostValidator

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        problem = check_hosts(app.settings)
        return [problem] if problem is not None else []

    def deploy_checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        """Hosts, the HTTPS redirect and HSTS, as production needs them (W001-W005)."""
        settings = app.settings
        problems = []
        if "*" in (host.strip() for host in settings.allowed_hosts):
            problems.append(ImproperlyConfigured(
                "allowed_hosts contains '*', so any Host header is believed, and links the "
                "app builds from it (password-reset mails, redirects) can point at another "
                "site. List the site's names: HERON_ALLOWED_HOSTS=example.com,.example.org",
                id="heron.security.W001"))
        elif not settings.allowed_hosts and settings.debug:
            # Without debug this is heron.security.E001, which every check reports.
            problems.append(ImproperlyConfigured(
                "allowed_hosts is empty: debug allows only the localhost names, and "
                "production refuses every request. Set HERON_ALLOWED_HOSTS to the host "
                "names this app serves", id="heron.security.W002"))
        if not settings.secure_redirect:
            problems.append(ImproperlyConfigured(
                "secure_redirect is off, so the app answers plain HTTP. Set "
                "HERON_SECURE_REDIRECT=1 (behind a proxy that terminates TLS, set "
                "HERON_TRUSTED_PROXIES too), or redirect to HTTPS at the proxy and ignore "
                "this warning", id="heron.security.W003"))
        if settings.hsts_seconds <= 0:
            problems.append(ImproperlyConfigured(
                "hsts_seconds is 0, so no Strict-Transport-Security header is sent and a "
                "browser may still try plain HTTP. Set HERON_HSTS_SECONDS=31536000 (a year) "
                "once the whole site works over HTTPS", id="heron.security.W004"))
        elif settings.hsts_seconds < _YEAR:
            problems.append(ImproperlyConfigured(
                f"hsts_seconds is {settings.hsts_seconds}, less than a year: browsers forget "
                "the HTTPS-only rule soon after a visit. Set HERON_HSTS_SECONDS=31536000 "
                "once a shorter trial went well", id="heron.security.W005"))
        return problems

    def gates(self, app: App) -> Iterable[Gate]:
        settings = app.settings
        # With "*" it still refuses malformed Host headers.
        self.hosts = HostValidator(effective_hosts(settings), settings.debug)
        gates: list[Gate] = [self.hosts.gate]
        if settings.secure_redirect:
            def redirect_to_https(scope: Scope) -> Response | None:
                return _https_redirect(scope) if scope["scheme"] == "http" else None

            gates.append(redirect_to_https)
        return gates

    def allow_host(self, app: App, host: str) -> None:
        """Serve ``host`` too (the test client's), even once the app has started."""
        settings = cast(SecuritySettings, app.settings)
        hosts = effective_hosts(app.settings)
        if not HostValidator(hosts).allows(host):
            settings.allowed_hosts = [*hosts, host]
            if hasattr(self, "hosts"):  # started: the gate handed out sees the change
                self.hosts.reset(settings.allowed_hosts)

    def finalizers(self, app: App) -> Iterable[Finalizer]:
        headers = SecurityHeaders(app.settings)
        for route in app.compiled_routes():
            if not route.is_websocket:
                route.extensions[_NAME] = headers.for_view(route.endpoint)
        return [headers.finalize]

    async def on_startup(self, app: App) -> None:
        for child in app.mounted_apps():
            if child.plugin(_NAME) is None:
                continue  # a child without host checks has no allowed_hosts
            settings = cast(SecuritySettings, child.settings)
            if not settings.allowed_hosts:
                # The parent checked the Host already; a child with no list of its
                # own serves the parent's hosts.
                settings.allowed_hosts = effective_hosts(app.settings)


def _bad_host(scope: Scope, debug: bool) -> HTTPException:
    if not debug:
        return HTTPException(400, "The Host header names a host this site does not serve.")
    host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
    return HTTPException(400, f"Host {host!r} is not in allowed_hosts; add it to the "
                              "allowed_hosts setting (HERON_ALLOWED_HOSTS).")


def _https_redirect(scope: Scope) -> Response:
    from heron.responses import RedirectResponse

    host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
    if not host:  # HTTP/1.0 without Host: the server's own name, never the path
        server = scope.get("server")
        host = server[0] if server else "localhost"
    raw = scope.get("raw_path") or scope["path"].encode()
    location = f"https://{host.rpartition(':')[0] if host.endswith(':80') else host}"
    location += raw.decode("latin-1")
    if scope.get("query_string"):
        location += "?" + scope["query_string"].decode("latin-1")
    return RedirectResponse(location, 301)


plugin = SecurityPlugin
