"""heron.storage: uploads kept under safe generated names, and pluggable backends."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from forms_helpers import upload

from heron import App, ImproperlyConfigured
from heron.storage import (
    FileSystemStorage,
    Storage,
    SuspiciousName,
    get_storage,
    new_name,
    safe_extension,
)

AppFactory = Callable[..., App]
NAME = re.compile(r"[A-Za-z0-9_-]{24}")


@pytest.mark.parametrize(
    ("filename", "extension"),
    [("photo.JPG", ".jpg"), ("../../etc/passwd", ""), ("..\\x.txt", ".txt"),
     ("archive.tar.gz", ".gz"), ("evil.php%00.png", ".png"), ("a.b c", ""), ("noext", ""),
     (".htaccess", ""), ("x." + "a" * 17, ""), (None, ""), ("", "")],
)
def test_only_a_plain_extension_of_the_clients_name_is_kept(filename: str | None,
                                                           extension: str) -> None:
    assert safe_extension(filename) == extension
    name = new_name(filename)
    assert NAME.fullmatch(name.removesuffix(extension))
    assert new_name(filename) != name


def test_folders_are_checked() -> None:
    assert new_name("a.pdf", "slides/2024").startswith("slides/2024/")
    for folder in ("../x", "/etc", "a/../b", "a b", "a\\b", "é"):
        with pytest.raises(SuspiciousName):
            new_name("a.pdf", folder)


async def test_filesystem_storage_round_trip(tmp_path: Path) -> None:
    storage = FileSystemStorage(tmp_path / "media", "/media/")
    sent = upload("../../etc/passwd.PDF", b"%PDF-1.4 data", "application/pdf")
    name = await storage.save(sent, folder="slides")
    assert re.fullmatch(r"slides/[A-Za-z0-9_-]{24}\.pdf", name)
    assert storage.path(name) == tmp_path / "media" / name
    assert (tmp_path / "media" / name).read_bytes() == b"%PDF-1.4 data"
    assert not (tmp_path / "etc").exists()
    assert await storage.exists(name)
    assert await storage.size(name) == 13
    assert storage.url(name) == f"/media/{name}"
    with await storage.open(name) as stored:
        assert stored.read() == b"%PDF-1.4 data"
    await storage.delete(name)
    assert not await storage.exists(name)
    await storage.delete(name)  # already gone: fine
    with pytest.raises(FileNotFoundError):
        await storage.open(name)


async def test_bytes_and_file_objects_can_be_saved(tmp_path: Path) -> None:
    storage = FileSystemStorage(tmp_path)
    from_bytes = await storage.save(b"abc", filename="a.txt")
    from_file = await storage.save(io.BytesIO(b"x" * 200_000), filename="big.bin")
    assert from_bytes.endswith(".txt")
    assert from_file.endswith(".bin")
    assert await storage.size(from_file) == 200_000


async def test_a_large_spooled_upload_is_copied_whole(tmp_path: Path) -> None:
    data = bytes(range(256)) * 8192  # 2 MB, on disk past the 64 KB spool
    sent = upload("big.bin", data, spool=64 * 1024)
    assert sent.file._rolled  # type: ignore[attr-defined]
    name = await FileSystemStorage(tmp_path).save(sent)
    assert (tmp_path / name).read_bytes() == data


@pytest.mark.parametrize("name", ["../outside.txt", "/etc/passwd", "a/../../b", "a\\..\\b",
                                  "", "a//b", "x\x00y", "./a", "sub/"])
async def test_names_that_could_leave_the_folder_are_refused(tmp_path: Path, name: str) -> None:
    storage = FileSystemStorage(tmp_path / "media")
    for call in (storage.open, storage.delete, storage.exists, storage.size):
        with pytest.raises(SuspiciousName):
            await call(name)
    with pytest.raises(SuspiciousName):
        storage.url(name)


async def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (media / "link.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(SuspiciousName):
        await FileSystemStorage(media).open("link.txt")


def test_the_app_storage_comes_from_settings(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app(media_dir="uploads", media_url="/files")
    storage = get_storage(app)
    assert isinstance(storage, FileSystemStorage)
    assert storage.location == tmp_path / "uploads"
    assert storage.url("a.txt") == "/files/a.txt"
    assert get_storage(app) is storage


class MemoryStorage(Storage):
    """A backend of a project's own, for the setting's test."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    async def save(self, content: Any, *, filename: str | None = None, folder: str = "") -> str:
        name = new_name(filename or getattr(content, "filename", None), folder)
        self.files[name] = content if isinstance(content, bytes) else await content.read()
        return name

    async def open(self, name: str) -> IO[bytes]:
        return io.BytesIO(self.files[name])

    async def delete(self, name: str) -> None:
        self.files.pop(name, None)

    async def exists(self, name: str) -> bool:
        return name in self.files

    async def size(self, name: str) -> int:
        return len(self.files[name])

    def url(self, name: str) -> str:
        return f"memory://{name}"


async def test_a_storage_of_ones_own_is_plugged_in_by_setting(make_app: AppFactory) -> None:
    app = make_app(storage_backend=f"{__name__}:MemoryStorage")
    storage = get_storage(app)
    assert isinstance(storage, MemoryStorage)
    name = await storage.save(upload("a.txt", b"hi"))
    assert storage.files[name] == b"hi"


@pytest.mark.parametrize("backend", ["s3", "heron.nothing:Storage", "heron.storage:new_name"])
def test_a_bad_storage_backend_is_a_clear_error(make_app: AppFactory, backend: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"heron.storage.E001"):
        get_storage(make_app(storage_backend=backend))
