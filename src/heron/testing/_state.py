"""What the test clients reach without a request: the client's session in the app's
store, a login, a CSRF token, and the templates a response rendered."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import httpx

from heron import signals

if TYPE_CHECKING:
    from heron.app import App
    from heron.sessions.manager import SessionManager
    from heron.types import ASGIApp

__all__ = ["ClientSession", "RecordingTransport", "TestResponse"]

_renders: contextvars.ContextVar[list[tuple[str, dict[str, Any]]] | None] = \
    contextvars.ContextVar("heron_test_renders", default=None)


def _record(sender: Any, *, template: str, context: dict[str, Any], **extra: Any) -> None:
    records = _renders.get()
    if records is not None:  # a request of a test client is running
        records.append((template, context))


# Connected when a test client is imported: other processes send nothing.
signals.template_rendered.connect(_record)


class TestResponse(httpx.Response):
    """An ``httpx.Response`` that also tells which templates the app rendered.

    Attributes:
        templates: the names of the templates rendered while the app answered, in
            order (a mail the view rendered comes before the page).
        contexts: their contexts (the variables, ``request`` and context
            processors' values included), in the same order.
    """

    __test__ = False  # not a pytest test class
    templates: list[str]
    contexts: list[dict[str, Any]]

    @property
    def template(self) -> str | None:
        """The name of the last template rendered (the page), or ``None``."""
        return self.templates[-1] if self.templates else None

    @property
    def context(self) -> dict[str, Any] | None:
        """The context of the last template rendered, or ``None``."""
        return self.contexts[-1] if self.contexts else None


def as_test_response(response: httpx.Response, records: list[tuple[str, dict[str, Any]]],
                  request: httpx.Request | None = None) -> TestResponse:
    """``response`` as a :class:`TestResponse` holding ``records``."""
    result = TestResponse(response.status_code, headers=response.headers,
                          stream=response.stream, extensions=response.extensions,
                          request=request)
    result.templates = [name for name, _ in records]
    result.contexts = [context for _, context in records]
    return result


class RecordingTransport(httpx.ASGITransport):
    """httpx's ASGI transport, noting the templates each request rendered."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        records: list[tuple[str, dict[str, Any]]] = []
        token = _renders.set(records)  # the app runs in this task: it sees the list
        try:
            response = await super().handle_async_request(request)
        finally:
            _renders.reset(token)
        return as_test_response(response, records)


class ClientSession(dict[str, Any]):
    """A copy of the test client's session; ``save()`` (sync client) or ``await
    asave()`` (async client) writes it back to the app's session store."""

    def __init__(self, data: dict[str, Any],
                 writer: Callable[[dict[str, Any]], Coroutine[Any, Any, None]],
                 runner: Callable[[Coroutine[Any, Any, None]], None] | None) -> None:
        super().__init__(data)
        self._writer = writer
        self._runner = runner

    def save(self) -> None:
        """Store this data as the client's session (``TestClient``).

        Raises:
            RuntimeError: on an ``AsyncTestClient``'s session (``await asave()``).
        """
        if self._runner is None:
            raise RuntimeError("An AsyncTestClient's session is saved with `await session.asave()`")
        self._runner(self._writer(dict(self)))

    async def asave(self) -> None:
        """Store this data as the client's session (``AsyncTestClient``)."""
        await self._writer(dict(self))


def _manager(app: ASGIApp) -> SessionManager:
    heron_app = _app(app)
    if "heron.sessions" not in heron_app.plugins:
        raise RuntimeError("The test client's session needs an app with heron.sessions")
    return heron_app.sessions  # type: ignore[no-any-return]


async def read_session(app: ASGIApp, cookies: httpx.Cookies) -> dict[str, Any]:
    """The data of the session the client's cookie names (empty when none or stale)."""
    store = _manager(app)
    cookie = _cookie(cookies, store.cookie_name)
    if not cookie:
        return {}
    return await store.backend.load(cookie) or {}


async def write_session(app: ASGIApp, cookies: httpx.Cookies, base_url: httpx.URL,
                        data: dict[str, Any], *, new_key: bool = False) -> None:
    """Store ``data`` as the client's session and give the client its cookie.

    ``new_key``: a server-side session gets a new key (as a login does).  Empty
    data ends the session.
    """
    from heron.responses import Response

    store = _manager(app)
    cookie = _cookie(cookies, store.cookie_name)
    key = cookie if store.server_side and cookie and not new_key else None
    if cookie and store.server_side and key is None:
        await store.backend.delete(cookie)
    _forget(cookies, store.cookie_name)
    if not data:
        if key is not None:
            await store.backend.delete(key)
        return
    value = await store.backend.save(key, data)
    if value is None:
        return
    carrier = Response()
    carrier.set_cookie(store.cookie_name, value, **store.cookie_options)
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in carrier.raw_headers]
    # Through the cookie jar, as if the app had answered: the jar picks the domain.
    cookies.extract_cookies(httpx.Response(200, headers=headers,
                                           request=httpx.Request("GET", base_url)))


def _cookie(cookies: httpx.Cookies, name: str) -> str | None:
    return next((c.value for c in cookies.jar if c.name == name), None)


def _forget(cookies: httpx.Cookies, name: str) -> None:
    for cookie in [c for c in cookies.jar if c.name == name]:
        cookies.jar.clear(cookie.domain, cookie.path, cookie.name)


def _app(app: ASGIApp) -> App:
    from heron.app import App

    if not isinstance(app, App):
        raise RuntimeError("This test client helper needs a heron App")
    return app


async def force_login(app: ASGIApp, cookies: httpx.Cookies, base_url: httpx.URL,
                      user: Any) -> None:
    """Log ``user`` in for the client's session, as heron.auth's login does, without a
    password or a request.

    Raises:
        ValueError: the user is inactive (or not saved: it has no id).
    """
    from heron.auth._login import HASH_KEY, USER_KEY
    from heron.signing import secret_keys

    if getattr(user, "id", None) is None:
        raise ValueError("force_login() needs a saved user (flush or commit it first).")
    if not user.is_active:
        raise ValueError("An inactive user cannot log in.")
    data = await read_session(app, cookies)
    if data.get(USER_KEY) not in (None, str(user.id)):
        data = {}  # another user's data must not carry over
    data[USER_KEY] = str(user.id)
    data[HASH_KEY] = user.session_auth_hash(secret_keys(_app(app))[-1])
    await write_session(app, cookies, base_url, data, new_key=True)


async def csrf_token(app: ASGIApp, cookies: httpx.Cookies, base_url: httpx.URL) -> str:
    """A valid CSRF token for the client's session (a secret is stored when it has none)."""
    from heron.csrf import SESSION_KEY, _token_of

    data = await read_session(app, cookies)
    before = data.get(SESSION_KEY)
    token = _token_of(data)
    if data.get(SESSION_KEY) != before:
        await write_session(app, cookies, base_url, data)
    return token
