"""FileResponse: validators, 304s, byte ranges, content-disposition, HEAD and 404."""

from __future__ import annotations

import os
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest

from heron import App, FileResponse
from heron.testing import TestClient

CONTENT = bytes(range(256)) * 4  # 1024 bytes


@pytest.fixture
def file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(CONTENT)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    return path


@pytest.fixture
def client(tmp_path: Path, file: Path) -> Iterator[TestClient]:
    app = App(debug=True)

    @app.get("/file")
    async def send_file() -> FileResponse:
        return FileResponse(file)

    @app.get("/named")
    async def named() -> FileResponse:
        return FileResponse(file, filename="Résumé \"final\".pdf")

    @app.get("/inline")
    async def inline() -> FileResponse:
        return FileResponse(file, filename="report.txt", content_disposition="inline")

    @app.get("/missing")
    async def missing() -> FileResponse:
        return FileResponse(tmp_path / "nope.txt")

    @app.get("/folder")
    async def folder() -> FileResponse:
        return FileResponse(tmp_path)

    @app.get("/cached")
    async def cached() -> FileResponse:
        return FileResponse(file, cache_control="public, max-age=60")

    with TestClient(app) as client:
        yield client


def test_sends_the_file_with_validators(client: TestClient) -> None:
    response = client.get("/file")
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-length"] == "1024"
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"


def test_media_type_is_guessed_from_the_name(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<p>hi</p>")
    (tmp_path / "style.css").write_text("p{}")
    app = App(debug=True)

    @app.get("/{name}")
    async def view(name: str) -> FileResponse:
        return FileResponse(tmp_path / name)

    with TestClient(app) as client:
        assert client.get("/page.html").headers["content-type"] == "text/html; charset=utf-8"
        assert client.get("/style.css").headers["content-type"] == "text/css; charset=utf-8"


def test_cache_control_is_sent_when_given(client: TestClient) -> None:
    assert client.get("/cached").headers["cache-control"] == "public, max-age=60"


def test_missing_file_is_404(client: TestClient) -> None:
    assert client.get("/missing").status_code == 404


def test_a_directory_is_404(client: TestClient) -> None:
    assert client.get("/folder").status_code == 404


def test_head_sends_headers_only(client: TestClient) -> None:
    response = client.head("/file")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "1024"


def test_if_none_match_with_the_etag_is_304(client: TestClient) -> None:
    etag = client.get("/file").headers["etag"]
    response = client.get("/file", headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert "content-length" not in response.headers


@pytest.mark.parametrize("header", ['"other", {etag}', "W/{etag}", "*"])
def test_if_none_match_lists_weak_tags_and_star(client: TestClient, header: str) -> None:
    etag = client.get("/file").headers["etag"]
    response = client.get("/file", headers={"if-none-match": header.format(etag=etag)})
    assert response.status_code == 304


def test_if_none_match_with_another_etag_is_200(client: TestClient) -> None:
    assert client.get("/file", headers={"if-none-match": '"stale"'}).status_code == 200


def test_if_modified_since_not_modified_is_304(client: TestClient) -> None:
    later = formatdate(1_700_000_100, usegmt=True)
    assert client.get("/file", headers={"if-modified-since": later}).status_code == 304


def test_if_modified_since_older_is_200(client: TestClient) -> None:
    earlier = formatdate(1_600_000_000, usegmt=True)
    assert client.get("/file", headers={"if-modified-since": earlier}).status_code == 200


def test_garbage_if_modified_since_is_ignored(client: TestClient) -> None:
    assert client.get("/file", headers={"if-modified-since": "yesterday"}).status_code == 200


def test_if_none_match_wins_over_if_modified_since(client: TestClient) -> None:
    later = formatdate(1_700_000_100, usegmt=True)
    headers = {"if-none-match": '"stale"', "if-modified-since": later}
    assert client.get("/file", headers=headers).status_code == 200


@pytest.mark.parametrize(("header", "start", "end"), [
    ("bytes=0-9", 0, 9),
    ("bytes=1000-", 1000, 1023),
    ("bytes=-10", 1014, 1023),
    ("bytes=1020-5000", 1020, 1023),
    ("bytes=-5000", 0, 1023),
])
def test_range_gives_206_with_content_range(client: TestClient, header: str, start: int,
                                            end: int) -> None:
    response = client.get("/file", headers={"range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/1024"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.content == CONTENT[start:end + 1]


def test_range_on_head_has_no_body(client: TestClient) -> None:
    response = client.head("/file", headers={"range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.content == b""


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_range_is_416(client: TestClient, header: str) -> None:
    response = client.get("/file", headers={"range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1024"


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-2", "bytes=1-2-3", "bytes=", "bytes=-"])
def test_malformed_byte_range_is_416(client: TestClient, header: str) -> None:
    response = client.get("/file", headers={"range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1024"


@pytest.mark.parametrize("header", ["items=0-5", "bytes=0-1,5-6"])
def test_other_units_and_multiple_ranges_get_the_whole_file(client: TestClient,
                                                             header: str) -> None:
    response = client.get("/file", headers={"range": header})
    assert response.status_code == 200
    assert response.content == CONTENT


def test_if_range_with_the_current_etag_gives_the_range(client: TestClient) -> None:
    etag = client.get("/file").headers["etag"]
    response = client.get("/file", headers={"range": "bytes=0-1", "if-range": etag})
    assert response.status_code == 206


def test_if_range_with_the_current_date_gives_the_range(client: TestClient) -> None:
    modified = client.get("/file").headers["last-modified"]
    response = client.get("/file", headers={"range": "bytes=0-1", "if-range": modified})
    assert response.status_code == 206


@pytest.mark.parametrize("if_range", ['"stale"', "Wed, 01 Jan 2020 00:00:00 GMT"])
def test_if_range_with_a_stale_validator_gives_the_whole_file(client: TestClient,
                                                               if_range: str) -> None:
    response = client.get("/file", headers={"range": "bytes=0-1", "if-range": if_range})
    assert response.status_code == 200
    assert response.content == CONTENT


def test_content_disposition_with_a_non_ascii_filename(client: TestClient) -> None:
    response = client.get("/named")
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"R?sum? final.pdf\"; "
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf"
    )
    assert response.headers["content-type"] == "application/pdf"


def test_content_disposition_inline_ascii(client: TestClient) -> None:
    response = client.get("/inline")
    assert response.headers["content-disposition"] == 'inline; filename="report.txt"'


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    app = App(debug=True)

    @app.get("/")
    async def view() -> FileResponse:
        return FileResponse(tmp_path / "empty.txt")

    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"


def test_large_file_is_sent_whole(tmp_path: Path) -> None:
    data = os.urandom(300_000)
    (tmp_path / "big.bin").write_bytes(data)
    app = App(debug=True)

    @app.get("/")
    async def view() -> FileResponse:
        return FileResponse(tmp_path / "big.bin")

    with TestClient(app) as client:
        response = client.get("/", headers={"range": "bytes=100000-"})
    assert response.content == data[100000:]
