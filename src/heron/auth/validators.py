"""Password validators: the checks a new password must pass.

The ``password_validators`` setting lists them, by built-in name or as
``package.module:Class`` for a :class:`PasswordValidator` subclass of your own.
:func:`validate_password` runs them all and raises one
:class:`PasswordValidationError` with every message, so that a form can show
them together.  See docs/passwords.md.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING

from heron.exceptions import ImproperlyConfigured
from heron.i18n import gettext as _
from heron.i18n import ngettext, pgettext

if TYPE_CHECKING:
    from heron.settings import Settings

__all__ = [
    "CommonPasswordValidator",
    "MinimumLengthValidator",
    "NumericPasswordValidator",
    "PasswordValidationError",
    "PasswordValidator",
    "UserAttributeSimilarityValidator",
    "common_passwords",
    "load_validators",
    "password_help_texts",
    "validate_password",
]


class PasswordValidationError(ValueError):
    """A password failed validation.

    Attributes:
        messages: one readable sentence per failed check, for the form.
    """

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = list(messages)


class PasswordValidator:
    """The base of password validators, built-in and your own.

    heron makes one with ``Validator(settings)`` each time it validates, so a
    validator reads its options from the (typed) settings; subclass
    :class:`heron.Settings` to add options of your own.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def validate(self, password: str, user_attributes: Mapping[str, str] | None = None) -> None:
        """Return if ``password`` is acceptable, else raise :class:`PasswordValidationError`.

        Args:
            password: the new password, as typed.
            user_attributes: what is known about the user (``username``, ``email``,
                ``first_name``, ``last_name``, ...), or ``None`` before there is a user.
        """
        raise NotImplementedError

    def help_text(self) -> str:
        """One sentence for the form, saying what this validator asks for."""
        return ""


class MinimumLengthValidator(PasswordValidator):
    """At least ``password_min_length`` characters (Unicode code points)."""

    def validate(self, password: str, user_attributes: Mapping[str, str] | None = None) -> None:
        minimum = self.settings.password_min_length
        if len(password) < minimum:
            raise PasswordValidationError([ngettext(
                "This password is too short. It must contain at least %(min)d character.",
                "This password is too short. It must contain at least %(min)d characters.",
                minimum) % {"min": minimum}])

    def help_text(self) -> str:
        minimum = self.settings.password_min_length
        return ngettext("Your password must contain at least %(min)d character.",
                        "Your password must contain at least %(min)d characters.",
                        minimum) % {"min": minimum}


class UserAttributeSimilarityValidator(PasswordValidator):
    """Not too close to the username, email address or names of the user.

    Compared without regard to case: each attribute whole, the local part of an
    email address, and the words of either.  A password is too similar when
    :class:`difflib.SequenceMatcher` rates it at least :attr:`max_similarity`
    against one of them, or when it contains one of them longer than three
    characters (``alice`` in ``alice-2024!``).
    """

    #: The user attributes compared, in this order; the first too close is reported.
    attributes: tuple[str, ...] = ("username", "email", "first_name", "last_name")
    max_similarity: float = 0.7
    # Longer parts are only checked for containment: SequenceMatcher.ratio() is
    # quadratic, and a user attribute that long is not a password anyone guesses.
    _max_compared = 256

    def validate(self, password: str, user_attributes: Mapping[str, str] | None = None) -> None:
        if not user_attributes or not password:
            return
        folded = password.casefold()
        for name in self.attributes:
            value = user_attributes.get(name)
            if value and self._too_similar(folded, value.casefold()):
                raise PasswordValidationError([
                    _("This password is too similar to your %(attribute)s.")
                    % {"attribute": _attribute_label(name)}])

    def help_text(self) -> str:
        return _("Your password can't be too similar to your other personal information.")

    def _too_similar(self, password: str, value: str) -> bool:
        local = value.rpartition("@")[0] or value  # an email address: not its domain
        parts = {value, local, *re.split(r"[\W_]+", local)}
        for part in parts:
            if len(part) > 3 and part in password:
                return True
            if part and len(part) <= self._max_compared and self._ratio_at_least(password, part):
                return True
        return False

    def _ratio_at_least(self, a: str, b: str) -> bool:
        # Cheapest bound first: real_quick_ratio() looks at lengths only, so a
        # 10,000-character password never reaches ratio().
        matcher = difflib.SequenceMatcher(a=a, b=b)
        limit = self.max_similarity
        return (matcher.real_quick_ratio() >= limit and matcher.quick_ratio() >= limit
                and matcher.ratio() >= limit)


