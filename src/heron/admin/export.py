"""The change list as a CSV or JSON download, streamed in chunks from the database
(its own session, read in the thread pool), so a large list never sits in memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from heron.admin.columns import Column, column_for
from heron.responses import StreamingResponse

if TYPE_CHECKING:
    from sqlalchemy import Select

    from heron.admin.options import ModelAdmin
    from heron.requests import Request

__all__ = ["export_response"]

#: Rows read from the database per chunk.
CHUNK = 500
_MEDIA = {"csv": "text/csv", "json": "application/json"}


def export_columns(admin: ModelAdmin) -> list[Column]:
    """The exported fields: ``export_fields``, else the model's columns."""
    from sqlalchemy import inspect

    names = admin.export_fields or [prop.key for prop in inspect(admin.model).column_attrs]
    return [column_for(admin, name) for name in names]


def _plain(value: Any) -> Any:
    """A value as JSON holds it (dates and decimals as text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    import enum

    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would run as a formula is quoted with ``'``."""
    text = "" if value is None else str(_plain(value))
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _rows(request: Request, statement: Select[Any]) -> Iterator[list[Any]]:
    from heron.db import db

    session = db.state(request.app).make_session()
    try:
        result = session.scalars(statement.execution_options(yield_per=CHUNK))
        for chunk in result.partitions(CHUNK):
            yield list(chunk)
            for row in chunk:  # expunge_all() would end the identity map the result uses
                session.expunge(row)
    finally:
        session.close()


def export_response(request: Request, admin: ModelAdmin, statement: Select[Any],
                    fmt: str) -> StreamingResponse:
    """The rows of ``statement`` as a ``fmt`` (``"csv"`` or ``"json"``) attachment."""
    columns = export_columns(admin)

    def csv_body() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([c.name for c in columns])
        for chunk in _rows(request, statement):
            for row in chunk:
                writer.writerow([_cell(c.value(row)) for c in columns])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    def json_body() -> Iterator[str]:
        yield "["
        first = True
        for chunk in _rows(request, statement):
            parts = []
            for row in chunk:
                item = {c.name: _plain(c.value(row)) for c in columns}
                parts.append(("" if first else ",") + json.dumps(item, ensure_ascii=False))
                first = False
            yield "".join(parts)
        yield "]"

    filename = f"{admin.model_name}.{fmt}"
    headers = {"content-disposition": f'attachment; filename="{filename}"',
               "cache-control": "no-store"}
    body = csv_body() if fmt == "csv" else json_body()
    return StreamingResponse(body, headers=headers, media_type=_MEDIA[fmt])
