"""``heron cleartokens``: expired and revoked API tokens and JWT logins are deleted."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from heron.auth import create_user, new_token, revoke
from heron.auth.user import User
from heron.cli import main
from heron.db import db

APP_SOURCE = """
from heron import App

app = App(components={components!r}, secret_key="a secret key for the CLI tests",
          password_time_cost=1, password_memory_cost=8 * 1024, password_parallelism=1)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP_SOURCE.format(
        components=["heron.auth"])))
    sys.modules.pop("app", None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = CliRunner().invoke(main, ["db", "migrate"])
    assert result.exit_code == 0, result.output
    yield tmp_path
    sys.modules.pop("app", None)


def test_cleartokens_deletes_expired_and_revoked_tokens(project: Path) -> None:
    app = sys.modules["app"].app
    with db.context(app):
        user = create_user(db.session, app, "alice", "correct horse battery")
        tokens = [new_token(app, user, name, expires_in=lifetime)[0] for name, lifetime in
                  [("live", True), ("old", timedelta(days=-1)), ("gone", True)]]
        db.session.add_all(tokens)
        revoke(tokens[2])
        db.session.commit()
    result = CliRunner().invoke(main, ["cleartokens"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 expired or revoked token(s)." in result.output
    with db.context(app):
        assert list(db.session.scalars(select(User.token_model.name))) == ["live"]


def test_cleartokens_without_heron_auth_is_a_clear_error(project: Path) -> None:
    (project / "app.py").write_text(textwrap.dedent(APP_SOURCE.format(components=[])))
    sys.modules.pop("app", None)
    result = CliRunner().invoke(main, ["cleartokens"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
