"""Jinja2 templates: ``render(request, "page.html", title=...)``.

Templates are looked up in the app's ``templates/`` folder, then in each
component's, in the order the components were given, so the app overrides
any component and an earlier component a later one.  Autoescaping is on for
``.html``, ``.htm``, ``.xml`` and ``.jinja`` files.  See docs/templates.md.

The names load Jinja2 on first use, not when the package is imported: its
plugin and settings section (:mod:`heron.templating.plugin`) are part of every app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron._lazy import lazy_exports

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


__getattr__ = lazy_exports(__name__, dict.fromkeys(__all__, "heron.templating._templates"))