class CommonPasswordValidator(PasswordValidator):
    """Not in the list of common passwords shipped with heron (see :func:`common_passwords`)."""

    def validate(self, password: str, user_attributes: Mapping[str, str] | None = None) -> None:
        if password.strip().casefold() in common_passwords():
            raise PasswordValidationError([_("This password is too common.")])

    def help_text(self) -> str:
        return _("Your password can't be a commonly used password.")


class NumericPasswordValidator(PasswordValidator):
    """Not made of digits only."""

    def validate(self, password: str, user_attributes: Mapping[str, str] | None = None) -> None:
        if password.isdigit():
            raise PasswordValidationError([_("This password is entirely numeric.")])

    def help_text(self) -> str:
        return _("Your password can't be entirely numeric.")


_BUILTIN: dict[str, type[PasswordValidator]] = {
    "minimum_length": MinimumLengthValidator,
    "user_attribute_similarity": UserAttributeSimilarityValidator,
    "common": CommonPasswordValidator,
    "numeric": NumericPasswordValidator,
}


def validate_password(
    password: str, settings: Settings, user_attributes: Mapping[str, str] | None = None
) -> None:
    """Run every validator of the ``password_validators`` setting on ``password``.

    Args:
        password: the new password.
        settings: the app's settings.
        user_attributes: the user's ``username``, ``email``, ``first_name``,
            ``last_name`` (any subset), for the similarity check.

    Raises:
        PasswordValidationError: with the messages of every validator that failed.
        ImproperlyConfigured: a validator name cannot be loaded (heron.auth.E001).
    """
    messages: list[str] = []
    for validator in load_validators(settings):
        try:
            validator.validate(password, user_attributes)
        except PasswordValidationError as exc:
            messages.extend(exc.messages)
    if messages:
        raise PasswordValidationError(messages)


def password_help_texts(settings: Settings) -> list[str]:
    """What the configured validators ask for, one sentence each, for a form."""
    return [text for v in load_validators(settings) if (text := v.help_text())]


def load_validators(settings: Settings) -> list[PasswordValidator]:
    """The validators the ``password_validators`` setting names, made for ``settings``.

    Raises:
        ImproperlyConfigured: a name is neither built in nor an importable
            :class:`PasswordValidator` subclass (heron.auth.E001).
    """
    return [_validator_class(name)(settings) for name in settings.password_validators]


def _validator_class(name: str) -> type[PasswordValidator]:
    if name in _BUILTIN:
        return _BUILTIN[name]
    if ":" not in name and "." not in name:
        close = difflib.get_close_matches(name, _BUILTIN, n=1)
        reason = "no validator is built in by that name" + (
            f" (did you mean {close[0]!r}?)" if close else "")
    else:
        from heron._discovery import import_string

        try:
            cls = import_string(name)
        except (ImportError, AttributeError, ValueError) as exc:
            reason = f"it cannot be imported ({exc})"
        else:
            if isinstance(cls, type) and issubclass(cls, PasswordValidator):
                return cls
            reason = "it is not a heron.auth.validators.PasswordValidator subclass"
    raise ImproperlyConfigured(
        f"password_validators has {name!r}, but {reason}. Use the built-in "
        f"{', '.join(_BUILTIN)}, or 'package.module:Class'",
        id="heron.auth.E001",
    )


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (read once, on first use).

    It is ``heron/auth/data/common-passwords.txt``, generated from well-known
    patterns; ``heron/auth/data/README.md`` shows how.
    """
    text = (resources.files("heron.auth") / "data" / "common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _attribute_label(name: str) -> str:
    """A user attribute as the similarity message names it ("first name")."""
    labels = {"username": pgettext("user attribute", "username"),
              "email": pgettext("user attribute", "email"),
              "first_name": pgettext("user attribute", "first name"),
              "last_name": pgettext("user attribute", "last name")}
    return labels.get(name) or name.replace("_", " ")
