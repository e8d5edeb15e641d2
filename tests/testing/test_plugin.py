"""heron's pytest plugin, run the way users run it: pytest in a subprocess on a project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

UNSET_WARNING = '"asyncio_default_fixture_loop_scope" is unset'

TEST_MODULE = '''
import pytest


@pytest.fixture
async def number():
    return 1


async def test_async_fixture(number, request):
    assert number == 1
    assert request.config.getini("asyncio_default_fixture_loop_scope") == {scope!r}
'''


def run_pytest(project: Path, *options: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HERON_", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W",
         "default::pytest.PytestDeprecationWarning", *options, str(project)],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )


def make_project(root: Path, ini: str, scope: str | None) -> Path:
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n" + ini)
    (root / "test_it.py").write_text(TEST_MODULE.format(scope=scope))
    return root


def test_the_plugin_sets_the_fixture_loop_scope_so_no_warning_shows(tmp_path: Path) -> None:
    pytest.importorskip("pytest_asyncio")
    project = make_project(tmp_path / "project", "", "function")
    result = run_pytest(project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert UNSET_WARNING not in output


def test_without_the_plugin_pytest_asyncio_warns(tmp_path: Path) -> None:
    # The check above can see the warning: it is there when heron's plugin is not.
    pytest.importorskip("pytest_asyncio")
    project = make_project(tmp_path / "project", "", None)
    result = run_pytest(project, "-p", "no:heron")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert UNSET_WARNING in output


def test_the_projects_own_loop_scope_wins(tmp_path: Path) -> None:
    pytest.importorskip("pytest_asyncio")
    project = make_project(tmp_path / "project",
                           "asyncio_default_fixture_loop_scope = module\n", "module")
    result = run_pytest(project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert UNSET_WARNING not in output
