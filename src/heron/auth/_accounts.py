"""What the sign-up page and the token API both check about a new account: the
login, the email address, the password, and what the user model asks for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from heron.auth.users import validate_username
from heron.i18n import gettext, pgettext

if TYPE_CHECKING:
    from heron.auth.models import AbstractBaseUser
    from heron.settings import Settings

__all__ = [
    "WRONG_LOGIN",
    "email_error",
    "login_error",
    "login_label",
    "login_word",
    "password_errors",
    "signup_fields",
    "taken_message",
    "user_attributes",
]


#: A wrong login, whatever was wrong (``{}``: the login field, "username").
WRONG_LOGIN = "Please enter a correct {} and password."


def email_error(email: str) -> str | None:
    """The syntax check of email-validator (what ``EmailStr`` uses); delivery is the real one."""
    from email_validator import EmailNotValidError, validate_email

    if not email:
        return gettext("Enter an email address.")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return gettext("Enter a valid email address.")
    return None


def login_label(model: type[AbstractBaseUser]) -> str:
    """The login field as people read it: "Username", "Email" (in the active language)."""
    name = model.USERNAME_FIELD
    labels = {"username": pgettext("login field", "Username"),
              "email": pgettext("login field", "Email")}
    return labels.get(name) or name.replace("_", " ").capitalize()


def login_word(model: type[AbstractBaseUser]) -> str:
    """The login field inside a sentence: "username", "email" (German keeps its
    capital: "Benutzername")."""
    name = model.USERNAME_FIELD
    labels = {"username": pgettext("login field in a sentence", "username"),
              "email": pgettext("login field in a sentence", "email")}
    return labels.get(name) or name.replace("_", " ")


def login_error(model: type[AbstractBaseUser], login: str) -> str | None:
    """What is wrong with a new login: an email address when the model logs in by
    email, else a username of letters, digits and ``@.+-_``."""
    if model.USERNAME_FIELD == model.EMAIL_FIELD:
        return email_error(login)
    return validate_username(login)


def taken_message(model: type[AbstractBaseUser]) -> str:
    return gettext("A user with that %(login)s already exists.") % {"login": login_word(model)}


def signup_fields(model: type[AbstractBaseUser]) -> tuple[str, str | None, bool]:
    """The login field, the separate email field (if any) and whether it is required."""
    table = model.__table__  # type: ignore[attr-defined]
    email = model.EMAIL_FIELD
    if email == model.USERNAME_FIELD or email not in table.c:
        return model.USERNAME_FIELD, None, False
    return model.USERNAME_FIELD, email, email in model.REQUIRED_FIELDS


def user_attributes(user: Any) -> dict[str, str]:
    """What the similarity validator compares a new password with."""
    names = ("username", "email", "first_name", "last_name", user.USERNAME_FIELD)
    return {n: v for n in names if isinstance(v := getattr(user, n, None), str) and v}


def password_errors(password: str, settings: Settings,
                    attributes: Mapping[str, str]) -> list[str]:
    """The messages of the ``password_validators`` the new password fails (none: fine)."""
    from heron.auth.validators import PasswordValidationError, validate_password

    try:
        validate_password(password, settings, attributes)
    except PasswordValidationError as exc:
        return exc.messages
    return []
