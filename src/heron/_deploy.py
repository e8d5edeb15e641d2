"""Deployment checks: what ``heron check --deploy`` adds to the usual checks.

A setting can be right in development and wrong in production (debug on, a short
secret key, a cookie without Secure).  These checks never run at startup; the core's
own (debug and the secret keys) live here, the batteries' in their plugins'
:meth:`~heron.plugins.Plugin.deploy_checks`.  An id with ``W`` is a warning, one
with ``E`` an error, as in Django: only debug on and a weak secret key are errors,
since each gives an attacker the site (the debug page shows settings and code; a
known key forges sessions).  docs/checks.md lists every id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from heron.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from heron.app import App

#: Shortest secret key accepted for production (Django's rule too).
MIN_SECRET_LENGTH = 50
#: Fewest distinct characters a secret key must have: a key typed by hand
#: ("xxxx...", "abcabc...") has few, a generated one dozens.
MIN_SECRET_CHARACTERS = 10
# Values people copy from docs, examples and templates (compared lower-cased, stripped).
_PLACEHOLDERS = frozenset({
    "dev", "development", "test", "testing", "secret", "secret-key", "secret_key", "s3cret",
    "change-me", "changeme", "change_me", "change-this", "replace-me", "your-secret-key",
    "insecure", "a-long-random-secret", "a-long-random-value", "test-secret",
    "test-secret-key", "dev-only-secret", "new-key", "old-key", "...",
    "a long random secret from the environment",
})
# Beginnings of placeholder keys long enough to pass the length rule.
_PLACEHOLDER_PREFIXES = ("change-me", "changeme", "change_me", "insecure", "dev-",
                         "django-insecure-", "your-secret")

_GENERATE = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'


def deploy_problems(app: App) -> list[ImproperlyConfigured]:
    """The deployment problems of ``app``: the core's, then each plugin's, once each.

    A check that raises :class:`ImproperlyConfigured` reports that one problem, as
    in :func:`heron.checks.run_checks`.
    """
    checks: list[Callable[[App], Iterable[ImproperlyConfigured]]] = [
        core_deploy_checks, *(plugin.deploy_checks for plugin in app.plugins.values())]
    problems: list[ImproperlyConfigured] = []
    seen: set[tuple[str, str]] = set()
    for check in checks:
        try:
            found = list(check(app))
        except ImproperlyConfigured as exc:
            found = [exc]
        for problem in found:
            if (problem.id, problem.message) not in seen:
                seen.add((problem.id, problem.message))
                problems.append(problem)
    return problems


def is_warning(problem: ImproperlyConfigured) -> bool:
    """Whether a problem is a warning: its id's last part starts with ``W``."""
    return problem.id.rpartition(".")[2].startswith("W")


def core_deploy_checks(app: App) -> list[ImproperlyConfigured]:
    """Debug on (heron.deploy.E001) and weak secret keys (E002, E003)."""
    settings = app.settings
    problems = []
    if settings.debug:
        problems.append(ImproperlyConfigured(
            "debug is on: every error shows its traceback, the settings and the code to "
            "whoever made the request. Turn it off in production: unset HERON_DEBUG (or "
            "HERON_DEBUG=0), remove App(debug=True), or serve with `heron run --no-debug`",
            id="heron.deploy.E001"))
    key = settings.secret_key
    # Without debug a missing key is heron.settings.E001 already, found by every check.
    weakness = secret_weakness(key) if key or settings.debug else None
    if weakness is not None:
        problems.append(ImproperlyConfigured(
            f"secret_key {weakness}, so sessions, CSRF tokens and reset links signed with "
            f"it can be forged. Set HERON_SECRET_KEY to the output of: {_GENERATE}",
            id="heron.deploy.E002"))
    for index, fallback in enumerate(settings.secret_key_fallbacks):
        weakness = secret_weakness(fallback)
        if weakness is not None:
            problems.append(ImproperlyConfigured(
                f"secret_key_fallbacks[{index}] {weakness}; a fallback still verifies "
                "signatures, so anything signed with it is accepted. Remove it from "
                "secret_key_fallbacks (HERON_SECRET_KEY_FALLBACKS)", id="heron.deploy.E003"))
    return problems


def secret_weakness(key: str | None) -> str | None:
    """What makes ``key`` unfit for production, as the end of a sentence, or ``None``."""
    if not key:
        return "is not set"
    folded = key.strip().lower()
    if folded in _PLACEHOLDERS:
        return f"is the placeholder {key!r}, known to anyone who read the docs"
    prefix = next((p for p in _PLACEHOLDER_PREFIXES if folded.startswith(p)), None)
    if prefix is not None:
        return f"starts with the placeholder {prefix!r}, known to anyone who read the docs"
    if len(key) < MIN_SECRET_LENGTH:
        return (f"has {len(key)} characters; a production key needs at least "
                f"{MIN_SECRET_LENGTH}")
    if len(set(key)) < MIN_SECRET_CHARACTERS:
        return (f"has only {len(set(key))} distinct characters, so it is easy to guess; a "
                f"generated key has dozens")
    return None

