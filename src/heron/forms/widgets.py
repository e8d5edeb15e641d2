"""Widgets: the Jinja template that draws a field, looked up by name.

Every widget is a template under ``heron/forms/widgets/``; a project overrides
one by putting a file of the same name in its own ``templates/`` folder
(``templates/heron/forms/widgets/input.html``), or gives a field a widget of its
own: ``field(widget=Widget("blog/stars.html"))``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

__all__ = ["WIDGETS", "Attrs", "Widget", "default_widget", "get_widget"]


@dataclasses.dataclass(frozen=True)
class Widget:
    """How a field is drawn.

    Args:
        template: the Jinja template's name; it gets ``field`` (the
            :class:`~heron.forms.BoundField`), ``attrs`` (the HTML attributes, which
            render themselves: ``<input{{ attrs }}>``), ``value`` and ``choices``.
        input_type: the ``type`` of an ``<input>`` (``"email"``, ``"date"``...).
        attrs: extra HTML attributes for every field drawn with this widget.
        group: the widget draws several controls (radio buttons, checkboxes), so
            its row uses a ``<fieldset>`` and ``<legend>`` instead of a ``<label>``.
    """

    template: str
    input_type: str | None = None
    attrs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    group: bool = False


_INPUT = "heron/forms/widgets/input.html"
_INPUT_TYPES = ("text", "password", "email", "url", "number", "date", "datetime-local", "time",
                "tel", "search", "color", "hidden")

#: The built-in widgets by name.
WIDGETS: dict[str, Widget] = {
    **{name: Widget(_INPUT, name) for name in _INPUT_TYPES},
    "textarea": Widget("heron/forms/widgets/textarea.html"),
    "checkbox": Widget("heron/forms/widgets/checkbox.html", "checkbox"),
    "select": Widget("heron/forms/widgets/select.html"),
    "radio": Widget("heron/forms/widgets/radio.html", "radio", group=True),
    "checkboxes": Widget("heron/forms/widgets/checkboxes.html", "checkbox", group=True),
    "file": Widget("heron/forms/widgets/file.html", "file"),
}

_BY_KIND = {
    "text": "text", "password": "password", "int": "number", "float": "number",
    "decimal": "number", "bool": "checkbox", "date": "date", "datetime": "datetime-local",
    "time": "time", "email": "email", "url": "url", "choice": "select", "file": "file",
}


def get_widget(widget: str | Widget) -> Widget:
    """A widget by name (see :data:`WIDGETS`), or the widget itself.

    Raises:
        LookupError: for a name that is no built-in widget.
    """
    if isinstance(widget, Widget):
        return widget
    try:
        return WIDGETS[widget]
    except KeyError:
        known = ", ".join(sorted(WIDGETS))
        raise LookupError(f"No widget is named {widget!r}; the built-in ones are {known}, "
                          "or pass a Widget('your/template.html')") from None


def default_widget(kind: str, has_choices: bool) -> Widget:
    """The widget of a field of ``kind`` that names none."""
    if has_choices and kind != "bool":
        return WIDGETS["select"]
    return WIDGETS[_BY_KIND[kind]]


class Attrs(dict[str, Any]):
    """HTML attributes that render themselves, escaped: ``<input{{ attrs }}>``.

    ``True`` gives a bare attribute (``required``); ``None`` and ``False`` leave
    the attribute out.
    """

    def __html__(self) -> Markup:
        parts: list[Markup] = []
        for name, value in self.items():
            if value is None or value is False:
                continue
            if value is True:
                parts.append(Markup(" {}").format(name))
            else:
                parts.append(Markup(' {}="{}"').format(name, value))
        return Markup("").join(parts)

    def without(self, *names: str) -> Attrs:
        """These attributes but ``names`` (``attrs.without("id")`` for a second input)."""
        return Attrs({name: value for name, value in self.items() if name not in names})

    def __str__(self) -> str:
        return str(self.__html__())
