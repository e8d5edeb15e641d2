"""``heron db ...``, each command, run as a user runs it: a project in ``tmp_path``
and the real command in a subprocess (SQLite unless the test says otherwise)."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from migration_projects import BUILTIN_MIGRATIONS, Project, Revision, closed_port, written

#: The row heron's sessions migration creates, for writing rows as heron would.
SESSION = sa.Table(
    "heron_session", sa.MetaData(),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("data", sa.Text),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The v1 project, its migrations made and applied (made once; copy it)."""
    project = Project(tmp_path_factory.mktemp("migrated"))
    project.use("v1")
    project.heron("makemigrations", "-m", "v1")
    project.heron("migrate")
    return project


@pytest.fixture
def project(migrated: Project, tmp_path: Path) -> Project:
    """A copy of ``migrated`` (its files and its SQLite database) for one test."""
    shutil.copytree(migrated.root, tmp_path, dirs_exist_ok=True)
    return Project(tmp_path)


@pytest.fixture
def pg_url(postgres_server: object) -> str:
    """A fresh PostgreSQL database."""
    return postgres_server.create_database(  # type: ignore[attr-defined, no-any-return]
        f"heron_cli_{uuid.uuid4().hex[:12]}")


def revision_ids(project: Project) -> dict[str, str]:
    """``{"library": id, "app": id}`` of the v1 revisions."""
    return {label: Revision(next(folder.glob("*_v1.py"))).revision for label, folder in
            (("library", project.root / "library" / "migrations"),
             ("app", project.root / "migrations"))}


def test_migrate_creates_the_tables_and_herons_sessions_table(project: Project) -> None:
    assert {"author", "book", "heron_session", "alembic_version"} <= project.tables()
    assert "ix_heron_session_expires_at" in project.indexes("heron_session")
    ids = revision_ids(project)
    assert project.versions() == {"heron_0001", ids["library"]}  # app's v1 is implied


def test_the_life_of_a_migration(tmp_path: Path) -> None:
    """makemigrations, check, sql, history, migrate, current, in the order of a
    day's work, each saying what it did."""
    project = Project(tmp_path)
    project.use("v1")
    builtin_before = sorted(p.name for p in BUILTIN_MIGRATIONS.iterdir())

    result = project.heron("makemigrations", "-m", "v1")
    assert len(written(result)) == 2
    # only heron's own revision was applied (autogenerate compares with it)
    assert project.versions() == {"heron_0001"}
    assert project.tables() == {"alembic_version", "heron_session"}
    ids = revision_ids(project)

    # a second makemigrations before migrate: refused, nothing written
    result = project.heron("makemigrations", "-m", "again", status=1)
    assert "not applied" in result.stderr
    assert "heron db migrate" in result.stderr
    assert "Traceback" not in result.stderr
    assert written(result) == []
    assert len(list(project.root.rglob("*_again.py"))) == 0

    result = project.heron("check", status=1)
    assert "2 migration(s) not applied" in result.stderr
    assert ids["library"] in result.stderr
    assert ids["app"] in result.stderr

    # the SQL, for a DBA: printed, not run
    sql = project.heron("sql").stdout
    assert "CREATE TABLE author" in sql
    assert "CREATE TABLE book" in sql
    assert "CREATE TABLE heron_session" in sql
    assert f"INSERT INTO alembic_version (version_num) VALUES ('{ids['app']}')" in sql
    assert project.tables() == {"alembic_version", "heron_session"}
    assert project.versions() == {"heron_0001"}
    # only a range of it
    sql = project.heron("sql", "library@head", "--from", ids["app"]).stdout
    assert "CREATE TABLE book" in sql
    assert "CREATE TABLE author" not in sql

    history = project.heron("history").stdout
    assert f"<base> ({ids['app']}) -> {ids['library']} (library) (head), v1" in history
    assert f"<base> -> {ids['app']} (app)" in history
    assert "<base> -> heron_0001 (heron)" in history

    # migrate says what it applied, in order, then a summary
    assert project.heron("migrate").stdout.splitlines() == [
        f"  Applied app: {ids['app']} v1",
        f"  Applied library: {ids['library']} v1",
        "Applied 2 migrations; the database is up to date.",
    ]
    assert project.heron("migrate").stdout.strip() == (
        "No migrations to apply: the database is up to date.")
    # the head of each branch (the app's v1 is implied by library's)
    assert project.heron("current").stdout.splitlines() == [
        'heron: heron_0001 heron\'s sessions table (session_backend = "database").',
        f"library: {ids['library']} v1",
        "The database is up to date.",
    ]

    result = project.heron("makemigrations", "-m", "nothing")
    assert result.stdout.strip() == "No changes in models."
    assert list(project.root.rglob("*_nothing.py")) == []

    # the models change, no migration: check fails, naming the change
    project.use("v2")
    result = project.heron("check", status=1)
    assert "library: models differ from migrations" in result.stderr
    assert "add_table loan" in result.stderr
    assert "add_table fine" in result.stderr
    assert "heron db makemigrations" in result.stderr
    assert sorted(p.name for p in BUILTIN_MIGRATIONS.iterdir()) == builtin_before


