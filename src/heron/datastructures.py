"""Containers for the parts of a request: headers, query strings, URLs, forms."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, NamedTuple, TypeVar
from urllib.parse import SplitResult, urlencode, urlsplit

__all__ = [
    "URL",
    "Address",
    "FormData",
    "Headers",
    "MultiDict",
    "MutableHeaders",
    "QueryParams",
    "State",
    "UploadFile",
]

T = TypeVar("T")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class Address(NamedTuple):
    """The client's (host, port) as reported by the server."""

    host: str
    port: int


class URL:
    """An immutable URL with its parts as attributes.

    >>> URL("https://example.com:8443/a?b=1").port
    8443
    """

    __slots__ = ("_parts", "_url")

    def __init__(self, url: str = "") -> None:
        self._url = url
        self._parts: SplitResult | None = None

    @classmethod
    def from_scope(cls, scope: Mapping[str, Any], host: str | None = None) -> URL:
        """Rebuild the URL the client asked for from an ASGI scope."""
        scheme = scope.get("scheme", "http")
        from heron._scope import full_path

        path = full_path(scope)
        query = scope.get("query_string", b"")
        if host is None:
            server = scope.get("server")
            if server:
                name, port = server
                default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme)
                host = name if port == default or port is None else f"{name}:{port}"
            else:
                host = "localhost"
        url = f"{scheme}://{host}{path}"
        if query:
            url += "?" + query.decode("latin-1")
        return cls(url)

    @property
    def parts(self) -> SplitResult:
        if self._parts is None:
            self._parts = urlsplit(self._url)
        return self._parts

    @property
    def scheme(self) -> str:
        return self.parts.scheme

    @property
    def netloc(self) -> str:
        return self.parts.netloc

    @property
    def hostname(self) -> str | None:
        return self.parts.hostname

    @property
    def port(self) -> int | None:
        return self.parts.port

    @property
    def path(self) -> str:
        return self.parts.path

    @property
    def query(self) -> str:
        return self.parts.query

    @property
    def fragment(self) -> str:
        return self.parts.fragment

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **kwargs: Any) -> URL:
        """A copy with some parts changed (``scheme``, ``netloc``, ``path``, ``query``...)."""
        return URL(self.parts._replace(**kwargs).geturl())

    def include_query_params(self, **params: Any) -> URL:
        """A copy with these query parameters set (replacing existing values)."""
        query = QueryParams(self.query)
        items = [(k, v) for k, v in query.multi_items() if k not in params]
        items += [(k, str(v)) for k, v in params.items()]
        return self.replace(query=urlencode(items))

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"URL({self._url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (str, URL)) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self._url)


