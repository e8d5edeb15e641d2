"""Migrations end to end, as a user runs them: a project in ``tmp_path``, models in
the app and in a component, and the real ``heron db`` command in a subprocess, on
SQLite and on PostgreSQL.

v1 models -> makemigrations -> migrate -> rows -> v2 models (a column with a
server default, a renamed column, a new table with a foreign key to the other
branch's table, an index) -> makemigrations -> rename added by hand -> migrate
-> downgrade -> upgrade, with the rows kept at every step.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from migration_projects import BUILTIN_MIGRATIONS, Project, Revision, rename_column, written


@pytest.fixture(params=["sqlite", "postgresql"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Project:
    """An empty project folder on a fresh database: SQLite (heron's default file,
    instance/db.sqlite3) or a new PostgreSQL database."""
    url = None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(f"heron_migrations_{uuid.uuid4().hex[:12]}")
    return Project(tmp_path, url)


@pytest.fixture
def sqlite_project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def revisions_in(folder: Path) -> dict[str, Revision]:
    """The revisions in a migrations folder, by message (the file name's slug)."""
    return {path.stem.rsplit("_", 1)[1]: Revision(path) for path in folder.glob("*.py")}


def test_round_trip_keeps_the_data(project: Project) -> None:
    builtin_before = sorted(p.name for p in BUILTIN_MIGRATIONS.iterdir())
    project.use("v1")

    # -- v1 --------------------------------------------------------------------
    result = project.heron("makemigrations", "-m", "v1")
    paths = written(result)
    library_dir = project.root / "library" / "migrations"
    app_dir = project.root / "migrations"
    assert sorted(p.parent for p in paths) == sorted([library_dir, app_dir])
    library_v1 = revisions_in(library_dir)["v1"]
    app_v1 = revisions_in(app_dir)["v1"]
    assert "op.create_table('book'" in library_v1.code
    assert "op.create_table('author'" in app_v1.code
    assert library_v1.branch_labels == ("library",)
    assert app_v1.branch_labels == ("app",)
    assert library_v1.down_revision is None
    assert app_v1.down_revision is None
    # book.author_id refers to the app's table, created in the same pass: the
    # library's revision waits for the app's (on PostgreSQL, the FK needs it).
    assert library_v1.depends_on == app_v1.revision
    assert app_v1.depends_on is None
    # makemigrations applied heron's own revision only
    assert project.versions() == {"heron_0001"}
    assert {"book", "author"}.isdisjoint(project.tables())

    project.heron("migrate")
    assert {"author", "book", "heron_session", "alembic_version"} <= project.tables()
    if project.url.startswith("sqlite"):
        assert (project.root / "instance" / "db.sqlite3").is_file()
    project.execute("INSERT INTO author (id, name) VALUES (1, 'Ann'), (2, 'Bob')")
    project.execute("INSERT INTO book (id, title, pages, author_id) "
                    "VALUES (1, 'Dune', 412, 1), (2, 'Emma', 474, 2)")

    # -- v2 --------------------------------------------------------------------
    project.use("v2")
    result = project.heron("makemigrations", "-m", "v2")
    assert sorted(p.parent for p in written(result)) == sorted([library_dir, app_dir])
    library_v2 = revisions_in(library_dir)["v2"]
    app_v2 = revisions_in(app_dir)["v2"]
    assert library_v2.down_revision == library_v1.revision
    assert app_v2.down_revision == app_v1.revision
    assert library_v2.branch_labels is None
    assert app_v2.branch_labels is None
    assert "'loan'" in library_v2.code
    assert "ix_book_title" in library_v2.code
    assert "server_default='en'" in library_v2.code
    assert "'fine'" in app_v2.code
    assert "server_default='NZ'" in app_v2.code
    # fine.loan_id -> loan, a table the library's new revision creates
    assert app_v2.depends_on == library_v2.revision
    # book still refers to author, whose table the app's v1 made
    assert library_v2.depends_on == app_v1.revision
    rename_column(library_v2.path, "book", "pages", "page_count")

    project.heron("migrate")
    assert project.rows("SELECT id, title, page_count, language, author_id FROM book "
                        "ORDER BY id") == [(1, "Dune", 412, "en", 1), (2, "Emma", 474, "en", 2)]
    assert project.rows("SELECT id, name, country FROM author ORDER BY id") == [
        (1, "Ann", "NZ"), (2, "Bob", "NZ")]
    assert "ix_book_title" in project.indexes("book")
    assert "pages" not in project.columns("book")
    project.heron("check")
    # rows in the new tables, referring to books: SQLite's batch mode rebuilds
    # the book table on the way down while these still point at it
    project.execute("INSERT INTO loan (id, book_id, borrower) VALUES (1, 1, 'Cy'), (2, 2, 'Di')")
    project.execute("INSERT INTO fine (id, loan_id, amount) VALUES (1, 2, 5)")
    assert project.versions() == {"heron_0001", app_v2.revision}  # the rest is implied

    # -- back to v1 --------------------------------------------------------------
    project.heron("downgrade", "app@-1")
    assert "fine" not in project.tables()
    assert sorted(project.columns("author")) == ["id", "name"]
    project.heron("downgrade", "library@-1")
    assert {"loan", "fine"}.isdisjoint(project.tables())
    assert sorted(project.columns("book")) == ["author_id", "id", "pages", "title"]
    assert "ix_book_title" not in project.indexes("book")
    assert project.rows("SELECT id, title, pages, author_id FROM book ORDER BY id") == [
        (1, "Dune", 412, 1), (2, "Emma", 474, 2)]
    assert project.rows("SELECT id, name FROM author ORDER BY id") == [(1, "Ann"), (2, "Bob")]
    # library_v1 implies app_v1 (depends_on); Alembic left both, which made
    # the next upgrade fail ("overlaps with other requested revisions")
    assert project.versions() == {"heron_0001", library_v1.revision}
    current = project.heron("current").stdout
    assert library_v1.revision in current
    assert "heron_0001" in current
    assert library_v2.revision not in current
    assert app_v2.revision not in current
    assert not any(name.startswith("_alembic_tmp") for name in project.tables())

    # -- and up again --------------------------------------------------------------
    project.heron("migrate")
    assert project.rows("SELECT id, title, page_count, language, author_id FROM book "
                        "ORDER BY id") == [(1, "Dune", 412, "en", 1), (2, "Emma", 474, "en", 2)]
    assert project.rows("SELECT id, name, country FROM author ORDER BY id") == [
        (1, "Ann", "NZ"), (2, "Bob", "NZ")]
    assert project.rows("SELECT count(*) FROM loan") == [(0,)]
    project.heron("check")
    assert sorted(p.name for p in BUILTIN_MIGRATIONS.iterdir()) == builtin_before


def test_sqlite_migration_that_fails_changes_nothing(sqlite_project: Project) -> None:
    """On SQLite too, a migration runs in one transaction, DDL included, and
    a foreign key left dangling (checks are off while batch mode copies tables)
    fails it."""
    project = sqlite_project
    project.use("v1")
    project.heron("makemigrations", "-m", "v1")
    project.heron("migrate")
    project.execute("INSERT INTO author (id, name) VALUES (1, 'Ann')")
    project.execute("INSERT INTO book (id, title, pages, author_id) VALUES (1, 'Dune', 412, 1)")
    before = project.tables()

    revision = written(project.heron("makemigrations", "-m", "broken", "--empty"))[0]
    assert revision.parent == project.root / "migrations"
    text = revision.read_text()
    upgrade = text.index("def upgrade() -> None:\n") + len("def upgrade() -> None:\n")
    revision.write_text(text[:upgrade]
                        + "    op.create_table('scratch', sa.Column('id', sa.Integer(),"
                          " primary_key=True))\n"
                        + "    with op.batch_alter_table('author') as batch_op:\n"
                        + "        batch_op.alter_column('name', new_column_name='full_name')\n"
                        + "    op.execute('DELETE FROM author')\n"
                        + text[upgrade:])
    result = project.heron("migrate", status=1)
    assert "foreign key" in result.stderr
    assert "'book'" in result.stderr
    assert "Traceback" not in result.stderr
    assert project.tables() == before  # no scratch, no _alembic_tmp_author
    assert sorted(project.columns("author")) == ["id", "name"]
    assert project.rows("SELECT id, name FROM author") == [(1, "Ann")]
    assert Revision(revision).revision not in project.versions()

    # and with the data left consistent, the same migration goes through
    revision.write_text(revision.read_text().replace(
        "op.execute('DELETE FROM author')", "op.execute(\"UPDATE author SET full_name = 'A'\")"))
    project.heron("migrate")
    assert project.rows("SELECT id, full_name FROM author") == [(1, "A")]
    assert project.rows("SELECT author_id FROM book") == [(1,)]
    # heron turned foreign keys back on for the connections of the app
    assert "scratch" in project.tables()


def test_upgrading_tables_made_with_32_bit_ids(project: Project) -> None:
    """Tables whose migrations predate heron's 64-bit default id (``sa.Integer()``):
    nothing to do on SQLite (``INTEGER PRIMARY KEY`` is 64 bits already); on
    PostgreSQL ``heron db check`` names each column and makemigrations alters them."""
    project.use("v1")
    paths = written(project.heron("makemigrations", "-m", "v1"))
    for path in paths:  # as heron wrote them before: plain integers
        text = path.read_text()
        assert "BigInteger().with_variant(sa.Integer()," in text
        path.write_text(re.sub(r"sa\.BigInteger\(\)\.with_variant\(sa\.Integer\(\), "
                               r"""["']sqlite["']\)""", "sa.Integer()", text))
    project.heron("migrate")
    project.execute("INSERT INTO author (id, name) VALUES (1, 'Ann')")
    project.execute("INSERT INTO book (id, title, pages, author_id) VALUES (1, 'Dune', 412, 1)")
    if project.url.startswith("sqlite"):
        assert "Models and migrations agree" in project.heron("check").stdout
        assert project.heron("makemigrations", "-m", "bigint").stdout.strip() == (
            "No changes in models.")
        return
    checked = project.heron("check", status=1)
    problems = checked.stdout + checked.stderr
    for column in ("author.id", "book.id", "book.author_id"):
        assert f"modify_type {column}" in problems
    assert "book.pages" not in problems  # a plain integer column stays an integer
    bigint = written(project.heron("makemigrations", "-m", "bigint"))
    assert len(bigint) == 2
    for path in bigint:
        revision = Revision(path)
        assert "type_=sa.BigInteger().with_variant(sa.Integer(),'sqlite')" in revision.code
        # As docs/database.md says: the sequence numbering new rows is widened by hand.
        table = "author" if "'author'" in revision.code else "book"
        text = path.read_text()
        end = text.index("    # ### end Alembic commands ###")
        path.write_text(text[:end] + f'    op.execute("ALTER SEQUENCE {table}_id_seq AS bigint")\n'
                        + text[end:])
    project.heron("migrate")
    project.heron("check")
    big = 2**40
    project.execute(f"SELECT setval('author_id_seq', {big})")
    project.execute("INSERT INTO author (name) VALUES ('Big')")
    project.execute(f"INSERT INTO book (id, title, pages, author_id) "
                    f"VALUES ({big}, 'Emma', 474, {big + 1})")
    assert project.rows("SELECT id, author_id FROM book ORDER BY id") == [(1, 1),
                                                                       (big, big + 1)]
