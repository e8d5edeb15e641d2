"""Startup checks: one registry, every problem with its own stable id, all reported at once.

A check is a function ``check(app) -> Iterable[ImproperlyConfigured]`` registered
with :func:`register` (heron's core checks) or returned by a plugin's
:meth:`~heron.plugins.Plugin.checks`.  ``heron check`` prints every problem
found; at startup they are raised together as :class:`ConfigurationErrors`.
docs/checks.md lists every id with its fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from heron.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["Check", "ConfigurationErrors", "register", "registered", "run_checks"]

Check = Callable[["App"], Iterable[ImproperlyConfigured]]

_CHECKS: list[Check] = []


def register(check: Check) -> Check:
    """Add a check run for every app (a decorator); returns it unchanged."""
    if check not in _CHECKS:
        _CHECKS.append(check)
    return check


def registered() -> tuple[Check, ...]:
    """The checks :func:`register` holds, in order."""
    return tuple(_CHECKS)


def run_checks(app: App, extra: Iterable[Check] = ()) -> list[ImproperlyConfigured]:
    """Every problem the registered checks and ``extra`` find, in order, once each.

    A check that raises :class:`ImproperlyConfigured` instead of returning it
    reports that one problem; any other exception propagates (a bug, not a
    configuration mistake).
    """
    problems: list[ImproperlyConfigured] = []
    seen: set[tuple[str, str]] = set()
    for check in (*_CHECKS, *extra):
        try:
            found = list(check(app))
        except ImproperlyConfigured as exc:
            found = [exc]
        for problem in found:
            key = (problem.id, problem.message)
            if key not in seen:
                seen.add(key)
                problems.append(problem)
    return problems


class ConfigurationErrors(ImproperlyConfigured):
    """Several configuration problems, raised together at startup.

    ``problems`` holds each one; the message lists them, one per line, with
    their ids.  Its own ``id`` is the first problem's.
    """

    def __init__(self, problems: list[ImproperlyConfigured]) -> None:
        self.problems = problems
        if len(problems) == 1:
            message = problems[0].message
        else:
            message = f"{len(problems)} configuration problems:\n" + "\n".join(
                f"  {p.id}: {p.message}" for p in problems)
        super().__init__(message, id=problems[0].id)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))
