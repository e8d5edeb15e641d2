"""Every field type: valid, invalid, missing and hostile input, and the messages people see."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Any, Literal

import pytest
from forms_helpers import bind, upload
from pydantic import AfterValidator, EmailStr, HttpUrl, SecretStr

from heron.datastructures import UploadFile
from heron.forms import Form, FormField, field

REQUIRED = "This field is required."
HOSTILE_TEXT = '"><script>alert(1)</script>'


class Size(enum.Enum):
    SMALL = "s"
    LARGE = "l"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Everything(Form):
    text: str = field(min_length=2, max_length=10)
    code: str = field(pattern=r"^[A-Z]{3}$")
    count: int = field(ge=0, le=100)
    ratio: float = field(gt=0, lt=1)
    price: Decimal = field(max_digits=5, decimal_places=2)
    agree: bool
    newsletter: bool = False
    day: dt.date
    moment: dt.datetime
    alarm: dt.time
    email: EmailStr
    site: HttpUrl
    size: Size
    priority: Priority
    flavour: Literal["sweet", "sour"]
    colour: str = field(choices=["red", "green"])
    sizes: list[Size] = field(min_length=1)
    attachment: UploadFile
    password: SecretStr = field(min_length=8)


VALID: dict[str, Any] = {
    "text": "hello", "code": "ABC", "count": "42", "ratio": "0.5", "price": "12.34",
    "agree": "on", "day": "2024-02-29", "moment": "2024-05-01T12:30", "alarm": "07:15",
    "email": "ann@example.com", "site": "https://example.com/page", "size": "s",
    "priority": "2", "flavour": "sour", "colour": "green", "sizes": ["s", "l"],
    "attachment": upload("report.txt", b"data"), "password": "correct horse",
}


def with_values(**changes: Any) -> Everything:
    values = {**VALID, **changes}
    return bind(Everything, **{k: v for k, v in values.items() if v is not None})


def test_valid_values_become_typed_data() -> None:
    form = with_values()
    assert form.is_valid(), form.errors
    data = form.data
    assert data["text"] == "hello"
    assert data["count"] == 42
    assert data["ratio"] == 0.5
    assert data["price"] == Decimal("12.34")
    assert data["agree"] is True
    assert data["newsletter"] is False  # not sent: an unticked box
    assert data["day"] == dt.date(2024, 2, 29)
    assert data["moment"] == dt.datetime(2024, 5, 1, 12, 30)
    assert data["alarm"] == dt.time(7, 15)
    assert data["email"] == "ann@example.com"
    assert str(data["site"]) == "https://example.com/page"
    assert data["size"] is Size.SMALL
    assert data["priority"] is Priority.HIGH
    assert data["flavour"] == "sour"
    assert data["colour"] == "green"
    assert data["sizes"] == [Size.SMALL, Size.LARGE]
    assert isinstance(data["attachment"], UploadFile)
    assert data["password"].get_secret_value() == "correct horse"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("text", "a", "Ensure this value has at least 2 characters."),
        ("text", "a" * 11, "Ensure this value has at most 10 characters."),
        ("text", "a\x00b", "Null characters are not allowed."),
        ("email", "a\x00@example.com", "Null characters are not allowed."),
        ("code", "abc", "Enter a valid value."),
        ("count", "forty", "Enter a whole number."),
        ("count", "4.5", "Enter a whole number."),
        ("count", "-1", "Ensure this value is greater than or equal to 0."),
        ("count", "101", "Ensure this value is less than or equal to 100."),
        ("count", "9" * 5000, "Enter a whole number."),
        ("ratio", "1", "Ensure this value is less than 1."),
        ("ratio", "nan", "Enter a number."),
        ("ratio", "inf", "Enter a number."),
        ("ratio", "1e400", "Enter a number."),
        ("price", "12.345", "Ensure that there are no more than 2 decimal places."),
        ("price", "12345.6", "Ensure that there are no more than 5 digits in total."),
        ("price", "NaN", "Enter a number."),
        ("price", "lots", "Enter a number."),
        ("agree", "maybe", "Choose yes or no."),
        ("day", "2023-02-29", "Enter a valid date."),
        ("day", "yesterday", "Enter a valid date."),
        ("moment", "2024-05-01T25:00", "Enter a valid date and time."),
        ("alarm", "7 o'clock", "Enter a valid time."),
        ("email", "ann", "Enter a valid email address."),
        ("email", "ann@", "Enter a valid email address."),
        ("email", HOSTILE_TEXT + "@x.com", "Enter a valid email address."),
        ("site", "example", "Enter a valid URL."),
        ("site", "javascript:alert(1)", "Enter a valid URL."),
        ("site", "ftp://example.com", "Enter a valid URL."),
        ("size", "medium", "Select a valid choice."),
        ("size", "S", "Select a valid choice."),
        ("priority", "3", "Select a valid choice."),
        ("flavour", "bitter", "Select a valid choice."),
        ("colour", "blue", "Select a valid choice."),
        ("sizes", ["s", "xl"], "Select a valid choice."),
        ("password", "short", "Ensure this value has at least 8 characters."),
    ],
)
def test_invalid_values_get_a_message_for_people(name: str, value: Any, message: str) -> None:
    form = with_values(**{name: value})
    assert not form.is_valid()
    assert form.errors == {name: [message]}


@pytest.mark.parametrize("name", [n for n in VALID if n != "sizes"] + ["sizes"])
def test_a_missing_required_field_is_required(name: str) -> None:
    form = with_values(**{name: None})
    assert not form.is_valid()
    assert form.errors == {name: [REQUIRED]}


@pytest.mark.parametrize("name", ["text", "count", "day", "email", "size", "colour"])
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_blank_text_counts_as_missing(name: str, blank: str) -> None:
    assert with_values(**{name: blank}).errors == {name: [REQUIRED]}


def test_an_unticked_required_box_is_missing_and_a_ticked_one_may_say_anything_true() -> None:
    assert with_values(agree=None).errors == {"agree": [REQUIRED]}
    assert with_values(agree="off").errors == {"agree": [REQUIRED]}
    for ticked in ("on", "true", "1", "yes"):
        assert with_values(agree=ticked).data["agree"] is True


class Optional_(Form):
    note: str | None
    count: int | None = None
    day: dt.date | None
    site: HttpUrl | None
    size: Size | None
    tags: list[str] = field(default_factory=list, choices=["a", "b"])
    title: str = "untitled"
    level: int = 3
    file: UploadFile | None = None


def test_optional_fields_left_empty_are_none_or_their_default() -> None:
    form = bind(Optional_, note="", count="  ", day="", site="", size="")
    assert form.is_valid(), form.errors
    assert form.data == {"note": None, "count": None, "day": None, "site": None,
                         "size": None, "tags": [], "title": "untitled", "level": 3,
                         "file": None}
    assert bind(Optional_).data["title"] == "untitled"  # nothing sent at all
    defaults = [bind(Optional_).data["tags"], bind(Optional_).data["tags"]]
    assert defaults[0] is not defaults[1]  # default_factory: a fresh list each time


def test_text_is_trimmed_unless_told_otherwise() -> None:
    class Trimmed(Form):
        name: str
        poem: str = field(strip=False)
        secret: SecretStr

    form = bind(Trimmed, name="  Ann \n", poem="  two\nlines  ", secret="  pad  ")
    assert form.data["name"] == "Ann"
    assert form.data["poem"] == "  two\nlines  "
    assert form.data["secret"].get_secret_value() == "  pad  "  # passwords are never trimmed


def test_hostile_text_is_kept_verbatim_in_data() -> None:
    form = with_values(text="<b>x</b>")
    assert form.data["text"] == "<b>x</b>"  # escaping is the template's job


def test_a_file_sent_for_a_text_field_and_text_for_a_file_field_are_errors() -> None:
    form = with_values(text=upload("evil.txt", b"x"), attachment="report.txt")
    assert form.errors == {"text": ["Enter text, not a file."], "attachment": ["Upload a file."]}


def test_an_empty_file_part_is_no_file() -> None:
    # What a browser sends for a file input left empty.
    form = with_values(attachment=upload("", b""))
    assert form.errors == {"attachment": [REQUIRED]}
    assert bind(Optional_, file=upload("", b"")).data["file"] is None


def test_first_value_wins_for_a_single_field_sent_twice() -> None:
    form = bind(Everything, ("count", "1"), ("count", "2"),
                **{k: v for k, v in VALID.items() if k != "count"})
    assert form.data["count"] == 1


def test_plain_dicts_of_python_values_bind_too() -> None:
    class Simple(Form):
        count: int
        tags: list[str]

    form = Simple({"count": 3, "tags": ["x", "y"]})
    assert form.data == {"count": 3, "tags": ["x", "y"]}


def test_annotated_options_and_pydantic_validators() -> None:
    def no_spam(value: str) -> str:
        if "spam" in value:
            raise ValueError("no spam, please")
        return value

    class Annotated_(Form):
        title: Annotated[str, FormField(max_length=5, label="Heading")]
        body: Annotated[str, AfterValidator(no_spam)]

    assert Annotated_.field_specs()["title"].label == "Heading"
    assert bind(Annotated_, title="toolong", body="ok").errors == {
        "title": ["Ensure this value has at most 5 characters."]}
    assert bind(Annotated_, title="ok", body="spam!").errors == {"body": ["No spam, please."]}


def test_many_values_of_a_list_field_keep_their_order_and_skip_blanks() -> None:
    class Tags(Form):
        tags: list[str]
        numbers: list[int] = []

    form = bind(Tags, tags=["b", "", "a", " "], numbers=["3", "1"])
    assert form.data == {"tags": ["b", "a"], "numbers": [3, 1]}
    assert bind(Tags, tags=["x"], numbers=["1", "two"]).errors == {
        "numbers": ["Enter a whole number."]}


def test_decimals_with_huge_exponents_are_refused() -> None:
    # Short to send, but a billion digits written out: a database overflows (PostgreSQL)
    # or stores Infinity (SQLite), and formatting the number exhausts memory.
    class Amount(Form):
        amount: Decimal

    for hostile in ("1e999999999", "1E-999999999", "0e-5000", "-9.9E+101"):
        assert bind(Amount, amount=hostile).errors == {
            "amount": ["Enter a number with fewer digits."]}, hostile
    assert bind(Amount, amount="1.5e3").data["amount"] == Decimal("1500")
    assert bind(Amount, amount="1e-100").data["amount"] == Decimal("1e-100")


def test_a_required_yes_no_choice_accepts_no() -> None:
    # Only a lone checkbox must be ticked; "No" picked among choices is an answer.
    class Survey(Form):
        again: bool = field(choices=[(True, "Yes"), (False, "No")], widget="radio")

    assert bind(Survey, again="false").data == {"again": False}
    assert bind(Survey, again="true").data == {"again": True}
    assert bind(Survey).errors == {"again": [REQUIRED]}
