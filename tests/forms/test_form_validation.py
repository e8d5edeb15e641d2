"""Validation hooks, error messages and their overrides, and mistakes in form classes."""

from __future__ import annotations

from typing import Any

import pytest
from forms_helpers import bind
from pydantic import EmailStr

from heron import ImproperlyConfigured
from heron.forms import DEFAULT_MESSAGES, NON_FIELD_ERRORS, Form, ValidationError, field


class Password(Form):
    username: str = field(max_length=20)
    password: str = field(min_length=8, widget="password")
    confirm: str = field(widget="password")

    def clean_username(self, value: str) -> str:
        if value.lower() == "admin":
            raise ValidationError("That name is reserved.")
        return value.lower()

    def clean(self, data: dict[str, Any]) -> dict[str, Any] | None:
        if data["password"] != data["confirm"]:
            raise ValidationError("The passwords differ.", field="confirm")
        if data["password"] == data["username"]:
            raise ValidationError("Your password cannot be your name.")
        return {**data, "confirmed": True}


def test_field_hooks_clean_values_and_reject_them() -> None:
    assert bind(Password, username="ANN", password="p" * 8, confirm="p" * 8).data == {
        "username": "ann", "password": "p" * 8, "confirm": "p" * 8, "confirmed": True}
    assert bind(Password, username="Admin", password="p" * 8, confirm="p" * 8).errors == {
        "username": ["That name is reserved."]}


def test_form_hook_errors_go_to_a_field_or_to_the_form() -> None:
    form = bind(Password, username="ann", password="p" * 8, confirm="q" * 8)
    assert form.errors == {"confirm": ["The passwords differ."]}
    form = bind(Password, username="annannann", password="annannann", confirm="annannann")
    assert form.errors == {NON_FIELD_ERRORS: ["Your password cannot be your name."]}
    assert list(form.non_field_errors) == ["Your password cannot be your name."]


def test_the_form_hook_waits_for_valid_fields() -> None:
    # password too short: clean() would compare values that are not there.
    form = bind(Password, username="ann", password="short", confirm="other")
    assert form.errors == {"password": ["Ensure this value has at least 8 characters."]}


def test_add_error_from_a_view_makes_the_form_invalid() -> None:
    form = bind(Password, username="ann", password="p" * 8, confirm="p" * 8)
    assert form.is_valid()
    form.add_error("username", "Taken, sorry.")
    form.add_error(None, "Try again later.")
    assert not form.is_valid()
    assert form.errors == {"username": ["Taken, sorry."], NON_FIELD_ERRORS: ["Try again later."]}
    with pytest.raises(KeyError, match="no field 'nope'"):
        form.add_error("nope", "x")


def test_data_of_an_invalid_or_unbound_form_is_an_error() -> None:
    with pytest.raises(RuntimeError, match=r"check form\.is_valid"):
        _ = bind(Password, username="").data
    unbound = Password()
    assert not unbound.is_bound
    assert not unbound.is_valid()
    assert unbound.errors == {}
    with pytest.raises(RuntimeError):
        _ = unbound.data


def test_validation_runs_once() -> None:
    calls = []

    class Counted(Form):
        name: str

        def clean_name(self, value: str) -> str:
            calls.append(value)
            return value

    form = bind(Counted, name="x")
    assert form.is_valid()
    assert form.is_valid()
    assert form.errors == {}
    assert form.data
    assert calls == ["x"]


class Messages(Form):
    error_messages = {"missing": "Please fill this in.",
                      "string_too_long": "{label} is too long: {max_length} at most."}
    name: str = field(max_length=3)
    email: EmailStr = field(error_messages={"invalid_email": "That is no email address.",
                                            "missing": "We need your email."})
    age: int


def test_messages_are_overridden_per_form_and_per_field() -> None:
    assert bind(Messages).errors == {"name": ["Please fill this in."],
                                     "email": ["We need your email."],
                                     "age": ["Please fill this in."]}
    assert bind(Messages, name="Anna", email="x", age="y").errors == {
        "name": ["Name is too long: 3 at most."],
        "email": ["That is no email address."],
        "age": ["Enter a whole number."],  # not overridden: heron's
    }


def test_subclasses_inherit_fields_and_messages() -> None:
    class More(Messages):
        error_messages = {"int_parsing": "A number, please."}
        city: str | None

    assert list(More.field_specs()) == ["name", "email", "age", "city"]
    assert bind(More, age="y").errors["age"] == ["A number, please."]
    assert bind(More).errors["name"] == ["Please fill this in."]  # from the parent


def test_a_validator_error_without_a_message_of_heron_shows_its_own() -> None:
    from typing import Annotated

    from pydantic import AfterValidator

    def even(value: int) -> int:
        if value % 2:
            raise AssertionError("odd numbers are not allowed")  # what `assert` raises
        return value

    class Even(Form):
        number: Annotated[int, AfterValidator(even)]

    assert bind(Even, number="3").errors == {"number": ["Odd numbers are not allowed."]}


def test_default_messages_are_for_people() -> None:
    assert DEFAULT_MESSAGES["missing"] == "This field is required."
    assert DEFAULT_MESSAGES["invalid_email"] == "Enter a valid email address."
    assert all(message.endswith(".") for message in DEFAULT_MESSAGES.values())


@pytest.mark.parametrize("name", ["data", "errors", "is_valid", "raw", "initial", "request",
                                  "clean", "render", "prefix"])
def test_a_field_named_like_a_form_attribute_is_refused(name: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"heron.forms.E001"):
        type("Clash", (Form,), {"__annotations__": {name: str}})


def test_a_field_type_heron_cannot_handle_is_a_clear_error() -> None:
    class Odd(Form):
        values: dict[str, int]

    with pytest.raises(ImproperlyConfigured, match=r"cannot make a form field.*heron.forms.E002"):
        Odd.field_specs()


def test_field_takes_a_default_or_a_factory() -> None:
    with pytest.raises(TypeError):
        field(default=[], default_factory=list)


def test_fields_are_reached_as_attributes_and_items() -> None:
    form = Password()
    assert form.username is not form["username"]  # a fresh bound field each time
    assert form.username.name == form["username"].name == "username"
    assert [f.name for f in form] == ["username", "password", "confirm"]
    with pytest.raises(AttributeError):
        _ = form.nothing
    with pytest.raises(KeyError):
        _ = form["nothing"]
    assert repr(form) == "<Password unbound>"
    assert repr(bind(Password)) == "<Password invalid>"
