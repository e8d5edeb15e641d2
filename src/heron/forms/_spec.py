"""A form field's type hint turned into what binding, validation and rendering need."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import types
import typing
from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, Literal

from heron.datastructures import UploadFile
from heron.exceptions import ImproperlyConfigured
from heron.forms.options import MISSING, FormField
from heron.i18n import gettext

__all__ = ["ChoiceSet", "FieldSpec", "analyse", "choice_key"]

#: Kinds of fields, each with its own binding, validation and default widget.
KINDS = ("text", "password", "int", "float", "decimal", "bool", "date", "datetime", "time",
         "email", "url", "choice", "file")


def _label(name: str) -> str:
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _choice_label(value: Any) -> str:
    if isinstance(value, enum.Enum):
        label = getattr(value, "label", None)
        return str(label) if label is not None else _label(value.name.lower())
    return str(value)


def choice_key(value: Any) -> str:
    """The string a choice is submitted as (an enum member: its value)."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclasses.dataclass(frozen=True)
class ChoiceSet:
    """A field's choices: ``options`` to show, ``values`` to turn a submitted key back
    into its Python value."""

    options: list[tuple[str, str]]  # (submitted key, label)
    values: dict[str, Any]  # submitted key -> Python value

    @classmethod
    def of(cls, pairs: list[tuple[Any, str]]) -> ChoiceSet:
        """From ``(python value, label)`` pairs."""
        return cls([(choice_key(value), label) for value, label in pairs],
                   {choice_key(value): value for value, _ in pairs})

    @classmethod
    def keyed(cls, triples: list[tuple[str, Any, str]]) -> ChoiceSet:
        """From ``(key, python value, label)`` triples (rows keyed by primary key)."""
        return cls([(key, label) for key, _, label in triples],
                   {key: value for key, value, _ in triples})


@dataclasses.dataclass(eq=False)
class FieldSpec:
    """One field of a form class: its type, options and what follows from them."""

    name: str
    annotation: Any  # the full hint given to pydantic
    base: Any  # the element type, without ``| None``, ``list[...]`` or ``Annotated``
    kind: str
    many: bool
    optional: bool
    default: Any  # MISSING when the field is required
    options: FormField
    metadata: tuple[Any, ...] = ()  # pydantic metadata from ``Annotated``
    choices: ChoiceSet | None = None

    @property
    def required(self) -> bool:
        return self.default is MISSING

    @property
    def label(self) -> str:
        # A gettext_lazy label is translated here, in the language of the page; a label
        # made from the name ("First name") too, when a catalog translates it.
        label = self.options.label
        return str(label) if label is not None else gettext(_label(self.name))

    @property
    def strip(self) -> bool:
        if self.options.strip is not None:
            return self.options.strip
        return self.kind != "password"

    def get_default(self) -> Any:
        """The value of a field left empty (a fresh one for ``default_factory``)."""
        if self.options.default_factory is not None:
            return self.options.default_factory()
        return self.default

    @cached_property
    def adapter(self) -> Any:
        """A pydantic ``TypeAdapter`` validating one value of this field (made on first use)."""
        from pydantic import ConfigDict, Field, TypeAdapter

        hint = self.annotation
        constraints = self.options.constraints()
        if constraints:
            hint = Annotated[hint, Field(**constraints)]
        if self.metadata:
            hint = Annotated[(hint, *self.metadata)]
        config = ConfigDict(allow_inf_nan=False, arbitrary_types_allowed=True)
        return TypeAdapter(hint, config=config)


def _unwrap_annotated(hint: Any) -> tuple[Any, list[Any], FormField | None]:
    metadata: list[Any] = []
    options: FormField | None = None
    while typing.get_origin(hint) is Annotated:
        args = typing.get_args(hint)
        hint = args[0]
        for item in args[1:]:
            if isinstance(item, FormField):
                options = item if options is None else options.merged(item)
            else:
                metadata.append(item)
    return hint, metadata, options


def _split_optional(hint: Any) -> tuple[Any, bool]:
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == len(typing.get_args(hint)):
            return hint, False
        if len(args) == 1:
            return args[0], True
        return typing.Union[tuple(args)], True  # noqa: UP007
    return hint, False


def _kind(base: Any, where: str) -> str:
    from pydantic import AnyUrl, EmailStr, SecretStr

    if typing.get_origin(base) is Literal or (isinstance(base, type)
                                              and issubclass(base, enum.Enum)):
        return "choice"
    if base is EmailStr:
        return "email"
    if isinstance(base, type):
        checks: list[tuple[type, str]] = [
            (UploadFile, "file"), (bool, "bool"), (int, "int"), (float, "float"),
            (decimal.Decimal, "decimal"), (dt.datetime, "datetime"), (dt.date, "date"),
            (dt.time, "time"), (SecretStr, "password"), (AnyUrl, "url"), (str, "text"),
        ]
        for cls, kind in checks:
            if issubclass(base, cls):
                return kind
        if _is_pydantic_url(base):
            return "url"
    raise ImproperlyConfigured(
        f"{where}: heron cannot make a form field of type {base!r}; use str, int, float, "
        "Decimal, bool, date, datetime, time, EmailStr, HttpUrl, an Enum, a Literal, "
        "UploadFile, or a list of one of them", id="heron.forms.E002",
    )


def _is_pydantic_url(base: type) -> bool:
    # pydantic's HttpUrl and friends share a base class that is private.
    return any(klass.__name__ == "_BaseUrl" for klass in base.__mro__)


def _normalise_choices(choices: Any) -> list[tuple[Any, str]]:
    if isinstance(choices, Mapping):
        return [(value, str(label)) for value, label in choices.items()]
    pairs: list[tuple[Any, str]] = []
    for item in choices:
        if isinstance(item, tuple) and len(item) == 2:
            pairs.append((item[0], str(item[1])))
        else:
            pairs.append((item, _choice_label(item)))
    return pairs


def analyse(name: str, hint: Any, options: FormField | None, where: str) -> FieldSpec:
    """The :class:`FieldSpec` of field ``name`` declared as ``name: hint = options``.

    Raises:
        ImproperlyConfigured: for a type heron cannot make a field of (heron.forms.E002).
    """
    inner, metadata, annotated_options = _unwrap_annotated(hint)
    merged = (annotated_options or FormField()).merged(options)
    base, optional = _split_optional(inner)
    many = typing.get_origin(base) is list
    if many:
        (item,) = typing.get_args(base) or (str,)
        base, _, item_options = _unwrap_annotated(item)
        merged = (item_options or FormField()).merged(merged)
    kind = _kind(base, f"{where}.{name}")
    if kind == "text" and isinstance(merged.widget, str) and merged.widget == "password":
        kind = "password"
    default = merged.default
    if merged.default_factory is not None:
        default = merged.default_factory
    elif default is MISSING and optional:
        default = None
    spec = FieldSpec(name=name, annotation=inner, base=base, kind=kind, many=many,
                     optional=optional, default=default, options=merged,
                     metadata=tuple(metadata))
    choices = merged.choices
    if choices is None and kind == "choice":
        choices = list(base) if isinstance(base, enum.EnumMeta) else typing.get_args(base)
    if choices is not None:
        spec.choices = ChoiceSet.of(_normalise_choices(choices))
    return spec
