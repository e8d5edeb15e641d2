"""``heron shell``: the app, ``db`` and the models, ready at a prompt."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

APP_SOURCE = """
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from heron import App
from heron.db import Model


class ShellNote(Model):
    text: Mapped[str] = mapped_column(String(100))


app = App(debug=True)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP_SOURCE))
    return tmp_path


def heron(project: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "heron.cli", *args], cwd=project, input=stdin,
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(project)},
    )


def test_the_namespace_has_the_app_db_and_every_model(project: Path) -> None:
    result = heron(project, "shell", "-c", "print(sorted(k for k in dir() if k[0] != '_'))")
    assert result.returncode == 0, result.stderr
    names = eval(result.stdout.strip())
    assert {"app", "db", "select", "func", "settings", "Model", "ShellNote"} <= set(names)


def test_db_session_works_at_once(project: Path) -> None:
    code = (
        "db.create_all(app)\n"
        "db.session.add(ShellNote(text='hi'))\n"
        "db.session.commit()\n"
        "print(db.session.scalars(select(ShellNote.text)).all())\n"
    )
    result = heron(project, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['hi']"
    assert (project / "instance" / "db.sqlite3").is_file()


def test_the_plain_prompt_reads_stdin(project: Path) -> None:
    result = heron(project, "shell", "--plain", stdin="print(app.settings.debug)\n")
    assert result.returncode == 0, result.stderr
    assert "heron shell for app" in result.stderr  # the banner names what is loaded
    assert "ShellNote" in result.stderr
    assert "True" in result.stdout


def test_no_app_is_a_usage_error(tmp_path: Path) -> None:
    result = heron(tmp_path, "shell", "-c", "pass")
    assert result.returncode == 2
    assert "No app given" in result.stderr
