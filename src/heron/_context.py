"""The scope of the request being handled, for batteries that need it implicitly.

``db.session`` finds its request through this context variable.  An app sets
it per request only when one of its plugins says it reads it
(:meth:`heron.plugins.Plugin.needs_request_context`), so plain apps do not pay for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

__all__ = ["CLEANUP_KEY", "add_cleanup", "current_scope", "run_cleanups"]

current_scope: ContextVar[MutableMapping[str, Any] | None] = ContextVar("heron_scope", default=None)
CLEANUP_KEY = "heron.cleanup"


def add_cleanup(scope: MutableMapping[str, Any], func: Callable[[bool], Awaitable[None]]) -> None:
    """Run ``await func(failed)`` when the request (or context) ends."""
    scope.setdefault(CLEANUP_KEY, []).append(func)


async def run_cleanups(scope: MutableMapping[str, Any], failed: bool) -> None:
    cleanups = scope.pop(CLEANUP_KEY, None)
    if not cleanups:
        return
    import logging

    for func in reversed(cleanups):
        try:
            await func(failed)
        except Exception:  # one failing cleanup must not skip the others
            logging.getLogger("heron.error").exception("A request cleanup failed")
