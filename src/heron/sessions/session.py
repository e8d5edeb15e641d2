"""``request.session``: a dict that remembers whether it changed."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

__all__ = ["Session"]


class Session(MutableMapping[str, Any]):
    """The data a client keeps between requests, saved only when modified.

    Values must be JSON-serialisable.  Changing a value in place
    (``session["cart"].append(3)``) is not noticed: set
    ``session.modified = True`` afterwards, or assign the value again.

    Attributes:
        key: the server-side key (``None`` for cookie sessions and new ones).
        modified: True once the data changed; the response then saves it.
        is_new: True when the client sent no valid session.
    """

    __slots__ = ("_data", "cycled", "flushed", "invalid", "is_new", "key", "modified")

    def __init__(self, data: dict[str, Any] | None = None, key: str | None = None,
                 *, invalid: bool = False) -> None:
        self._data: dict[str, Any] = data if data is not None else {}
        self.key = key
        self.is_new = data is None
        self.invalid = invalid
        self.modified = False
        self.cycled = False
        self.flushed = False

    def __getitem__(self, name: str) -> Any:
        return self._data[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self._data[name] = value
        self.modified = True

    def __delitem__(self, name: str) -> None:
        del self._data[name]
        self.modified = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def get(self, name: str, default: Any = None) -> Any:
        return self._data.get(name, default)

    def clear(self) -> None:
        if self._data:
            self._data.clear()
            self.modified = True

    def cycle_key(self) -> None:
        """Keep the data under a new key: call it on login (no session fixation).

        The CSRF secret is dropped too, so tokens issued before the login stop working.
        """
        self._data.pop("_csrf", None)
        self.cycled = True
        self.modified = True

    def flush(self) -> None:
        """Forget the data and the key: call it on logout."""
        self._data.clear()
        self.flushed = True
        self.modified = True

    def to_dict(self) -> dict[str, Any]:
        """A shallow copy of the data."""
        return dict(self._data)

    def __repr__(self) -> str:
        return f"<Session keys={sorted(self._data)!r} modified={self.modified}>"
