"""Paths from an ASGI scope, under either reading of ``root_path``.

The ASGI spec (and uvicorn since 0.26) puts the mount prefix ``root_path``
inside ``path``; some servers and older code send ``path`` without it.  These
helpers accept both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def full_path(scope: Mapping[str, Any]) -> str:
    """The path the client asked for, mount prefix included."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and not path.startswith(root):
        return root + path
    return path


def route_path(scope: Mapping[str, Any]) -> str:
    """The path within this app: ``path`` without the ``root_path`` prefix."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root):] or "/"
    return path
