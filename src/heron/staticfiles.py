"""Serve static files from one or more folders (the app's, then each component's)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from heron._files import FileResponse
from heron._scope import route_path
from heron.concurrency import run_in_threadpool
from heron.responses import PlainTextResponse
from heron.types import Receive, Scope, Send

__all__ = ["StaticFiles"]


class StaticFiles:
    """An ASGI app serving files below ``directories``; the first folder that has
    the file wins, so an app can override a component's file by name.

    Paths that escape a folder (``..``, absolute paths, symlinks pointing out,
    NUL bytes) are answered with 404, as is anything that is not a regular file.

    Args:
        directories: folders to look in, in order.
        max_age: seconds browsers may cache a file (``Cache-Control``); files are
            also sent with an ``ETag`` so that a stale copy is revalidated cheaply.
    """

    def __init__(self, directories: Sequence[str | os.PathLike[str]], max_age: int = 3600) -> None:
        self.directories = [os.path.realpath(d) for d in directories]
        self.cache_control = f"public, max-age={max_age}" if max_age else "no-cache"

    def find(self, path: str) -> str | None:
        """The file on disk for URL path ``path``, or None (never outside a folder)."""
        relative = path.lstrip("/")
        if "\x00" in relative or "\\" in relative:
            return None
        parts = relative.split("/")
        if any(part in ("..", ".") for part in parts) or not relative:
            return None
        for directory in self.directories:
            candidate = os.path.realpath(os.path.join(directory, *parts))
            if os.path.commonpath([directory, candidate]) != directory:
                continue
            if os.path.isfile(candidate):
                return candidate
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        if scope["method"] not in ("GET", "HEAD"):
            response = PlainTextResponse("Method Not Allowed", 405, {"allow": "GET, HEAD"})
            await response(scope, receive, send)
            return
        found = await run_in_threadpool(self.find, route_path(scope))
        if found is None:
            await PlainTextResponse("Not Found", 404)(scope, receive, send)
            return
        await FileResponse(found, cache_control=self.cache_control)(scope, receive, send)
