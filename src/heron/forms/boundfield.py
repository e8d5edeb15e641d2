"""A field of one form instance: its value, errors and HTML (``{{ form.title }}``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from markupsafe import Markup

from heron.forms._binding import display_value, values_of
from heron.forms._spec import ChoiceSet, FieldSpec
from heron.forms.widgets import Attrs, Widget, default_widget, get_widget

if TYPE_CHECKING:
    from heron.forms.form import Form

__all__ = ["BoundField", "Choice", "ErrorList"]

_TEXT_KINDS = frozenset({"text", "password", "email", "url"})
_NUMBER_KINDS = frozenset({"int", "float", "decimal"})
_FALSE_TEXT = frozenset({"", "0", "false", "off", "no"})


class ErrorList(list[str]):
    """A field's (or the form's) error messages; renders as a list with an ``id``
    that the field's ``aria-describedby`` points to, and as nothing when empty."""

    def __init__(self, messages: list[str] | None = None, *, id: str = "",
                 form: Form | None = None, for_form: bool = False) -> None:
        super().__init__(messages or [])
        self.id = id
        #: Errors of the form as a whole (drawn with ``role="alert"``).
        self.for_form = for_form
        self._form = form

    def __html__(self) -> Markup:
        if not self:
            return Markup("")
        if self._form is None:
            return Markup('<ul class="errors">{}</ul>').format(
                Markup("").join(Markup("<li>{}</li>").format(m) for m in self))
        return self._form.render_template("heron/forms/errors.html", errors=self)

    def __str__(self) -> str:
        return str(self.__html__())


class Choice(NamedTuple):
    """One option of a select, radio or checkbox group."""

    value: str
    label: str
    selected: bool
    id: str


