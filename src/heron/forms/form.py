"""Declarative forms: fields from type hints, validated by pydantic, drawn by Jinja."""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from markupsafe import Markup

from heron.datastructures import MultiDict
from heron.exceptions import ImproperlyConfigured
from heron.forms import messages
from heron.forms._binding import EMPTY, FieldError, check_upload, extract, to_choice
from heron.forms._spec import ChoiceSet, FieldSpec, analyse
from heron.forms.boundfield import BoundField, ErrorList
from heron.forms.options import MISSING, FormField, ValidationError

if TYPE_CHECKING:
    import jinja2

    from heron.requests import Request

__all__ = ["NON_FIELD_ERRORS", "Form"]

FormT = TypeVar("FormT", bound="Form")
#: The key of ``form.errors`` for errors of the form as a whole.
NON_FIELD_ERRORS = "__all__"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HERE = str(Path(__file__).parent)
TEMPLATES = Path(__file__).parent / "templates"
#: Instance attributes of forms and model forms, which no field may be named after.
RESERVED = frozenset({"is_bound", "raw", "initial", "prefix", "request", "specs", "instance",
                      "session", "model"})


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return annotation is ClassVar or typing.get_origin(annotation) is ClassVar


def _defining_namespace(cls: type) -> dict[str, Any] | None:
    """The local names where a class is defined inside a function, so that its
    string annotations (``from __future__ import annotations``) can be resolved later."""
    if "<locals>" not in cls.__qualname__:
        return None
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_HERE):
        frame = frame.f_back  # type: ignore[assignment]
    return dict(frame.f_locals) if frame is not None else None