def test_sql_on_postgresql_does_not_touch_the_database(migrated: Project, tmp_path: Path,
                                                       pg_url: str) -> None:
    shutil.copytree(migrated.root, tmp_path, dirs_exist_ok=True)
    project = Project(tmp_path, pg_url)
    sql = project.heron("sql").stdout
    assert "CREATE TABLE author (" in sql
    assert "SERIAL" in sql
    assert "CONSTRAINT fk_book_author_id_author FOREIGN KEY(author_id) REFERENCES author (id)" \
        in sql
    assert sql.index("CREATE TABLE author") < sql.index("CREATE TABLE book")
    assert sql.rstrip().endswith("COMMIT;")
    assert project.tables() == set()
    # and the same migrations then run on PostgreSQL
    project.heron("migrate")
    assert {"author", "book", "heron_session"} <= project.tables()


def test_makemigrations_empty_starts_the_apps_branch(tmp_path: Path) -> None:
    """An app with no models: an empty revision goes to the app's migrations/
    folder, in a branch of its own, never into heron's shipped migrations."""
    project = Project(tmp_path)
    project.write("app.py", "from heron import App\n\napp = App()\n")
    builtin_before = sorted(p.name for p in BUILTIN_MIGRATIONS.iterdir())
    result = project.heron("makemigrations", "-m", "nothing")
    assert result.stdout.strip() == "No changes in models."

    [path] = written(project.heron("makemigrations", "-m", "data fix", "--empty"))
    assert path.parent == project.root / "migrations"
    revision = Revision(path)
    assert revision.branch_labels == ("app",)
    assert revision.down_revision is None
    assert revision.depends_on is None
    assert sorted(p.name for p in BUILTIN_MIGRATIONS.iterdir()) == builtin_before

    result = project.heron("makemigrations", "-m", "more", "--empty", status=1)
    assert "not applied" in result.stderr
    project.heron("migrate")
    [path] = written(project.heron("makemigrations", "-m", "more", "--empty"))
    assert Revision(path).down_revision == revision.revision
    assert Revision(path).branch_labels is None


def test_downgrade_to_base_drops_every_table(project: Project) -> None:
    ids = revision_ids(project)
    result = project.heron("downgrade", "base")
    lines = result.stdout.splitlines()
    assert lines[-1] == "Reverted 3 migrations; downgraded to base."
    assert sorted(lines[:-1]) == sorted([
        f"  Reverted library: {ids['library']} v1", f"  Reverted app: {ids['app']} v1",
        '  Reverted heron: heron_0001 heron\'s sessions table (session_backend = "database").'])
    assert project.tables() == {"alembic_version"}
    assert project.versions() == set()
    assert project.heron("current").stdout.splitlines() == [
        "No migration is applied (every one was downgraded).",
        "3 migrations not applied yet; run `heron db migrate`.",
    ]


