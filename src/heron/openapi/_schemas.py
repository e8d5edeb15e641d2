"""JSON schemas for an OpenAPI document, made in one pydantic pass.

Operations ask :class:`SchemaSet` for the schema of a type and get back an empty
dict at once (a *slot*); :meth:`SchemaSet.resolve` then runs a single
:class:`pydantic.json_schema.GenerateJsonSchema` over every type asked for, so
that each model appears once in ``components/schemas`` (pydantic settles names
that would clash: two ``Item`` classes, or a model whose input and output
schemas differ) and is referenced with ``$ref``, and fills the slots in place.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue

if TYPE_CHECKING:
    from pydantic_core import CoreSchema

    from heron.forms import Form

__all__ = ["REF_PREFIX", "SchemaSet", "jsonable"]

REF_PREFIX = "#/components/schemas/"
_BINARY: dict[str, Any] = {"type": "string", "format": "binary"}


class _Generator(GenerateJsonSchema):
    """pydantic's generator, lenient where a document must still come out."""

    def handle_invalid_for_json_schema(self, schema: Any, error_info: str) -> JsonSchemaValue:
        # A type with no JSON form (a callable, an arbitrary class): say "anything"
        # rather than fail the whole document.
        return {}

    def emit_warning(self, kind: Any, detail: str) -> None:
        # Defaults that are not JSON ("non-serializable-default") are left out, as
        # documented; a warning per request for the document would only be noise.
        return


def jsonable(value: Any) -> tuple[bool, Any]:
    """``(True, json_value)`` when ``value`` has a JSON form (enums by value), else
    ``(False, None)``."""
    from pydantic_core import PydanticSerializationError, to_jsonable_python

    if isinstance(value, enum.Enum):
        value = value.value
    try:
        return True, to_jsonable_python(value)
    except (PydanticSerializationError, TypeError, ValueError):
        return False, None


class SchemaSet:
    """The schemas an OpenAPI document refers to, generated together."""

    def __init__(self) -> None:
        self._inputs: list[tuple[int, JsonSchemaMode, CoreSchema]] = []
        self._keys: dict[Any, int] = {}
        self._slots: list[tuple[dict[str, Any], int, JsonSchemaMode]] = []
        # identity -> (wanted name, builder of the schema once the pass ran, slots)
        self._named: dict[Any, tuple[str, Callable[[], dict[str, Any]], list[dict[str, Any]]]] = {}

    def of(self, annotation: Any, mode: JsonSchemaMode = "validation") -> dict[str, Any]:
        """A slot for the schema of ``annotation``: ``validation`` for what clients
        send, ``serialization`` for what the API answers.  Keys put in the slot
        before :meth:`resolve` (``default``, ``examples``) stay on top."""
        slot: dict[str, Any] = {}
        identity: tuple[Any, JsonSchemaMode] | None = (annotation, mode)
        try:
            key = self._keys.get(identity)
        except TypeError:  # an unhashable annotation: generated on its own
            identity, key = None, None
        if key is None:
            try:
                core = TypeAdapter(annotation).core_schema
            except Exception:  # not a type pydantic knows: anything goes
                return slot
            key = self._input(core, mode, identity)
        self._slots.append((slot, key, mode))
        return slot

    def _input(self, core: CoreSchema, mode: JsonSchemaMode, identity: Any) -> int:
        key = len(self._inputs)
        self._inputs.append((key, mode, core))
        if identity is not None:
            self._keys[identity] = key
        return key

    def named(self, name: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A slot for a ``$ref`` to the schema ``build()`` makes, in components under
        ``name`` (``heron.<name>`` when a model of the app has that name)."""
        return self._ref(name, name, build)

    def _ref(self, identity: Any, name: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        slot: dict[str, Any] = {}
        self._named.setdefault(identity, (name, build, []))[2].append(slot)
        return slot

    def form(self, form_class: type[Form]) -> dict[str, Any]:
        """A slot for a ``$ref`` to the schema of a heron form's fields: one property
        per field, with its label as title, help text as description, constraints,
        choices and default; files as binary strings.

        Raises:
            ImproperlyConfigured: a field type forms cannot handle (heron.forms.E002).
        """
        if form_class in self._named:
            return self._ref(form_class, form_class.__name__, self._named[form_class][1])
        from heron.forms.options import MISSING

        properties: dict[str, dict[str, Any]] = {}
        required: list[str] = []
        for name, spec in form_class.field_specs().items():
            prop: dict[str, Any]
            if spec.kind == "file":
                prop = dict(_BINARY)
            elif spec.options.choices is not None:  # submitted as the choices' keys
                prop = {"type": "string", "enum": [key for key, _ in spec.choices.options]} \
                    if spec.choices is not None else {"type": "string"}
            else:
                prop = {}
                key = self._keys.get((spec, "validation"))
                if key is None:
                    key = self._input(spec.adapter.core_schema, "validation", (spec, "validation"))
                self._slots.append((prop, key, "validation"))
            if spec.many and (spec.kind == "file" or spec.options.choices is not None):
                prop = {"type": "array", "items": prop}
            prop["title"] = spec.label
            if spec.options.help_text:
                prop["description"] = spec.options.help_text
            if spec.required:
                required.append(name)
            elif spec.options.default_factory is None and spec.default is not MISSING \
                    and spec.kind != "file":
                ok, value = jsonable(spec.default)
                if ok:
                    prop["default"] = value
            properties[name] = prop

        def build() -> dict[str, Any]:
            schema: dict[str, Any] = {"title": form_class.__name__, "type": "object",
                                      "properties": properties}
            if required:
                schema["required"] = required
            doc = (form_class.__doc__ or "").strip()
            if doc:
                schema["description"] = doc
            return schema

        return self._ref(form_class, form_class.__name__, build)

    def resolve(self) -> dict[str, Any]:
        """Run the pass, fill every slot and return ``components/schemas``."""
        mapping: dict[Any, JsonSchemaValue] = {}
        definitions: dict[str, Any] = {}
        if self._inputs:
            generator = _Generator(ref_template=REF_PREFIX + "{model}")
            mapping, defs = generator.generate_definitions(self._inputs)
            definitions = {str(name): value for name, value in defs.items()}
        for slot, key, mode in self._slots:
            on_top = dict(slot)
            slot.clear()
            slot.update(copy.deepcopy(mapping[(key, mode)]))
            slot.update(on_top)
        for name, build, slots in self._named.values():
            final = name if name not in definitions else f"heron.{name}"
            number = 2
            while final in definitions:
                final, number = f"heron.{name}{number}", number + 1
            definitions[final] = build()
            for slot in slots:
                slot["$ref"] = REF_PREFIX + final
        return definitions
