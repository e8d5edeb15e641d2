"""heron.openapi as a plug-in: its settings section, and the routes of the document
(``openapi_url``) and the docs page (``docs_url``).  The views import the generator
on first request, so that apps which never serve their schema never load it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from heron.exceptions import ImproperlyConfigured
from heron.plugins import Plugin
from heron.requests import Request
from heron.routing import Route
from heron.settings import settings_section

if TYPE_CHECKING:
    from heron.app import App


async def openapi_document(request: Request) -> Any:
    from heron.openapi.views import openapi_document as view

    return await view(request)


async def docs_page(request: Request) -> Any:
    from heron.openapi.views import docs_page as view

    return await view(request)


async def docs_asset(request: Request, name: str) -> Any:
    from heron.openapi.views import docs_asset as view

    return await view(request, name)


@settings_section
class OpenAPISettings:
    """heron.openapi's settings (docs/api.md)."""

    #: Where the OpenAPI 3.1 document is served; ``None``: not served.
    openapi_url: str | None = "/openapi.json"
    #: Where the API docs page is served (its assets ship with heron); ``None``: not served.
    docs_url: str | None = "/docs"
    #: The API's title and version in the OpenAPI document.
    openapi_title: str = "heron API"
    openapi_version: str = "0.1.0"


class OpenAPIPlugin(Plugin):
    """Serves the OpenAPI document at ``openapi_url`` and the docs page at ``docs_url``.

    """

    name = "heron.openapi"
    settings = OpenAPISettings
    route_options = frozenset({
        "tags", "summary", "description", "responses", "deprecated", "include_in_schema",
        "operation_id",
    })

    def routes(self, app: App) -> None:
        settings = app.settings
        if settings.openapi_url is None:
            return
        # The app's own routes win: nothing is added at (or, for the docs, under) their paths.
        taken = {item.path for item in app.router.flatten(app.converters)
                 if isinstance(item, Route)}
        if settings.openapi_url not in taken:
            app.router.add_route(settings.openapi_url, openapi_document, ["GET"],
                                 "heron_openapi", include_in_schema=False)
        if settings.docs_url is not None:
            docs = settings.docs_url.rstrip("/") or "/"
            if not any(path == docs or path.startswith(docs.rstrip("/") + "/")
                       for path in taken):
                app.router.add_route(docs, docs_page, ["GET"], "heron_docs",
                                     include_in_schema=False)
                app.router.add_route(docs.rstrip("/") + "/assets/{name}", docs_asset,
                                     ["GET"], "heron_docs_asset", include_in_schema=False)

    def deploy_checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        """The API's document and docs page served by an app without an API
        (heron.openapi.W001): they only map its pages for whoever looks."""
        settings = app.settings
        if settings.openapi_url is None or any(_is_api(r) for r in app.compiled_routes()):
            return []
        served = [settings.openapi_url] + (
            [settings.docs_url] if settings.docs_url is not None else [])
        return [ImproperlyConfigured(
            f"The app serves its OpenAPI document ({' and the docs page '.join(served)}) but "
            "has no typed API route (one with a JSON body parameter or a response model), so "
            "they list its pages for anyone. Set HERON_OPENAPI_URL= (empty: not served), "
            "or openapi_url=None", id="heron.openapi.W001")]


def _is_api(route: Route) -> bool:
    """Whether a route is part of a typed JSON API: in the schema, with a JSON body
    parameter or a response model (an HTML page or form view has neither)."""
    if route.is_websocket or route.options.get("include_in_schema", True) is False:
        return False
    if route.plan is not None and any(p.source == "body" for p in route.plan.all_parameters()):
        return True
    from heron.params import response_model

    return response_model(route.endpoint, route.options) is not None


plugin = OpenAPIPlugin
