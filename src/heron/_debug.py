"""The debug error page: traceback with source and locals, and the request.

Shown only when ``debug`` is on.  It reveals code, local variables and
settings, so it must never be served in production.
"""

from __future__ import annotations

import html
import linecache
import reprlib
import traceback
from types import TracebackType
from typing import Any

from heron._errors import answers_json
from heron.requests import HTTPConnection
from heron.responses import HTMLResponse, JSONResponse, Response

_repr = reprlib.Repr()
_repr.maxstring = 200
_repr.maxother = 200
_repr.maxlevel = 2
_MASKED = ("authorization", "cookie", "x-api-key", "proxy-authorization")
_CONTEXT = 5

_STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1d}
header{background:#7a1f1f;color:#fff;padding:1rem 1.5rem}header h1{margin:0;font-size:1.3rem}
header p{margin:.3rem 0 0;font-family:monospace;white-space:pre-wrap}main{padding:1rem 1.5rem}
.frame{border:1px solid #ddd;border-radius:4px;margin:0 0 1rem}
.frame h3{margin:0;padding:.4rem .6rem;background:#f4f4f4;font:13px monospace}
pre{margin:0;padding:.4rem .6rem;overflow-x:auto;font:12px/1.4 monospace}
.cur{background:#ffe9a8;display:block}details{padding:.2rem .6rem}
table{border-collapse:collapse;font:12px monospace;width:100%}
td,th{border-top:1px solid #eee;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{width:14rem;color:#555}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}"""


def _safe_repr(value: Any) -> str:
    try:
        return _repr.repr(value)
    except Exception as exc:  # a broken __repr__ must not break the error page
        return f"<repr failed: {type(exc).__name__}>"


def _frame_html(frame_tb: TracebackType) -> str:
    frame = frame_tb.tb_frame
    code = frame.f_code
    lineno = frame_tb.tb_lineno
    lines = []
    for number in range(max(lineno - _CONTEXT, 1), lineno + _CONTEXT + 1):
        line = linecache.getline(code.co_filename, number, frame.f_globals)
        if not line:
            continue
        text = html.escape(f"{number:>5} {line.rstrip()}")
        lines.append(f'<span class="cur">{text}</span>' if number == lineno else text + "\n")
    local_rows = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(_safe_repr(value))}</td></tr>"
        for name, value in frame.f_locals.items()
    )
    title = html.escape(f"{code.co_filename}, line {lineno}, in {code.co_name}")
    return (
        f'<div class="frame"><h3>{title}</h3><pre>{"".join(lines)}</pre>'
        f"<details><summary>Local variables</summary><table>{local_rows}</table></details></div>"
    )


def _rows(items: list[tuple[str, Any]]) -> str:
    return "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in items
    )


def _template_location(exc: BaseException) -> tuple[str, int] | None:
    """(template file, line) where a template failed, when it did."""
    if type(exc).__module__.startswith("jinja2") and isinstance(getattr(exc, "lineno", None), int):
        name = getattr(exc, "filename", None) or getattr(exc, "name", None)
        if name:
            return str(name), exc.lineno  # type: ignore[attr-defined]
    found = None
    tb = exc.__traceback__
    while tb is not None:
        # Jinja rewrites tracebacks so that template lines appear as frames
        # of their own, marked by this global.
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _template_html(exc: BaseException) -> str:
    location = _template_location(exc)
    if location is None:
        return ""
    filename, lineno = location
    lines = []
    for number in range(max(lineno - _CONTEXT, 1), lineno + _CONTEXT + 1):
        line = linecache.getline(filename, number)
        if not line:
            continue
        text = html.escape(f"{number:>5} {line.rstrip()}")
        lines.append(f'<span class="cur">{text}</span>' if number == lineno else text + "\n")
    return (f'<h2>Template error</h2><div class="frame"><h3>{html.escape(filename)}, line '
            f"{lineno}</h3><pre>{''.join(lines)}</pre></div>")


def debug_response(conn: HTTPConnection, exc: BaseException) -> Response:
    """A 500 describing ``exc`` for the developer: an HTML page, or problem JSON
    with the traceback for API clients and in API mode."""
    if answers_json(conn):
        body = {
            "type": "about:blank",
            "title": "Internal Server Error",
            "status": 500,
            "detail": "".join(traceback.format_exception_only(type(exc), exc)).strip(),
            "traceback": traceback.format_exception(type(exc), exc, exc.__traceback__),
        }
        response = JSONResponse(body, 500)
        response.headers["content-type"] = "application/problem+json"
        return response
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(_frame_html(tb))
        tb = tb.tb_next
    headers = [
        (name, "********" if name.lower() in _MASKED else value)
        for name, value in conn.headers.items()
    ]
    request_rows = [
        ("method", conn.scope.get("method", "WEBSOCKET")),
        ("url", str(conn.url)),
        ("route", repr(conn.route) if conn.route else "-"),
        ("path params", conn.path_params),
        ("client", conn.client),
    ]
    summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    settings = sorted(conn.app.settings.public().items()) if "app" in conn.scope else []
    page = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>"
        f"{html.escape(type(exc).__name__)} at {html.escape(conn.path)}</title>"
        f"<style>{_STYLE}</style></head><body><header><h1>{html.escape(type(exc).__name__)} "
        f"at {html.escape(conn.path)}</h1><p>{html.escape(summary)}</p></header><main>"
        f"{_template_html(exc)}<h2>Traceback (most recent call last)</h2>{''.join(frames)}"
        f"<h2>Request</h2><table>{_rows(request_rows)}</table>"
        f"<h2>Headers</h2><table>{_rows(headers)}</table>"
        f"<h2>Settings</h2><table>{_rows(settings)}</table>"
        f"<p>You see this page because <code>debug</code> is on. Never turn it on in "
        f"production.</p></main></body></html>"
    )
    return HTMLResponse(page, 500)
