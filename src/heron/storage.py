"""Where uploaded files are kept: a small async interface and a local-disk default.

``await get_storage(app).save(upload, folder="avatars")`` stores an upload under a
name heron makes up (``avatars/4fJ0...Qw.png``): random, so that nobody can guess
another user's file or overwrite one, and never built from the path the client
sent, of which only a cleaned-up extension is kept.  The ``storage_backend``
setting picks the backend: ``filesystem`` (the ``media_dir`` folder) or
``package.module:Class`` of your own :class:`Storage`.  See docs/forms.md.

The methods are coroutines, as heron's internals are; from a ``def`` view call them
through ``heron.run_async(...)``.
"""

from __future__ import annotations

import abc
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from heron.concurrency import run_in_threadpool
from heron.datastructures import UploadFile
from heron.exceptions import ImproperlyConfigured
from heron.plugins import Plugin
from heron.settings import settings_section

if TYPE_CHECKING:
    from heron.app import App

__all__ = [
    "FileSystemStorage",
    "Storage",
    "StoragePlugin",
    "StorageSettings",
    "SuspiciousName",
    "backend_class",
    "get_storage",
    "new_name",
    "safe_extension",
]

_EXTENSION = re.compile(r"\.[a-z0-9]{1,16}")
_FOLDER_PART = re.compile(r"[A-Za-z0-9_-]{1,100}")
_STORED_PART = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_CHUNK = 64 * 1024
Content = UploadFile | bytes | IO[bytes]


@settings_section
class StorageSettings:
    """heron.storage's settings: where uploads are kept and served from."""

    #: Folder (relative to the app's root) where the default storage keeps uploaded files.
    media_dir: str = "media"
    #: URL prefix under which stored uploads are served (``storage.url(name)``).
    media_url: str = "/media"
    #: Where uploads are stored: ``filesystem`` (``media_dir``) or ``package.module:Class``
    #: of your own :class:`heron.storage.Storage`.
    storage_backend: str = "filesystem"


class SuspiciousName(ValueError):
    """A stored-file name or folder that could reach outside the storage (``..``,
    an absolute path, odd characters)."""


