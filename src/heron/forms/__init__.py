"""heron forms: declarative forms validated by pydantic, drawn by Jinja templates.

    from pydantic import EmailStr
    from heron.forms import Form, field

    class Contact(Form):
        name: str = field(max_length=100)
        email: EmailStr
        message: str = field(widget="textarea", help_text="What can we do for you?")

    @app.route("/contact", methods=["GET", "POST"])
    async def contact(request):
        form = await Contact.from_request(request)
        if form.is_valid():
            send(form.data)
            return RedirectResponse("/thanks", 303)
        return render(request, "contact.html", form=form)   # {{ form }}

``ModelForm`` (fields from a SQLAlchemy model) is imported on first use, as it
needs SQLAlchemy.  See docs/forms.md.
"""

from typing import TYPE_CHECKING, Any

from heron.forms.boundfield import BoundField, Choice, ErrorList
from heron.forms.form import NON_FIELD_ERRORS, Form
from heron.forms.messages import DEFAULT_MESSAGES
from heron.forms.options import FormField, ValidationError, field
from heron.forms.widgets import WIDGETS, Widget

if TYPE_CHECKING:
    from heron.forms.models import ModelForm

__all__ = [
    "DEFAULT_MESSAGES",
    "NON_FIELD_ERRORS",
    "WIDGETS",
    "BoundField",
    "Choice",
    "ErrorList",
    "Form",
    "FormField",
    "ModelForm",
    "ValidationError",
    "Widget",
    "field",
]


def __getattr__(name: str) -> Any:
    if name == "ModelForm":
        from heron.forms.models import ModelForm

        return ModelForm
    raise AttributeError(f"module 'heron.forms' has no attribute {name!r}")
