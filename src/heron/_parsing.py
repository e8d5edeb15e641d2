"""Strict parsers for the text parts of a request.

Malformed input raises :class:`HTTPException` with a 400 and a clear message,
so that it reaches the client as a 4xx, never a 500.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from heron.exceptions import HTTPException

_BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")
# "\u0000" in JSON text, unless its backslash is itself escaped ("\\u0000" is text).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_OPTION = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _percent_decode(raw: bytes, what: str, plus_is_space: bool) -> str:
    if b"%" not in raw:  # most names and values: nothing to unquote
        if plus_is_space and b"+" in raw:
            raw = raw.replace(b"+", b" ")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(400, f"The {what} is not valid UTF-8.") from None
    if _BAD_PERCENT.search(raw):
        raise HTTPException(400, f"Malformed percent-encoding in the {what}.")
    if plus_is_space:
        raw = raw.replace(b"+", b" ")
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, f"The {what} is not valid UTF-8.") from None


def contains_nul(raw: bytes) -> bool:
    """Whether percent-encoded ``raw`` decodes to text with a NUL character."""
    # A NUL reaches decoded text only as "%00" or as a raw 0 byte (an overlong
    # UTF-8 form such as "%C0%80" is refused by the decoder).
    return b"%00" in raw or b"\x00" in raw


def check_path(raw_path: bytes) -> str:
    """Decode a raw request path strictly, or raise a 400.

    Raises:
        HTTPException: 400 for bad percent-encoding, invalid UTF-8 or a NUL
            character (no route needs one, whatever ``allow_nul_in_text`` says).
    """
    if contains_nul(raw_path):
        raise HTTPException(400, "The URL path contains a NUL character (%00).")
    return _percent_decode(raw_path, "URL path", plus_is_space=False)


def parse_query_string(query: str | bytes, max_fields: int | None = None,
                       allow_nul: bool = False) -> list[tuple[str, str]]:
    """Split and decode ``a=1&b=2`` into pairs; blank values are kept.

    Raises:
        HTTPException: 400 for bad percent-encoding, invalid UTF-8 or (unless
            ``allow_nul``) a NUL character; 413 when there are more than
            ``max_fields`` fields.
    """
    raw = query.encode("latin-1") if isinstance(query, str) else query
    pairs: list[tuple[str, str]] = []
    if not raw:
        return pairs
    if not allow_nul and contains_nul(raw):
        raise HTTPException(400, "The query string contains a NUL character (%00).")
    for chunk in raw.replace(b";", b"&").split(b"&"):
        if not chunk:
            continue
        if max_fields is not None and len(pairs) >= max_fields:
            raise HTTPException(413, f"Too many fields (the limit is {max_fields}).")
        name, _, value = chunk.partition(b"=")
        pairs.append(
            (
                _percent_decode(name, "query string", plus_is_space=True),
                _percent_decode(value, "query string", plus_is_space=True),
            )
        )
    return pairs


def check_json_text(body: bytes) -> None:
    """Refuse a JSON body whose text holds a NUL character (``\\u0000``).

    PostgreSQL cannot store NUL in text, and most other systems cut the text
    there.  A raw 0 byte is malformed JSON already; the escape is looked for in
    the raw bytes, and only where one appears is its backslash checked.

    Raises:
        HTTPException: 400 when the body has one.
    """
    if b"\\u0000" in body and _JSON_NUL.search(body):
        raise HTTPException(400, "The JSON body contains a NUL character (\\u0000).")


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently, as browsers send it.

    Unlike :class:`http.cookies.SimpleCookie`, one malformed pair does not
    discard the others.  The first value of a repeated name wins.
    """
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        if "=" in chunk:
            key, value = chunk.split("=", 1)
        else:
            key, value = "", chunk
        key, value = key.strip(), value.strip()
        if key or value:
            if value[:1] == '"':
                from http.cookies import _unquote  # type: ignore[attr-defined]

                value = _unquote(value)
            cookies.setdefault(key, value)
    return cookies


def parse_options_header(value: str) -> tuple[str, dict[str, str]]:
    """Split ``text/html; charset=utf-8`` into ``("text/html", {"charset": "utf-8"})``."""
    main, sep, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _OPTION.finditer(sep + rest):
        key, val = match.group(1).lower(), match.group(2).strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            # Only \" and \\ are unescaped: browsers send Windows paths unescaped.
            val = val[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[key] = val
    return main.strip().lower(), params
