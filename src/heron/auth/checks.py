"""Startup checks of the auth settings (ids in docs/checks.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["check_pages", "check_tokens", "check_user_model", "jwt_key_problems"]


def check_user_model(app: App) -> list[ImproperlyConfigured]:
    """Problems with ``auth_user_model``, for an app that uses heron.auth.

    The setting is loaded as :func:`heron.auth.get_user_model` loads it: it must
    import (heron.auth.E004) and name a concrete user model (heron.auth.E006).
    The model found is not cached on the app, so a check leaves the app as it was.
    """
    from heron.auth.users import _load_model  # imports SQLAlchemy: only when checked

    try:
        _load_model(app.settings.auth_user_model)
    except ImproperlyConfigured as exc:
        return [exc]
    return []


def jwt_key_problems(app: App) -> list[ImproperlyConfigured]:
    """Problems with ``jwt_keys`` and ``jwt_key_id``, once JWTs are used: no key
    (heron.auth.E011), a key too short for HS256 (heron.auth.E012), a ``jwt_key_id``
    that names none of them (heron.auth.E013)."""
    settings = app.settings
    keys: dict[str, str] = settings.jwt_keys
    if not keys:
        return [ImproperlyConfigured(
            "JWT endpoints are served (token_router(jwt=True)) but jwt_keys is empty: set "
            "HERON_JWT_KEYS='{\"k1\": \"<a random secret of 32 bytes or more>\"}'",
            id="heron.auth.E011")]
    problems = []
    short = [kid for kid, key in keys.items() if len(key.encode()) < 32]
    if short:
        problems.append(ImproperlyConfigured(
            f"jwt_keys {', '.join(map(repr, short))} are shorter than 32 bytes, too short "
            "for HS256: use `python -c \"import secrets; print(secrets.token_urlsafe(48))\"`",
            id="heron.auth.E012"))
    if settings.jwt_key_id and settings.jwt_key_id not in keys:
        problems.append(ImproperlyConfigured(
            f"jwt_key_id {settings.jwt_key_id!r} is not one of jwt_keys "
            f"({', '.join(map(repr, keys))})", id="heron.auth.E013"))
    return problems


def check_tokens(app: App, serves_jwt: bool) -> list[ImproperlyConfigured]:
    """Problems with the token settings: the ``Authorization`` schemes
    (heron.auth.E014), PyJWT missing while ``jwt_keys`` is set (heron.auth.E010),
    and :func:`jwt_key_problems` when JWTs are used."""
    import re

    settings = app.settings
    problems = []
    schemes = settings.auth_token_schemes
    if not schemes or any(not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", s) for s in schemes):
        problems.append(ImproperlyConfigured(
            f"auth_token_schemes {schemes!r} must list at least one scheme name "
            "(a word such as 'Bearer' or 'Token')", id="heron.auth.E014"))
    if settings.jwt_keys:
        try:
            import jwt  # noqa: F401
        except ImportError:
            problems.append(ImproperlyConfigured(
                'jwt_keys is set but PyJWT is not installed: pip install "heron[jwt]"',
                id="heron.auth.E010"))
    if settings.jwt_keys or serves_jwt:
        problems.extend(jwt_key_problems(app))
    return problems


def check_pages(app: App) -> list[ImproperlyConfigured]:
    """Problems with the pages' settings: ``auth_pages`` naming no group of pages
    (heron.auth.E020), ``auth_messages`` with an unknown key or a placeholder its
    message does not have (heron.auth.E021), the login page left out while
    ``login_url`` still names it (heron.auth.E022)."""
    from heron.auth.views import LOGIN_MESSAGES, PAGES

    settings = app.settings
    problems = []
    unknown = [name for name in settings.auth_pages if name not in PAGES]
    if unknown:
        problems.append(ImproperlyConfigured(
            f"auth_pages names {', '.join(map(repr, unknown))}, not among heron.auth's "
            f"pages; use some of {', '.join(map(repr, PAGES))} ([] for none)",
            id="heron.auth.E020"))
    samples = {"login_label": "username", "wait": "5 minutes"}
    bad = []
    for key, text in settings.auth_messages.items():
        try:
            if key not in LOGIN_MESSAGES:
                raise KeyError(key)
            text.format(**samples)
        except (KeyError, IndexError, ValueError):
            bad.append(key)
    if bad:
        problems.append(ImproperlyConfigured(
            f"auth_messages has {', '.join(map(repr, bad))}: the keys are "
            f"{', '.join(map(repr, LOGIN_MESSAGES))}, and a message may use only "
            "{login_label} and {wait} (write {{ and }} for braces)", id="heron.auth.E021"))
    if "login" not in settings.auth_pages and settings.login_url.startswith("auth:"):
        problems.append(ImproperlyConfigured(
            f"login_url is {settings.login_url!r}, but auth_pages leaves heron.auth's login "
            "page out: set login_url to your own login page (a route name or a path)",
            id="heron.auth.E022"))
    return problems


def check_two_factor(app: App) -> list[ImproperlyConfigured]:
    """Problems with the two-factor settings: ``auth_two_factor_required`` not one of
    its values (heron.auth.E030) or set while the ``two_factor`` pages are left out
    (heron.auth.E031), a drift, grace or code count out of range (heron.auth.E032)."""
    settings = app.settings
    problems = []
    required = settings.auth_two_factor_required
    if required not in ("none", "staff", "all"):
        problems.append(ImproperlyConfigured(
            f"auth_two_factor_required is {required!r}: use 'none', 'staff' or 'all'",
            id="heron.auth.E030"))
    elif required != "none" and "two_factor" not in settings.auth_pages:
        problems.append(ImproperlyConfigured(
            f"auth_two_factor_required is {required!r}, but auth_pages leaves out "
            "'two_factor', the pages where users set up and give their second factor",
            id="heron.auth.E031"))
    bounds = {"auth_totp_drift": (0, 10), "auth_recovery_codes": (1, 100),
              "auth_two_factor_grace": (0, 10 * 365 * 24 * 3600)}
    wrong = [f"{name} is {getattr(settings, name)!r} (use {low} to {high})"
             for name, (low, high) in bounds.items()
             if not low <= getattr(settings, name) <= high]
    if wrong:
        problems.append(ImproperlyConfigured("; ".join(wrong), id="heron.auth.E032"))
    return problems
