"""heron: a Python web framework that starts as one file and grows into a product.

The names below are heron's public API; batteries export theirs from their
own packages (``heron.testing``, ``heron.middleware``, ...).
"""

from heron.__about__ import __version__
from heron._files import FileResponse
from heron.app import App, Middleware
from heron.concurrency import run_async, run_in_threadpool
from heron.converters import Converter
from heron.datastructures import URL, FormData, Headers, QueryParams, State, UploadFile
from heron.exceptions import (
    HTTPException,
    ImproperlyConfigured,
    MissingDependency,
    URLBuildError,
    WebSocketDisconnect,
    abort,
)
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
from heron.settings import Settings
from heron.staticfiles import StaticFiles
from heron.websockets import WebSocket

__all__ = [
    "URL",
    "App",
    "Converter",
    "EventStreamResponse",
    "FileResponse",
    "FormData",
    "HTMLResponse",
    "HTTPException",
    "Headers",
    "ImproperlyConfigured",
    "JSONResponse",
    "Middleware",
    "MissingDependency",
    "PlainTextResponse",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "Response",
    "Router",
    "ServerSentEvent",
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
    "run_async",
    "run_in_threadpool",
]
