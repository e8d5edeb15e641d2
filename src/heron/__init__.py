"""heron: a Python web framework that starts as one file and grows into a product.

The names below are heron's public API; batteries export theirs from their
own packages (``heron.testing``, ``heron.middleware``, ...).
"""

from heron.__about__ import __version__
from heron._files import FileResponse
from heron.app import Middleware
from heron.concurrency import run_async, run_in_threadpool
from heron.converters import Converter
from heron.csrf import csrf_exempt
from heron.datastructures import URL, FormData, Headers, QueryParams, State, UploadFile
from heron.defaults import App, Settings
from heron.exceptions import (
    HTTPException,
    ImproperlyConfigured,
    MissingDependency,
    RequestValidationError,
    ServiceUnavailable,
    URLBuildError,
    WebSocketDisconnect,
    abort,
    abort_invalid,
)
from heron.flash import flash, get_flashed_messages
from heron.params import Body, Cookie, Depends, Header, Query
from heron.requests import Request
from heron.responses import (
    EventStreamResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    ServerSentEvent,
    StreamingResponse,
)
from heron.routing import Router
from heron.staticfiles import StaticFiles
from heron.websockets import WebSocket

__all__ = [
    "URL",
    "App",
    "Body",
    "Converter",
    "Cookie",
    "Depends",
    "EventStreamResponse",
    "FileResponse",
    "FormData",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "Headers",
    "ImproperlyConfigured",
    "JSONResponse",
    "Middleware",
    "MissingDependency",
    "PlainTextResponse",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "Router",
    "ServerSentEvent",
    "ServiceUnavailable",
    "Settings",
    "State",
    "StaticFiles",
    "StreamingResponse",
    "URLBuildError",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "__version__",
    "abort",
    "abort_invalid",
    "csrf_exempt",
    "flash",
    "get_flashed_messages",
    "render",
    "render_async",
    "run_async",
    "run_in_threadpool",
]


def __getattr__(name: str) -> object:
    # Jinja2 is imported on first use of templates, not by every app.
    if name in ("render", "render_async"):
        from heron import templating

        return getattr(templating, name)
    raise AttributeError(f"module 'heron' has no attribute {name!r}")
