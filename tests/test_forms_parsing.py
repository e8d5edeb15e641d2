"""request.form(): urlencoded and multipart bodies, uploads, limits and malformed input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from heron import App, Request, UploadFile
from heron.testing import TestClient

JSON = {"accept": "application/json"}
BOUNDARY = "----heronboundary"
MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}", **JSON}


def multipart(*parts: bytes, close: bool = True) -> bytes:
    body = b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return body + (b"--" + BOUNDARY.encode() + b"--\r\n" if close else b"")


def field(name: str, value: str) -> bytes:
    return f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode()


def file_part(name: str, filename: str, data: bytes, ctype: str = "text/plain") -> bytes:
    head = (f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n")
    return head.encode() + data


class Uploads:
    """The uploads a view saw, kept so a test can look at them after the response."""

    def __init__(self) -> None:
        self.files: list[UploadFile] = []
        self.rolled: list[bool] = []


def build_app(seen: Uploads | None = None, **settings: Any) -> App:
    app = App(debug=True, csrf=False, **settings)

    @app.post("/form")
    async def form(request: Request) -> dict:
        data = await request.form()
        result: dict[str, Any] = {}
        for key, value in data.multi_items():
            if isinstance(value, UploadFile):
                if seen is not None:
                    seen.files.append(value)
                    seen.rolled.append(bool(getattr(value.file, "_rolled", False)))
                content = await value.read()
                value = {"filename": value.filename, "type": value.content_type,
                         "size": value.size, "content": content.decode("latin-1")}
            result.setdefault(key, []).append(value)
        return result

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(build_app(), headers=JSON) as client:
        yield client


def test_urlencoded_form(client: TestClient) -> None:
    response = client.post("/form", data={"a": "1", "b": "x y"})
    assert response.json() == {"a": ["1"], "b": ["x y"]}


def test_urlencoded_repeated_fields(client: TestClient) -> None:
    response = client.post("/form", content=b"a=1&a=2&b=%C3%A9",
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.json() == {"a": ["1", "2"], "b": ["é"]}


def test_urlencoded_content_type_with_charset(client: TestClient) -> None:
    response = client.post(
        "/form", content=b"a=1",
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert response.json() == {"a": ["1"]}


@pytest.mark.parametrize(("body", "message"), [
    (b"a=%zz", "Malformed percent-encoding"),
    (b"a=%ff", "not valid UTF-8"),
])
def test_urlencoded_bad_encoding_is_400(client: TestClient, body: bytes, message: str) -> None:
    response = client.post("/form", content=body,
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert message in response.json()["detail"]


URLENCODED = {"content-type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(("body", "headers"), [
    (b"a=%00", URLENCODED),
    (b"a%00=1", URLENCODED),
    (multipart(field("name", "a\x00b")), MULTIPART),
    (multipart(field("na\x00me", "x")), MULTIPART),
    (multipart(file_part("f", "a.txt", b"x", ctype="text/plain\x00")), MULTIPART),
])
def test_nul_in_form_text_is_400(body: bytes, headers: dict[str, str]) -> None:
    with TestClient(build_app(), headers=JSON) as client:
        response = client.post("/form", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["detail"] == "The form contains a NUL character."
    with TestClient(build_app(allow_nul_in_text=True), headers=JSON) as client:
        assert client.post("/form", content=body, headers=headers).status_code == 200


def test_nul_bytes_in_an_uploaded_file_are_content(client: TestClient) -> None:
    body = multipart(file_part("f", "a.bin", b"\x00\x01\x00"))
    response = client.post("/form", content=body, headers=MULTIPART)
    assert response.json()["f"][0]["content"] == "\x00\x01\x00"


def test_form_with_the_wrong_content_type_is_415(client: TestClient) -> None:
    response = client.post("/form", json={"a": 1})
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["detail"]


def test_multipart_fields_and_a_file(client: TestClient) -> None:
    files = {"doc": ("notes.txt", b"hello", "text/plain")}
    response = client.post("/form", data={"title": "Hi"}, files=files)
    assert response.json() == {
        "title": ["Hi"],
        "doc": [{"filename": "notes.txt", "type": "text/plain", "size": 5, "content": "hello"}],
    }


def test_several_files_in_one_form(client: TestClient) -> None:
    files = [("docs", ("a.txt", b"A", "text/plain")), ("docs", ("b.bin", b"BB", "x/y"))]
    docs = client.post("/form", files=files).json()["docs"]
    assert [(d["filename"], d["content"]) for d in docs] == [("a.txt", "A"), ("b.bin", "BB")]


@pytest.mark.parametrize(("sent", "kept"), [
    ("../../etc/passwd", "passwd"),
    ("/abs/path/photo.jpg", "photo.jpg"),
    ("C:\\Users\\ada\\cv.pdf", "cv.pdf"),
    ("dir/../..", ""),
    ("..", ""),
])
def test_filenames_are_reduced_to_their_base_name(client: TestClient, sent: str,
                                                  kept: str) -> None:
    body = multipart(file_part("f", sent, b"x"))
    response = client.post("/form", content=body, headers=MULTIPART)
    assert response.json()["f"][0]["filename"] == kept


def test_filename_with_a_semicolon_is_kept_whole(client: TestClient) -> None:
    body = multipart(file_part("f", "a;b.txt", b"x"))
    response = client.post("/form", content=body, headers=MULTIPART)
    assert response.json()["f"][0]["filename"] == "a;b.txt"


def test_non_ascii_field_value(client: TestClient) -> None:
    body = multipart(field("name", "Zoë"))
    assert client.post("/form", content=body, headers=MULTIPART).json() == {"name": ["Zoë"]}


def test_small_uploads_stay_in_memory_and_large_ones_spool_to_disk() -> None:
    seen = Uploads()
    app = build_app(seen, upload_spool_size=100)
    files = [("small", ("s.txt", b"x" * 50, "text/plain")),
             ("large", ("l.txt", b"y" * 500, "text/plain"))]
    with TestClient(app) as client:
        response = client.post("/form", files=files)
    assert response.json()["large"][0]["size"] == 500
    assert seen.rolled == [False, True]


def test_temp_files_are_closed_after_the_request() -> None:
    seen = Uploads()
    app = build_app(seen, upload_spool_size=10)
    with TestClient(app) as client:
        client.post("/form", files={"f": ("f.txt", b"z" * 100, "text/plain")})
    assert len(seen.files) == 1
    assert seen.files[0].file.closed


def test_upload_save_copies_the_file(tmp_path: Any) -> None:
    app = App(debug=True, csrf=False)

    @app.post("/save")
    async def save(request: Request) -> str:
        upload = (await request.form())["f"]
        await upload.save(tmp_path / "saved.bin")
        return "ok"

    with TestClient(app) as client:
        client.post("/save", files={"f": ("f.bin", b"\x00\x01" * 10, "x/y")})
    assert (tmp_path / "saved.bin").read_bytes() == b"\x00\x01" * 10


def test_multipart_without_a_boundary_is_400(client: TestClient) -> None:
    response = client.post("/form", content=multipart(field("a", "1")),
                           headers={"content-type": "multipart/form-data", **JSON})
    assert response.status_code == 400
    assert response.json()["detail"] == "Malformed multipart body: the boundary is missing."


def test_truncated_multipart_is_400(client: TestClient) -> None:
    body = multipart(field("a", "1"), close=False) + b"--" + BOUNDARY.encode() + b"\r\nContent-"
    response = client.post("/form", content=body, headers=MULTIPART)
    assert response.status_code == 400
    assert "Malformed multipart body" in response.json()["detail"]


def test_multipart_without_a_closing_boundary_is_400(client: TestClient) -> None:
    response = client.post("/form", content=multipart(field("a", "1"), close=False),
                           headers=MULTIPART)
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Malformed multipart body: it ends before its closing boundary."
    )


def test_upload_truncated_mid_file_is_400(client: TestClient) -> None:
    body = multipart(file_part("f", "f.txt", b"data" * 100), close=False)[:-50]
    response = client.post("/form", content=body, headers=MULTIPART)
    assert response.status_code == 400


def test_multipart_part_without_a_name_is_400(client: TestClient) -> None:
    body = multipart(b"Content-Disposition: form-data\r\n\r\nvalue")
    response = client.post("/form", content=body, headers=MULTIPART)
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Malformed multipart body: a part has no form-data name."
    )


def test_multipart_part_without_content_disposition_is_400(client: TestClient) -> None:
    body = multipart(b"Content-Type: text/plain\r\n\r\nvalue")
    response = client.post("/form", content=body, headers=MULTIPART)
    assert response.status_code == 400


def test_multipart_garbage_is_400(client: TestClient) -> None:
    response = client.post("/form", content=b"this is not multipart at all", headers=MULTIPART)
    assert response.status_code == 400
    assert "Malformed multipart body" in response.json()["detail"]


def test_multipart_field_that_is_not_utf8_is_400(client: TestClient) -> None:
    body = multipart(b'Content-Disposition: form-data; name="a"\r\n\r\n\xff\xfe')
    response = client.post("/form", content=body, headers=MULTIPART)
    assert response.status_code == 400
    assert response.json()["detail"] == "Form field 'a' is not valid UTF-8."


def limited_client(**settings: Any) -> TestClient:
    return TestClient(build_app(**settings), headers=JSON)


def test_too_many_multipart_fields_is_413() -> None:
    body = multipart(*(field(f"f{i}", "x") for i in range(4)))
    with limited_client(max_form_fields=3) as client:
        response = client.post("/form", content=body, headers=MULTIPART)
    assert response.status_code == 413
    assert response.json()["detail"] == "Too many form fields (the limit is 3)."


def test_too_many_urlencoded_fields_is_413() -> None:
    with limited_client(max_form_fields=3) as client:
        response = client.post("/form", data={f"f{i}": "x" for i in range(4)})
    assert response.status_code == 413
    assert "limit is 3" in response.json()["detail"]


def test_too_many_files_is_413() -> None:
    files = [("f", (f"{i}.txt", b"x", "text/plain")) for i in range(3)]
    with limited_client(max_form_files=2) as client:
        response = client.post("/form", files=files)
    assert response.status_code == 413
    assert response.json()["detail"] == "Too many files (the limit is 2)."


def test_field_over_max_form_part_size_is_413() -> None:
    with limited_client(max_form_part_size=10) as client:
        ok = client.post("/form", content=multipart(field("a", "x" * 10)), headers=MULTIPART)
        response = client.post("/form", content=multipart(field("a", "x" * 11)),
                               headers=MULTIPART)
    assert ok.status_code == 200
    assert response.status_code == 413
    assert response.json()["detail"] == "A form field is larger than 10 bytes."


def test_multipart_over_max_body_size_is_413() -> None:
    with limited_client(max_body_size=100) as client:
        response = client.post("/form", files={"f": ("f.txt", b"x" * 200, "text/plain")})
    assert response.status_code == 413


def test_form_is_parsed_once(client: TestClient) -> None:
    app = App(debug=True, csrf=False)

    @app.post("/twice")
    async def twice(request: Request) -> dict:
        first = await request.form()
        second = await request.form()
        return {"same": first is second}

    with TestClient(app) as c:
        assert c.post("/twice", data={"a": "1"}).json() == {"same": True}
