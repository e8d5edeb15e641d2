"""The check registry (issue 13): every configuration error id is raised at one place and
documented in docs/checks.md; heron.checks.run_checks reports every problem once."""

from __future__ import annotations

import ast
import pickle
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from heron import App
from heron import checks as registry
from heron.checks import ConfigurationErrors, register, registered, run_checks
from heron.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "heron"
CHECKS_DOC = ROOT / "docs" / "checks.md"
ID = re.compile(r"heron\.[a-z][a-z0-9_]*\.[EW]\d{3}")  # heron.i18n has digits

# Ids raised at more than one place, each for one and the same problem (the count is exact,
# so that an entry left here after its duplicate is gone fails too):
SHARED = {
    # Two routes answer the same method at the same path: the matcher notices it by the
    # path's shape (paths differing only in parameter names) and again when it files the
    # route under its node (the same path, a method declared twice).
    "heron.routing.E001": 2,
    # One rule, "a {name:path} parameter is the whole last segment", checked where the
    # template is parsed (after another segment; inside a mixed segment) and again in the
    # matcher, which builds its tree from templates joined to router prefixes.
    "heron.routing.E004": 3,
    # An argument heron has no source for: one without a type or default, one whose type is
    # no source (the two branches of one decision in params._parameter).
    "heron.params.E001": 2,
    # A type pydantic cannot validate, found when the query/path converter and when the
    # body converter is built.
    "heron.params.E002": 2,
    # A field named like an attribute of every form, on a Form's annotations and on the
    # field overrides of a ModelForm.
    "heron.forms.E001": 2,
}


def id_literals() -> Iterator[tuple[str, str]]:
    """Every string literal in src/heron that is exactly an id, with where it is."""
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and ID.fullmatch(node.value):
                yield node.value, f"{path.relative_to(ROOT)}:{node.lineno}"


def documented_ids() -> list[str]:
    return re.findall(r"^### (heron\.\S+)\s*$", CHECKS_DOC.read_text(encoding="utf-8"), re.M)


def test_the_scan_finds_the_ids() -> None:
    found = {name for name, _ in id_literals()}
    assert {"heron.routing.E001", "heron.settings.E001", "heron.db.E003"} <= found


def test_every_id_is_documented_in_checks_md() -> None:
    documented = set(documented_ids())
    missing = sorted({f"{name} ({where})" for name, where in id_literals()
                      if name not in documented})
    assert not missing, f"add a '### <id>' section to docs/checks.md for: {missing}"


def test_checks_md_documents_only_ids_that_exist_each_once() -> None:
    headings = documented_ids()
    assert [name for name, n in Counter(headings).items() if n > 1] == []
    stale = set(headings) - {name for name, _ in id_literals()}
    assert not stale, f"docs/checks.md documents ids nothing raises: {sorted(stale)}"


def test_each_id_is_raised_at_one_place() -> None:
    places: dict[str, list[str]] = {}
    for name, where in id_literals():
        places.setdefault(name, []).append(where)
    wrong = {name: where for name, where in places.items()
             if len(where) != SHARED.get(name, 1)}
    assert not wrong, ("an id names one problem, raised at one place (or list it in SHARED "
                       f"with the reason): {wrong}")
    assert set(SHARED) <= set(places)


def test_every_improperly_configured_names_its_id() -> None:
    # Without an id, ImproperlyConfigured falls back to heron.E000, which no doc explains.
    anonymous = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == \
                    "ImproperlyConfigured":
                given = [k.value for k in node.keywords if k.arg == "id"] + node.args[1:2]
                if not (given and isinstance(given[0], ast.Constant)
                        and ID.fullmatch(str(given[0].value))):
                    anonymous.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert anonymous == []


# -- run_checks and ConfigurationErrors ------------------------------------------------


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> App:
    """An app, with the registry emptied so that only the checks a test gives run."""
    monkeypatch.setattr(registry, "_CHECKS", [])
    return App(debug=True)


