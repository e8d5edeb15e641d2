"""Request form parsing: urlencoded by heron's strict parser, multipart by python-multipart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heron._parsing import contains_nul, parse_options_header, parse_query_string
from heron.concurrency import run_in_threadpool
from heron.datastructures import FormData, Headers, UploadFile
from heron.exceptions import HTTPException

if TYPE_CHECKING:
    from heron.requests import Request

_NUL_IN_FORM = "The form contains a NUL character."


async def parse_form(request: Request) -> FormData:
    """Parse the body of ``request`` as a form, within the app's limits."""
    settings = request.app.settings
    if request.content_type == "multipart/form-data":
        return await _parse_multipart(request, settings)
    body = await request.body()
    if not settings.allow_nul_in_text and contains_nul(body):
        raise HTTPException(400, _NUL_IN_FORM)
    return FormData(parse_query_string(body, settings.max_form_fields, allow_nul=True))


def _safe_filename(filename: str) -> str:
    # Browsers send a bare name, but a hostile client may send a path.
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "")
    return "" if name in (".", "..") else name


class _MultipartCollector:
    """Turns python-multipart callbacks into form fields and spooled uploads."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.items: list[tuple[str, Any]] = []
        self.files = 0
        self.ended = False
        self._header_field = b""
        self._header_value = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._name = ""
        self._field: bytearray | None = None
        self._upload: UploadFile | None = None
        self._upload_bytes = 0
        self.pending: list[tuple[UploadFile, bytes]] = []

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        if len(self.items) >= self.settings.max_form_fields:
            raise HTTPException(413, f"Too many form fields (the limit is "
                                     f"{self.settings.max_form_fields}).")
        self._headers = []

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if not self.settings.allow_nul_in_text and (
                b"\x00" in self._header_field or b"\x00" in self._header_value):
            raise HTTPException(400, _NUL_IN_FORM)  # in a field's name or an upload's type
        self._headers.append((self._header_field.lower(), self._header_value))
        self._header_field = self._header_value = b""

    def on_headers_finished(self) -> None:
        headers = Headers(raw=self._headers)
        disposition, options = parse_options_header(headers.get("content-disposition", ""))
        if disposition != "form-data" or "name" not in options:
            raise HTTPException(400, "Malformed multipart body: a part has no form-data name.")
        self._name = options["name"]
        if "filename" in options:
            self.files += 1
            if self.files > self.settings.max_form_files:
                raise HTTPException(413, f"Too many files (the limit is "
                                         f"{self.settings.max_form_files}).")
            self._upload_bytes = 0
            self._upload = UploadFile(
                _safe_filename(options["filename"]),
                headers.get("content-type", "application/octet-stream"),
                headers,
                max_memory=self.settings.upload_spool_size,
            )
            self._field = None
        else:
            self._upload = None
            self._field = bytearray()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._upload is not None:
            self._upload_bytes += end - start
            limit = self.settings.max_upload_size
            if limit is not None and self._upload_bytes > limit:
                raise HTTPException(413, f"An uploaded file is larger than {limit} bytes.")
            self.pending.append((self._upload, data[start:end]))
        elif self._field is not None:
            self._field += data[start:end]
            if len(self._field) > self.settings.max_form_part_size:
                raise HTTPException(413, f"A form field is larger than "
                                         f"{self.settings.max_form_part_size} bytes.")

    def on_part_end(self) -> None:
        if self._upload is not None:
            self.items.append((self._name, self._upload))
        elif self._field is not None:
            if b"\x00" in self._field and not self.settings.allow_nul_in_text:
                raise HTTPException(400, _NUL_IN_FORM)
            try:
                self.items.append((self._name, self._field.decode("utf-8")))
            except UnicodeDecodeError:
                raise HTTPException(400, f"Form field {self._name!r} is not valid UTF-8.") from None
        self._upload = None
        self._field = None

    def on_end(self) -> None:
        self.ended = True


def _write_pending(pending: list[tuple[UploadFile, bytes]]) -> None:
    for upload, chunk in pending:
        upload.write(chunk)


async def _parse_multipart(request: Request, settings: Any) -> FormData:
    from python_multipart.exceptions import MultipartParseError
    from python_multipart.multipart import MultipartParser

    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get("boundary")
    if not boundary:
        raise HTTPException(400, "Malformed multipart body: the boundary is missing.")
    collector = _MultipartCollector(settings)
    parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if collector.pending:
                # Uploads may have spilled to disk: write them off the loop.
                pending, collector.pending = collector.pending, []
                await run_in_threadpool(_write_pending, pending)
        parser.finalize()
    except MultipartParseError as exc:
        _discard(collector)
        raise HTTPException(400, f"Malformed multipart body: {exc}") from None
    except BaseException:
        _discard(collector)
        raise
    if not collector.ended:
        _discard(collector)
        raise HTTPException(400, "Malformed multipart body: it ends before its closing boundary.")
    for _, value in collector.items:
        if isinstance(value, UploadFile):
            value.file.seek(0)
    return FormData(collector.items)


def _discard(collector: _MultipartCollector) -> None:
    uploads = [value for _, value in collector.items if isinstance(value, UploadFile)]
    if collector._upload is not None:
        uploads.append(collector._upload)  # the part being read when parsing stopped
    for upload in uploads:
        upload.close()
