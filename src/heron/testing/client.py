"""Test clients: :class:`AsyncTestClient` on httpx's ASGI transport, and
:class:`TestClient`, its sync face, which runs the same async client on an event
loop in a background thread (one implementation, one bridge)."""

from __future__ import annotations

import asyncio
import inspect
import threading
import weakref
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import orjson

from heron.exceptions import WebSocketDisconnect
from heron.testing import _state
from heron.testing._state import ClientSession, RecordingTransport, TestResponse
from heron.types import ASGIApp, Message

__all__ = ["AsyncTestClient", "ClientSession", "TestClient", "TestResponse",
           "WebSocketTestSession", "allow_test_host", "extract_csrf_token"]

T = TypeVar("T")
DEFAULT_BASE_URL = "http://testserver"
DEFAULT_CLIENT = ("127.0.0.1", 50000)


class _Lifespan:
    """Drives an app's lifespan protocol: startup on enter, shutdown on exit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.to_app: asyncio.Queue[Message] = asyncio.Queue()
        self.from_app: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"},
                 "state": {}}
        try:
            await self.app(scope, self.to_app.get, self.from_app.put)
        finally:
            await self.from_app.put({"type": "lifespan.finished"})

    async def startup(self) -> None:
        self.task = asyncio.ensure_future(self._run())
        await self.to_app.put({"type": "lifespan.startup"})
        message = await self.from_app.get()
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(message.get("message", "startup failed"))
        if message["type"] == "lifespan.finished":
            await self.task  # raises the app's error, if any

    async def shutdown(self) -> None:
        if self.task is None or self.task.done():
            return
        await self.to_app.put({"type": "lifespan.shutdown"})
        message = await self.from_app.get()
        await self.task
        if message["type"] == "lifespan.shutdown.failed":
            raise RuntimeError(message.get("message", "shutdown failed"))


def _with_cookies(cookies: httpx.Cookies, url: httpx.URL,
                  headers: dict[str, str] | None) -> dict[str, str]:
    request = httpx.Request("GET", url)
    cookies.set_cookie_header(request)
    merged = dict(headers or {})
    if "cookie" in request.headers:
        merged.setdefault("cookie", request.headers["cookie"])
    return merged


class WebSocketTestSession:
    """One websocket conversation with the app (async API)."""

    def __init__(self, app: ASGIApp, url: str, headers: dict[str, str] | None,
                 subprotocols: list[str] | None,
                 client: tuple[str, int] = DEFAULT_CLIENT) -> None:
        parts = urlsplit(url)
        raw_headers = [(b"host", (parts.netloc or "testserver").encode())]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        path = parts.path or "/"
        self.scope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "scheme": "wss" if parts.scheme in ("https", "wss") else "ws",
            "http_version": "1.1",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": parts.query.encode(),
            "headers": raw_headers,
            "server": ("testserver", 80),
            "client": client,
            "subprotocols": subprotocols or [],
            "extensions": {},
        }
        self.app = app
        self.to_app: asyncio.Queue[Message] = asyncio.Queue()
        self.from_app: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.accepted_subprotocol: str | None = None
        self.accept_headers: list[tuple[bytes, bytes]] = []

    async def _run(self) -> None:
        try:
            await self.app(self.scope, self.to_app.get, self.from_app.put)
        except BaseException as exc:
            await self.from_app.put({"type": "websocket.close", "code": 1011, "error": exc})
            raise
        # An app that returns without closing: the server drops the connection.
        await self.from_app.put({"type": "websocket.close", "code": 1006})

    async def connect(self) -> WebSocketTestSession:
        """Open the connection.

        Raises:
            WebSocketDisconnect: when the app closes instead of accepting.
        """
        self.task = asyncio.ensure_future(self._run())
        await self.to_app.put({"type": "websocket.connect"})
        message = await self.from_app.get()
        if message["type"] == "websocket.close":
            await self._finish()
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        self.accepted_subprotocol = message.get("subprotocol")
        self.accept_headers = message.get("headers", [])
        return self

    async def send_text(self, data: str) -> None:
        await self.to_app.put({"type": "websocket.receive", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.to_app.put({"type": "websocket.receive", "bytes": data})

    async def send_json(self, data: Any) -> None:
        await self.send_text(orjson.dumps(data).decode())

    async def receive(self) -> Message:
        """The next message from the app; raises WebSocketDisconnect when it closed."""
        message = await self.from_app.get()
        if message["type"] == "websocket.close":
            await self._finish()
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message

    async def receive_text(self) -> str:
        return (await self.receive())["text"]  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        return (await self.receive())["bytes"]  # type: ignore[no-any-return]

    async def receive_json(self) -> Any:
        message = await self.receive()
        return orjson.loads(message.get("text") or message.get("bytes") or b"")

    async def close(self, code: int = 1000) -> None:
        """Disconnect as a client would, and wait for the app to finish."""
        if self.task is not None and not self.task.done():
            await self.to_app.put({"type": "websocket.disconnect", "code": code})
        await self._finish()

    async def _finish(self) -> None:
        if self.task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self.task), 5)
            except TimeoutError:
                self.task.cancel()

    async def __aenter__(self) -> WebSocketTestSession:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def allow_test_host(app: ASGIApp, base_url: str) -> None:
    """Add the test client's host to a heron app's ``allowed_hosts`` (as Django's runner does)."""
    from heron.app import App
    from heron.security import SecurityPlugin

    if not isinstance(app, App):
        return
    security = app.plugins.get(SecurityPlugin.name)
    if isinstance(security, SecurityPlugin):
        security.allow_host(app, httpx.URL(base_url).host)


def extract_csrf_token(html: str, field: str = "csrf_token") -> str:
    """The CSRF token of the first form in a page (from ``csrf_input()``), for tests.

    Raises:
        LookupError: the page has no token field.
    """
    import re

    match = re.search(rf'<input[^>]*name="{re.escape(field)}"[^>]*value="([^"]+)"', html)
    if match is None:
        match = re.search(r'<meta[^>]*name="csrf-token"[^>]*content="([^"]+)"', html)
    if match is None:
        raise LookupError(f"No {field!r} input (or csrf-token meta tag) in the page")
    return match.group(1)


class AsyncTestClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` wired to an ASGI app, with cookies kept between requests.

    ``async with AsyncTestClient(app) as client:`` runs the app's startup and
    shutdown hooks around the block.  ``client`` is the (host, port) the app
    sees as the peer address.
    """

    def __init__(self, app: ASGIApp, base_url: str = DEFAULT_BASE_URL,
                 client: tuple[str, int] = DEFAULT_CLIENT, **kwargs: Any) -> None:
        transport = RecordingTransport(app=app, client=client)
        allow_test_host(app, base_url)
        kwargs.setdefault("follow_redirects", False)
        super().__init__(transport=transport, base_url=base_url, **kwargs)
        self.app = app
        self.client_address = client
        self._lifespan: _Lifespan | None = None

    async def __aenter__(self) -> AsyncTestClient:
        await super().__aenter__()
        self._lifespan = _Lifespan(self.app)
        try:
            await self._lifespan.startup()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            if self._lifespan is not None:
                await self._lifespan.shutdown()
        finally:
            await super().__aexit__(*exc)

    def websocket_connect(self, path: str, headers: dict[str, str] | None = None,
                          subprotocols: list[str] | None = None) -> WebSocketTestSession:
        """``async with client.websocket_connect("/ws") as ws:`` (the client's cookies are sent)."""
        url = self.base_url.join(path)
        headers = _with_cookies(self.cookies, url, headers)
        return WebSocketTestSession(self.app, str(url), headers, subprotocols,
                                    self.client_address)

    async def get_session(self) -> ClientSession:
        """A copy of this client's session as the app stores it (empty when none);
        change it and ``await session.asave()`` to write it back."""
        data = await _state.read_session(self.app, self.cookies)
        return ClientSession(data, self._write_session, None)

    async def _write_session(self, data: dict[str, Any]) -> None:
        await _state.write_session(self.app, self.cookies, self.base_url, data)

    async def force_login(self, user: Any) -> None:
        """Log ``user`` (a saved, active heron.auth user) in for this client's
        session, without a password, a request or the login throttle.

        Raises:
            ValueError: the user is inactive or has no id yet.
        """
        await _state.force_login(self.app, self.cookies, self.base_url, user)

    async def logout(self) -> None:
        """End this client's session (its data and cookie)."""
        await _state.write_session(self.app, self.cookies, self.base_url, {})

    async def csrf_token(self) -> str:
        """A valid CSRF token for this client's session, without fetching a page
        (send it as the ``csrf_token`` field or the ``X-CSRF-Token`` header)."""
        return await _state.csrf_token(self.app, self.cookies, self.base_url)


class _Portal:
    """An event loop in a daemon thread that runs coroutines for sync callers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                       name="heron-testclient")
        self.thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.current_thread() is not self.thread:
            self.thread.join(5)
            self.loop.close()


class _PortalTransport(httpx.BaseTransport):
    def __init__(self, portal: _Portal, app: ASGIApp, client: tuple[str, int]) -> None:
        self.portal = portal
        self.inner = RecordingTransport(app=app, client=client)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        async_request = httpx.Request(request.method, request.url, headers=request.headers,
                                      content=body, extensions=request.extensions)

        async def send() -> tuple[TestResponse, bytes]:
            response = await self.inner.handle_async_request(async_request)
            # The raw bytes: the outer response decodes Content-Encoding itself.
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
            return response, raw  # type: ignore[return-value]  # RecordingTransport's

        inner, content = self.portal.call(send())
        # A stream, not content=, so httpx adds no Content-Length the app did not send.
        outer = TestResponse(inner.status_code, headers=inner.headers,
                             stream=httpx.ByteStream(content), request=request)
        outer.templates, outer.contexts = inner.templates, inner.contexts
        return outer


class SyncWebSocketSession:
    """The sync face of :class:`WebSocketTestSession`."""

    def __init__(self, portal: _Portal, session: WebSocketTestSession) -> None:
        self._portal = portal
        self._session = session

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._session, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            return self._portal.call(result) if inspect.iscoroutine(result) else result

        return call

    def __enter__(self) -> SyncWebSocketSession:
        self._portal.call(self._session.connect())
        return self

    def __exit__(self, *exc: object) -> None:
        self._portal.call(self._session.close())


class TestClient(httpx.Client):
    """A sync ``httpx.Client`` for an ASGI app, for plain ``def`` tests.

    ``with TestClient(app) as client:`` runs startup and shutdown hooks.
    Requests run on the client's own event loop thread.  Responses are read
    whole, here as in :class:`AsyncTestClient` (httpx's ASGI transport waits for
    the app to finish), so test an endless stream against a real server.
    ``client`` is the (host, port) the app sees as the peer address.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, app: ASGIApp, base_url: str = DEFAULT_BASE_URL,
                 client: tuple[str, int] = DEFAULT_CLIENT, **kwargs: Any) -> None:
        self._portal = _Portal()
        # A client dropped without close() must not leave its thread running.
        self._stop_portal = weakref.finalize(self, self._portal.stop)
        allow_test_host(app, base_url)
        kwargs.setdefault("follow_redirects", False)
        super().__init__(transport=_PortalTransport(self._portal, app, client),
                         base_url=base_url, **kwargs)
        self.app = app
        self.client_address = client
        self._lifespan: _Lifespan | None = None

    def __enter__(self) -> TestClient:
        super().__enter__()
        self._lifespan = _Lifespan(self.app)
        try:
            self._portal.call(self._lifespan.startup())
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        try:
            if self._lifespan is not None:
                self._portal.call(self._lifespan.shutdown())
        finally:
            super().__exit__(exc_type, exc, tb)
            self._stop_portal()

    def close(self) -> None:
        """Close the client and stop its event loop thread (for use without ``with``)."""
        super().close()
        self._stop_portal()

    def websocket_connect(self, path: str, headers: dict[str, str] | None = None,
                          subprotocols: list[str] | None = None) -> SyncWebSocketSession:
        """``with client.websocket_connect("/ws") as ws: ws.send_text("hi")``

        The client's cookies are sent, as a browser would.
        """
        url = self.base_url.join(path)
        headers = _with_cookies(self.cookies, url, headers)
        session = WebSocketTestSession(self.app, str(url), headers, subprotocols,
                                       self.client_address)
        return SyncWebSocketSession(self._portal, session)

    @property
    def session(self) -> ClientSession:
        """A copy of this client's session as the app stores it (empty when none);
        change it and call ``session.save()`` to write it back."""
        data = self._portal.call(_state.read_session(self.app, self.cookies))
        return ClientSession(data, self._write_session, self._portal.call)

    async def _write_session(self, data: dict[str, Any]) -> None:
        await _state.write_session(self.app, self.cookies, self.base_url, data)

    def force_login(self, user: Any) -> None:
        """Log ``user`` (a saved, active heron.auth user) in for this client's
        session, without a password, a request or the login throttle.

        Raises:
            ValueError: the user is inactive or has no id yet.
        """
        self._portal.call(_state.force_login(self.app, self.cookies, self.base_url, user))

    def logout(self) -> None:
        """End this client's session (its data and cookie)."""
        self._portal.call(_state.write_session(self.app, self.cookies, self.base_url, {}))

    def csrf_token(self) -> str:
        """A valid CSRF token for this client's session, without fetching a page
        (send it as the ``csrf_token`` field or the ``X-CSRF-Token`` header)."""
        return self._portal.call(_state.csrf_token(self.app, self.cookies, self.base_url))