def problem(name: str, message: str = "wrong") -> ImproperlyConfigured:
    return ImproperlyConfigured(message, id=name)


def keys(problems: list[ImproperlyConfigured]) -> list[tuple[str, str]]:
    return [(p.id, p.message) for p in problems]


def test_every_problem_of_every_check_is_reported_in_order(app: App) -> None:
    def first(app: App) -> list[ImproperlyConfigured]:
        return [problem("acme.a.E001"), problem("acme.a.E002")]

    def second(app: App) -> Iterator[ImproperlyConfigured]:
        yield problem("acme.b.E001")

    register(first)
    assert keys(run_checks(app, extra=[second])) == [
        ("acme.a.E001", "wrong"), ("acme.a.E002", "wrong"), ("acme.b.E001", "wrong")]


def test_the_checks_get_the_app(app: App) -> None:
    seen: list[App] = []
    run_checks(app, extra=[lambda checked: seen.append(checked) or ()])
    assert seen == [app]


def test_the_same_problem_found_twice_is_reported_once(app: App) -> None:
    def twice(app: App) -> list[ImproperlyConfigured]:
        return [problem("acme.a.E001"), problem("acme.a.E001"), problem("acme.a.E001", "other")]

    found = run_checks(app, extra=[twice, twice])
    assert keys(found) == [("acme.a.E001", "wrong"), ("acme.a.E001", "other")]


def test_a_check_that_raises_counts_as_one_problem_and_the_others_still_run(app: App) -> None:
    def raising(app: App) -> list[ImproperlyConfigured]:
        raise problem("acme.a.E001", "raised")

    def returning(app: App) -> list[ImproperlyConfigured]:
        return [problem("acme.b.E001")]

    found = run_checks(app, extra=[raising, returning])
    assert keys(found) == [("acme.a.E001", "raised"), ("acme.b.E001", "wrong")]


def test_a_check_that_fails_otherwise_is_a_bug_and_propagates(app: App) -> None:
    def broken(app: App) -> list[ImproperlyConfigured]:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        run_checks(app, extra=[broken])


def test_no_problem_is_an_empty_list(app: App) -> None:
    assert run_checks(app, extra=[lambda app: []]) == []


def test_register_keeps_each_check_once_in_order(app: App) -> None:
    def one(app: App) -> list[ImproperlyConfigured]:
        return []

    def two(app: App) -> list[ImproperlyConfigured]:
        return []

    assert register(one) is one
    register(two)
    register(one)
    assert registered() == (one, two)


def test_configuration_errors_lists_every_problem_with_its_id() -> None:
    problems = [problem("acme.a.E001", "first"), problem("acme.b.E002", "second"),
                problem("acme.c.E003", "third")]
    error = ConfigurationErrors(problems)
    assert isinstance(error, ImproperlyConfigured)
    assert error.problems == problems
    assert error.id == "acme.a.E001"
    assert error.message.splitlines() == [
        "3 configuration problems:",
        "  acme.a.E001: first",
        "  acme.b.E002: second",
        "  acme.c.E003: third",
    ]
    for p in problems:
        assert f"{p.id}: {p.message}" in str(error)


def test_configuration_errors_of_one_problem_reads_like_it() -> None:
    error = ConfigurationErrors([problem("acme.a.E001", "first")])
    assert error.message == "first"
    assert str(error) == "first (acme.a.E001)"


def test_configuration_errors_survive_pickling() -> None:
    # Worker processes (uvicorn --workers, pytest-xdist) send exceptions by pickle.
    error = pickle.loads(pickle.dumps(ConfigurationErrors(
        [problem("acme.a.E001", "first"), problem("acme.b.E002", "second")])))
    assert [p.id for p in error.problems] == ["acme.a.E001", "acme.b.E002"]
    assert "acme.b.E002: second" in str(error)
