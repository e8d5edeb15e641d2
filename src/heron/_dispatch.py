"""Handling a request: the ASGI entry point of :class:`heron.App`, error pages,
websockets and mounted apps.

:class:`Dispatcher` is the part of the app that runs per request; the app builds
what it reads (the matchers, the composed gate, hooks and finalizer) at startup.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from heron import _matcher
from heron._context import CLEANUP_KEY, current_scope, run_cleanups
from heron._errors import error_response
from heron._matcher import MountMatch, RouteMatch
from heron._parsing import check_path
from heron._scope import route_path
from heron.exceptions import (
    HTTPException,
    RequestValidationError,
    ServiceUnavailable,
    WebSocketDisconnect,
)
from heron.params import build_hook
from heron.plugins import Finalizer, Gate, RequestHook, ResponseHook
from heron.requests import API_MODE_KEY, ClientDisconnect, HTTPConnection, Request
from heron.responses import RedirectResponse, Response, make_response
from heron.routing import WEBSOCKET, Mount, Route, Router
from heron.types import Receive, Scope, Send
from heron.websockets import WebSocket, WebSocketState

if TYPE_CHECKING:
    from heron.settings import Settings

__all__ = ["Dispatcher"]

logger = logging.getLogger("heron.error")


class Dispatcher:
    """The per-request half of :class:`heron.App` (a base class of it)."""

    # Set by the app (at startup for most).
    settings: Settings
    exception_translators: list[Callable[[Exception], Exception | None]]
    _stack: Any
    _uses_context: bool
    _gate: Gate | None
    _finalize: Finalizer | None
    _request_hooks: tuple[RequestHook, ...]
    _response_hooks: tuple[ResponseHook, ...]
    _finalizers: tuple[Finalizer, ...]
    _http_matcher: _matcher.Matcher
    _ws_matcher: _matcher.Matcher
    _static_routes: dict[str, dict[str, Route]]
    _prefixes: list[tuple[str, tuple[Router, ...]]]
    _root_routers: tuple[Router, ...]
    _max_headers: int
    router: Router

    if TYPE_CHECKING:
        def setup(self) -> Any: ...
        async def _lifespan(self, receive: Receive, send: Send) -> None: ...

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point, and the innermost app of the middleware stack.

        The server's call finds ``scope["app"]`` unset: heron sets it and runs
        the middleware, which ends by calling this method again.  Without
        middleware the request is handled at once, saving a coroutine per request.
        """
        if scope.get("app") is not self:
            scope["app"] = self
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
                return
            stack = self._stack or self.setup()
            if stack is not self:
                await stack(scope, receive, send)
                return
        # Batteries reached without a request argument (``db.session``) find the
        # request through a context variable; only apps with such a plugin pay for it.
        token = current_scope.set(scope) if self._uses_context else None
        try:
            if scope["type"] != "http":
                if scope["type"] == "websocket":
                    await self._websocket(scope, receive, send)
                return
            # A view without parameters never sees the request: make it only when needed.
            request: Request | None = None
            route: Route | None = None
            prepared = False  # the request hooks ran
            routers = self._root_routers
            try:
                if len(scope["headers"]) > self._max_headers:
                    raise HTTPException(431, f"Too many request headers (the limit is "
                                             f"{self._max_headers}).")
                if self._gate is not None:
                    early = self._gate(scope)
                    if early is not None:
                        raise _Answer(early)
                raw_path = scope.get("raw_path")
                if raw_path and b"%" in raw_path:
                    check_path(raw_path)
                path = route_path(scope) if scope.get("root_path") else scope["path"]
                # Static paths are one dict lookup, done here; the matcher does the rest.
                static = self._static_routes.get(path)
                route = static.get(scope["method"]) if static is not None else None
                if route is not None:
                    params: dict[str, Any] = {}
                    result: Any = None
                else:
                    result = self._http_matcher.match(scope["method"], path)
                    if result.__class__ is RouteMatch:
                        route, params = result
                if route is not None:
                    scope["route"] = route
                    scope["path_params"] = params
                    routers = route.routers
                    if route.direct is not None:
                        value = await (route.direct(**params) if params else route.direct())
                    else:
                        request = Request(scope, receive)
                        if self._request_hooks:
                            for hook in self._request_hooks:
                                await hook(request)
                        prepared = True
                        value = await route.handler(request)
                    response = value if isinstance(value, Response) else make_response(value)
                elif result.__class__ is MountMatch:
                    await self._call_mount(result.mount, scope, receive, send)  # type: ignore[union-attr]
                    return
                else:
                    routers = self._routers_for(path)
                    request = Request(scope, receive)
                    for hook in self._request_hooks:
                        await hook(request)
                    prepared = True
                    response = await self._unmatched(request, result, routers)
            except ClientDisconnect:
                if request is not None and request._form is not None:
                    await request.close()  # the uploads' temporary files
                return
            except _Answer as answer:
                response = answer.response
            except Exception as exc:
                if request is None:
                    request = Request(scope, receive)
                response = await self._handle_exception(request, exc, routers)
            if CLEANUP_KEY in scope:
                # Close the view's database sessions now: their connections go back
                # to the pool before the response is sent, and an uncommitted
                # SQLite write no longer locks out the session store below.
                await run_cleanups(scope, failed=False)
            # Response hooks pair with request hooks: not after a gate's answer or a 431.
            if prepared and self._response_hooks:
                for respond in self._response_hooks:
                    try:
                        response = await respond(request, response, routers)
                    except Exception as exc:  # a store that is down (503)...
                        response = await self._handle_exception(request, exc, routers)
            if self._finalize is not None:
                self._finalize(scope, response, route)
            try:
                await response(scope, receive, send)
            finally:
                if request is not None and request._form is not None:
                    await request.close()
        finally:
            if token is not None:
                current_scope.reset(token)
                if CLEANUP_KEY in scope:  # left by a streamed body or a websocket
                    await run_cleanups(scope, failed=False)

    async def _reenter(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The innermost app of the middleware stack: marks the scope (even one a
        # middleware rebuilt without "app") so that __call__ handles it directly.
        scope["app"] = self
        await self(scope, receive, send)

    async def _unmatched(
        self, request: Request, result: Any, routers: tuple[Router, ...]
    ) -> Response:
        if isinstance(result, _matcher.Redirect):
            query = request.scope.get("query_string", b"")
            # The matched path is decoded: encode it again so that "%", "?" and
            # "#" in it stay part of the path.
            path = request.scope.get("root_path", "") + result.path
            location = quote(path, safe="/:@!$&'()*+,;=~")
            if query:
                location += "?" + query.decode("latin-1")
            status = 301 if request.method in ("GET", "HEAD") else 308
            return RedirectResponse(location, status)
        if isinstance(result, _matcher.MethodNotAllowed):
            allowed = ", ".join(sorted(result.allowed | {"OPTIONS"}))
            if request.method == "OPTIONS":
                return Response(status_code=204, headers={"allow": allowed})
            # The routes at this path say whether it is in API mode, prefix or not.
            other = self._http_matcher.match(min(result.allowed), request.route_path)
            if other.__class__ is RouteMatch:
                request.scope[API_MODE_KEY] = other.route.api  # type: ignore[union-attr]
            exc = HTTPException(405, f"Method {request.method} is not allowed here.",
                                {"allow": allowed})
        else:
            exc = HTTPException(404, f"Nothing is found at {request.path}.")
        return await self._handle_exception(request, exc, routers)

    def _routers_for(self, path: str) -> tuple[Router, ...]:
        for prefix, chain in self._prefixes:
            if prefix and (path == prefix or path.startswith(prefix + "/")):
                return chain
        return (self.router,)

    async def _call_mount(self, mount: Mount, scope: Scope, receive: Receive, send: Send) -> None:
        # As the ASGI spec reads: ``path`` stays the full path and ``root_path``
        # grows by the mount prefix; the mounted app strips it for its routing.
        child = dict(scope)
        child["root_path"] = scope.get("root_path", "") + mount.prefix
        child.pop("route", None)
        child.pop("path_params", None)
        if self._finalizers and scope["type"] == "http":
            send = self._finalize_send(scope, send)
        await mount.app(child, receive, send)

    def _finalize_send(self, scope: Scope, send: Send) -> Send:
        """A ``send`` that runs the finalizers on a mounted app's response headers."""
        finalizers = self._finalizers

        async def send_finalized(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                carrier = Response.__new__(Response)
                # ASGI lets an app send names in any case: lower them to compare.
                carrier.raw_headers = [(k.lower(), v) for k, v in message.get("headers", [])]
                carrier.status_code = message["status"]
                for finalize in finalizers:
                    finalize(scope, carrier, None)
                message = {**message, "headers": carrier.raw_headers}
            await send(message)

        return send_finalized

    async def _handle_exception(
        self, conn: HTTPConnection, exc: Exception, routers: Sequence[Router]
    ) -> Response:
        for translate in self.exception_translators:
            translated = translate(exc)
            if translated is not None:
                translated.__cause__ = exc
                exc = translated
                break
        if "route" not in conn.scope and API_MODE_KEY not in conn.scope:
            conn.scope[API_MODE_KEY] = self._api_mode_at(conn, routers)
        handler, key = _find_handler(exc, routers)
        reference = None
        if isinstance(exc, ServiceUnavailable):
            reference = self._log_unhandled(conn, exc, exc.message)
        if key == 500:
            # A catch-all 500 page must not hide the error from the logs.
            reference = self._log_unhandled(conn, exc)
        if handler is not None:
            try:
                return make_response(await build_hook(handler)(conn, exc))
            except Exception as handler_exc:
                exc = handler_exc  # the handler itself failed: fall through to a 500
                reference = None
        if isinstance(exc, RequestValidationError):
            from heron._errors import validation_response

            return validation_response(exc)
        if isinstance(exc, HTTPException):
            return error_response(conn, exc.status_code, exc.detail, exc.headers, reference)
        reference = reference or self._log_unhandled(conn, exc)
        if self.settings.debug:
            from heron._debug import debug_response

            try:
                return debug_response(conn, exc)
            except Exception:  # never let the debug page turn one error into two
                logger.exception("The debug page failed [ref %s]", reference)
        return error_response(conn, 500, "The server could not answer this request.",
                              reference=reference)

    def _api_mode_at(self, conn: HTTPConnection, routers: Sequence[Router]) -> bool:
        """API mode for a request no route took: one of ``routers`` (those of its
        path's prefix) is in API mode, or, for an error before routing (a gate's 400),
        one of the routers whose prefix holds the path."""
        if any(router.api for router in routers):
            return True
        if not hasattr(self, "_prefixes"):  # not compiled: no router is known
            return False
        return any(router.api for router in self._routers_for(conn.route_path))

    def _log_unhandled(self, conn: HTTPConnection, exc: Exception, message: str = "") -> str:
        import uuid

        reference = uuid.uuid4().hex[:12]
        method = conn.scope.get("method", "WEBSOCKET")
        logger.error("Unhandled %s on %s %s [ref %s]%s", type(exc).__name__, method,
                     conn.scope.get("path"), reference, f": {message}" if message else "",
                     exc_info=exc.__cause__ or exc if message else exc)
        return reference

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        try:
            if len(scope["headers"]) > self._max_headers:
                raise HTTPException(431, "Too many request headers.")
            if self._gate is not None and self._gate(scope) is not None:
                raise HTTPException(403, "Refused before routing.")
            raw_path = scope.get("raw_path")
            if raw_path and b"%" in raw_path:
                check_path(raw_path)
        except HTTPException as exc:
            await websocket.close(1008, _close_reason(str(exc.detail)))
            return
        except Exception as exc:  # a gate that failed: a server error, logged
            self._log_unhandled(websocket, exc)
            await websocket.close(1011, "Internal error")
            return
        path = route_path(scope) if scope.get("root_path") else scope["path"]
        result = self._ws_matcher.match(WEBSOCKET, path)
        if result.__class__ is MountMatch:
            await self._call_mount(result.mount, scope, receive, send)  # type: ignore[union-attr]
            return
        if result.__class__ is not RouteMatch:
            await websocket.close(1008, "No websocket route here")
            return
        route = result.route  # type: ignore[union-attr]
        scope["route"] = route
        scope["path_params"] = result.params  # type: ignore[union-attr]
        try:
            for hook in self._request_hooks:
                await hook(websocket)
            await route.handler(websocket)
        except WebSocketDisconnect:
            pass
        except ServiceUnavailable as exc:
            self._log_unhandled(websocket, exc, exc.message)
            if websocket.client_state is not WebSocketState.DISCONNECTED:
                await websocket.close(1011, "Service unavailable")
            return
        except HTTPException as exc:
            # Bad input read by the view (a malformed query, say): a policy
            # violation, not a server error.
            if websocket.client_state is not WebSocketState.DISCONNECTED:
                await websocket.close(1008, str(exc.detail)[:120])
            return
        except Exception as exc:
            self._log_unhandled(websocket, exc)
            if websocket.client_state is not WebSocketState.DISCONNECTED:
                await websocket.close(1011, "Internal error")
            return
        if websocket.client_state is not WebSocketState.DISCONNECTED:
            await websocket.close(1000)


def _find_handler(
    exc: Exception, routers: Iterable[Router]
) -> tuple[Callable[..., Any] | None, Any]:
    """The error handler for ``exc`` and the key it was registered under.

    An HTTPException is found by its status first; any other error by its
    classes, then as the 500 it becomes.  Inner routers win over outer ones.
    """
    keys: list[Any] = [exc.status_code] if isinstance(exc, HTTPException) else []
    keys += type(exc).__mro__
    if not isinstance(exc, HTTPException):
        keys.append(500)
    for router in reversed(list(routers)):
        for key in keys:
            handler = router.error_handlers.get(key)
            if handler is not None:
                return handler, key
    return None, (500 if not isinstance(exc, HTTPException) else None)


class _Answer(Exception):
    """Internal: a gate answered before routing; send its response."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _close_reason(text: str) -> str:
    """A websocket close reason: at most 123 bytes of UTF-8, cut on a character."""
    return text.encode("utf-8")[:123].decode("utf-8", "ignore")
