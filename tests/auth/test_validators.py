"""heron.auth.validators: the configured checks, their messages, custom validators."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from heron import ImproperlyConfigured, Settings
from heron.auth.validators import (
    CommonPasswordValidator,
    MinimumLengthValidator,
    NumericPasswordValidator,
    PasswordValidationError,
    PasswordValidator,
    UserAttributeSimilarityValidator,
    common_passwords,
    load_validators,
    password_help_texts,
    validate_password,
)

TOO_SHORT = "This password is too short. It must contain at least 10 characters."
TOO_COMMON = "This password is too common."
NUMERIC = "This password is entirely numeric."
ALICE = {"username": "rabbit_hole", "email": "alice.liddell@example.com",
         "first_name": "Alice", "last_name": "Liddell"}


@pytest.fixture
def settings() -> Settings:
    return Settings()


def messages(password: str, settings: Settings,
             user_attributes: Mapping[str, str] | None = None) -> list[str]:
    try:
        validate_password(password, settings, user_attributes)
    except PasswordValidationError as exc:
        return exc.messages
    return []


def test_the_defaults(settings: Settings) -> None:
    assert settings.password_validators == [
        "minimum_length", "user_attribute_similarity", "common", "numeric"]
    assert settings.password_min_length == 10
    assert [type(v) for v in load_validators(settings)] == [
        MinimumLengthValidator, UserAttributeSimilarityValidator, CommonPasswordValidator,
        NumericPasswordValidator]


def test_a_good_password_passes_them_all(settings: Settings) -> None:
    validate_password("correct horse battery staple", settings, ALICE)
    validate_password("correct horse battery staple", settings)


def test_every_failure_is_reported_together(settings: Settings) -> None:
    with pytest.raises(PasswordValidationError) as caught:
        validate_password("123456", settings)
    assert caught.value.messages == [TOO_SHORT, TOO_COMMON, NUMERIC]
    assert str(caught.value) == f"{TOO_SHORT} {TOO_COMMON} {NUMERIC}"


# -- minimum length -----------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "ok"),
    [("", False), ("a" * 9, False), ("a" * 10, True), ("é" * 10, True), ("🔐" * 9, False),
     ("x" * 10_000, True)],
)
def test_minimum_length(password: str, ok: bool, settings: Settings) -> None:
    validator = MinimumLengthValidator(settings)
    if ok:
        validator.validate(password)
    else:
        with pytest.raises(PasswordValidationError) as caught:
            validator.validate(password)
        assert caught.value.messages == [TOO_SHORT]


def test_minimum_length_follows_the_setting() -> None:
    validator = MinimumLengthValidator(Settings(password_min_length=1))
    with pytest.raises(PasswordValidationError) as caught:
        validator.validate("")
    assert caught.value.messages == [
        "This password is too short. It must contain at least 1 character."]
    validator.validate("x")
    assert MinimumLengthValidator(Settings(password_min_length=12)).help_text() == (
        "Your password must contain at least 12 characters.")


# -- similarity to the user -----------------------------------------------------


@pytest.mark.parametrize(
    ("password", "attribute"),
    [
        ("rabbit_hole", "username"),
        ("Rabbit-Hole!", "username"),  # case does not matter; ratio 0.87
        ("down-the-rabbit-hole-2024", "username"),  # contains a word of it
        ("alice.liddell@example.com", "email"),
        ("A.Liddell", "email"),  # close to the local part
        ("liddell-loves-tea", "email"),  # a word of the local part, contained
        ("Liddel", "email"),  # close to a word of the local part
        ("ALICE-in-wonderland", "email"),  # the first attribute that matches is reported
    ],
)
def test_too_similar(password: str, attribute: str, settings: Settings) -> None:
    with pytest.raises(PasswordValidationError) as caught:
        UserAttributeSimilarityValidator(settings).validate(password, ALICE)
    assert caught.value.messages == [f"This password is too similar to your {attribute}."]


def test_names_are_compared_and_labelled_in_words(settings: Settings) -> None:
    validator = UserAttributeSimilarityValidator(settings)
    with pytest.raises(PasswordValidationError) as caught:
        validator.validate("Bartholomew99", {"first_name": "Bartholomew", "last_name": "Ng"})
    assert caught.value.messages == ["This password is too similar to your first name."]
    with pytest.raises(PasswordValidationError) as caught:
        validator.validate("x-Featherstonehaugh-x", {"last_name": "Featherstonehaugh"})
    assert caught.value.messages == ["This password is too similar to your last name."]


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "examplepassphrase",  # the email's domain is not compared
        "",
    ],
)
def test_not_too_similar(password: str, settings: Settings) -> None:
    UserAttributeSimilarityValidator(settings).validate(password, ALICE)


def test_short_parts_are_not_looked_for_inside_the_password(settings: Settings) -> None:
    validator = UserAttributeSimilarityValidator(settings)
    validator.validate("bobby-tables-forever", {"username": "bob", "email": "bob@x.io"})
    with pytest.raises(PasswordValidationError):
        validator.validate("bobby-tables-forever", {"username": "bobby"})


def test_no_user_attributes_no_similarity_check(settings: Settings) -> None:
    validator = UserAttributeSimilarityValidator(settings)
    validator.validate("alice", None)
    validator.validate("alice", {})
    validator.validate("alice", {"username": "", "nickname": "alice"})  # not compared


def test_similarity_with_unicode_attributes(settings: Settings) -> None:
    validator = UserAttributeSimilarityValidator(settings)
    with pytest.raises(PasswordValidationError):
        validator.validate("JÜRGEN-straße-1", {"username": "jürgen"})
    with pytest.raises(PasswordValidationError):
        validator.validate("Straße99", {"last_name": "STRASSE"})  # casefold: ß is ss
    validator.validate("correct horse battery staple", {"username": "日本語のユーザー"})


def test_long_inputs_are_not_slow(settings: Settings) -> None:
    long = "ab" * 5_000
    attributes = {"username": "ba" * 5_000, "email": "c" * 5_000 + "@example.com",
                  "first_name": "x" * 300, "last_name": "y"}
    start = time.perf_counter()
    for password in (long, "a" * 10_000, "é🔐" * 5_000):
        messages(password, settings, attributes)
    assert time.perf_counter() - start < 1.0


# -- common passwords -----------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["password", "Password1", "P@ssw0rd", "PASSWORD123!", "qwerty123", "1qaz2wsx", "zaq12wsx",
     "letmein", "Welcome2024", "admin123", "iloveyou", "monkey1", "dragon", "football!",
     "asdfghjkl", "123456789", "11111111", " password "],
)
def test_common(password: str, settings: Settings) -> None:
    with pytest.raises(PasswordValidationError) as caught:
        CommonPasswordValidator(settings).validate(password)
    assert caught.value.messages == [TOO_COMMON]


@pytest.mark.parametrize("password", ["correct horse battery staple", "", "pässwörd-ünique"])
def test_not_common(password: str, settings: Settings) -> None:
    CommonPasswordValidator(settings).validate(password)


def test_the_common_list_is_read_once_and_well_formed() -> None:
    common = common_passwords()
    assert common is common_passwords()
    assert 3_000 <= len(common) <= 20_000
    assert all(entry == entry.lower().strip() and len(entry) >= 4 for entry in common)


def test_the_common_list_is_the_output_of_its_generator() -> None:
    data = resources.files("heron.auth") / "data"
    readme = data.joinpath("README.md").read_text("utf-8")
    script = readme.split("```python\n", 1)[1].split("\n```", 1)[0]
    namespace: dict[str, Any] = {"__name__": "generate_common_passwords"}
    exec(compile(script, "heron/auth/data/README.md", "exec"), namespace)
    expected = namespace["HEADER"] + "\n".join(namespace["generate"]()) + "\n"
    assert data.joinpath("common-passwords.txt").read_text("utf-8") == expected


# -- numeric --------------------------------------------------------------------


@pytest.mark.parametrize(("password", "numeric"), [
    ("8675309001", True), ("٣٤٥٦٧٨٩٠١٢", True), ("1234 5678 90", False), ("12345678x9", False),
    ("", False), ("-1234567890", False),
])
def test_numeric(password: str, numeric: bool, settings: Settings) -> None:
    validator = NumericPasswordValidator(settings)
    if numeric:
        with pytest.raises(PasswordValidationError) as caught:
            validator.validate(password)
        assert caught.value.messages == [NUMERIC]
    else:
        validator.validate(password)


# -- configuration --------------------------------------------------------------


class NoHeronValidator(PasswordValidator):
    def validate(self, password: str, user_attributes: Mapping[str, str] | None = None) -> None:
        if "heron" in password.lower():
            raise PasswordValidationError(["This password must not mention heron."])

    def help_text(self) -> str:
        return "Your password can't mention heron."


class NotAValidator:
    def validate(self, password: str, user_attributes: Mapping[str, str] | None = None) -> None:
        pass


@pytest.fixture
def importable_here() -> Iterator[None]:
    """Make this test module importable as ``test_validators``, whatever pytest's import mode."""
    module = sys.modules[__name__]
    had = sys.modules.get("test_validators")
    sys.modules["test_validators"] = module
    yield
    if had is None:
        del sys.modules["test_validators"]
    else:
        sys.modules["test_validators"] = had


