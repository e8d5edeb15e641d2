"""What a form field may be told: label, help text, widget, choices, constraints.

Options are given with :func:`field` as the default value of an annotated
attribute, or as a :class:`FormField` inside ``Annotated[...]``::

    title: str = field(label="Title", max_length=100)
    tags: Annotated[list[str], FormField(choices=["news", "howto"])] = []
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from heron.forms.widgets import Widget
    from heron.i18n import LazyString

__all__ = ["MISSING", "Choices", "FormField", "ValidationError", "field"]


class _Missing:
    """The marker of an option or default that was not given."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

#: Choices as given: values, or ``(value, label)`` pairs, or a mapping value -> label.
Choices = Iterable[Any] | Mapping[Any, str]


class ValidationError(Exception):
    """Raised by ``clean_<field>`` and ``clean`` hooks: the message is shown to the user.

    Args:
        message: what is wrong, in words for people.
        field: for a ``clean`` hook, the field the error belongs to (``None``: the
            form as a whole).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclasses.dataclass(frozen=True, kw_only=True)
class FormField:
    """Options of one form field; every option is optional.

    Presentation: ``label`` (default: the name, capitalised), ``help_text``,
    ``widget`` (a name such as ``"textarea"`` or a :class:`~heron.forms.Widget`),
    ``placeholder``, ``attrs`` (extra HTML attributes), ``choices``.

    Validation (also given to pydantic): ``min_length``, ``max_length``,
    ``pattern``, ``ge``, ``le``, ``gt``, ``lt``, ``multiple_of``, ``max_digits``,
    ``decimal_places``; for files ``max_size`` (bytes) and ``accept`` (MIME types
    such as ``"image/png"`` or ``"image/*"`` and extensions such as ``".pdf"``).

    ``default``/``default_factory`` make the field optional; ``initial`` is only
    what an unbound form shows.  ``strip`` (default on, off for passwords) trims
    whitespace around text.  ``error_messages`` overrides messages by error type
    (``{"missing": "Please give your name."}``, see docs/forms.md).
    """

    default: Any = MISSING
    default_factory: Callable[[], Any] | None = None
    label: str | LazyString | None = None
    help_text: str | LazyString | None = None
    widget: str | Widget | None = None
    placeholder: str | LazyString | None = None
    initial: Any = MISSING
    choices: Choices | None = None
    attrs: Mapping[str, Any] | None = None
    strip: bool | None = None
    error_messages: Mapping[str, str | LazyString] | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    ge: Any = None
    le: Any = None
    gt: Any = None
    lt: Any = None
    multiple_of: Any = None
    max_digits: int | None = None
    decimal_places: int | None = None
    max_size: int | None = None
    accept: Sequence[str] | None = None

    def merged(self, other: FormField | None) -> FormField:
        """These options with ``other``'s given (non-default) ones on top."""
        if other is None:
            return self
        changes = {
            f.name: getattr(other, f.name)
            for f in dataclasses.fields(other)
            if getattr(other, f.name) is not f.default
        }
        return dataclasses.replace(self, **changes)

    def constraints(self) -> dict[str, Any]:
        """The options pydantic enforces, for ``pydantic.Field(...)``."""
        names = ("min_length", "max_length", "pattern", "ge", "le", "gt", "lt", "multiple_of",
                 "max_digits", "decimal_places")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


def field(
    default: Any = MISSING,
    *,
    default_factory: Callable[[], Any] | None = None,
    label: str | LazyString | None = None,
    help_text: str | LazyString | None = None,
    widget: str | Widget | None = None,
    placeholder: str | LazyString | None = None,
    initial: Any = MISSING,
    choices: Choices | None = None,
    attrs: Mapping[str, Any] | None = None,
    strip: bool | None = None,
    error_messages: Mapping[str, str | LazyString] | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    ge: Any = None,
    le: Any = None,
    gt: Any = None,
    lt: Any = None,
    multiple_of: Any = None,
    max_digits: int | None = None,
    decimal_places: int | None = None,
    max_size: int | None = None,
    accept: Sequence[str] | None = None,
) -> Any:
    """Options of a form field, as its default value: ``title: str = field(max_length=100)``.

    Takes the options of :class:`FormField` and returns one (typed ``Any`` so that
    type checkers accept it as the attribute's default).
    """
    if default is not MISSING and default_factory is not None:
        raise TypeError("field() takes a default or a default_factory, not both")
    return FormField(
        default=default, default_factory=default_factory, label=label, help_text=help_text,
        widget=widget, placeholder=placeholder, initial=initial, choices=choices, attrs=attrs,
        strip=strip, error_messages=error_messages, min_length=min_length,
        max_length=max_length, pattern=pattern, ge=ge, le=le, gt=gt, lt=lt,
        multiple_of=multiple_of, max_digits=max_digits, decimal_places=decimal_places,
        max_size=max_size, accept=accept,
    )
