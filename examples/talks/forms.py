"""The form to propose (or edit) a talk: a model form with a few fields of its own."""

from __future__ import annotations

from pydantic import EmailStr, HttpUrl

from heron import UploadFile
from heron.forms import ModelForm, ValidationError, field

from .models import Talk

#: Largest slides file accepted, in bytes.
SLIDES_MAX = 2 * 1024 * 1024


class TalkForm(ModelForm):
    """Columns of :class:`Talk` as fields, plus the slides upload and the consent box.

    ``email`` and ``website`` are declared again, with richer types than the
    columns' ``str``; ``minutes`` and ``abstract`` keep the column's type and get
    more options.
    """

    class Meta:
        model = Talk
        fields = ["title", "speaker", "email", "track", "level", "minutes", "abstract",
                  "website"]

    email: EmailStr = field(max_length=254, help_text="We write to you there; it is never "
                                                      "shown on the site.")
    website: HttpUrl | None = field(label="Website (optional)")
    minutes = field(ge=15, le=60, multiple_of=15, help_text="15, 30, 45 or 60.")
    abstract = field(widget="textarea", min_length=50, max_length=2000,
                     help_text="What will people learn? At least 50 characters.")
    slides_file: UploadFile | None = field(
        label="Slides (optional)", accept=[".pdf", "application/pdf"], max_size=SLIDES_MAX,
        help_text="A PDF of at most 2 MB.")
    code_of_conduct: bool = field(label="I agree to follow the code of conduct")

    error_messages = {"missing": "Please fill in this field."}

    def clean_title(self, value: str) -> str:
        if value.isupper():
            raise ValidationError("Please do not shout: write the title in lower case.")
        return value

    def clean_website(self, value: HttpUrl | None) -> str | None:
        return str(value) if value is not None else None
