"""The incoming HTTP request, parsed lazily on first access."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from heron._parsing import (
    check_json_text,
    parse_cookie_header,
    parse_options_header,
    parse_query_string,
)
from heron._scope import full_path, route_path
from heron.datastructures import URL, Address, FormData, Headers, QueryParams, State
from heron.exceptions import HTTPException
from heron.types import Receive, Scope

if TYPE_CHECKING:
    from heron.app import App
    from heron.routing import Route
    from heron.sessions import Session

__all__ = ["ClientDisconnect", "HTTPConnection", "Request"]

#: The scope key where heron records API mode for a request no route matched.
API_MODE_KEY = "heron.api"
_JSON_TYPES = ("application/json",)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# A reg-name or IPv4 address, or a bracketed IPv6 address, then an optional port.
# The port is checked for its range (0-65535) after the match.
_VALID_HOST = re.compile(
    r"(?:[A-Za-z0-9._~!$&'()*+,;=%-]*|\[[0-9A-Fa-f:.]+\])(?::([0-9]{0,5}))?")


class ClientDisconnect(Exception):
    """The client closed the connection while its body was being read."""


async def _empty_receive() -> Any:
    raise RuntimeError("This connection has no body to receive.")


#: Who provides the request attributes the core declares, for a clear error without them.
_PROVIDERS = {
    "user": "the heron.auth component: App(components=['heron.auth', ...])",
    "auser": "the heron.auth component: App(components=['heron.auth', ...])",
    "session": "the heron.sessions plugin (heron.App has it; heron.app.App has no plugins)",
    "load_session": "the heron.sessions plugin (heron.App has it)",
    "language": "the heron.i18n plugin (heron.App has it)",
}


class HTTPConnection:
    """What HTTP requests and websockets share: URL, headers, cookies, client...

    Every attribute is computed on first access and cached.
    """

    __slots__ = ("_cookies", "_headers", "_query", "_session", "_state", "_url", "scope")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._url: URL | None = None
        self._state: State | None = None
        self._session: Session | None = None

    @property
    def app(self) -> App:
        """The :class:`~heron.App` serving this request."""
        return self.scope["app"]  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        """The decoded path as the client asked for it, mount prefix included."""
        return full_path(self.scope)

    @property
    def route_path(self) -> str:
        """The decoded path within this app: without the mount prefix (``root_path``)."""
        return route_path(self.scope)

    @property
    def path_params(self) -> dict[str, Any]:
        """Converted path parameters of the matched route."""
        return self.scope.get("path_params", {})  # type: ignore[no-any-return]

    @property
    def route(self) -> Route | None:
        """The matched :class:`~heron.routing.Route`, if any."""
        return self.scope.get("route")

    @property
    def api_mode(self) -> bool:
        """Whether heron answers this request in API mode (docs/errors.md#api-mode):
        its route is in a ``Router(api=True)`` or an ``App(api=True)``, or, for a path
        no route matches (404, 405), the path lies under such a router's prefix.
        Errors are then problem JSON and heron.auth's guards answer 401 or 403,
        whatever the client accepts."""
        route = self.scope.get("route")
        if route is not None:
            return bool(route.api)
        api = self.scope.get(API_MODE_KEY)
        if api is None:  # before routing: only the app's own mode is known
            app = self.scope.get("app")
            api = app is not None and app.router.api
        return bool(api)

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(raw=self.scope["headers"])
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        """The query string as a multi-dict (400 on malformed encoding or a NUL character)."""
        if self._query is None:
            limit, allow_nul = None, False
            if "app" in self.scope:
                settings = self.scope["app"].settings
                limit, allow_nul = settings.max_form_fields, settings.allow_nul_in_text
            self._query = QueryParams(parse_query_string(self.scope["query_string"], limit,
                                                         allow_nul=allow_nul))
        return self._query

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            header = self.headers.get("cookie")
            self._cookies = parse_cookie_header(header) if header else {}
        return self._cookies

    @property
    def url(self) -> URL:
        """The full URL as the client asked for it (proxy headers only when trusted).

        Raises:
            HTTPException: 400 when the ``Host`` header is malformed.
        """
        if self._url is None:
            host = self.headers.get("host")
            if host is not None:
                valid = _VALID_HOST.fullmatch(host)
                if valid is None or (valid[1] and int(valid[1]) > 65535):
                    raise HTTPException(400, "The Host header is malformed.")
            self._url = URL.from_scope(self.scope, host)
        return self._url

    @property
    def base_url(self) -> URL:
        """Scheme, host and mount prefix: the root of this app's URLs."""
        url = self.url
        return URL(f"{url.scheme}://{url.netloc}{self.scope.get('root_path', '')}/")

    @property
    def client(self) -> Address | None:
        """The client's address (the real one behind a trusted proxy)."""
        client = self.scope.get("client")
        return Address(*client) if client else None

    @property
    def state(self) -> State:
        """Free-form storage for this request (``request.state.user = ...``)."""
        if self._state is None:
            self._state = State()
        return self._state

    @property
    def session(self) -> Session:
        """The client's session (see docs/sessions.md), saved with the response if changed."""
        if self._session is None:
            self._session = self._provided("session")(self)
        return self._session

    async def load_session(self) -> Session:
        """Load a server-side session from its store (heron does it before views run)."""
        if self._session is None:
            self._session = await self._provided("load_session")(self)
        return self._session

    @property
    def user(self) -> Any:
        """The logged-in user, or ``heron.auth.AnonymousUser`` (needs ``heron.auth``).

        Loaded on first use from the session or a bearer API token.  In async
        code ``await request.auser()`` first (the auth guards do it for you).
        """
        user = self.scope.get("heron.user")
        if user is None:
            user = self._provided("user")(self)
        return user

    async def auser(self) -> Any:
        """``request.user`` for async code: loads it without blocking the loop."""
        user = self.scope.get("heron.user")
        if user is None:
            user = await self._provided("auser")(self)
        return user

    @property
    def language(self) -> str:
        """The language code this request runs in (``"de"``; heron.i18n chooses it,
        see docs/i18n.md)."""
        language: str = self._provided("language")(self)
        return language

    def _provided(self, name: str) -> Any:
        # Attributes batteries own: their plugin gives the loader (request_attributes).
        loader = self.app.request_attributes.get(name)
        if loader is None:
            hint = _PROVIDERS.get(name, "a plugin that provides it")
            raise RuntimeError(f"request.{name} needs {hint}")
        return loader

    @property
    def is_secure(self) -> bool:
        return self.scope.get("scheme") in ("https", "wss")

    def url_for(self, name: str, /, **params: Any) -> str:
        """Absolute URL of the route ``name``; ``".name"`` means this route's namespace."""
        if name.startswith(".") and self.route is not None:
            namespace = self.route.namespace
            name = f"{namespace}:{name[1:]}" if namespace else name[1:]
        path = self.app.url_path_for(name, **params)
        url = self.url
        return f"{url.scheme}://{url.netloc}{self.scope.get('root_path', '')}{path}"


class Request(HTTPConnection):
    """An HTTP request.  Body helpers are coroutines: ``await request.json()``."""

    __slots__ = ("_body", "_content_type", "_form", "_json", "_receive", "_stream_consumed")

    def __init__(self, scope: Scope, receive: Receive = _empty_receive) -> None:
        self.scope = scope
        self._receive = receive
        self._headers = None
        self._query = None
        self._cookies = None
        self._url = None
        self._state = None
        self._session = None
        self._body: bytes | None = None
        self._form: FormData | None = None
        self._json: Any = _MISSING
        self._stream_consumed = False
        self._content_type: str | None = None

    @property
    def method(self) -> str:
        return self.scope["method"]  # type: ignore[no-any-return]

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased (``""`` when absent)."""
        if self._content_type is None:
            header = self.headers.get("content-type")
            self._content_type = parse_options_header(header)[0] if header else ""
        return self._content_type

    async def stream(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks as they arrive, enforcing ``max_body_size`` (413).

        Raises:
            HTTPException: 413 when the body is larger than allowed.
            ClientDisconnect: when the client goes away mid-body.
        """
        if self._body is not None:
            yield self._body
            return
        if self._stream_consumed:
            raise RuntimeError("The request body was already consumed by stream().")
        self._stream_consumed = True
        limit = self.app.settings.max_body_size if "app" in self.scope else None
        if limit is not None:
            declared = self.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise HTTPException(413, f"Request body is larger than {limit} bytes.")
        received = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if limit is not None and received > limit:
                    raise HTTPException(413, f"Request body is larger than {limit} bytes.")
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return
            elif message["type"] == "http.disconnect":
                raise ClientDisconnect()

    async def body(self) -> bytes:
        """The whole body as bytes (read once, then cached)."""
        if self._body is None:
            self._body = b"".join([chunk async for chunk in self.stream()])
        return self._body

    async def json(self) -> Any:
        """The body parsed as JSON.

        Raises:
            HTTPException: 415 unless the content type is JSON, 400 for malformed JSON.
        """
        if self._json is _MISSING:
            ctype = self.content_type
            if not (ctype in _JSON_TYPES or ctype.endswith("+json")):
                raise HTTPException(
                    415, f"Expected a JSON body (Content-Type: application/json), got {ctype!r}."
                )
            body = await self.body()
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise HTTPException(400, f"Malformed JSON body: {exc}") from None
            if not ("app" in self.scope and self.scope["app"].settings.allow_nul_in_text):
                check_json_text(body)
            self._json = parsed
        return self._json

    async def form(self) -> FormData:
        """The body parsed as a form; uploads are spooled to disk.

        Raises:
            HTTPException: 415 unless urlencoded or multipart, 400 when malformed,
                413 past ``max_form_fields``/``max_form_files``/size limits.
        """
        if self._form is None:
            from heron._forms import parse_form

            ctype = self.content_type
            if ctype not in _FORM_TYPES:
                raise HTTPException(
                    415,
                    "Expected a form body (application/x-www-form-urlencoded or "
                    f"multipart/form-data), got {ctype!r}.",
                )
            self._form = await parse_form(self)
        return self._form

    # -- for def views, which run in heron's thread pool ------------------------------------

    def form_sync(self) -> FormData:
        """:meth:`form` for a ``def`` view: ``data = request.form_sync()``.

        Raises:
            RuntimeError: called on the event loop (in ``async def`` code: ``await
                request.form()``).
        """
        if self._form is not None:
            return self._form
        from heron.concurrency import run_async

        return run_async(self.form())

    def json_sync(self) -> Any:
        """:meth:`json` for a ``def`` view."""
        if self._json is not _MISSING:
            return self._json
        from heron.concurrency import run_async

        return run_async(self.json())

    def body_sync(self) -> bytes:
        """:meth:`body` for a ``def`` view."""
        if self._body is not None:
            return self._body
        from heron.concurrency import run_async

        return run_async(self.body())

    async def close(self) -> None:
        """Release temporary files of uploaded forms."""
        if self._form is not None:
            self._form.close()


_MISSING: Any = object()
