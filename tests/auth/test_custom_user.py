"""A project's own user model: extending ``AbstractUser``, or ``PermissionsMixin`` +
``AbstractBaseUser`` logging in by email.  Each project is written to ``tmp_path``
and run as a user runs it (``heron db makemigrations``, ``migrate``,
``createsuperuser`` and a script, each in a fresh interpreter), so that its models
never join the test process's metadata.  On SQLite and on PostgreSQL."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

import heron.auth
import heron.db

HERON = str(Path(sys.executable).parent / "heron")
#: Folders of shipped revisions, which makemigrations must never write to.
SHIPPED = [Path(heron.db.__file__).parent / "builtin_migrations",
           Path(heron.auth.__file__).parent / "migrations",
           Path(heron.auth.__file__).parent / "user_migrations"]

APP = """
from heron import App

app = App(
    components={components!r},
    auth_user_model={model!r},
    secret_key="a secret key for the custom user tests",
    allowed_hosts=["testserver"],
    password_time_cost=1, password_memory_cost=8 * 1024, password_parallelism=1,
)
"""

#: An ``AbstractUser`` with one more field, in a module of the app (branch "app").
MEMBER_PROJECT = {
    "app.py": APP.format(components=["heron.auth"], model="members:Member"),
    "members.py": """
        from sqlalchemy import String
        from sqlalchemy.orm import Mapped, mapped_column

        from heron.auth import AbstractUser


        class Member(AbstractUser):
            __tablename__ = "cu_member"

            nickname: Mapped[str] = mapped_column(String(50), default="")
    """,
}

#: A user that logs in by email, in a component (branch "accounts").
ACCOUNT_PROJECT = {
    "app.py": APP.format(components=["heron.auth", "accounts"],
                         model="accounts.models:Account"),
    "accounts/__init__.py": "",
    "accounts/models.py": """
        from sqlalchemy import String
        from sqlalchemy.orm import Mapped, mapped_column

        from heron.auth import AbstractBaseUser, PermissionsMixin


        class Account(PermissionsMixin, AbstractBaseUser):
            __tablename__ = "cu_account"
            USERNAME_FIELD = "email"

            email: Mapped[str] = mapped_column(String(254))
    """,
}

#: Run in the project: log in by the login field, in another case, through a
#: request; a second user whose login differs only by case must be refused.
CHECK_SCRIPT = """
    import json
    import sys

    from sqlalchemy.exc import IntegrityError

    from app import app
    from heron import Request
    from heron.auth import aauthenticate, alogin, create_user, get_user_model, new_token
    from heron.auth.users import find_user
    from heron.db import db
    from heron.testing import TestClient

    login, password = sys.argv[1], sys.argv[2]
    result = {}


    @app.post("/login")
    async def do_login(request: Request) -> dict:
        user = await aauthenticate(request, login.upper(), password)
        if user is None:
            return {"user": None}
        await alogin(request, user)
        return {"user": user.get_username()}


    @app.get("/me")
    def me(request: Request) -> dict:
        user = request.user
        return {"user": user.get_username() if user.is_authenticated else None,
                "last_login": str(user.last_login) if user.is_authenticated else None,
                "superuser": bool(getattr(user, "is_superuser", False)),
                "perm": user.has_perm("app.anything")}


    with TestClient(app) as client:
        result["login"] = client.post("/login", json={}).json()
        result["me"] = client.get("/me").json()
    model = get_user_model(app)
    with db.context(app):
        try:
            create_user(db.session, app, login.swapcase(), "another secret")
            db.session.commit()
            result["duplicate"] = "accepted"
        except IntegrityError:
            db.session.rollback()
            result["duplicate"] = "refused"
        owner = db.session.execute(find_user(model, login)).scalar_one()
        token, secret = new_token(app, owner, "script")
        db.session.add(token)
        db.session.commit()
    with TestClient(app) as client:
        response = client.get("/me", headers={"authorization": f"Bearer {secret}"})
        result["token"] = response.json()["user"]
    result["model"] = model.__name__
    print(json.dumps(result))
