"""Helpers shared by the forms tests."""

from __future__ import annotations

from typing import Any, TypeVar

from heron.datastructures import FormData, UploadFile
from heron.forms import Form

FormT = TypeVar("FormT", bound=Form)

BOUNDARY = "----heronformsboundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def bind(form_class: type[FormT], *pairs: tuple[str, Any], **fields: Any) -> FormT:
    """The form bound to these values: ``(name, value)`` pairs (repeat a name for a
    list) and/or keywords (a list value gives several)."""
    items = list(pairs)
    for name, value in fields.items():
        values = value if isinstance(value, list) else [value]
        items += [(name, item) for item in values]
    return form_class(FormData(items))


def upload(filename: str, data: bytes, content_type: str = "application/octet-stream",
           spool: int = 1024 * 1024) -> UploadFile:
    """An UploadFile as the multipart parser makes it."""
    file = UploadFile(filename, content_type, max_memory=spool)
    file.write(data)
    file.file.seek(0)
    return file


def multipart(*parts: tuple[str, str | tuple[str, bytes, str]]) -> bytes:
    """A multipart body: ``(name, text)`` fields and ``(name, (filename, data, type))`` files
    (the file name is sent exactly as given, path and all)."""
    body = b""
    for name, value in parts:
        body += f"--{BOUNDARY}\r\n".encode()
        if isinstance(value, tuple):
            filename, data, ctype = value
            body += (f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {ctype}\r\n\r\n").encode() + data + b"\r\n"
        else:
            body += (f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                     ).encode()
    return body + f"--{BOUNDARY}--\r\n".encode()
