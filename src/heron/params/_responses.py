"""Response models: what turns a view's return value into its response
(``response_model``, a return annotation holding a model, ``status_code``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from heron.exceptions import ImproperlyConfigured
from heron.params._annotations import _bare, _type_hints, contains_model
from heron.params._markers import _EMPTY

__all__ = ["build_responder", "error_responder", "response_model"]


_UNSET: Any = object()


def response_model(func: Callable[..., Any], options: dict[str, Any]) -> Any:
    """The model a view's answers are validated with: the ``response_model`` option
    (``None``: none), else the return annotation when it holds a pydantic model or
    dataclass (``-> Post``, ``-> list[Post]``), else ``None``."""
    model = options.get("response_model", _UNSET)
    if model is _UNSET:
        hint = _type_hints(func).get("return", _EMPTY)
        model = hint if hint is not _EMPTY and not isinstance(hint, str) \
            and contains_model(_bare(hint)) else None
    return model


def build_responder(func: Callable[..., Any], options: dict[str, Any],
                    where: str) -> Callable[[Any], Any] | None:
    """What turns a view's return value into its response, when the route says more
    than the default coercion: a ``response_model`` (or a return annotation holding
    a pydantic model or dataclass) validates and filters the value, ``status_code``
    sets the status.  ``None`` when neither applies.

    The model describes successes: a returned ``Response``, or a ``(body, status)``
    tuple whose status is not 2xx (an error's problem dict), is sent as it is."""
    model = response_model(func, options)
    if model is None and "response_model" not in options:
        returned = _type_hints(func).get("return")
        if isinstance(returned, str) and returned not in ("None", "str", "Any"):
            # A name only imported for type checkers, or a class defined in a function:
            # the annotation cannot filter anything, and saying nothing would hide a leak.
            import logging

            logging.getLogger("heron.params").warning(
                "%s: the return annotation %r cannot be resolved, so it does not validate "
                "or filter the view's answers; import it at module level or pass "
                "response_model=", where, returned)
    status: int | None = options.get("status_code")
    if model is None and status is None:
        return None
    from heron.responses import Response, make_response

    if model is None and status is not None:
        fixed = status

        def with_status(value: Any) -> Any:
            if isinstance(value, (Response, tuple)):
                return value
            response = make_response(value)
            response.status_code = fixed
            return response

        return with_status
    from pydantic import TypeAdapter

    try:
        adapter = TypeAdapter(model)
    except Exception as exc:
        raise ImproperlyConfigured(f"{where}: heron cannot validate the response model "
                                   f"{model!r}: {exc}", id="heron.params.E005") from None
    validate, dump = _validator(adapter), _dumper(adapter)
    code = status or 200

    def respond(value: Any) -> Any:
        if isinstance(value, Response):
            return value
        if isinstance(value, tuple):
            # (body, status[, headers]): a success's body is filtered all the same; an
            # error's (a problem dict with a 4xx, say) is not the success model's to judge.
            if not value or value[0] is None or isinstance(value[0], Response) \
                    or not _is_success(value):
                return value
            body = Response(dump(validate(value[0])),
                            media_type="application/json")
            return (body, *value[1:])
        # Only the declared fields are written (a subclass's extra ones are not).
        return Response(dump(validate(value)), code,
                        media_type="application/json")

    return respond


def error_responder(handler: Callable[..., Any], model: Any,
                    where: str) -> Callable[..., Awaitable[Any]]:
    """An error handler whose answers are the error shape ``model``
    (``on_error(key, model=...)``): what ``handler(request, exc)`` returns is
    validated and written as JSON by alias, with the error's status (an
    HTTPException's, 500 for another exception) and headers, unless it returns a
    ``Response`` or a ``(body, status[, headers])`` tuple.  The model is kept as
    ``error_model`` for the OpenAPI document.

    Raises:
        ImproperlyConfigured: a model pydantic cannot validate (heron.params.E007).
    """
    from pydantic import TypeAdapter

    from heron.exceptions import HTTPException
    from heron.params._resolve import build_hook
    from heron.responses import Response

    try:
        adapter = TypeAdapter(model)
    except Exception as exc:
        raise ImproperlyConfigured(f"{where}: heron cannot validate the error model "
                                   f"{model!r}: {exc}", id="heron.params.E007") from None
    validate, dump, call = _validator(adapter), _dumper(adapter), build_hook(handler)

    async def respond(request: Any, exc: BaseException) -> Any:
        value = await call(request, exc)
        if isinstance(value, Response):
            return value
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        headers: Any = exc.headers if isinstance(exc, HTTPException) else None
        if isinstance(value, tuple):
            value, *rest = value
            status = rest[0] if rest else status
            headers = rest[1] if len(rest) > 1 else headers
        return Response(dump(validate(value)), status, headers or None,
                        media_type="application/json")

    respond.error_model = model  # type: ignore[attr-defined]
    respond.__wrapped__ = handler  # type: ignore[attr-defined]
    return respond


def _validator(adapter: Any) -> Callable[[Any], Any]:
    """Validation of what a view returns: ORM objects by attribute, and fields by
    their names or their aliases (a view builds its dict with Python's names)."""
    validate = adapter.validate_python

    def check(value: Any) -> Any:
        return validate(value, from_attributes=True, by_alias=True, by_name=True)

    return check


def _dumper(adapter: Any) -> Callable[[Any], bytes]:
    """JSON of a validated value, by alias: what the OpenAPI document describes."""
    dump = adapter.dump_json

    def encode(value: Any) -> bytes:
        return dump(value, by_alias=True)  # type: ignore[no-any-return]

    return encode


def _is_success(value: tuple[Any, ...]) -> bool:
    """Whether a ``(body, status[, headers])`` return is a 2xx, the answers a response
    model describes (a malformed tuple counts as one: make_response says what is wrong)."""
    status = value[1] if len(value) > 1 else None
    return not isinstance(status, int) or 200 <= status < 300
