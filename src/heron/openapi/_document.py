"""The OpenAPI 3.1 document of an app, built from its compiled routes.

Everything comes from what heron analysed at startup: each route's path
template, options and :class:`heron.params.Plan`; the docstring of its view;
the routers it was declared in.  Schemas are made by :class:`SchemaSet` in one
pydantic pass at the end.
"""

from __future__ import annotations

import inspect
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from heron._dispatch import _find_handler as find_error_handler
from heron.converters import FloatConverter, IntConverter, UUIDConverter
from heron.exceptions import HTTPException, RequestValidationError
from heron.openapi._schemas import SchemaSet, jsonable
from heron.params import _EMPTY, Parameter, _bare, _is_form, _type_hints
from heron.params import response_model as params_response_model
from heron.routing import view_hooks

if TYPE_CHECKING:
    from heron.app import App
    from heron.converters import Converter
    from heron.routing import Route

__all__ = ["build_document"]

OPENAPI_VERSION = "3.1.0"
_TEMPLATE_PARAM = re.compile(r"{([^{}:]*)(?::[^{}]*)?}")
_DOCUMENTED = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD")
_NO_CONTENT = frozenset({204, 205, 304})
_SECURITY: list[dict[str, list[str]]] = [{"sessionCookie": []}, {"bearerAuth": []}]
_UNSET: Any = object()
_HANDLED: Any = object()  # an error handler of the app's, with no declared shape

_PROBLEM_PROPERTIES: dict[str, Any] = {
    "type": {"type": "string", "description": "A URI naming the kind of problem.",
             "default": "about:blank"},
    "title": {"type": "string", "description": "The HTTP status phrase."},
    "status": {"type": "integer", "description": "The HTTP status code."},
    "detail": {"description": "What went wrong, for people."},
}


def _problem() -> dict[str, Any]:
    return {
        "title": "Problem",
        "description": "An error, as RFC 9457 problem details (heron's JSON error format).",
        "type": "object",
        "properties": {**_PROBLEM_PROPERTIES,
                       "reference": {"type": "string",
                                     "description": "Quote it to the site's staff (500)."}},
        "required": ["type", "title", "status"],
    }


def _validation_problem() -> dict[str, Any]:
    error = {
        "type": "object",
        "properties": {
            "location": {"type": "string", "enum": ["path", "query", "header", "cookie", "body"],
                         "description": "Where the invalid value was."},
            "field": {"type": "string", "description": "The parameter's name, or the dotted "
                      "path of a body field (items.0.price); empty for the whole body."},
            "message": {"type": "string", "description": "What is wrong, for people."},
            "type": {"type": "string", "description": "A stable code: missing, int_parsing, "
                     "greater_than_equal... (pydantic's error types)."},
        },
        "required": ["location", "field", "message", "type"],
    }
    return {
        "title": "ValidationProblem",
        "description": "422: the request's parameters or body are invalid; `errors` lists "
                       "each problem.",
        "type": "object",
        "properties": {**_PROBLEM_PROPERTIES,
                       "detail": {"type": "string"},
                       "errors": {"type": "array", "items": error}},
        "required": ["type", "title", "status", "detail", "errors"],
    }


def openapi_path(path: str) -> str:
    """``/posts/{id:int}`` -> ``/posts/{id}``."""
    return _TEMPLATE_PARAM.sub(r"{\1}", path)


def _phrase(status: int | str) -> str:
    try:
        return HTTPStatus(int(status)).phrase
    except ValueError:
        return "Response"


def response_model(route: Route) -> Any:
    """The model a route's answers are validated with (``None``: none)."""
    return params_response_model(route.endpoint, route.options)


def is_guarded(route: Route) -> bool:
    """Whether a heron.auth guard (login_required...) protects the route."""
    # Guards (heron.auth's login_required...) mark themselves requires_authentication.
    hooks = [*view_hooks(route.endpoint),
             *(func for router in route.routers for func in router.before_request_funcs)]
    return any(getattr(hook, "requires_authentication", False) for hook in hooks)


def _docstring(endpoint: Any) -> tuple[str | None, str | None]:
    """(first line, the rest) of a view's docstring."""
    doc = inspect.getdoc(endpoint) if inspect.isroutine(endpoint) else None
    if not doc:
        return None, None
    first, _, rest = doc.partition("\n")
    return first.strip() or None, rest.strip() or None