class Form:
    """A form: declare fields as annotated class attributes.

    >>> class Contact(Form):
    ...     name: str = field(max_length=100)
    ...     email: EmailStr
    ...     message: str = field(widget="textarea")

    Args:
        data: the submitted values (a :class:`~heron.FormData` or any mapping); a
            form without data is *unbound*: it shows initial values, never errors.
        initial: values an unbound form shows, by field name.
        prefix: put before every field's name, to have several forms on one page.
        request: the request, for the CSRF token and the app's templates when the
            form is drawn (:meth:`from_request` sets it).

    Class attributes:
        error_messages: messages by error type for every field of the form.
        template, row_template: the templates of ``{{ form }}`` and of a row.
    """

    #: Marks a form for heron.params: a view parameter of this type is bound to the
    #: request's form data.
    __heron_form__: ClassVar[bool] = True

    error_messages: ClassVar[Mapping[str, str]] = {}
    template: ClassVar[str] = "heron/forms/form.html"
    row_template: ClassVar[str] = "heron/forms/row.html"

    _declared: ClassVar[dict[str, FormField | None]] = {}
    _specs: ClassVar[dict[str, FieldSpec] | None] = None
    _localns: ClassVar[dict[str, Any] | None] = None
    _defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._localns = _defining_namespace(cls)
        declared = dict(cls._declared)
        defaults = dict(cls._defaults)
        for name, annotation in inspect.get_annotations(cls).items():
            if _is_classvar(annotation) or name.startswith("_"):
                continue
            if hasattr(Form, name) or name in RESERVED:
                raise ImproperlyConfigured(
                    f"{cls.__qualname__}.{name}: a field cannot be named {name!r}, the name "
                    "of an attribute of every form; choose another name",
                    id="heron.forms.E001",
                )
            value = cls.__dict__.get(name, MISSING)
            declared[name] = value if isinstance(value, FormField) else None
            defaults.pop(name, None)
            if value is not MISSING:
                # Kept aside, so that form.<name> reaches the bound field.
                delattr(cls, name)
                if not isinstance(value, FormField):
                    defaults[name] = value
        cls._declared = declared
        cls._defaults = defaults

    @classmethod
    def field_specs(cls) -> dict[str, FieldSpec]:
        """The analysed fields of this form class, made on first use and kept.

        Raises:
            ImproperlyConfigured: for a field type heron cannot handle.
        """
        cached: dict[str, FieldSpec] | None = cls.__dict__.get("_specs")
        if cached is None:
            cached = cls._build_specs()
            cls._specs = cached
        return cached

    @classmethod
    def _build_specs(cls) -> dict[str, FieldSpec]:
        hints = typing.get_type_hints(cls, localns=cls._localns, include_extras=True)
        specs = {}
        for name, options in cls._declared.items():
            if name in cls._defaults:
                options = (options or FormField()).merged(FormField(default=cls._defaults[name]))
            specs[name] = analyse(name, hints[name], options, cls.__qualname__)
        return specs

    def __init__(self, data: Mapping[str, Any] | None = None, *,
                 initial: Mapping[str, Any] | None = None, prefix: str = "",
                 request: Request | None = None) -> None:
        self.is_bound = data is not None
        #: The submitted values as they came, kept to draw a rejected form again.
        self.raw: Mapping[str, Any] = data if data is not None else MultiDict()
        self.initial: dict[str, Any] = dict(initial or {})
        self.prefix = prefix
        self.request = request
        self.specs = self.field_specs()
        self._choices: dict[str, ChoiceSet] = {}
        self._errors: dict[str, list[str]] | None = None
        self._cleaned: dict[str, Any] = {}

    # -- binding ---------------------------------------------------------------

    @classmethod
    async def from_request(cls: type[FormT], request: Request, **kwargs: Any) -> FormT:
        """The form bound to the request's body on POST, PUT, PATCH and DELETE
        (urlencoded or multipart), unbound on other methods.  For ``async def`` views.

        Raises:
            HTTPException: 415 for a body that is not a form, 400 for a malformed
                one, 413 past the size limits.
        """
        data = await request.form() if request.method in BODY_METHODS else None
        form = cls(data, request=request, **kwargs)
        await form._prepare_async()
        return form

    @classmethod
    def from_request_sync(cls: type[FormT], request: Request, **kwargs: Any) -> FormT:
        """:meth:`from_request` for ``def`` views (run in heron's thread pool)."""
        from heron.concurrency import run_async

        data = run_async(request.form()) if request.method in BODY_METHODS else None
        form = cls(data, request=request, **kwargs)
        form._prepare_sync()
        return form

    async def _prepare_async(self) -> None:
        """Work a form needs done before use in async code (a model form's queries)."""

    def _prepare_sync(self) -> None:
        """Work a form needs done before use in sync code."""

    # -- validation --------------------------------------------------------------

    def is_valid(self) -> bool:
        """Whether the form is bound and every field (and the form) is valid.

        Validation runs once, on the first call (or first use of ``errors``/``data``).
        """
        return self.is_bound and not self.errors

    @property
    def errors(self) -> dict[str, list[str]]:
        """Messages by field name; ``"__all__"`` holds errors of the form as a whole.
        Empty for an unbound form."""
        if self._errors is None:
            self._errors = {}
            if self.is_bound:
                try:
                    self.full_clean()
                except BaseException:
                    self._errors, self._cleaned = None, {}  # not validated: try again later
                    raise
        return self._errors

    @property
    def non_field_errors(self) -> ErrorList:
        """Errors of the form as a whole (from ``clean``)."""
        return ErrorList(self.errors.get(NON_FIELD_ERRORS, []),
                         id=f"id_{self.prefix}errors", form=self, for_form=True)

    @property
    def data(self) -> dict[str, Any]:
        """The cleaned values by field name, typed as declared.

        Raises:
            RuntimeError: the form is not valid (check ``is_valid()`` first).
        """
        if not self.is_valid():
            raise RuntimeError("form.data is the data of a valid form: check "
                               "form.is_valid() first (see form.errors for why it is not)")
        return dict(self._cleaned)

    def add_error(self, field: str | None, message: str) -> None:
        """Add an error to ``field`` (``None``: to the form as a whole); the form is
        invalid from then on, and the value leaves ``data``."""
        errors = self.errors if self._errors is None else self._errors
        if field is not None and field not in self.specs:
            raise KeyError(f"{type(self).__name__} has no field {field!r}")
        key = field if field is not None else NON_FIELD_ERRORS
        errors.setdefault(key, []).append(message)
        if field is not None:
            self._cleaned.pop(field, None)

    def full_clean(self) -> None:
        """Validate every field, then the form (its ``clean`` hook) if the fields are valid."""
        for name, spec in self.specs.items():
            try:
                value = self._clean_field(spec)
                hook = getattr(self, f"clean_{name}", None)
                if hook is not None:
                    value = hook(value)
            except FieldError as error:
                self.add_error(name, self._message(spec, error.code, error.context))
            except ValidationError as error:
                self.add_error(name, error.message)
            else:
                self._cleaned[name] = value
        if not self._errors:
            try:
                cleaned = self.clean(dict(self._cleaned))
            except ValidationError as error:
                self.add_error(error.field, error.message)
            else:
                if cleaned is not None:
                    self._cleaned = dict(cleaned)

    def clean(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """Check the form as a whole; runs when every field is valid.

        Override it: raise :class:`ValidationError` (with ``field=`` to put the
        message on one field), or call :meth:`add_error`; return changed data, or
        ``None`` to keep it.
        """
        return None

    def _clean_field(self, spec: FieldSpec) -> Any:
        value = extract(spec, self.raw, self.prefix + spec.name)
        if value is EMPTY:
            if spec.required:
                raise FieldError("missing")
            return spec.get_default()
        if spec.kind == "file":
            for upload in value if spec.many else [value]:
                check_upload(spec, upload)
            return value
        choices = self.choices_for(spec.name)
        if choices is not None:
            value = to_choice(spec, choices, value)
        value = self._validate(spec, value)
        if spec.kind == "datetime":
            value = _in_utc(value)
        if value is False and spec.kind == "bool" and spec.required and choices is None:
            # A required checkbox must be ticked; "No" chosen among choices is an answer.
            raise FieldError("missing")
        return value

    def _validate(self, spec: FieldSpec, value: Any) -> Any:
        from pydantic import ValidationError as PydanticError

        try:
            return spec.adapter.validate_python(value)
        except PydanticError as exc:
            error = exc.errors(include_url=False)[0]
            code = messages.error_type(spec.kind, error, spec.many)
            context = {**(error.get("ctx") or {}), **spec.options.constraints()}
            raise FieldError(code, **context,
                             _fallback=messages.pydantic_message(error)) from None

    def _message(self, spec: FieldSpec, code: str, context: dict[str, Any]) -> str:
        fallback = context.pop("_fallback", None)
        context.setdefault("label", spec.label)
        overrides = [spec.options.error_messages or {}]
        overrides += [vars(klass).get("error_messages") or {} for klass in type(self).__mro__]
        return messages.message_for(code, context, overrides, fallback)

    # -- values ------------------------------------------------------------------

    def choices_for(self, name: str) -> ChoiceSet | None:
        """The choices of field ``name`` for this form (a model form loads them)."""
        return self._choices.get(name) or self.specs[name].choices

    def initial_value(self, name: str) -> Any:
        """What an unbound form shows for ``name``: ``initial``, else the field's
        ``initial`` option, else its default."""
        if name in self.initial:
            return self.initial[name]
        spec = self.specs[name]
        if spec.options.initial is not MISSING:
            return spec.options.initial
        return None if spec.required else spec.get_default()

    # -- rendering ---------------------------------------------------------------

    def __getitem__(self, name: str) -> BoundField:
        if name not in self.specs:
            raise KeyError(f"{type(self).__name__} has no field {name!r}")
        return BoundField(self, self.specs[name])

    def __getattr__(self, name: str) -> BoundField:
        # Reached only for names that are no attribute: fields (removed from the class).
        if not name.startswith("_") and name in type(self).field_specs():
            return self[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __iter__(self) -> typing.Iterator[BoundField]:
        return (self[name] for name in self.specs)

    @property
    def visible_fields(self) -> list[BoundField]:
        return [f for f in self if not f.is_hidden]

    @property
    def hidden_fields(self) -> list[BoundField]:
        return [f for f in self if f.is_hidden]

    @property
    def is_multipart(self) -> bool:
        """Whether the form has a file field, so needs ``enctype="multipart/form-data"``."""
        return any(spec.kind == "file" for spec in self.specs.values())

    @property
    def enctype(self) -> str:
        """The ``enctype`` the ``<form>`` element needs."""
        return "multipart/form-data" if self.is_multipart else \
            "application/x-www-form-urlencoded"

    @property
    def csrf_input(self) -> Markup:
        """The hidden CSRF token field (empty without a request or with CSRF off)."""
        request = self.request
        if request is None or "app" not in request.scope:
            return Markup("")
        settings = request.app.settings
        if not settings.csrf:
            return Markup("")
        from heron.csrf import get_token

        return Markup('<input type="hidden" name="{}" value="{}">').format(
            settings.csrf_field_name, get_token(request))

    def render_template(self, name: str, **context: Any) -> Markup:
        """Render one of the form's templates with the app's environment (so the
        project's templates override heron's), or heron's own without a request."""
        template = self._environment().get_template(name)
        return Markup(template.render(form=self, **context))

    def _environment(self) -> jinja2.Environment:
        request = self.request
        if request is not None and "app" in request.scope:
            env: jinja2.Environment = request.app.templates.env
            return env
        return _standalone_environment()

    def render(self) -> Markup:
        """The form's fields as HTML (the ``<form>`` element is yours to write):
        the CSRF field, the form's errors, then a row per field."""
        return self.render_template(self.template)

    def __html__(self) -> Markup:
        return self.render()

    def __str__(self) -> str:
        return str(self.render())

    def __repr__(self) -> str:
        state = "unbound" if not self.is_bound else ("valid" if self.is_valid() else "invalid")
        return f"<{type(self).__name__} {state}>"


@lru_cache(maxsize=1)
def _standalone_environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        auto_reload=False,
        extensions=["heron.i18n._jinja.I18nExtension"],  # {% trans %} in heron's widgets
    )


def _in_utc(value: Any) -> Any:
    """A naive datetime typed into a form, read in the request's time zone (heron.i18n)
    and returned in UTC, the way heron.db stores it.  Outside a request that chose a
    zone (or ``override_timezone``) the value stays as typed."""
    from heron.i18n import make_aware
    from heron.i18n._state import chosen_timezone

    zone = chosen_timezone()
    if zone is None:
        return value
    if isinstance(value, list):
        return [make_aware(item, zone) for item in value]
    return make_aware(value, zone) if value is not None else value
