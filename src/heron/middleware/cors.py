"""Cross-origin resource sharing (CORS): let scripts of other origins call the app."""

from __future__ import annotations

import re
from collections.abc import Iterable

from heron.exceptions import ImproperlyConfigured
from heron.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CORSMiddleware"]

Headers = list[tuple[bytes, bytes]]

# scheme://host[:port], nothing after: what a browser sends in ``Origin``.
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://(\[[0-9a-f:.]+\]|[a-z0-9_-]+(\.[a-z0-9_-]+)*)(:\d{1,5})?",
                     re.IGNORECASE)
# Request headers a browser may send cross-origin without asking (the Fetch
# standard's CORS-safelisted ones); a preflight may still name them.
_SAFELISTED = frozenset({"accept", "accept-language", "content-language", "content-type"})
_DEFAULT_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class CORSMiddleware:
    """Answer CORS preflights and add CORS headers to responses for allowed origins.

    Only requests with an ``Origin`` header are touched; websockets pass through.

    - A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered
      here, without reaching the app: 204 with the ``Access-Control-Allow-*`` headers
      when the origin, the method and every requested header are allowed, else 400
      with a plain-text reason and no CORS headers.
    - Any other request from an allowed origin gets ``Access-Control-Allow-Origin``
      (and ``Vary: Origin``, ``Access-Control-Allow-Credentials``,
      ``Access-Control-Expose-Headers``) added to whatever the app answers, error
      pages included.  From other origins the response is left alone: the browser
      keeps it from the script.

    Args:
        app: the ASGI app to wrap.
        allow_origins: exact origins (``https://app.example.com``; scheme, host and
            port, no path), or ``"*"`` for any origin.
        allow_credentials: let those origins send cookies and HTTP authentication
            and read the answers.  Not with ``"*"``.
        allow_methods: methods a cross-origin request may use (``"*"``: any).
        allow_headers: request headers it may send, case-insensitive (``"*"``: any).
            ``Accept``, ``Accept-Language``, ``Content-Language`` and
            ``Content-Type`` are always allowed.
        expose_headers: response headers its scripts may read.
        max_age: seconds a browser may cache a preflight answer (``None``: its default).

    Raises:
        ImproperlyConfigured: credentials with ``"*"`` (heron.cors.E001); an origin
            that is not ``scheme://host[:port]`` (heron.cors.E002).
    """

    def __init__(self, app: ASGIApp, *, allow_origins: Iterable[str] = (),
                 allow_credentials: bool = False,
                 allow_methods: Iterable[str] = _DEFAULT_METHODS,
                 allow_headers: Iterable[str] = (), expose_headers: Iterable[str] = (),
                 max_age: int | None = 600) -> None:
        self.app = app
        origins = _strings(allow_origins)
        methods = [m.strip().upper() for m in _strings(allow_methods)]
        headers = [h.strip().lower() for h in _strings(allow_headers)]
        self.any_origin = "*" in origins
        if self.any_origin and allow_credentials:
            raise ImproperlyConfigured(
                "cors_allow_credentials cannot be used with the origin '*': browsers refuse "
                "credentials for any origin; list the origins that may send them",
                id="heron.cors.E001")
        self.origins = frozenset(_checked_origin(o).encode("latin-1")
                                 for o in origins if o != "*")
        self.any_method = "*" in methods
        self.methods = frozenset(methods)
        self.any_header = "*" in headers
        self.headers = _SAFELISTED | set(headers)

        # Everything a response can carry is built here, once.
        common: Headers = []
        if allow_credentials:
            common.append((b"access-control-allow-credentials", b"true"))
        preflight = list(common)
        if not self.any_method:
            preflight.append((b"access-control-allow-methods",
                              ", ".join(dict.fromkeys(methods)).encode("latin-1")))
        if not self.any_header:
            listed = dict.fromkeys([*headers, *sorted(_SAFELISTED - set(headers))])
            preflight.append((b"access-control-allow-headers",
                              ", ".join(listed).encode("latin-1")))
        if max_age is not None:
            preflight.append((b"access-control-max-age", str(int(max_age)).encode()))
        preflight.append((b"content-length", b"0"))
        self.preflight_headers = preflight
        exposed = ", ".join(dict.fromkeys(h.strip() for h in _strings(expose_headers)))
        self.simple_headers = common + (
            [(b"access-control-expose-headers", exposed.encode("latin-1"))] if exposed else [])
        # With "*" (and so no credentials) the answer is the same for every origin.
        any_origin = [(b"access-control-allow-origin", b"*")]
        self.star = [*any_origin, *self.simple_headers] if self.any_origin else None
        self.star_preflight = [*any_origin, *preflight] if self.any_origin else None

    def origin_allowed(self, origin: bytes) -> bool:
        """Whether ``origin`` (the ``Origin`` header's bytes) is allowed."""
        return self.any_origin or origin in self.origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
                break
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            request_method = _header(scope["headers"], b"access-control-request-method")
            if request_method is not None:
                await self.preflight(scope, origin, request_method, send)
                return
        if not self.origin_allowed(origin):
            await self.app(scope, receive, send)
            return
        star, extra = self.star, self.simple_headers

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _with_headers(
                    message.get("headers", ()), origin, star, extra)}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def preflight(self, scope: Scope, origin: bytes, request_method: bytes,
                        send: Send) -> None:
        """Answer a preflight request (it never reaches the app)."""
        problems = []
        if not self.origin_allowed(origin):
            problems.append(f"the origin {origin.decode('latin-1')} is not allowed")
        method = request_method.decode("latin-1").strip()
        if not self.any_method and method.upper() not in self.methods:
            problems.append(f"the method {method} is not allowed")
        requested = _header(scope["headers"], b"access-control-request-headers")
        if requested is not None and not self.any_header:
            refused = [h for h in _tokens(requested) if h not in self.headers]
            if refused:
                problems.append(f"the header{'s' if len(refused) > 1 else ''} "
                                f"{', '.join(refused)} {'are' if len(refused) > 1 else 'is'} "
                                "not allowed")
        if problems:
            body = f"CORS preflight refused: {'; '.join(problems)}.".encode()
            await send({"type": "http.response.start", "status": 400, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ]})
            await send({"type": "http.response.body", "body": body})
            return
        if self.star_preflight is not None:
            headers = list(self.star_preflight)
        else:
            headers = [(b"access-control-allow-origin", origin), (b"vary", b"Origin"),
                       *self.preflight_headers]
        # "*" is a wildcard for browsers only without credentials: echo what was asked.
        if self.any_method:
            headers.append((b"access-control-allow-methods", request_method))
        if self.any_header and requested:
            headers.append((b"access-control-allow-headers", requested))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _strings(values: Iterable[str]) -> list[str]:
    """A list of the given strings; one string alone is one value, not its characters."""
    return [values] if isinstance(values, str) else [v for v in values if v.strip()]


