"""Exceptions raised by heron and by user code to end a request early."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Literal, NoReturn, overload

__all__ = [
    "HTTPException",
    "ImproperlyConfigured",
    "MissingDependency",
    "ServiceUnavailable",
    "URLBuildError",
    "WebSocketDisconnect",
    "abort",
    "abort_invalid",
]

#: Where an invalid value was, in a 422's ``errors``.
Location = Literal["path", "query", "header", "cookie", "body"]


class HTTPException(Exception):
    """Stop handling a request and answer with an HTTP error status.

    Args:
        status_code: the HTTP status to answer with (4xx or 5xx).
        detail: a message for the client; defaults to the status phrase. It is
            shown to clients, so never put secrets in it.
        headers: extra response headers (``Allow``, ``Retry-After``, ...).
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            detail = _phrase(status_code)
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers else {}

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class ServiceUnavailable(HTTPException):
    """A service the request needs (database, cache) cannot be reached: 503.

    The client sees a generic message and ``Retry-After``; ``message``, which
    may name the service, is logged on ``heron.error`` instead.
    """

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(503, "A service this page needs is unavailable; please try again "
                              "shortly.", {"retry-after": str(retry_after)})
        self.message = message


class RequestValidationError(HTTPException):
    """422: the request's parameters or body are invalid; ``errors`` says how.

    Each error is ``{"location", "field", "message", "type"}``: ``location`` is
    ``path``, ``query``, ``header``, ``cookie`` or ``body``; ``field`` the name
    (dotted for nested body fields: ``items.0.price``); ``type`` a stable code
    (pydantic's error types: ``missing``, ``int_parsing``, ``greater_than_equal``...).
    The response is always JSON (docs/api.md#errors).
    """

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        count = len(errors)
        super().__init__(422, f"The request has {count} invalid value{'s' * (count != 1)}.")
        self.errors = errors


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:  # a status outside the registry, such as nginx's 499
        return "Error"


def abort(
    status_code: int, detail: Any = None, headers: Mapping[str, str] | None = None
) -> NoReturn:
    """Raise :class:`HTTPException` -- the Flask-style way to stop a view."""
    raise HTTPException(status_code, detail, headers)


@overload
def abort_invalid(field: str, message: str, *, location: Location = "body",
                  type: str = "value_error") -> NoReturn: ...


@overload
def abort_invalid(field: Mapping[str, str | Sequence[str]], *, location: Location = "body",
                  type: str = "value_error") -> NoReturn: ...


def abort_invalid(
    field: str | Mapping[str, str | Sequence[str]],
    message: str | None = None,
    *,
    location: Location = "body",
    type: str = "value_error",
) -> NoReturn:
    """Raise a 422 in heron's validation-error format for a rule checked in code.

    The answer is the one heron gives for invalid parameters or bodies (a
    :class:`RequestValidationError`, docs/api.md#errors), so clients read one
    format whichever check failed::

        abort_invalid("password", "This password is too common.")
        abort_invalid({"password": exc.messages, "email": "Enter a valid address."})

    Args:
        field: the field's name (dotted for a nested one: ``items.0.price``), or a
            mapping of names to a message or a list of messages.
        message: the message, for a single ``field``.
        location: where the value was: ``body`` (default), ``query``, ``path``,
            ``header`` or ``cookie``.
        type: the errors' stable code, for programs (pydantic's is ``value_error``).

    Raises:
        RequestValidationError: always (422).
        TypeError: a single ``field`` without its ``message``.
        ValueError: a mapping without any message.
    """
    if isinstance(field, str):
        if message is None:
            raise TypeError("abort_invalid(field, message): the message is missing")
        problems: Mapping[str, str | Sequence[str]] = {field: message}
    else:
        problems = field
    errors = [{"location": location, "field": name, "message": text, "type": type}
              for name, messages in problems.items()
              for text in ([messages] if isinstance(messages, str) else messages)]
    if not errors:
        raise ValueError("abort_invalid needs at least one message")
    raise RequestValidationError(errors)


class ImproperlyConfigured(Exception):
    """A configuration mistake found at startup or by ``heron check``.

    Each carries a stable id (``heron.routing.E001``) that the docs explain.
    """

    def __init__(self, message: str, id: str = "heron.E000") -> None:
        super().__init__(f"{message} ({id})")
        self.id = id
        self.message = message


class URLBuildError(LookupError):
    """``url_for`` could not build a URL: unknown route name or missing parameter."""


class MissingDependency(ImportError):
    """An optional part of heron needs a package that is not installed."""

    def __init__(self, package: str, extra: str | None = None) -> None:
        fix = f'pip install "heron[{extra}]"' if extra else f"pip install {package}"
        super().__init__(f"This feature needs the package {package!r}. Install it with: {fix}")
        self.package = package
        self.extra = extra


class WebSocketDisconnect(Exception):
    """The websocket client went away (raised by ``receive_*`` methods)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason or ""