def test_current_on_a_database_without_herons_tables_says_so(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.use("v1")
    result = project.heron("current")
    assert result.stdout.strip() == ("The database has no heron tables yet (no migration was "
                                     "ever applied); run `heron db migrate`.")
    assert "alembic_version" not in project.tables()


def test_the_app_is_named_before_or_after_the_subcommand(migrated: Project,
                                                         tmp_path: Path) -> None:
    """``heron db --app X migrate``, ``heron db migrate --app X`` and ``HERON_APP``."""
    project = Project(tmp_path)
    shutil.copytree(migrated.root, tmp_path, dirs_exist_ok=True)
    (tmp_path / "app.py").rename(tmp_path / "site_app.py")
    up_to_date = "No migrations to apply: the database is up to date."
    assert project.heron("--app", "site_app:app", "migrate").stdout.strip() == up_to_date
    assert project.heron("migrate", "--app", "site_app:app").stdout.strip() == up_to_date
    assert project.heron("migrate", env={"HERON_APP": "site_app"}).stdout.strip() == up_to_date
    result = project.heron("current", "--app", "nosuch:app", status=2)
    assert "Could not import module 'nosuch'" in result.stderr


def test_reset(project: Project) -> None:
    project.execute("INSERT INTO author (id, name) VALUES (1, 'Ann')")
    project.execute("CREATE TABLE scratch (id INTEGER PRIMARY KEY)")
    before = project.tables()

    # never in production
    result = project.heron("reset", "--yes", status=1, env={
        "HERON_DEBUG": "0", "HERON_SECRET_KEY": "k" * 40,
        "HERON_ALLOWED_HOSTS": '["example.com"]'})
    assert "only with debug on" in result.stderr
    # asks first; "n" changes nothing
    result = project.heron("reset", input="n\n", status=1)
    assert "Drop every table in sqlite:///" in result.stdout
    assert "Nothing was changed." in result.stdout
    assert project.tables() == before
    assert project.rows("SELECT name FROM author") == [("Ann",)]

    result = project.heron("reset", "--yes")
    assert "The database was reset." in result.stdout
    assert project.tables() == before - {"scratch"}
    assert project.rows("SELECT count(*) FROM author") == [(0,)]
    assert project.versions() == {"heron_0001", revision_ids(project)["library"]}


def test_clearsessions_deletes_expired_sessions(project: Project) -> None:
    now = datetime.now(UTC)
    with project.connect() as connection:
        connection.execute(SESSION.insert(), [
            {"key": "old", "data": "{}", "expires_at": now - timedelta(minutes=1)},
            {"key": "live", "data": "{}", "expires_at": now + timedelta(hours=1)},
        ])
    result = project.heron("clearsessions")
    assert result.stdout.strip() == "Deleted 1 expired session(s)."
    assert project.rows("SELECT key FROM heron_session") == [("live",)]


def test_clearsessions_before_migrate_is_a_clear_error(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.write("app.py", "from heron import App\n\napp = App()\n")
    result = project.heron("clearsessions", status=1)
    assert "no such table: heron_session" in result.stderr
    assert "heron db migrate" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [
    ["check"], ["migrate"], ["makemigrations", "-m", "x"], ["clearsessions"]])
def test_unreachable_database_is_a_clear_error(tmp_path: Path, command: list[str]) -> None:
    url = f"postgresql://heron:s3cr3t@127.0.0.1:{closed_port()}/nothing"
    project = Project(tmp_path, url)
    project.use("v1")
    result = project.heron(*command, status=1)
    assert result.stderr.startswith("Error: Cannot connect to the database postgresql")
    assert "heron:***@127.0.0.1" in result.stderr
    assert "s3cr3t" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_unknown_app_is_a_usage_error(tmp_path: Path) -> None:
    project = Project(tmp_path)
    result = project.heron("--app", "nosuchmodule:app", "check", status=2)
    assert "Could not import module 'nosuchmodule'" in result.stderr
    assert "Usage: heron db check" in result.stderr
    # and no app at all: what was tried
    result = project.heron("migrate", status=2)
    assert "app.py" in result.stderr
    assert "HERON_APP" in result.stderr