def _checked_origin(origin: str) -> str:
    text = origin.strip()
    if not _ORIGIN.fullmatch(text):
        hint = " (no path, not even a final '/')" if "://" in text else ""
        raise ImproperlyConfigured(
            f"cors_allow_origins entry {origin!r} is not an origin: write it as "
            f"scheme://host[:port]{hint}, e.g. 'https://app.example.com'",
            id="heron.cors.E002")
    # Browsers send the scheme and host in lower case, and no default port.
    scheme, _, netloc = text.lower().partition("://")
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return f"{scheme}://{netloc}"


def _header(headers: Headers, name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _tokens(value: bytes) -> list[str]:
    """``b"X-Token, content-type"`` -> ``["x-token", "content-type"]``."""
    return [t for t in (part.strip() for part in value.decode("latin-1").lower().split(",")) if t]


def _with_headers(headers: Iterable[tuple[bytes, bytes]], origin: bytes,
                  star: Headers | None, extra: Headers) -> Headers:
    """The response's headers with the CORS ones in place of any the app set itself;
    ``Origin`` is added to ``Vary`` when the answer depends on it (not with ``*``)."""
    result: Headers = []
    vary_at = -1
    varies = star is not None
    for name, value in headers:  # ASGI response header names are lower-case
        if name.startswith(b"access-control-"):
            continue
        if name == b"vary" and not varies:
            tokens = [t.strip() for t in value.lower().split(b",")]
            varies = b"origin" in tokens or b"*" in tokens
            vary_at = len(result)
        result.append((name, value))
    if star is not None:
        result += star
        return result
    result.append((b"access-control-allow-origin", origin))
    result += extra
    if not varies:
        if vary_at >= 0:
            result[vary_at] = (b"vary", result[vary_at][1] + b", Origin")
        else:
            result.append((b"vary", b"Origin"))
    return result