class BoundField:
    """One field of a form: ``{{ form.title }}`` draws its widget, ``.row`` the whole
    row (label, widget, help text, errors), ``.label_tag`` its ``<label>``.

    Attributes:
        name: the field's name; ``html_name`` has the form's prefix.
        id: the widget's ``id``; the label's ``for``.
        label, help_text: as given (or the name, capitalised).
        errors: an :class:`ErrorList`.
    """

    def __init__(self, form: Form, spec: FieldSpec) -> None:
        self.form = form
        self.spec = spec
        self.name = spec.name
        self.html_name = form.prefix + spec.name
        self.id = "id_" + self.html_name
        self.label = spec.label
        self.help_text = spec.options.help_text
        self.error_id = self.id + "-error"
        self.help_id = self.id + "-help"

    @property
    def errors(self) -> ErrorList:
        return ErrorList(self.form.errors.get(self.name, []), id=self.error_id, form=self.form)

    @property
    def required(self) -> bool:
        return self.spec.required

    @property
    def choices_set(self) -> ChoiceSet | None:
        return self.form.choices_for(self.name)

    @property
    def widget(self) -> Widget:
        chosen = self.spec.options.widget
        if chosen is not None:
            return get_widget(chosen)
        return default_widget(self.spec.kind, self.choices_set is not None)

    @property
    def is_hidden(self) -> bool:
        return self.widget.input_type == "hidden"

    @property
    def value(self) -> Any:
        """What the widget shows: the submitted text of a bound form (so that a
        rejected form comes back as typed), else the initial value as text; a list
        for ``list`` fields."""
        if self.spec.kind in ("password", "file"):
            return [] if self.spec.many else ""
        if self.form.is_bound:
            raw = [v for v in values_of(self.form.raw, self.html_name) if isinstance(v, str)]
            if self.spec.many:
                return raw
            return raw[0] if raw else ""
        return display_value(self.spec, self.form.initial_value(self.name),
                             keyed=self.choices_set is not None)

    @property
    def checked(self) -> bool:
        """For a checkbox: whether it is ticked."""
        if self.form.is_bound:
            raw = values_of(self.form.raw, self.html_name)
            return bool(raw) and str(raw[0]).strip().lower() not in _FALSE_TEXT
        return bool(self.form.initial_value(self.name))

    @property
    def choices(self) -> list[Choice]:
        """The options, each marked ``selected`` when it is the value (or among them)."""
        choices = self.choices_set
        if choices is None:
            return []
        value = self.value
        chosen = set(value) if isinstance(value, list) else {value}
        return [Choice(key, label, key in chosen, f"{self.id}_{index}")
                for index, (key, label) in enumerate(choices.options)]

    @property
    def show_empty_choice(self) -> bool:
        """Whether a single select starts with an empty option: when the field is
        optional, or required with no value chosen yet."""
        if self.spec.many:
            return False
        return self.spec.optional or not any(choice.selected for choice in self.choices)

    @property
    def describedby(self) -> str | None:
        ids = []
        if self.help_text:
            ids.append(self.help_id)
        if self.form.errors.get(self.name):
            ids.append(self.error_id)
        return " ".join(ids) or None

    @property
    def attrs(self) -> Attrs:
        """The HTML attributes of the widget: id, name, type, constraints, ARIA."""
        spec, options, widget = self.spec, self.spec.options, self.widget
        invalid = bool(self.form.errors.get(self.name))
        attrs = Attrs()
        if not widget.group:
            attrs["id"] = self.id
        attrs["name"] = self.html_name
        if widget.input_type is not None and not widget.group:
            attrs["type"] = widget.input_type
        # A group's buttons get `required` and ARIA from the template (on its fieldset).
        if not widget.group:
            attrs["required"] = spec.required and not (spec.kind == "bool" and spec.many)
            attrs["aria-invalid"] = "true" if invalid else None
            attrs["aria-describedby"] = self.describedby
        if spec.many and widget.input_type in ("file", None) and not widget.group:
            attrs["multiple"] = True
        attrs.update(self._constraint_attrs())
        if widget.input_type is None and "pattern" in attrs:
            del attrs["pattern"]  # not an attribute of <textarea> or <select>
        if widget.input_type not in ("checkbox", "radio", "file", "hidden") \
                and self.choices_set is None:
            attrs["placeholder"] = options.placeholder
        attrs.update(widget.attrs)
        attrs.update(options.attrs or {})
        return attrs

    def _constraint_attrs(self) -> dict[str, Any]:
        spec, options = self.spec, self.spec.options
        attrs: dict[str, Any] = {}
        if spec.kind in _TEXT_KINDS and spec.choices is None:
            attrs["minlength"] = options.min_length
            attrs["maxlength"] = options.max_length
            attrs["pattern"] = options.pattern
        elif spec.kind in _NUMBER_KINDS or spec.kind in ("date", "datetime", "time"):
            attrs["min"] = options.ge
            attrs["max"] = options.le
            attrs["step"] = self._step()
        elif spec.kind == "file" and options.accept:
            attrs["accept"] = ",".join(options.accept)
        return attrs

    def _step(self) -> str | None:
        spec, options = self.spec, self.spec.options
        if options.multiple_of is not None:
            return str(options.multiple_of)
        if spec.kind == "float":
            return "any"
        if spec.kind == "decimal":
            places = options.decimal_places
            return "any" if places is None else ("1" if places == 0 else f"0.{'0' * (places - 1)}1")
        return None

    @property
    def label_tag(self) -> Markup:
        """``<label for="id_title">Title</label>``."""
        return Markup('<label for="{}">{}</label>').format(self.id, self.label)

    def render(self) -> Markup:
        """The widget's HTML."""
        return self.form.render_template(self.widget.template, field=self, attrs=self.attrs,
                                         value=self.value, choices=self.choices)

    @property
    def row(self) -> Markup:
        """Label, widget, help text and errors, from ``form.row_template``."""
        return self.form.render_template(self.form.row_template, field=self)

    def __html__(self) -> Markup:
        return self.render()

    def __str__(self) -> str:
        return str(self.render())

    def __repr__(self) -> str:
        return f"<BoundField {self.name!r} of {type(self.form).__name__}>"