def safe_extension(filename: str | None) -> str:
    """The extension of a client's file name, lower-cased, if it is plain
    (``"Photo.JPG"`` -> ``".jpg"``); ``""`` for none or anything odd."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    extension = os.path.splitext(base)[1].lower()
    return extension if _EXTENSION.fullmatch(extension) else ""


def _check_folder(folder: str) -> list[str]:
    parts = folder.rstrip("/").split("/") if folder else []
    if any(not _FOLDER_PART.fullmatch(part) for part in parts):
        raise SuspiciousName(f"Folder {folder!r} may use letters, digits, '_' and '-' only")
    return parts


def new_name(filename: str | None = None, folder: str = "") -> str:
    """A fresh random name for a file, keeping the safe extension of ``filename``:
    ``new_name("../../cv.PDF", "cvs")`` -> ``"cvs/hV3...9w.pdf"``.

    Raises:
        SuspiciousName: a folder with anything but letters, digits, ``_`` and ``-``.
    """
    parts = _check_folder(folder)
    return "/".join([*parts, secrets.token_urlsafe(18) + safe_extension(filename)])


def check_name(name: str) -> list[str]:
    """The parts of a stored file's name.

    Raises:
        SuspiciousName: for ``..``, absolute paths, backslashes, NUL or odd characters.
    """
    parts = name.split("/")
    if not name or any(part in ("", ".", "..") or not _STORED_PART.fullmatch(part)
                       for part in parts):
        raise SuspiciousName(f"{name!r} is not the name of a stored file")
    return parts


class Storage(abc.ABC):
    """Keeps files under names it makes up.  Subclass it for another place (a bucket).

    A backend named in the ``storage_backend`` setting is made with
    :meth:`from_app`.
    """

    @classmethod
    def from_app(cls, app: App) -> Storage:
        """The backend configured for ``app`` (override to read your own settings)."""
        return cls()

    @abc.abstractmethod
    async def save(self, content: Content, *, filename: str | None = None,
                   folder: str = "") -> str:
        """Store ``content`` (an upload, bytes or a binary file) under a new name, and
        return the name.  ``filename`` (default: the upload's) gives only the extension.
        """

    @abc.abstractmethod
    async def open(self, name: str) -> IO[bytes]:
        """The stored file, opened for reading (close it when done).

        Raises:
            FileNotFoundError: there is no such file.
        """

    @abc.abstractmethod
    async def delete(self, name: str) -> None:
        """Remove the file; a missing one is not an error."""

    @abc.abstractmethod
    async def exists(self, name: str) -> bool:
        """Whether a file of that name is stored."""

    @abc.abstractmethod
    async def size(self, name: str) -> int:
        """The file's size in bytes."""

    @abc.abstractmethod
    def url(self, name: str) -> str:
        """The URL the file is served at."""


def _chunks(content: Content) -> Iterator[bytes]:
    if isinstance(content, bytes):
        yield content
        return
    stream = content.file if isinstance(content, UploadFile) else content
    if stream.seekable():
        stream.seek(0)
    while chunk := stream.read(_CHUNK):
        yield chunk


class FileSystemStorage(Storage):
    """Files in a folder of the local disk, served under ``base_url``.

    Args:
        location: the folder (made when the first file is saved).
        base_url: the URL prefix of :meth:`url` (the ``media_url`` setting).
    """

    def __init__(self, location: str | os.PathLike[str], base_url: str = "/media") -> None:
        self.location = Path(location).resolve()
        self.base_url = base_url.rstrip("/")

    @classmethod
    def from_app(cls, app: App) -> FileSystemStorage:
        return cls(app.root / app.settings.media_dir, app.settings.media_url)

    def path(self, name: str) -> Path:
        """Where ``name`` is on disk (always inside :attr:`location`).

        Raises:
            SuspiciousName: for a name that could lead elsewhere.
        """
        path = self.location.joinpath(*check_name(name))
        if not path.resolve().is_relative_to(self.location):
            raise SuspiciousName(f"{name!r} leads outside the storage folder")
        return path

    def _write(self, content: Content, name: str) -> None:
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: a name is never reused, even if two saves drew the same one.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        descriptor = os.open(path, flags, 0o644)
        try:
            with os.fdopen(descriptor, "wb") as out:
                for chunk in _chunks(content):
                    out.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    async def save(self, content: Content, *, filename: str | None = None,
                   folder: str = "") -> str:
        if filename is None and isinstance(content, UploadFile):
            filename = content.filename
        name = new_name(filename, folder)
        await run_in_threadpool(self._write, content, name)
        return name

    async def open(self, name: str) -> IO[bytes]:
        path = self.path(name)
        return await run_in_threadpool(path.open, "rb")

    async def delete(self, name: str) -> None:
        await run_in_threadpool(self.path(name).unlink, missing_ok=True)

    async def exists(self, name: str) -> bool:
        return await run_in_threadpool(self.path(name).is_file)

    async def size(self, name: str) -> int:
        stat = await run_in_threadpool(self.path(name).stat)
        return stat.st_size

    def url(self, name: str) -> str:
        check_name(name)
        return f"{self.base_url}/{quote(name)}"


_BACKENDS: dict[str, type[Storage]] = {"filesystem": FileSystemStorage}


def get_storage(app: App) -> Storage:
    """The app's storage, made from the ``storage_backend`` setting on first use.

    Raises:
        ImproperlyConfigured: the setting names no Storage class (heron.storage.E001).
    """
    storage: Storage | None = app.extensions.get("heron.storage")
    if storage is None:
        storage = app.extensions["heron.storage"] = backend_class(
            app.settings.storage_backend).from_app(app)
    return storage


def backend_class(name: str) -> type[Storage]:
    """The :class:`Storage` class ``storage_backend`` names: ``filesystem`` or
    ``package.module:Class``.

    Raises:
        ImproperlyConfigured: the name is neither (heron.storage.E001).
    """
    cls: Any = _BACKENDS.get(name)
    if cls is None:
        from heron._discovery import import_string

        try:
            cls = import_string(name)
        except (ImportError, AttributeError, ValueError):
            cls = None
    if not (isinstance(cls, type) and issubclass(cls, Storage)):
        raise ImproperlyConfigured(
            f"storage_backend {name!r} is not 'filesystem' or a Storage subclass "
            "(package.module:Class)", id="heron.storage.E001")
    return cls


class StoragePlugin(Plugin):
    """heron.storage in an app: the storage settings, and a ``storage_backend`` that
    names no :class:`Storage` class reported at startup (heron.storage.E001)."""

    name = "heron.storage"
    settings = StorageSettings

    def checks(self, app: App) -> list[ImproperlyConfigured]:
        try:
            backend_class(app.settings.storage_backend)
        except ImproperlyConfigured as exc:
            return [exc]
        return []


plugin = StoragePlugin
