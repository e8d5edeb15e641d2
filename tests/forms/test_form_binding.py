"""Forms bound to real requests: async and sync views, urlencoded and multipart bodies,
uploads with their limits, and bad input answered with a 4xx or a field error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from forms_helpers import MULTIPART, multipart
from pydantic import EmailStr

from heron import App, Request, UploadFile
from heron.forms import Form, field
from heron.testing import TestClient

AppFactory = Callable[..., App]
MB = 1024 * 1024


class Signup(Form):
    name: str = field(max_length=20)
    email: EmailStr
    age: int | None = None
    newsletter: bool = False
    topics: list[str] = field(default_factory=list, choices=["web", "data", "ops"])


class Upload(Form):
    title: str
    document: UploadFile = field(max_size=1024, accept=[".txt", ".md", "text/*"])
    photos: list[UploadFile] = field(default_factory=list, accept=["image/png", "image/jpeg"],
                                     max_size=MB)


def summary(form: Form) -> dict[str, Any]:
    """What a view returns: the cleaned data (files described) or the errors."""
    if not form.is_valid():
        return {"errors": form.errors, "raw": {k: form.raw.get(k) for k in form.raw
                                               if isinstance(form.raw.get(k), str)}}
    data: dict[str, Any] = {}
    for name, value in form.data.items():
        if isinstance(value, UploadFile):
            value = describe(value)
        elif isinstance(value, list) and value and isinstance(value[0], UploadFile):
            value = [describe(v) for v in value]
        data[name] = value
    return {"data": data}


def describe(upload: UploadFile) -> dict[str, Any]:
    upload.file.seek(0)
    return {"filename": upload.filename, "size": upload.size,
            "content": upload.file.read().decode("latin-1"),
            "on_disk": bool(getattr(upload.file, "_rolled", False))}


@pytest.fixture
def forms_app(make_app: AppFactory) -> App:
    app = make_app(csrf=False)

    @app.post("/signup")
    async def signup(request: Request) -> dict[str, Any]:
        return summary(await Signup.from_request(request))

    @app.post("/signup-sync")
    def signup_sync(request: Request) -> dict[str, Any]:
        return summary(Signup.from_request_sync(request))

    @app.get("/signup")
    async def signup_page(request: Request) -> dict[str, Any]:
        form = await Signup.from_request(request)
        return {"bound": form.is_bound, "valid": form.is_valid(), "errors": form.errors}

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        return summary(await Upload.from_request(request))

    @app.post("/upload-sync")
    def upload_sync(request: Request) -> dict[str, Any]:
        return summary(Upload.from_request_sync(request))

    @app.post("/sync-misuse")
    async def misuse(request: Request) -> dict[str, Any]:
        return summary(Signup.from_request_sync(request))  # the loop's own thread

    return app


@pytest.fixture
def client(forms_app: App) -> Any:
    with TestClient(forms_app) as client:
        yield client


@pytest.mark.parametrize("path", ["/signup", "/signup-sync"])
def test_urlencoded_body_binds_in_async_and_sync_views(client: TestClient, path: str) -> None:
    response = client.post(path, content=b"name=+Ann+&email=ann%40example.com&age=&"
                                         b"topics=web&topics=ops&newsletter=on",
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert response.json() == {"data": {"name": "Ann", "email": "ann@example.com", "age": None,
                                        "newsletter": True, "topics": ["web", "ops"]}}


@pytest.mark.parametrize("path", ["/signup", "/signup-sync"])
def test_multipart_text_fields_bind_too(client: TestClient, path: str) -> None:
    body = multipart(("name", "Zoë"), ("email", "zoe@example.com"), ("age", "30"))
    response = client.post(path, content=body, headers={"content-type": MULTIPART})
    assert response.json() == {"data": {"name": "Zoë", "email": "zoe@example.com", "age": 30,
                                        "newsletter": False, "topics": []}}


def test_invalid_input_keeps_the_raw_values(client: TestClient) -> None:
    response = client.post("/signup", data={"name": "<script>x</script>" * 2,
                                            "email": "nope", "age": "old",
                                            "topics": ["web", "sales"]})
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] == {
        "name": ["Ensure this value has at most 20 characters."],
        "email": ["Enter a valid email address."],
        "age": ["Enter a whole number."],
        "topics": ["Select a valid choice."],
    }
    assert body["raw"]["name"] == "<script>x</script>" * 2
    assert body["raw"]["age"] == "old"


def test_a_get_request_gives_an_unbound_form(client: TestClient) -> None:
    assert client.get("/signup?name=x").json() == {"bound": False, "valid": False, "errors": {}}


def test_a_body_that_is_no_form_is_415(client: TestClient) -> None:
    assert client.post("/signup", json={"name": "Ann"}).status_code == 415
    assert client.post("/signup-sync", content=b"x", headers={"content-type": "text/plain"}
                       ).status_code == 415


@pytest.mark.parametrize("body", [b"name=%zz", b"name=%ff%fe", b"a=1&&&=" + b"%" * 3])
def test_malformed_urlencoding_is_400(client: TestClient, body: bytes) -> None:
    response = client.post("/signup", content=body,
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400


def test_truncated_multipart_is_400_not_500(client: TestClient) -> None:
    body = multipart(("name", "Ann"))[:-10]
    assert client.post("/signup", content=body,
                       headers={"content-type": MULTIPART}).status_code == 400


def test_sync_binding_on_the_event_loop_is_a_clear_error(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    response = client.post("/sync-misuse", data={"name": "a"})
    assert response.status_code == 500  # a programming error, logged with the fix
    assert "in async code, await the coroutine instead" in caplog.text


# -- uploads -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/upload", "/upload-sync"])
def test_several_files_in_one_multipart_form(client: TestClient, path: str) -> None:
    body = multipart(("title", "Holiday"), ("document", ("notes.txt", b"hello", "text/plain")),
                     ("photos", ("a.png", b"\x89PNG-a", "image/png")),
                     ("photos", ("b.jpg", b"\xff\xd8--b", "image/jpeg")))
    response = client.post(path, content=body, headers={"content-type": MULTIPART})
    data = response.json()["data"]
    assert data["title"] == "Holiday"
    assert data["document"]["content"] == "hello"
    assert [(p["filename"], p["size"]) for p in data["photos"]] == [("a.png", 6), ("b.jpg", 5)]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\\\..\\\\windows\\\\x.txt", "x.txt"),
        ("/etc/shadow.md", "shadow.md"),
        ("C:\\\\Users\\\\a\\\\notes.txt", "notes.txt"),
    ],
)
def test_path_traversal_file_names_are_reduced_to_a_base_name(client: TestClient, sent: str,
                                                              kept: str) -> None:
    body = multipart(("title", "t"), ("document", (sent, b"x", "text/plain")))
    response = client.post("/upload", content=body, headers={"content-type": MULTIPART})
    assert response.json()["data"]["document"]["filename"] == kept


def test_a_file_over_the_fields_size_limit_is_a_field_error(client: TestClient) -> None:
    body = multipart(("title", "t"), ("document", ("big.txt", b"x" * 1025, "text/plain")))
    response = client.post("/upload", content=body, headers={"content-type": MULTIPART})
    assert response.json()["errors"] == {
        "document": ["Ensure this file is at most 1.0 KB (it is 1.0 KB)."]}
    body = multipart(("title", "t"), ("document", ("ok.txt", b"x" * 1024, "text/plain")))
    assert "data" in client.post("/upload", content=body,
                                 headers={"content-type": MULTIPART}).json()


@pytest.mark.parametrize(
    ("filename", "ctype"),
    [("notes.exe", "text/plain"),  # extension not allowed
     ("notes.txt", "application/x-msdownload"),  # type not allowed
     ("notes", "text/plain"),  # no extension
     ("notes.txt.html", "text/html"),  # the last extension counts
     ("notes.md.html", "text/plain")],  # the declared type says text, the name says HTML
)
def test_a_file_of_a_type_not_allowed_is_a_field_error(client: TestClient, filename: str,
                                                       ctype: str) -> None:
    body = multipart(("title", "t"), ("document", (filename, b"x", ctype)))
    response = client.post("/upload", content=body, headers={"content-type": MULTIPART})
    assert response.json()["errors"] == {
        "document": ["Files of this type are not allowed; use .txt, .md, text/*."]}


def test_each_file_of_a_list_is_checked(client: TestClient) -> None:
    body = multipart(("title", "t"), ("document", ("a.txt", b"x", "text/plain")),
                     ("photos", ("a.png", b"1", "image/png")),
                     ("photos", ("evil.svg", b"<svg onload=alert(1)>", "image/svg+xml")))
    response = client.post("/upload", content=body, headers={"content-type": MULTIPART})
    assert response.json()["errors"] == {
        "photos": ["Files of this type are not allowed; use image/png, image/jpeg."]}


def test_the_declared_type_must_agree_with_the_files_name(client: TestClient) -> None:
    # The client declares the type; the stored file keeps its extension, which web servers
    # go by: "x.html" sent as image/png must not pass an images-only field.
    body = multipart(("title", "t"), ("document", ("a.txt", b"x", "text/plain")),
                     ("photos", ("x.html", b"<script>alert(1)</script>", "image/png")))
    response = client.post("/upload", content=body, headers={"content-type": MULTIPART})
    assert response.json()["errors"] == {
        "photos": ["Files of this type are not allowed; use image/png, image/jpeg."]}
    body = multipart(("title", "t"), ("document", ("a.txt", b"x", "text/plain")),
                     ("photos", ("photo", b"1", "image/png")),  # no extension: the type decides
                     ("photos", ("b.JPG", b"2", "image/jpeg")))
    response = client.post("/upload", content=body, headers={"content-type": MULTIPART})
    assert [p["filename"] for p in response.json()["data"]["photos"]] == ["photo", "b.JPG"]


def test_a_file_field_posted_urlencoded_says_to_upload_a_file(client: TestClient) -> None:
    # A <form> without enctype="multipart/form-data" sends the file's name as text.
    response = client.post("/upload", data={"title": "t", "document": "notes.txt"})
    assert response.json()["errors"] == {"document": ["Upload a file."]}


def test_large_uploads_are_spooled_to_disk_not_kept_in_memory(make_app: AppFactory) -> None:
    seen: list[UploadFile] = []
    app = make_app(csrf=False, upload_spool_size=64 * 1024, max_body_size=8 * MB)

    class Big(Form):
        title: str
        document: UploadFile = field(max_size=4 * MB)

    @app.post("/big")
    async def big(request: Request) -> dict[str, Any]:
        form = await Big.from_request(request)
        assert form.is_valid(), form.errors
        seen.append(form.data["document"])
        return {"rolled": form.data["document"].file._rolled, "size": form.data["document"].size}

    body = multipart(("title", "t"), ("document", ("big.bin", b"\0" * (3 * MB), "x/y")))
    with TestClient(app) as client:
        response = client.post("/big", content=body, headers={"content-type": MULTIPART})
    assert response.json() == {"rolled": True, "size": 3 * MB}
    assert seen[0].file.closed  # the temporary file is gone after the request


def test_a_request_over_max_body_size_is_413(make_app: AppFactory) -> None:
    app = make_app(csrf=False, max_body_size=64 * 1024)

    @app.post("/upload")
    async def view(request: Request) -> dict[str, Any]:
        return summary(await Upload.from_request(request))

    body = multipart(("title", "t"), ("document", ("a.txt", b"x" * (65 * 1024), "text/plain")))
    with TestClient(app) as client:
        response = client.post("/upload", content=body, headers={"content-type": MULTIPART})
    assert response.status_code == 413


def test_a_file_over_max_upload_size_is_413_while_it_streams(make_app: AppFactory) -> None:
    app = make_app(csrf=False, max_upload_size=10 * 1024)
    reached: list[bool] = []

    @app.post("/upload")
    async def view(request: Request) -> dict[str, Any]:
        reached.append(True)
        return summary(await Upload.from_request(request))

    small = multipart(("title", "t"), ("document", ("a.txt", b"x" * 100, "text/plain")))
    big = multipart(("title", "t"), ("document", ("a.txt", b"x" * (11 * 1024), "text/plain")))
    with TestClient(app) as client:
        assert client.post("/upload", content=small,
                           headers={"content-type": MULTIPART}).status_code == 200
        response = client.post("/upload", content=big, headers={"content-type": MULTIPART})
    assert response.status_code == 413
    assert "larger than 10240 bytes" in response.text


def test_too_many_files_is_413(make_app: AppFactory) -> None:
    app = make_app(csrf=False, max_form_files=2)

    @app.post("/upload")
    async def view(request: Request) -> dict[str, Any]:
        return summary(await Upload.from_request(request))

    files = [("photos", (f"{n}.png", b"x", "image/png")) for n in range(3)]
    body = multipart(("title", "t"), *files)  # type: ignore[arg-type]
    with TestClient(app) as client:
        assert client.post("/upload", content=body,
                           headers={"content-type": MULTIPART}).status_code == 413