@pytest.mark.usefixtures("importable_here")
def test_a_custom_validator_by_dotted_name() -> None:
    settings = Settings(password_validators=["minimum_length", "test_validators:NoHeronValidator"])
    assert messages("heron", settings) == [TOO_SHORT, "This password must not mention heron."]
    validate_password("correct horse battery staple", settings)
    assert password_help_texts(settings) == [
        "Your password must contain at least 10 characters.", "Your password can't mention heron."]


@pytest.mark.usefixtures("importable_here")
def test_validators_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_PASSWORD_VALIDATORS", "numeric, test_validators.NoHeronValidator")
    monkeypatch.setenv("HERON_PASSWORD_MIN_LENGTH", "4")
    settings = Settings()
    assert settings.password_min_length == 4
    assert messages("1234", settings) == [NUMERIC]
    assert messages("heron", settings) == ["This password must not mention heron."]


def test_no_validators_accepts_anything() -> None:
    validate_password("", Settings(password_validators=[]))


@pytest.mark.usefixtures("importable_here")
@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("minimum_lenght", "did you mean 'minimum_length'?"),
        ("zxcvbn", "no validator is built in by that name"),
        ("no_such_package.validators:Strong", "No module named 'no_such_package'"),
        ("test_validators:Missing", "cannot be imported"),
        ("test_validators:NotAValidator", "not a heron.auth.validators.PasswordValidator"),
        ("test_validators:TOO_SHORT", "not a heron.auth.validators.PasswordValidator"),
        ("test_validators:", "cannot be imported"),
    ],
)
def test_an_unknown_validator_is_a_configuration_error(name: str, hint: str) -> None:
    settings = Settings(password_validators=["numeric", name])
    for call in (lambda: validate_password("x", settings), lambda: load_validators(settings)):
        with pytest.raises(ImproperlyConfigured) as caught:
            call()
        assert caught.value.id == "heron.auth.E001"
        assert repr(name) in caught.value.message
        assert hint in caught.value.message


def test_help_texts(settings: Settings) -> None:
    assert password_help_texts(settings) == [
        "Your password must contain at least 10 characters.",
        "Your password can't be too similar to your other personal information.",
        "Your password can't be a commonly used password.",
        "Your password can't be entirely numeric.",
    ]


def test_the_data_file_is_in_the_package_folder() -> None:
    # hatch puts every file under src/heron into the wheel unless .gitignore excludes it.
    import heron.auth

    folder = Path(heron.auth.__file__).parent / "data"
    assert (folder / "common-passwords.txt").is_file()
