"""FileResponse: files with validators (ETag, Last-Modified), 304s and byte ranges."""

from __future__ import annotations

import os
import re
import stat
from typing import Any
from urllib.parse import quote

from heron.concurrency import run_in_threadpool
from heron.datastructures import Headers
from heron.responses import HeadersArg, Response
from heron.types import Receive, Scope, Send

__all__ = ["FileResponse"]

CHUNK_SIZE = 64 * 1024


class FileResponse(Response):
    """Send a file from disk, answering conditional and range requests.

    Args:
        path: the file to send.
        filename: when given, sent as ``Content-Disposition`` so the browser
            saves it under that name (``attachment``) or shows it (``inline``).
        media_type: guessed from the file name when omitted.
        cache_control: a ``Cache-Control`` value to send, if any.

    A missing file gives 404.  ``If-None-Match``/``If-Modified-Since`` give 304;
    a single ``Range`` gives 206 (or 416 when it cannot be satisfied); several
    ranges are answered with the whole file, as RFC 9110 allows.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: HeadersArg = None,
        media_type: str | None = None,
        filename: str | None = None,
        content_disposition: str = "attachment",
        cache_control: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.status_code = status_code
        self.body = b""
        self.raw_headers = []
        if headers:
            self.headers.update(headers)
        if media_type is None:
            import mimetypes

            guessed = mimetypes.guess_type(filename or self.path)[0]
            media_type = guessed or "application/octet-stream"
        if media_type.startswith("text/") and "charset=" not in media_type:
            media_type += "; charset=utf-8"
        self.headers.setdefault("content-type", media_type)
        if filename is not None:
            self.headers["content-disposition"] = _disposition(content_disposition, filename)
        if cache_control is not None:
            self.headers.setdefault("cache-control", cache_control)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            info = await run_in_threadpool(os.stat, self.path)
            if not stat.S_ISREG(info.st_mode):
                raise FileNotFoundError(self.path)
        except OSError:
            await Response("Not Found", 404, media_type="text/plain")(scope, receive, send)
            return
        size = info.st_size
        etag = f'"{info.st_mtime_ns:x}-{size:x}"'
        headers = self.headers
        headers.setdefault("etag", etag)
        from email.utils import formatdate

        last_modified = formatdate(info.st_mtime, usegmt=True)
        headers.setdefault("last-modified", last_modified)
        headers["accept-ranges"] = "bytes"
        request_headers = Headers(raw=scope["headers"])
        method = scope["method"]
        if method in ("GET", "HEAD") and _not_modified(request_headers, etag, info.st_mtime):
            self.status_code = 304
            for name in ("content-type", "content-length", "content-disposition"):
                del headers[name]
            await self._send_start(scope, send)
            await send({"type": "http.response.body", "body": b""})
            return
        start, end = 0, size
        range_header = request_headers.get("range")
        if (range_header and self.status_code == 200
                and _if_range_ok(request_headers, etag, last_modified)):
            parsed = _parse_range(range_header, size)
            if parsed == "unsatisfiable":
                response = Response(b"", 416, {"content-range": f"bytes */{size}"})
                await response(scope, receive, send)
                return
            if parsed is not None:
                start, end = parsed
                self.status_code = 206
                headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
        headers["content-length"] = str(end - start)
        await self._send_start(scope, send)
        if method == "HEAD" or end == start:
            await send({"type": "http.response.body", "body": b""})
            return
        await self._send_file(send, start, end)

    async def _send_start(self, scope: Scope, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self._headers_for(scope)})

    async def _send_file(self, send: Send, start: int, end: int) -> None:
        handle = await run_in_threadpool(open, self.path, "rb")
        try:
            await run_in_threadpool(handle.seek, start)
            remaining = end - start
            while remaining > 0:
                chunk = await run_in_threadpool(handle.read, min(CHUNK_SIZE, remaining))
                if not chunk:
                    break  # the file shrank while we were sending it
                remaining -= len(chunk)
                await send({"type": "http.response.body", "body": chunk,
                            "more_body": remaining > 0})
            if remaining > 0:
                await send({"type": "http.response.body", "body": b""})
        finally:
            await run_in_threadpool(handle.close)


def _disposition(kind: str, filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "").replace("\\", "")
    value = f'{kind}; filename="{ascii_name}"'
    if ascii_name != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def _etag_list(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",")]


def _not_modified(headers: Headers, etag: str, mtime: float) -> bool:
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return if_none_match.strip() == "*" or etag in _etag_list(if_none_match)
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            from email.utils import parsedate_to_datetime

            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return int(mtime) <= since
    return False


def _if_range_ok(headers: Headers, etag: str, last_modified: str) -> bool:
    if_range = headers.get("if-range")
    return if_range is None or if_range.strip() in (etag, last_modified)


_BYTE_RANGE = re.compile(r"\s*([0-9]*)\s*-\s*([0-9]*)\s*")


def _parse_range(header: str, size: int) -> Any:
    """(start, end) for a single satisfiable range, "unsatisfiable", or None to ignore.

    Another unit or several ranges are ignored (the whole file is sent); a byte
    range that is malformed or outside the file is unsatisfiable (RFC 9110 14.2).
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _BYTE_RANGE.fullmatch(spec)
    if match is None or match.group(1) == match.group(2) == "":
        return "unsatisfiable"
    first, last = match.groups()
    if first == "":
        length = int(last)
        return (max(size - length, 0), size) if length > 0 and size > 0 else "unsatisfiable"
    start = int(first)
    end = int(last) + 1 if last else size
    if start >= size or end <= start:
        return "unsatisfiable"
    return (start, min(end, size))
