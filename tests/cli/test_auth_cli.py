"""``heron createsuperuser`` and ``heron changepassword``: at the keyboard (click's
runner feeding the prompts), with ``--noinput`` and environment variables, and as a
real ``python -m heron`` process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from heron.auth.user import User
from heron.cli import main
from heron.db import db

APP_SOURCE = """
from heron import App

app = App(
    components={components!r},
    secret_key="a secret key for the CLI tests",
    password_time_cost=1, password_memory_cost=8 * 1024, password_parallelism=1,
)
"""

GOOD = "correct horse battery"
BYPASS = "Bypass password validation and create user anyway?"


def write_app(root: Path, components: list[str]) -> None:
    (root / "app.py").write_text(textwrap.dedent(APP_SOURCE.format(components=components)))
    sys.modules.pop("app", None)  # each test imports its own project's app.py


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project using heron.auth, its database migrated, as the current folder."""
    write_app(tmp_path, ["heron.auth"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = CliRunner().invoke(main, ["db", "migrate"])
    assert result.exit_code == 0, result.output
    yield tmp_path
    sys.modules.pop("app", None)


def heron(*args: str, input: str | None = None, env: dict[str, str] | None = None,
          status: int = 0) -> Result:
    result = CliRunner().invoke(main, list(args), input=input, env=env)
    assert result.exit_code == status, (result.output, result.exception)
    if status:
        assert "Traceback" not in result.output
    return result


def users() -> dict[str, Any]:
    """Every user of the project's database, by username, detached."""
    app = sys.modules["app"].app
    with db.context(app):
        found = {u.username: u for u in db.session.scalars(select(User))}
        db.session.expunge_all()
    return found


def password_ok(username: str, password: str) -> bool:
    return bool(users()[username].check_password(password, sys.modules["app"].app.settings))


# -- createsuperuser --noinput --------------------------------------------------------


def test_noinput_reads_the_environment(project: Path) -> None:
    env = {"HERON_SUPERUSER_USERNAME": "Admin", "HERON_SUPERUSER_EMAIL": "admin@example.org",
           "HERON_SUPERUSER_PASSWORD": GOOD}
    result = heron("createsuperuser", "--noinput", env=env)
    assert "Superuser 'Admin' created." in result.output
    admin = users()["Admin"]
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.is_active
    assert admin.email == "admin@example.org"
    assert password_ok("Admin", GOOD)


def test_noinput_options_win_over_the_environment(project: Path) -> None:
    env = {"HERON_SUPERUSER_USERNAME": "ignored", "HERON_SUPERUSER_EMAIL": "x@example.org"}
    result = heron("createsuperuser", "--noinput", "--username", "root", "--email",
                   "root@example.org", env=env)
    assert "without a usable password" in result.output
    assert "heron changepassword" in result.output
    root = users()["root"]
    assert root.email == "root@example.org"
    assert not root.has_usable_password()
    assert "ignored" not in users()


@pytest.mark.parametrize(("env", "message"), [
    ({}, "--noinput needs the username: pass --username or set HERON_SUPERUSER_USERNAME"),
    ({"HERON_SUPERUSER_USERNAME": "root"},
     "--noinput needs the email: pass --email or set HERON_SUPERUSER_EMAIL"),
    ({"HERON_SUPERUSER_USERNAME": "root", "HERON_SUPERUSER_EMAIL": "not an address"},
     "email 'not an address': Enter a valid email address."),
    ({"HERON_SUPERUSER_USERNAME": "no spaces", "HERON_SUPERUSER_EMAIL": "r@example.org"},
     "username 'no spaces': Enter a username of letters, digits and @ . + - _ only."),
    ({"HERON_SUPERUSER_USERNAME": "root", "HERON_SUPERUSER_EMAIL": "r@example.org",
      "HERON_SUPERUSER_PASSWORD": "12345"},
     "HERON_SUPERUSER_PASSWORD: This password is too short"),
])
def test_noinput_errors_say_what_to_do(project: Path, env: dict[str, str],
                                       message: str) -> None:
    result = heron("createsuperuser", "--noinput", env=env, status=1)
    assert f"Error: {message}" in result.output
    assert users() == {}


def test_duplicates_are_refused_whatever_the_case(project: Path) -> None:
    env = {"HERON_SUPERUSER_EMAIL": "a@example.org", "HERON_SUPERUSER_PASSWORD": GOOD}
    heron("createsuperuser", "--noinput", "--username", "alice", env=env)
    result = heron("createsuperuser", "--noinput", "--username", "ALICE", env=env, status=1)
    assert "That username is already taken." in result.output
    # at the keyboard: asked again
    result = heron("createsuperuser", input=f"Alice\nbob\nb@example.org\n{GOOD}\n{GOOD}\n")
    assert "That username is already taken." in result.output
    assert sorted(users()) == ["alice", "bob"]


# -- createsuperuser at the keyboard ---------------------------------------------------


def test_prompts_for_everything(project: Path) -> None:
    result = heron("createsuperuser", input=f" carol \ncarol@example.org\n{GOOD}\n{GOOD}\n")
    assert "Username: " in result.output
    assert "Email: " in result.output
    assert "Password: " in result.output
    assert "Password (again): " in result.output
    assert GOOD not in result.output  # hidden
    assert "Superuser 'carol' created." in result.output
    assert password_ok("carol", GOOD)
    assert users()["carol"].is_superuser


def test_options_are_not_asked_again(project: Path) -> None:
    result = heron("createsuperuser", "--username", "dave", "--email", "d@example.org",
                   input=f"{GOOD}\n{GOOD}\n")
    assert "Username: " not in result.output
    assert "Email: " not in result.output
    assert password_ok("dave", GOOD)


def test_bad_answers_are_asked_again(project: Path) -> None:
    answers = [
        "", "bad name!", "erin",  # blank, then bad characters
        "", "erin-at-example", "erin@example.org",  # blank, then not an address
        GOOD, "something else",  # the two passwords differ
        "", "",  # blank
        GOOD, GOOD,
    ]
    result = heron("createsuperuser", input="\n".join(answers) + "\n")
    output = result.output
    assert "Enter a username." in output
    assert "Enter a username of letters, digits" in output
    assert "Enter the email." in output
    assert "Enter a valid email address." in output
    assert "the two passwords do not match" in output
    assert "a blank password is not allowed" in output
    assert password_ok("erin", GOOD)


def test_a_refused_password_may_be_bypassed_at_the_keyboard(project: Path) -> None:
    # refused, not bypassed: asked again; then refused and bypassed
    answers = ["frank", "f@example.org", "frank", "frank", "n", "123", "123", "y"]
    result = heron("createsuperuser", input="\n".join(answers) + "\n")
    assert result.output.count(BYPASS) == 2
    assert "too similar to your username" in result.output
    assert "entirely numeric" in result.output
    assert password_ok("frank", "123")


def test_without_heron_auth(project: Path) -> None:
    write_app(project, [])
    assert "createsuperuser" not in heron("--help").output
    result = heron("createsuperuser", "--noinput", status=2)
    assert "is a command of the heron.auth component" in result.output
    assert "components=['heron.auth'" in result.output
    result = heron("changepassword", "alice", status=2)
    assert "is a command of the heron.auth component" in result.output


def test_the_commands_come_from_heron_auths_plugin(project: Path) -> None:
    listing = heron("--help").output
    assert "createsuperuser" in listing
    assert "changepassword" in listing
    assert "--app APP" in heron("createsuperuser", "--help").output
    # the app named after the command, or before it
    (project / "app.py").rename(project / "auth_site.py")
    sys.modules.pop("app", None)
    sys.modules.pop("auth_site", None)
    env = {"HERON_SUPERUSER_PASSWORD": GOOD}
    heron("createsuperuser", "--noinput", "--username", "ann", "--email", "a@example.org",
          "--app", "auth_site:app", env=env)
    heron("--app", "auth_site", "createsuperuser", "--noinput", "--username", "bea",
          "--email", "b@example.org", env=env)
    sys.modules["app"] = sys.modules.pop("auth_site")  # for users()
    assert {"ann", "bea"} <= set(users())


def test_before_migrate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_app(tmp_path, ["heron.auth"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    env = {"HERON_SUPERUSER_USERNAME": "root", "HERON_SUPERUSER_EMAIL": "r@example.org"}
    result = heron("createsuperuser", "--noinput", env=env, status=1)
    assert "run `heron db migrate` first" in result.output
    result = heron("changepassword", "root", status=1)
    assert "run `heron db migrate` first" in result.output


def test_a_bad_user_model_setting(project: Path) -> None:
    source = (project / "app.py").read_text().replace(
        "app = App(", "app = App(auth_user_model='nowhere:Nobody',")
    (project / "app.py").write_text(source)
    sys.modules.pop("app", None)
    result = heron("createsuperuser", "--noinput", status=1)
    assert "heron.auth.E004" in result.output


# -- changepassword -----------------------------------------------------------------------


@pytest.fixture
def alice(project: Path) -> str:
    heron("createsuperuser", "--noinput", "--username", "alice", "--email", "a@example.org",
          env={"HERON_SUPERUSER_PASSWORD": GOOD})
    return "alice"


def test_changepassword(alice: str) -> None:
    new = "a different long secret"
    result = heron("changepassword", "ALICE", input=f"{new}\n{new}\n")
    assert "Changing the password of 'alice'" in result.output
    assert "The password of 'alice' was changed." in result.output
    assert password_ok("alice", new)
    assert not password_ok("alice", GOOD)


def test_changepassword_gives_up_after_three_tries(alice: str) -> None:
    answers = ["one long secret", "another long secret",  # differ
               "alice", "alice",  # like the username, too short
               "", ""]  # blank
    result = heron("changepassword", "alice", input="\n".join(answers) + "\n", status=1)
    assert "the two passwords do not match" in result.output
    assert "too similar to your username" in result.output
    assert BYPASS not in result.output  # no bypass here
    assert "Error: Too many attempts (3); the password was not changed." in result.output
    assert password_ok("alice", GOOD)


def test_changepassword_succeeds_on_a_later_try(alice: str) -> None:
    new = "a different long secret"
    result = heron("changepassword", "alice", input=f"{new}\nmistyped\n{new}\n{new}\n")
    assert "was changed" in result.output
    assert password_ok("alice", new)


def test_changepassword_of_an_unknown_user(alice: str) -> None:
    result = heron("changepassword", "bob", status=1)
    assert "Error: No user has the username 'bob'." in result.output


def test_changepassword_defaults_to_the_login_name(alice: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOGNAME", "alice")
    new = "a different long secret"
    result = heron("changepassword", input=f"{new}\n{new}\n")
    assert "Changing the password of 'alice'" in result.output


# -- a real process ----------------------------------------------------------------------


def test_python_m_heron_createsuperuser_noinput(project: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HERON_") and k != "PYTHONPATH"}
    env.update(HERON_SUPERUSER_USERNAME="ops", HERON_SUPERUSER_EMAIL="ops@example.org",
               HERON_SUPERUSER_PASSWORD=GOOD)
    command = [sys.executable, "-m", "heron", "createsuperuser", "--noinput"]
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Superuser 'ops' created."
    assert password_ok("ops", GOOD)
    again = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True,
                           timeout=60, check=False)
    assert again.returncode == 1
    assert again.stderr.strip() == "Error: username 'ops': That username is already taken."