def _converter_schema(converter: Converter) -> dict[str, Any]:
    if isinstance(converter, IntConverter):
        return {"type": "integer", "minimum": 0}
    if isinstance(converter, FloatConverter):
        return {"type": "number", "minimum": 0}
    if isinstance(converter, UUIDConverter):
        return {"type": "string", "format": "uuid"}
    regex = type(converter).regex
    if regex in ("[^/]+", ".+"):
        return {"type": "string"}
    return {"type": "string", "pattern": f"^(?:{regex})$"}


class _Builder:
    """Builds the operations of one document."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.schemas = SchemaSet()
        self.tags: list[str] = []
        self.operation_ids: set[str] = set()
        self.secured = False

    # -- the document --------------------------------------------------------

    def document(self) -> dict[str, Any]:
        settings = self.app.settings
        paths: dict[str, dict[str, Any]] = {}
        for route in self.app.routes():
            if route.is_websocket or route.options.get("include_in_schema", True) is False:
                continue
            methods = [m for m in _DOCUMENTED if m in route.methods]
            if "GET" in methods and "HEAD" in methods:
                methods.remove("HEAD")  # implied by GET
            if not methods:
                continue
            item = paths.setdefault(openapi_path(route.path), {})
            shared = self._shared(route)
            for method in methods:
                # The first route for a path and method is the one the router serves.
                if method.lower() not in item:
                    item[method.lower()] = self._operation(route, method, len(methods) > 1,
                                                           shared)
        document: dict[str, Any] = {
            "openapi": OPENAPI_VERSION,
            "info": {"title": settings.openapi_title, "version": settings.openapi_version},
        }
        if self.tags:
            document["tags"] = [{"name": tag} for tag in self.tags]
        document["paths"] = paths
        components: dict[str, Any] = {}
        schemas = self.schemas.resolve()
        if schemas:
            components["schemas"] = schemas
        if self.secured or self.app.plugin("heron.auth") is not None:
            components["securitySchemes"] = {
                "sessionCookie": {"type": "apiKey", "in": "cookie",
                                  "name": settings.session_cookie_name,
                                  "description": "The session of a user logged in with "
                                                 "heron.auth (browsers)."},
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "A personal API token: "
                                              "`Authorization: Bearer <token>`."},
            }
        if components:
            document["components"] = components
        return document

    # -- one route -----------------------------------------------------------

    def _shared(self, route: Route) -> dict[str, Any]:
        """What a route's operations have in common, whatever the method."""
        leaves = list(route.plan.all_parameters()) if route.plan is not None else []
        parameters, validated = self._parameters(route, leaves)
        body = next((p for p in leaves if p.source in ("body", "form")), None)
        request_body = self._request_body(body) if body is not None else None
        json_body = body is not None and body.source == "body"
        guarded = is_guarded(route)
        # heron refuses a query string it cannot read (a NUL character) with a 400.
        query = any(p.source == "query" for p in leaves)
        responses = self._responses(route, validated or json_body, json_body or query, guarded)
        return {"parameters": parameters, "requestBody": request_body,
                "responses": responses, "guarded": guarded}

    def _operation(self, route: Route, method: str, several: bool,
                   shared: dict[str, Any]) -> dict[str, Any]:
        options = route.options
        first_line, rest = _docstring(route.endpoint)
        operation: dict[str, Any] = {}
        tags = self._tags(route)
        if tags:
            operation["tags"] = tags
        summary = options.get("summary", first_line)
        if summary:
            operation["summary"] = summary
        description = options.get("description", rest)
        if description:
            operation["description"] = description
        operation["operationId"] = self._operation_id(route, method, several)
        if shared["parameters"]:
            operation["parameters"] = shared["parameters"]
        if shared["requestBody"] is not None and method not in ("GET", "HEAD"):
            operation["requestBody"] = shared["requestBody"]
        operation["responses"] = shared["responses"]
        if options.get("deprecated"):
            operation["deprecated"] = True
        if shared["guarded"]:
            operation["security"] = [dict(requirement) for requirement in _SECURITY]
            self.secured = True
        return operation

    def _tags(self, route: Route) -> list[str]:
        given = route.options.get("tags")
        if given is not None:
            tags = [str(tag) for tag in given]
        else:
            tags = []
            for router in route.routers:
                tags += [str(tag) for tag in router.tags if str(tag) not in tags]
            if not tags and route.namespace:
                tags = [route.namespace]
        self.tags += [tag for tag in tags if tag not in self.tags]
        return tags

    def _operation_id(self, route: Route, method: str, several: bool) -> str:
        given = route.options.get("operation_id")
        base = str(given) if given else route.name.replace(":", "_")
        if several and not given:
            base = f"{base}_{method.lower()}"
        found, number = base, 2
        while found in self.operation_ids:
            found, number = f"{base}_{number}", number + 1
        self.operation_ids.add(found)
        return found

    # -- parameters and body -------------------------------------------------

    def _parameters(self, route: Route,
                    leaves: list[Parameter]) -> tuple[list[dict[str, Any]], bool]:
        """The operation's parameters, and whether any is validated (may give 422)."""
        by_name = {p.name: p for p in leaves if p.source == "path"}
        documented: list[dict[str, Any]] = []
        validated = False
        for name, converter in route.template.converters.items():
            parameter = by_name.get(name)
            if parameter is not None and parameter.convert is not None:
                validated = True
                schema = self.schemas.of(parameter.annotation)
            else:
                schema = _converter_schema(converter)
            entry = {"name": name, "in": "path", "required": True, "schema": schema}
            if parameter is not None:
                self._describe(entry, parameter)
            documented.append(entry)
        seen: set[tuple[str, str]] = set()
        for parameter in leaves:
            if parameter.source not in ("query", "header", "cookie"):
                continue
            marker = parameter.marker
            if marker is not None and not marker.include_in_schema:
                continue
            name = marker.alias if marker is not None and marker.alias else parameter.key
            if (parameter.source, name.lower()) in seen:
                continue  # two dependencies reading the same value
            seen.add((parameter.source, name.lower()))
            validated = True
            schema = self.schemas.of(parameter.annotation) \
                if parameter.annotation is not _EMPTY else {}
            entry = {"name": name, "in": parameter.source, "schema": schema}
            if parameter.required:
                entry["required"] = True
            else:
                ok, value = jsonable(parameter.default)
                if ok and value is not None:
                    schema["default"] = value
            self._describe(entry, parameter)
            documented.append(entry)
        return documented, validated

    @staticmethod
    def _describe(entry: dict[str, Any], parameter: Parameter) -> None:
        marker = parameter.marker
        if marker is None:
            return
        if marker.description:
            entry["description"] = marker.description
        if marker.deprecated:
            entry["deprecated"] = True
        if marker.examples:
            entry["schema"]["examples"] = list(marker.examples)

    def _request_body(self, body: Parameter) -> dict[str, Any]:
        marker = body.marker
        described: dict[str, Any] = {}
        if marker is not None and marker.description:
            described["description"] = marker.description
        if body.source == "form":
            form_class = _bare(body.annotation)
            assert _is_form(form_class)
            schema = self.schemas.form(form_class)
            has_files = any(spec.kind == "file" for spec in form_class.field_specs().values())
            media = ["multipart/form-data"] if has_files else \
                ["application/x-www-form-urlencoded", "multipart/form-data"]
            return {**described, "content": {m: {"schema": schema} for m in media},
                    "required": True}
        schema = self.schemas.of(body.annotation)
        if marker is not None and marker.examples:
            schema["examples"] = list(marker.examples)
        if not body.required:
            ok, value = jsonable(body.default)
            if ok and value is not None:
                schema["default"] = value
        request_body = {**described, "content": {"application/json": {"schema": schema}}}
        if body.required:
            request_body["required"] = True
        return request_body

    # -- responses -----------------------------------------------------------

    def _responses(self, route: Route, validated: bool, reads_text: bool,
                   guarded: bool) -> dict[str, Any]:
        options = route.options
        json_body = route.plan is not None and any(
            p.source == "body" for p in route.plan.all_parameters())
        model = response_model(route)
        status = int(options.get("status_code") or 200)
        if status == 200 and model is None and "status_code" not in options \
                and _type_hints(route.endpoint).get("return", _EMPTY) is type(None):
            status = 204  # a view annotated "-> None" answers 204 No Content
        main: dict[str, Any] = {"description": _phrase(status)}
        if status not in _NO_CONTENT and status >= 200:
            content = self._content(route, model)
            if content:
                main["content"] = content
        responses: dict[str, Any] = {str(status): main}
        for code, spec in (options.get("responses") or {}).items():
            spec = spec if isinstance(spec, dict) else {"description": str(spec)}
            extra: dict[str, Any] = {"description": spec.get("description") or _phrase(code)}
            bodies: dict[str, Any] = {}
            if spec.get("model") is not None:
                bodies[spec.get("media_type", "application/json")] = {
                    "schema": self.schemas.of(spec["model"], "serialization")}
            shape = self._error_shape(route, code) if not bodies else None
            if shape is _HANDLED:
                pass  # the app's own handler answers, in a shape it did not declare
            elif shape is not None:
                bodies["application/json"] = {"schema": self.schemas.of(shape,
                                                                        "serialization")}
            elif str(code) == "422":
                # What RequestValidationError (and abort_invalid) answers: the error list.
                bodies.setdefault("application/problem+json", {
                    "schema": self.schemas.named("ValidationProblem", _validation_problem)})
            elif str(code)[:1] in "45":  # 404, "4XX", "5XX"
                # What heron itself answers for an HTTPException with this status.
                bodies.setdefault("application/problem+json", {
                    "schema": self.schemas.named("Problem", _problem)})
            if bodies:
                extra["content"] = bodies
            responses[str(int(code)) if isinstance(code, int) else str(code)] = extra
        errors: dict[int, str] = {}
        if reads_text:
            errors[400] = "Malformed JSON body" if json_body else "Malformed query string"
        if json_body:
            errors[415] = "The body is not JSON (Content-Type)"
        if guarded:
            errors[401] = "Authentication is required"
            errors[403] = "Not allowed"
        raises = options.get("raises") or ()
        for raised in raises if isinstance(raises, (list, tuple, set, frozenset)) else ():
            if type(raised) is int and 400 <= raised <= 599:  # else heron.openapi.E001
                errors.setdefault(raised, _phrase(raised))
        if validated or 422 in errors:
            errors[422] = errors.get(422, "Invalid parameters or body")
        for code, description in errors.items():
            if str(code) not in responses:
                responses[str(code)] = self._error_response(route, code, description)
        return dict(sorted(responses.items(), key=lambda item: _status_order(item[0])))

    def _error_response(self, route: Route, code: int, description: str) -> dict[str, Any]:
        """An error the route may answer: in the shape its routers' handler declared
        (``on_error(..., model=...)``), else heron's problem JSON."""
        shape = self._error_shape(route, code)
        if shape is _HANDLED:
            return {"description": description}
        if shape is not None:
            return {"description": description, "content": {
                "application/json": {"schema": self.schemas.of(shape, "serialization")}}}
        name, build = ("ValidationProblem", _validation_problem) if code == 422 else \
            ("Problem", _problem)
        return {"description": description,
                "content": {"application/problem+json": {"schema": self.schemas.named(name,
                                                                                        build)}}}

    @staticmethod
    def _error_shape(route: Route, code: Any) -> Any:
        """The model of the handler that answers ``code`` on ``route`` (found as the
        dispatcher finds it), ``_HANDLED`` for a handler without one, ``None`` for
        heron's own answer."""
        if isinstance(code, str) and code.isdigit():
            code = int(code)
        if not isinstance(code, int) or not 400 <= code <= 599:
            return None
        exc = RequestValidationError([]) if code == 422 else HTTPException(code)
        handler, _ = find_error_handler(exc, route.routers)
        if handler is None:
            return None
        return getattr(handler, "error_model", _HANDLED)

    def _content(self, route: Route, model: Any) -> dict[str, Any]:
        if model is not None:
            return {"application/json": {"schema": self.schemas.of(model, "serialization")}}
        hint = _type_hints(route.endpoint).get("return", _EMPTY)
        bare = _bare(hint)
        if hint is type(None) or hint is None:
            return {}  # "-> None": an empty answer, whatever the status
        if bare is str:
            return {"text/html": {"schema": {"type": "string"}}}
        if bare is bytes:
            return {"application/octet-stream": {"schema": {"type": "string",
                                                            "format": "binary"}}}
        media_type = getattr(bare, "media_type", _UNSET) if isinstance(bare, type) else _UNSET
        if media_type is not _UNSET:  # a Response class
            if not media_type:
                return {}
            schema = {} if "json" in media_type else {"type": "string"}
            return {media_type: {"schema": schema}}
        if bare in (dict, list) or getattr(bare, "__origin__", None) in (dict, list):
            return {"application/json": {"schema": self.schemas.of(hint, "serialization")}}
        return {"application/json": {"schema": {}}}


def _status_order(code: str) -> tuple[int, str]:
    return (int(code), "") if code.isdigit() else (1000, code)


def build_document(app: App) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s routes (compiled if they were not)."""
    return _Builder(app).document()
