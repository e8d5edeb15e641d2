"""Static files at /static/: the app's folder, components' folders, caching and traversal."""

from __future__ import annotations

import os
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from heron import App, StaticFiles
from heron.testing import TestClient
from heron.types import Message


@pytest.fixture
def site(tmp_path: Path) -> Path:
    static = tmp_path / "site" / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "app.css").write_text("body{color:red}")
    (static / "hello.txt").write_text("hello")
    (static / "shared.txt").write_text("from the app")
    (tmp_path / "secret.txt").write_text("top secret")
    (static / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (static / "inside.txt").symlink_to(static / "hello.txt")
    return tmp_path / "site"


def component(tmp_path: Path, name: str, files: dict[str, str]) -> types.ModuleType:
    folder = tmp_path / name
    (folder / "static").mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    for filename, text in files.items():
        (folder / "static" / filename).write_text(text)
    module = types.ModuleType(name)
    module.__file__ = str(folder / "__init__.py")
    return module


@pytest.fixture
def client(site: Path) -> Iterator[TestClient]:
    with TestClient(App(secret_key="test", root=site)) as client:
        yield client


async def get_raw(app: App, raw_path: bytes, method: str = "GET") -> int:
    """Send a path exactly as given (clients would normalise ``..``); return the status."""
    path = raw_path.decode("latin-1")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": raw_path,
             "root_path": "", "query_string": b"", "headers": [(b"host", b"testserver")],
             "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"]  # type: ignore[no-any-return]


def test_serves_a_file_from_the_app_static_folder(client: TestClient) -> None:
    response = client.get("/static/hello.txt")
    assert response.status_code == 200
    assert response.text == "hello"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_serves_files_in_subfolders(client: TestClient) -> None:
    assert client.get("/static/css/app.css").text == "body{color:red}"


def test_sends_etag_and_cache_control(client: TestClient) -> None:
    response = client.get("/static/hello.txt")
    assert response.headers["cache-control"] == "public, max-age=3600"
    etag = response.headers["etag"]
    assert client.get("/static/hello.txt", headers={"if-none-match": etag}).status_code == 304


def test_debug_asks_browsers_to_revalidate(site: Path) -> None:
    with TestClient(App(debug=True, root=site)) as client:
        assert client.get("/static/hello.txt").headers["cache-control"] == "no-cache"


def test_head_and_range_are_supported(client: TestClient) -> None:
    head = client.head("/static/hello.txt")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "5")
    partial = client.get("/static/hello.txt", headers={"range": "bytes=1-3"})
    assert (partial.status_code, partial.text) == (206, "ell")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_other_methods_are_405(client: TestClient, method: str) -> None:
    response = client.request(method, "/static/hello.txt")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/static/nope.txt", "/static/", "/static/css",
                                  "/static/css/"])
def test_missing_files_and_folders_are_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", [
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/%2e%2e/secret.txt",
    "/static/css/..%2f..%2fsecret.txt",
    "/static/..%5csecret.txt",
    "/static/escape.txt",
])
def test_encoded_traversal_and_escaping_symlinks_are_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "top secret" not in response.text


def test_a_nul_in_the_path_is_400(client: TestClient) -> None:
    assert client.get("/static/hello.txt%00.png").status_code == 400


@pytest.mark.parametrize("raw", [
    b"/static/../secret.txt",
    b"/static/css/../../secret.txt",
    b"/static/./hello.txt",
    b"/static/..\\secret.txt",
    b"/static/hello.txt\x00",
])
async def test_literal_traversal_is_404(site: Path, raw: bytes) -> None:
    assert await get_raw(App(secret_key="test", root=site, allowed_hosts=["*"]), raw) == 404


async def test_absolute_paths_stay_inside_the_folder(site: Path, tmp_path: Path) -> None:
    raw = b"/static/" + str(tmp_path / "secret.txt").encode()
    assert await get_raw(App(secret_key="test", root=site, allowed_hosts=["*"]), raw) == 404


def test_symlink_inside_the_folder_is_served(client: TestClient) -> None:
    assert client.get("/static/inside.txt").text == "hello"


def test_component_static_folders_are_served(site: Path, tmp_path: Path) -> None:
    blog = component(tmp_path, "blog", {"blog.js": "js", "shared.txt": "from blog"})
    with TestClient(App(secret_key="test", root=site, components=[blog])) as client:
        assert client.get("/static/blog.js").text == "js"
        # The app's own file wins over a component's file with the same name.
        assert client.get("/static/shared.txt").text == "from the app"


def test_component_static_works_without_an_app_static_folder(tmp_path: Path) -> None:
    shop = component(tmp_path, "shop", {"shop.css": "css"})
    (tmp_path / "bare").mkdir()
    with TestClient(App(secret_key="test", root=tmp_path / "bare", components=[shop])) as client:
        assert client.get("/static/shop.css").text == "css"


def test_no_static_folder_means_no_static_route(tmp_path: Path) -> None:
    with TestClient(App(secret_key="test", root=tmp_path)) as client:
        assert client.get("/static/x.txt").status_code == 404


def test_static_url_setting_moves_the_mount(site: Path) -> None:
    with TestClient(App(secret_key="test", root=site, static_url="/assets")) as client:
        assert client.get("/assets/hello.txt").text == "hello"


def test_static_files_app_finds_files_in_order(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (second / "only-b.txt").write_text("b")
    (first / "both.txt").write_text("a")
    (second / "both.txt").write_text("b")
    static = StaticFiles([first, second])
    assert static.find("/both.txt") == os.path.realpath(first / "both.txt")
    assert static.find("/only-b.txt") == os.path.realpath(second / "only-b.txt")
    assert static.find("/../a/both.txt") is None
