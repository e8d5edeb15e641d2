"""Serve static files from one or more folders (the app's, then each component's), and
the folder ``heron collectstatic`` fills: hashed names cached for a year, and the
``.br``/``.gz`` files written next to each file sent to clients that accept them."""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from heron._files import FileResponse
from heron._scope import route_path
from heron.concurrency import run_in_threadpool
from heron.datastructures import Headers
from heron.responses import PlainTextResponse
from heron.types import Receive, Scope, Send

__all__ = ["StaticFiles"]

#: Cache-Control of content-hashed files: their content never changes under their name.
IMMUTABLE = "public, max-age=31536000, immutable"
#: The precompressed files looked for, by content coding, best first when equally wanted.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
#: Media types of compressed files requested by their own name (``site.css.gz``):
#: ``mimetypes`` would call that file ``text/css``, which its bytes are not.
_ENCODED_TYPES = {"gzip": "application/gzip", "br": "application/x-brotli",
                  "bzip2": "application/x-bzip2", "xz": "application/x-xz",
                  "compress": "application/x-compress"}


class _Found(NamedTuple):
    path: str  # the file to send
    encoding: str | None  # its content coding, when it is a precompressed variant
    varies: bool  # whether another request could get another variant (Vary)
    media_type: str  # the media type of the file the client asked for


class StaticFiles:
    """An ASGI app serving files below ``directories``; the first folder that has
    the file wins, so an app can override a component's file by name.

    Paths that escape a folder (``..``, absolute paths, symlinks pointing out,
    NUL bytes) are answered with 404, as is anything that is not a regular file.

    Args:
        directories: folders to look in, in order.
        max_age: seconds browsers may cache a file (``Cache-Control``); files are
            also sent with an ``ETag`` so that a stale copy is revalidated cheaply.
        precompressed: send ``NAME.br`` or ``NAME.gz``, when it exists next to
            ``NAME`` and the client's ``Accept-Encoding`` allows it, with
            ``Content-Encoding`` and ``Vary: Accept-Encoding``.  A ``Range`` request
            gets the file itself.
        immutable: names (``css/site.3f2a9c1b0d4e.css``) whose content never changes:
            sent with ``Cache-Control: public, max-age=31536000, immutable``.
    """

    def __init__(self, directories: Sequence[str | os.PathLike[str]], max_age: int = 3600,
                 *, precompressed: bool = False, immutable: Iterable[str] = ()) -> None:
        self.directories = [os.path.realpath(d) for d in directories]
        self.cache_control = f"public, max-age={max_age}" if max_age else "no-cache"
        self.precompressed = precompressed
        self.immutable = frozenset(immutable)

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

    def _select(self, path: str, accept_encoding: str, ranged: bool) -> _Found | None:
        """The file to send for ``path`` and this request (in the thread pool: it stats)."""
        found = self.find(path)
        if found is None:
            return None
        media_type = _media_type(found)
        if not self.precompressed:
            return _Found(found, None, False, media_type)
        try:
            mtime = os.stat(found).st_mtime_ns
        except OSError:
            return None
        # A variant older than its file is left over from an earlier version of it.
        available = []
        for name, suffix in ENCODINGS:
            try:
                if os.stat(found + suffix).st_mtime_ns >= mtime:
                    available.append(name)
            except OSError:
                continue
        if not available:
            return _Found(found, None, False, media_type)
        coding = None if ranged else _choose_encoding(accept_encoding, available)
        if coding is None:
            return _Found(found, None, True, media_type)
        return _Found(found + dict(ENCODINGS)[coding], coding, True, media_type)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        if scope["method"] not in ("GET", "HEAD"):
            refusal = PlainTextResponse("Method Not Allowed", 405, {"allow": "GET, HEAD"})
            await refusal(scope, receive, send)
            return
        path = route_path(scope)
        accept_encoding, ranged = "", False
        if self.precompressed:
            headers = Headers(raw=scope["headers"])
            accept_encoding = headers.get("accept-encoding", "")
            ranged = "range" in headers
        found = await run_in_threadpool(self._select, path, accept_encoding, ranged)
        if found is None:
            await PlainTextResponse("Not Found", 404)(scope, receive, send)
            return
        extra: dict[str, str] = {}
        if found.encoding is not None:
            extra["content-encoding"] = found.encoding
        if found.varies:
            extra["vary"] = "Accept-Encoding"
        immutable = path.lstrip("/") in self.immutable
        response = FileResponse(found.path, headers=extra, media_type=found.media_type,
                                cache_control=IMMUTABLE if immutable else self.cache_control)
        await response(scope, receive, send)


def _media_type(path: str) -> str:
    guessed, encoding = mimetypes.guess_type(path)
    if encoding is not None:
        return _ENCODED_TYPES.get(encoding, "application/octet-stream")
    return guessed or "application/octet-stream"


def _choose_encoding(accept_encoding: str, available: Sequence[str]) -> str | None:
    """The content coding of ``available`` the client prefers, or None for the file
    itself.

    ``Accept-Encoding`` quality values are honoured: a coding listed with ``q=0`` (or
    left out, with no ``*``) is refused, a higher ``q`` wins, and on a tie the earlier
    coding in ``available`` wins.  ``identity`` (or ``*``) listed with a higher ``q``
    than every available coding gets the file itself.
    """
    if not accept_encoding:
        return None
    qualities: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        if coding.strip():
            qualities[coding.strip()] = quality
    star = qualities.get("*")
    best, best_quality = None, 0.0
    for coding in available:
        quality = qualities.get(coding, star if star is not None else 0.0)
        if quality > best_quality:
            best, best_quality = coding, quality
    identity = qualities.get("identity", star)
    if best is not None and identity is not None and identity > best_quality:
        return None
    return best
