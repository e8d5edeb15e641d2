"""Jinja2 templates: ``render(request, "page.html", title=...)``.

Templates are looked up in the app's ``templates/`` folder, then in each
component's, in the order the components were given, so the app overrides
any component and an earlier component a later one.  Autoescaping is on for
``.html``, ``.htm``, ``.xml`` and ``.jinja`` files.  See docs/templates.md.

The names load Jinja2 on first use, not when the package is imported: its
plugin and settings section (:mod:`heron.templating.plugin`) are part of every app.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from heron.templating._templates import (
        Markup,
        TemplateNotFound,
        Templates,
        render,
        render_async,
        request_from_context,
    )

__all__ = [
    "Markup", "TemplateNotFound", "Templates", "render", "render_async", "request_from_context",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'heron.templating' has no attribute {name!r}")
    value = getattr(importlib.import_module("heron.templating._templates"), name)
    globals()[name] = value
    return value
