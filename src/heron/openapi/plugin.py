"""heron.openapi as a plug-in: its settings section, and the routes of the document
(``openapi_url``) and the docs page (``docs_url``).  The views import the generator
on first request, so that apps which never serve their schema never load it.

By default (``openapi_enabled=None``) both are served only by an app with a typed
API (a route in API mode, with a JSON body parameter or a response model) or with
debug on: a site of HTML pages does not publish the list of its routes."""

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

    #: Serve the document and the docs page: ``None`` when the app has a typed API
    #: route (API mode, a JSON body parameter or a response model) or debug is on,
    #: ``True`` always, ``False`` never.
    openapi_enabled: bool | None = None
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
        "operation_id", "raises",
    })

    def routes(self, app: App) -> None:
        settings = app.settings
        if settings.openapi_url is None or settings.openapi_enabled is False:
            return
        own = [item for item in app.router.flatten(app.converters) if isinstance(item, Route)]
        if settings.openapi_enabled is None and not settings.debug \
                and not any(_is_api(route) for route in own):
            return
        # The app's own routes win: nothing is added at (or, for the docs, under) their paths.
        taken = {route.path for route in own}
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

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        """A route's ``raises=`` that is not a list of 4xx/5xx statuses (heron.openapi.E001)."""
        problems = []
        for route in app.router.flatten(app.converters):
            if not isinstance(route, Route) or "raises" not in route.options:
                continue
            raises = route.options["raises"]
            if not isinstance(raises, (list, tuple, set, frozenset)) or not all(
                    type(code) is int and 400 <= code <= 599 for code in raises):
                problems.append(ImproperlyConfigured(
                    f"{route.describe()} at {route.path}: raises={raises!r} must list the "
                    "error statuses the view may answer, as integers from 400 to 599 "
                    "(raises=[404, 409])", id="heron.openapi.E001"))
        return problems

    def deploy_checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        """The API's document and docs page turned on (``openapi_enabled=True``) in an
        app without an API (heron.openapi.W001): they only map its pages for whoever
        looks.  By default such an app serves them only with debug on, which
        heron.deploy.E001 reports."""
        settings = app.settings
        if settings.openapi_url is None or settings.openapi_enabled is not True \
                or any(_is_api(r) for r in app.compiled_routes()):
            return []
        served = [settings.openapi_url] + (
            [settings.docs_url] if settings.docs_url is not None else [])
        return [ImproperlyConfigured(
            f"openapi_enabled is on, so the app serves its OpenAPI document "
            f"({' and the docs page '.join(served)}), but it has no typed API route (one in "
            "API mode, with a JSON body parameter or a response model), so they list its "
            "pages for anyone. Unset HERON_OPENAPI_ENABLED (or remove openapi_enabled=True): "
            "then only an app with an API, or debug, serves them", id="heron.openapi.W001")]


def _is_api(route: Route) -> bool:
    """Whether a route is part of a typed JSON API: in the schema, and in API mode
    (``Router(api=True)``), with a JSON body parameter or with a response model (an
    HTML page or form view has none of these)."""
    if route.is_websocket or route.options.get("include_in_schema", True) is False:
        return False
    if route.api:
        return True
    from heron.params import analyse, response_model

    try:
        if response_model(route.endpoint, route.options) is not None:
            return True
        # Before the routes compile (the routes hook) the plan is not made yet.
        plan = route.plan or analyse(route.endpoint, route.template.converters,
                                     f"View {route.describe()} for {route.path}")
    except ImproperlyConfigured:
        return False  # the view's own startup error reports it
    return any(p.source == "body" for p in plan.all_parameters())


plugin = OpenAPIPlugin
