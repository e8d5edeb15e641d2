"""OpenAPI 3.1 for heron apps, and the docs page that shows it.

The document describes every HTTP route of an app from what heron already knows:
path templates, the typed parameters of each view (query, path, header, cookie,
body), its docstring, the ``response_model``, ``status_code``, ``tags``,
``responses`` and other options given to the route decorator, the routers it
is in, and the heron.auth guards that protect it.  Schemas come from pydantic,
in one pass, so that each model is described once in ``components/schemas``.

The app serves the document at the ``openapi_url`` setting and a docs page at
``docs_url`` (heron's own viewer; its script and stylesheet ship with heron).
See docs/api.md.

Importing the package is cheap (its plugin, ``heron.openapi.plugin``, is one of
heron's defaults); the generator and pydantic load on the first request for the
document or the page.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["openapi_schema"]

_documents: weakref.WeakKeyDictionary[App, dict[str, Any]] = weakref.WeakKeyDictionary()


def openapi_schema(app: App) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``, as a dict ready for JSON.

    Once the app has started its routes are fixed, so the document is made once
    and the same dict is returned afterwards: copy it before changing it.  Before
    startup it is made afresh on each call (the routes are compiled for it).

    Raises:
        ImproperlyConfigured: a route or view heron cannot compile (as at startup).
    """
    from heron.openapi._document import build_document

    document = _documents.get(app)
    if document is None:
        document = build_document(app)
        if _started(app):
            _documents[app] = document
    return document


def _started(app: App) -> bool:
    # The middleware stack is composed at startup, after which routes cannot change.
    return app.started