"""


class Project:
    """A project folder, its database, and heron run on it in subprocesses."""

    def __init__(self, root: Path, files: dict[str, str], database_url: str | None) -> None:
        self.root = root
        for name, source in {**files, "check.py": CHECK_SCRIPT}.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source))
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("HERON_") and k != "PYTHONPATH"}
        self.env.update(PYTHONDONTWRITEBYTECODE="1", HERON_DATABASE_CONNECT_TIMEOUT="5",
                        PATH=os.pathsep.join([str(Path(sys.executable).parent),
                                              self.env.get("PATH", "")]))
        if database_url is not None:
            self.env["HERON_DATABASE_URL"] = database_url
        self.url = database_url or f"sqlite:///{root / 'instance' / 'db.sqlite3'}"

    def run(self, *args: str, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(list(args), cwd=self.root, env={**self.env, **(env or {})},
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, (
            f"{' '.join(args)} exited {result.returncode}\n--- stdout\n{result.stdout}\n"
            f"--- stderr\n{result.stderr}")
        return result

    def heron(self, *args: str, env: dict[str, str] | None = None,
              ) -> subprocess.CompletedProcess[str]:
        return self.run(HERON, *args, env=env)

    def written(self, result: subprocess.CompletedProcess[str]) -> list[Path]:
        return [Path(line.removeprefix("Wrote ")) for line in result.stdout.splitlines()
                if line.startswith("Wrote ")]

    def inspect(self) -> dict[str, Any]:
        """Tables, the SQL of every index, and the permission keys."""
        engine = sa.create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                tables = set(sa.inspect(connection).get_table_names())
                sql = {str(row[0]) for row in connection.execute(sa.text(
                    "SELECT sql FROM sqlite_master WHERE type = 'index'"))} \
                    if connection.dialect.name == "sqlite" else {
                    str(row[0]) for row in connection.execute(sa.text(
                        "SELECT indexdef FROM pg_indexes"))}
                perms = {f"{c}.{n}" for c, n in connection.execute(sa.text(
                    "SELECT component, codename FROM auth_permission"))}
        finally:
            engine.dispose()
        return {"tables": tables, "index_sql": sql, "perms": perms}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    server = request.getfixturevalue("postgres_server")
    return str(server.create_database(f"heron_custom_user_{uuid.uuid4().hex[:12]}"))


def shipped_files() -> list[str]:
    return sorted(str(p) for folder in SHIPPED for p in folder.glob("*.py"))


def revision_values(path: Path) -> dict[str, Any]:
    """The module-level assignments of a revision (revision, depends_on...)."""
    values: dict[str, Any] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and \
                node.value is not None:
            values[node.target.id] = ast.literal_eval(node.value)
    return values


@pytest.mark.parametrize(("files", "table", "branch", "folder", "login", "label"), [
    (MEMBER_PROJECT, "cu_member", "app", "migrations", "Ada", "app"),
    (ACCOUNT_PROJECT, "cu_account", "accounts", "accounts/migrations",
     "Ada@Example.org", "accounts"),
], ids=["abstract-user", "email-login"])
def test_a_custom_user_model_end_to_end(tmp_path: Path, database_url: str | None,
                                        files: dict[str, str], table: str, branch: str,
                                        folder: str, login: str, label: str) -> None:
    project = Project(tmp_path, files, database_url)
    before = shipped_files()

    # -- makemigrations: every table of the user model, in the project's branch ----
    result = project.heron("db", "makemigrations", "-m", "users")
    written = project.written(result)
    assert [p.parent for p in written] == [tmp_path / folder]
    assert shipped_files() == before  # nothing in heron's own folders
    code = written[0].read_text().replace('"', "'")
    for name in (table, f"{table}_groups", f"{table}_permissions", f"{table}_api_token"):
        assert f"op.create_table(\n        '{name}'" in code or f"op.create_table('{name}'" in code
    assert "'auth_user'" not in code
    if table == "cu_member":
        assert "sa.Column('nickname'" in code  # the project's own field
    field = "email" if table == "cu_account" else "username"
    assert f"uq_{table}_{field}_lower" in code  # the case-insensitive unique index
    values = revision_values(written[0])
    assert values["branch_labels"] == (branch,)
    assert values["down_revision"] is None
    depends = values["depends_on"]
    assert "auth_0001" in ([depends] if isinstance(depends, str) else list(depends))

    # -- migrate: the tables and the index on every backend -------------------------
    project.heron("db", "migrate")
    state = project.inspect()
    assert {table, f"{table}_groups", f"{table}_permissions", f"{table}_api_token",
            "auth_group", "auth_permission"} <= state["tables"]
    assert "auth_user" not in state["tables"]
    index = f"uq_{table}_{field}_lower"
    assert any(index in sql and "lower" in sql.lower() and "UNIQUE" in sql.upper()
               for sql in state["index_sql"]), state["index_sql"]
    model = "member" if table == "cu_member" else "account"
    assert {f"{label}.{a}_{model}" for a in ("view", "add", "change", "delete")} <= \
        state["perms"]
    assert "auth.view_user" not in state["perms"]
    project.heron("db", "check")
    again = project.heron("db", "makemigrations", "-m", "nothing")
    assert "No changes in models." in again.stdout

    # -- a superuser, a login by the login field in another case, a token ------------
    env = {"HERON_SUPERUSER_USERNAME": login, "HERON_SUPERUSER_PASSWORD": "a long secret"}
    if table == "cu_member":
        env["HERON_SUPERUSER_EMAIL"] = "ada@example.org"
    created = project.heron("createsuperuser", "--noinput", env=env)
    assert f"Superuser {login!r} created." in created.stdout
    result = project.run(sys.executable, "check.py", login, "a long secret")
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["login"] == {"user": login}
    assert outcome["me"]["user"] == login
    assert outcome["me"]["superuser"] is True
    assert outcome["me"]["perm"] is True
    assert outcome["me"]["last_login"] not in (None, "None")
    assert outcome["duplicate"] == "refused"
    assert outcome["token"] == login

    # -- and back down --------------------------------------------------------------
    project.heron("db", "downgrade", f"{branch}@-1")
    assert table not in project.inspect()["tables"]
