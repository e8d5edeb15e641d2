"""Helpers for the migration tests: small projects written to ``tmp_path`` and
the real ``heron db`` command run on them in a fresh interpreter.

``library_project/v1`` and ``library_project/v2`` are two versions of the same
project (``app.py`` and the ``library`` component); :meth:`Project.use` copies
one of them over the project folder, as a developer would edit the files.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

HERE = Path(__file__).parent
LIBRARY_PROJECT = HERE / "library_project"
#: The ``heron`` script of the interpreter running the tests.
HERON = str(Path(sys.executable).parent / "heron")
#: heron's own revisions, which makemigrations must never write to.
BUILTIN_MIGRATIONS = Path(__import__("heron.db", fromlist=["x"]).__file__).parent / \
    "builtin_migrations"


class Project:
    """A project folder and the environment ``heron db`` runs in."""

    def __init__(self, root: Path, database_url: str | None = None) -> None:
        self.root = root
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
        self.env.update(HERON_DEBUG="1", HERON_DATABASE_CONNECT_TIMEOUT="2",
                        # rewritten files must never be read from a stale .pyc
                        PYTHONDONTWRITEBYTECODE="1")
        self.env.pop("PYTHONPATH", None)
        # as in an activated virtualenv: heron formats new revisions with its ruff
        bin_dir = str(Path(sys.executable).parent)
        self.env["PATH"] = os.pathsep.join([bin_dir, self.env.get("PATH", "")])
        if database_url is not None:
            self.env["HERON_DATABASE_URL"] = database_url
        #: The URL the test process reads the database with.
        self.url = database_url or f"sqlite:///{root / 'instance' / 'db.sqlite3'}"

    def use(self, version: str, project: Path = LIBRARY_PROJECT) -> None:
        """Copy ``project/version`` over the folder (migrations/ are kept)."""
        shutil.copytree(project / version, self.root, dirs_exist_ok=True)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def heron(self, *args: str, status: int | None = 0, input: str | None = None,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``heron db ARGS`` in the project folder; check the exit status."""
        result = subprocess.run(
            [HERON, "db", *args], cwd=self.root, env={**self.env, **(env or {})},
            input=input, capture_output=True, text=True, timeout=60, check=False,
        )
        if status is not None and result.returncode != status:
            raise AssertionError(
                f"`heron db {' '.join(args)}` exited {result.returncode}, not {status}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")
        return result

    # -- the database, read and written directly ----------------------------

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A connection in a transaction, committed at the end."""
        engine = sa.create_engine(self.url, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                yield connection
        finally:
            engine.dispose()

    def execute(self, sql: str, params: Sequence[dict[str, Any]] | dict[str, Any] = ()) -> None:
        with self.connect() as connection:
            connection.execute(sa.text(sql), params or {})

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]

    def tables(self) -> set[str]:
        with self.connect() as connection:
            return set(sa.inspect(connection).get_table_names())

    def columns(self, table: str) -> list[str]:
        with self.connect() as connection:
            return [c["name"] for c in sa.inspect(connection).get_columns(table)]

    def indexes(self, table: str) -> set[str]:
        with self.connect() as connection:
            return {str(i["name"]) for i in sa.inspect(connection).get_indexes(table)}

    def versions(self) -> set[str]:
        return {row[0] for row in self.rows("SELECT version_num FROM alembic_version")}


class Revision:
    """A revision file that heron wrote, read back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = path.read_text()
        #: The text without white space and with ' for ", the same whether or not
        #: a formatter (ruff, black) rewrote the revision: ``op.create_table('x',``.
        self.code = re.sub(r"\s+", "", self.text.replace('"', "'"))

    def _value(self, name: str) -> Any:
        match = re.search(rf"^{name}: .* = (.*)$", self.text, re.MULTILINE)
        assert match, f"no {name} in {self.path}"
        return ast.literal_eval(match.group(1))

    @property
    def revision(self) -> str:
        return str(self._value("revision"))

    @property
    def down_revision(self) -> Any:
        return self._value("down_revision")

    @property
    def branch_labels(self) -> Any:
        return self._value("branch_labels")

    @property
    def depends_on(self) -> Any:
        return self._value("depends_on")


def written(result: subprocess.CompletedProcess[str]) -> list[Path]:
    """The files ``heron db makemigrations`` says it wrote."""
    return [Path(line.removeprefix("Wrote ")) for line in result.stdout.splitlines()
            if line.startswith("Wrote ")]


def rename_column(revision: Path, table: str, old: str, new: str) -> None:
    """Turn autogenerate's add-``new``/drop-``old`` pair into a rename, by hand,
    as the docs tell users to: ``op.alter_column(..., new_column_name=...)`` in
    ``batch_alter_table`` (which SQLite needs; PostgreSQL runs a plain ALTER)."""
    source = revision.read_text()
    lines = source.splitlines(keepends=True)
    drop: set[int] = set()  # 0-based line numbers
    insert: dict[int, str] = {}
    for function in ast.parse(source).body:
        if not isinstance(function, ast.FunctionDef) or function.name not in (
                "upgrade", "downgrade"):
            continue
        added, dropped = (new, old) if function.name == "upgrade" else (old, new)
        for node in ast.walk(function):
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Attribute)):
                continue
            call = node.value
            strings = {a.value for a in ast.walk(call)
                       if isinstance(a, ast.Constant) and isinstance(a.value, str)}
            if (call.func.attr == "add_column" and added in strings) or (
                    call.func.attr == "drop_column" and dropped in strings):
                drop.update(range(node.lineno - 1, (node.end_lineno or node.lineno)))
        source_name, target_name = (old, new) if function.name == "upgrade" else (new, old)
        insert[function.body[0].lineno - 1] = (
            f"    with op.batch_alter_table({table!r}) as batch_op:\n"
            f"        batch_op.alter_column({source_name!r}, new_column_name={target_name!r})\n")
    out = []
    for number, line in enumerate(lines):
        out.append(insert.get(number, ""))
        if number not in drop:
            out.append(line)
    edited = "".join(out)
    removed = [lines[n] for n in sorted(drop)]
    assert sum("add_column" in line or "drop_column" in line for line in removed) == 4, (
        f"expected autogenerate's add/drop of {old}/{new}:\n{source}")
    ast.parse(edited)  # no block left empty
    revision.write_text(edited)


def closed_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
