"""Flash messages: a note stored in the session for the next page to show.

>>> flash(request, "Saved.")                     # then redirect
>>> get_flashed_messages(request)                # on the next page: ["Saved."]

Messages are plain text and always escaped when rendered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, overload

from heron.plugins import Plugin

if TYPE_CHECKING:
    from heron.app import App
    from heron.requests import HTTPConnection

__all__ = ["FlashPlugin", "Messages", "flash", "get_flashed_messages"]

SESSION_KEY = "_flashes"
_TAKEN = "heron.flashes"


def flash(conn: HTTPConnection, message: str, category: str = "info") -> None:
    """Queue ``message`` for the next page that reads flashed messages."""
    queued = conn.session.get(SESSION_KEY)
    queued = list(queued) if isinstance(queued, list) else []
    queued.append([str(category), str(message)])
    conn.session[SESSION_KEY] = queued


def _take(conn: HTTPConnection) -> list[tuple[str, str]]:
    # Read once per request: later calls in the same request see the same list.
    taken = conn.scope.get(_TAKEN)
    if taken is None:
        queued = conn.session.get(SESSION_KEY) if _may_have(conn) else None
        taken = []
        if isinstance(queued, list):
            taken = [(str(i[0]), str(i[1])) for i in queued
                     if isinstance(i, list) and len(i) == 2]
            del conn.session[SESSION_KEY]
        conn.scope[_TAKEN] = taken
    return taken  # type: ignore[no-any-return]


def _may_have(conn: HTTPConnection) -> bool:
    # A client without a session cookie has no messages: do not create a session.
    return conn._session is not None or conn.app.sessions.cookie_name in conn.cookies


@overload
def get_flashed_messages(conn: HTTPConnection, with_categories: Literal[False] = ...,
                         category_filter: Iterable[str] = ...) -> list[str]: ...
@overload
def get_flashed_messages(conn: HTTPConnection, with_categories: Literal[True],
                         category_filter: Iterable[str] = ...) -> list[tuple[str, str]]: ...
def get_flashed_messages(conn: HTTPConnection, with_categories: bool = False,
                         category_filter: Iterable[str] = ()) -> list[Any]:
    """The queued messages, removed from the session (so they show exactly once).

    Args:
        with_categories: return ``(category, message)`` pairs.
        category_filter: only messages of these categories.
    """
    taken = _take(conn)
    wanted = set(category_filter)
    if wanted:
        taken = [item for item in taken if item[0] in wanted]
    return list(taken) if with_categories else [message for _, message in taken]


class Messages:
    """``messages`` in templates: iterating takes the flashed messages.

    Each item has ``.category`` and ``.message`` and renders as the message.
    """

    def __init__(self, conn: HTTPConnection) -> None:
        self._conn = conn

    def __iter__(self) -> Iterator[Message]:
        return iter([Message(c, m) for c, m in _take(self._conn)])

    def __bool__(self) -> bool:
        return bool(_take(self._conn))

    def __len__(self) -> int:
        return len(_take(self._conn))


class Message:
    __slots__ = ("category", "message")

    def __init__(self, category: str, message: str) -> None:
        self.category = category
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"Message({self.category!r}, {self.message!r})"


class FlashPlugin(Plugin):
    """``messages`` and ``get_flashed_messages()`` in every template."""

    name = "heron.flash"

    def setup(self, app: App) -> None:
        def messages(conn: HTTPConnection) -> dict[str, Any]:
            return {"messages": Messages(conn)}

        app.context_processors.insert(0, messages)  # the app's own processors may override

    def template_globals(self, app: App) -> dict[str, Any]:
        import jinja2

        from heron.templating import request_from_context

        @jinja2.pass_context
        def flashed(context: Any, with_categories: bool = False,
                    category_filter: tuple[str, ...] | list[str] = ()) -> list[Any]:
            found: list[Any] = get_flashed_messages(
                request_from_context(context), with_categories,  # type: ignore[call-overload]
                category_filter)
            return found

        return {"get_flashed_messages": flashed}


plugin = FlashPlugin