class MultiDict(Mapping[str, Any]):
    """A read-only mapping that can hold several values for one key.

    ``d[key]`` and ``d.get(key)`` give the first value (``?a=1&a=2`` -> ``"1"``),
    as Werkzeug does; ``getlist(key)`` gives them all in order.
    """

    __slots__ = ("_dict", "_list")

    def __init__(self, items: Iterable[tuple[str, Any]] | Mapping[str, Any] = ()) -> None:
        if isinstance(items, MultiDict):
            pairs = list(items.multi_items())
        elif isinstance(items, Mapping):
            pairs = list(items.items())
        else:
            pairs = list(items)
        self._list = pairs
        # The first value of a key wins; keys keep the order they came in.
        self._dict: dict[str, Any] = {}
        for key, value in pairs:
            self._dict.setdefault(key, value)

    def getlist(self, key: str) -> list[Any]:
        """Every value for ``key`` (an empty list when absent)."""
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, Any]]:
        """All (key, value) pairs in order, repeated keys included."""
        return list(self._list)

    def __getitem__(self, key: str) -> Any:
        return self._dict[key]

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return sorted(self._list) == sorted(other._list)
        return super().__eq__(other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class QueryParams(MultiDict):
    """The decoded query string of a request, as a :class:`MultiDict`."""

    __slots__ = ()

    def __init__(
        self, query: str | bytes | Iterable[tuple[str, Any]] | Mapping[str, Any] = ()
    ) -> None:
        if isinstance(query, (str, bytes)):
            from heron._parsing import parse_query_string

            query = parse_query_string(query)
        super().__init__(query)

    def __str__(self) -> str:
        return urlencode(self._list)


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only view of HTTP headers; repeated names are kept.

    Built from the ASGI list of ``(name, value)`` byte pairs, decoded as latin-1
    on access.  ``headers["accept"]`` gives the first value; ``getlist`` gives all.
    """

    __slots__ = ("_raw",)

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        if raw is not None:
            self._raw = raw
        elif headers is not None:
            self._raw = [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            ]
        else:
            self._raw = []

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """The underlying ASGI header list."""
        return self._raw

    def getlist(self, key: str) -> list[str]:
        name = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self._raw if k == name]

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        # Mapping.get would go through __getitem__ and a KeyError for every absent
        # header, and most lookups (Origin, Authorization, Cookie...) find none.
        name = key.lower().encode("latin-1")
        for k, v in self._raw:
            if k == name:
                return v.decode("latin-1")
        return default

    def __getitem__(self, key: str) -> str:
        name = key.lower().encode("latin-1")
        for k, v in self._raw:
            if k == name:
                return v.decode("latin-1")
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name = key.lower().encode("latin-1")
        return any(k == name for k, _ in self._raw)

    def __iter__(self) -> Iterator[str]:
        seen: list[str] = []
        for k, _ in self._raw:
            name = k.decode("latin-1")
            if name not in seen:
                seen.append(name)
        return iter(seen)

    def __len__(self) -> int:
        return len({k for k, _ in self._raw})

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """Every (name, value) pair, repeated names included."""
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._raw]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.items()!r})"


class MutableHeaders(Headers):
    """Headers of a response being built; writes go straight to the ASGI list."""

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        """Set a header, replacing every existing value of that name."""
        name = _header_name(key)
        self._raw[:] = [(k, v) for k, v in self._raw if k != name]
        self._raw.append((name, _header_value(value)))

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        self._raw[:] = [(k, v) for k, v in self._raw if k != name]

    def append(self, key: str, value: str) -> None:
        """Add a header, keeping existing values of that name (``Set-Cookie``)."""
        self._raw.append((_header_name(key), _header_value(value)))

    def setdefault(self, key: str, value: str) -> str:  # type: ignore[override]
        if key in self:
            return self[key]
        self.append(key, value)
        return value

    def update(self, other: Mapping[str, str]) -> None:
        for key, value in other.items():
            self[key] = value

    def add_vary(self, *names: str) -> None:
        """Add header names to ``Vary`` unless already listed (caches must key on them)."""
        raw = self._raw
        for index, (key, value) in enumerate(raw):
            if key == b"vary":
                listed = {v.strip().lower() for v in value.decode("latin-1").split(",")}
                missing = [n for n in names if n.lower() not in listed]
                if missing:
                    joined = value.decode("latin-1") + ", " + ", ".join(missing)
                    raw[index] = (b"vary", joined.encode("latin-1"))
                return
        raw.append((b"vary", ", ".join(names).encode("latin-1")))


def _header_name(key: str) -> bytes:
    if not _TOKEN.fullmatch(key):
        raise ValueError(f"Invalid header name {key!r} (header injection?).")
    return key.lower().encode("latin-1")


def _header_value(value: str) -> bytes:
    if "\r" in value or "\n" in value:
        raise ValueError("Header values must not contain line breaks (header injection).")
    return value.encode("latin-1")


class State:
    """A free-form attribute bag (``request.state.user = ...``, ``app.state.db``)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"State has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"State({self.__dict__!r})"


class UploadFile:
    """A file sent in a multipart form, spooled to disk above ``max_memory`` bytes."""

    def __init__(
        self,
        filename: str | None,
        content_type: str = "application/octet-stream",
        headers: Headers | None = None,
        max_memory: int = 1024 * 1024,
    ) -> None:
        self.filename = filename
        self.content_type = content_type
        self.headers = headers or Headers()
        self.size = 0
        # Open for the life of the request; FormData.close() closes it.
        import tempfile

        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=max_memory)  # noqa: SIM115

    def write(self, data: bytes) -> None:
        self.size += len(data)
        self.file.write(data)

    async def read(self, size: int = -1) -> bytes:
        """Read from the file without blocking the event loop."""
        from heron.concurrency import run_in_threadpool

        return await run_in_threadpool(self.file.read, size)

    async def seek(self, offset: int) -> None:
        from heron.concurrency import run_in_threadpool

        await run_in_threadpool(self.file.seek, offset)

    async def save(self, path: str | os.PathLike[str]) -> None:
        """Copy the upload to ``path`` (never trust ``filename`` as a path)."""
        from heron.concurrency import run_in_threadpool

        def copy() -> None:
            self.file.seek(0)
            with open(path, "wb") as out:
                while chunk := self.file.read(64 * 1024):
                    out.write(chunk)

        await run_in_threadpool(copy)

    def close(self) -> None:
        self.file.close()

    def __repr__(self) -> str:
        return f"UploadFile(filename={self.filename!r}, size={self.size})"


class FormData(MultiDict):
    """A parsed form: text fields are ``str``, files are :class:`UploadFile`."""

    __slots__ = ()

    def files(self) -> Sequence[UploadFile]:
        return [v for _, v in self._list if isinstance(v, UploadFile)]

    def close(self) -> None:
        """Remove the temporary files of every upload."""
        for upload in self.files():
            upload.close()
