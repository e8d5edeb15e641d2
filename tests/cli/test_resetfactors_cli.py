"""``heron resetfactors USER``: a locked-out user's second factors removed (issue 22)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from heron.auth.user import User
from heron.cli import main
from heron.db import db

APP_SOURCE = """
from heron import App

app = App(
    components=["heron.auth"],
    secret_key="a secret key for the resetfactors tests",
    password_time_cost=1, password_memory_cost=8 * 1024, password_parallelism=1,
)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP_SOURCE))
    sys.modules.pop("app", None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert CliRunner().invoke(main, ["db", "migrate"]).exit_code == 0
    yield tmp_path
    sys.modules.pop("app", None)


def heron(*args: str, input: str | None = None, status: int = 0) -> Result:
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exit_code == status, (result.output, result.exception)
    return result


def _user_with_factors() -> None:
    from heron.auth import _totp, create_user
    from heron.auth.models import utcnow

    app = sys.modules["app"].app
    with db.context(app):
        user = create_user(db.session, app, "alice", "correct horse battery")
        db.session.flush()
        db.session.add(User.totp_model(user_id=user.id, confirmed_at=utcnow(),
                                       secret=_totp.encrypt_secret(app, "JBSWY3DPEHPK3PXP")))
        db.session.add(User.recovery_code_model(user_id=user.id, code_hash="a" * 64))
        db.session.commit()


def _codes_left() -> int:
    with db.context(sys.modules["app"].app):
        return int(db.session.scalar(select(func.count()).select_from(User.recovery_code_model))
                   or 0)


def test_resetfactors_asks_then_removes_them(project: Path) -> None:
    _user_with_factors()
    assert "resetfactors" in heron("--help").output
    kept = heron("resetfactors", "ALICE", input="n\n")
    assert "Nothing was changed." in kept.output
    assert _codes_left() == 1
    done = heron("resetfactors", "alice", input="y\n")
    assert "were removed (authenticator app: yes, recovery codes: 1, passkeys: 0)" in done.output
    assert _codes_left() == 0
    assert "'alice' has no second factor." in heron("resetfactors", "alice", "--yes").output


def test_resetfactors_of_nobody_is_a_clear_error(project: Path) -> None:
    result = heron("resetfactors", "nobody", "--yes", status=1)
    assert "No user has the username 'nobody'." in result.output
    assert "Traceback" not in result.output
