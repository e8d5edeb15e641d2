"""Migrations: Alembic, driven by heron, with one branch per component.

Each component keeps its revisions in its own ``migrations/`` folder, as an
Alembic branch labelled with the component's name; models that belong to no
component go to the app's ``migrations/`` folder (branch ``app``), and heron's
own tables ship as the ``heron`` branch.  A revision that adds a foreign key
to another component's table depends on that component's latest revision, so
Alembic applies them in the right order.
"""

from __future__ import annotations

import io
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, MetaData, Table, inspect

from heron.db.database import db
from heron.db.models import Model

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["MigrationError", "Migrations", "Owner", "Revision"]

HERE = Path(__file__).parent

# SQLite cannot reflect an index on an expression (heron.auth's lower(username)),
# so autogenerate leaves such indexes out of its comparison, and says so each time.
warnings.filterwarnings("ignore", message=r".*expression-based index")
BUILTIN = HERE / "builtin_migrations"


class MigrationError(Exception):
    """A migration command cannot go on; the message says why and what to do."""


@dataclass
class Owner:
    """Who owns some tables: a component, the app, or heron itself."""

    label: str
    module: str | None
    directory: Path
    shipped: bool = False


@dataclass(frozen=True)
class Revision:
    """One migration: its id, the branch (component) it belongs to, and its message."""

    id: str
    branch: str
    message: str

    def __str__(self) -> str:
        return f"{self.branch}: {self.id} {self.message}"


class Migrations:
    """Migration commands for one app's default database."""

    def __init__(self, app: App, stdout: Any = None) -> None:
        self.app = app
        self.stdout = stdout or sys.stdout
        self.state = db.state(app)
        self.owners = self._owners()

    # -- who owns what ------------------------------------------------------

    def _owners(self) -> list[Owner]:
        owners = [Owner("heron", "heron", BUILTIN, shipped=True)]
        for component in self.app.components.values():
            folder = Path(component.module.__file__ or ".").parent
            module = component.module.__name__
            # heron's own components (heron.auth) ship their migrations.
            owners.append(Owner(component.name, module, folder / "migrations",
                                shipped=module.startswith("heron.")))
            # More branches a component chooses at run time (docs/migrations.md).
            branches = getattr(component.module, "migration_branches", None)
            if branches is not None:
                owners.extend(branches(self.app))
        for plugin in self.app.plugins.values():  # heron.auth: the user model's
            owners.extend(plugin.migration_branches(self.app))
        owners.append(Owner("app", None, self.app.root / "migrations"))
        return owners

    def owner_of(self, table: Table) -> Owner:
        """The owner of a table: by the module of the model mapped to it."""
        module = table.info.get("heron_module") or _model_modules().get(table.name)
        if module is None:
            # A plain Table (a many-to-many association, say) belongs with the
            # first component table it refers to.
            for fk in table.foreign_keys:
                referred = fk.column.table
                if referred is not table:
                    owner = self.owner_of(referred)
                    if owner.label != "app":
                        return owner
        best = self.owners[-1]
        length = -1
        for owner in self.owners[:-1]:
            prefix = owner.module
            if prefix and module and (module == prefix or module.startswith(prefix + "."))\
                    and len(prefix) > length:
                best, length = owner, len(prefix)
        if best.label == "app" and module and module.startswith("heron."):
            # A heron model this app does not use (the default user model when the
            # project has its own): never migrated with the app's tables.
            return _UNUSED
        return best

    def tables_of(self, owner: Owner) -> list[Table]:
        return [t for t in self.metadata().sorted_tables if self.owner_of(t) is owner]

    def metadata(self) -> MetaData:
        return Model.metadata

    def _include(self, owner: Owner | None) -> Any:
        def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                           compare_to: Any) -> bool:
            if type_ == "table":
                if name == "alembic_version" or (compare_to is None and reflected):
                    return False  # a table of no model here: never dropped by autogenerate
                table = obj
            else:
                table = getattr(obj, "table", None)
                if table is None:
                    return True
            if name is not None and table.name == "alembic_version":
                return False
            model_table = self.metadata().tables.get(table.name)
            if model_table is None:
                return False
            if self._bind_key(model_table):
                return False  # lives in another database
            if self.owner_of(model_table) is _UNUSED:
                return False
            return owner is None or self.owner_of(model_table) is owner

        return include_object

    @staticmethod
    def _bind_key(table: Table) -> str | None:
        for mapper in Model.registry.mappers:
            if mapper.local_table is table:
                return getattr(mapper.class_, "__bind_key__", None)
        return None

    # -- alembic plumbing ---------------------------------------------------

    def config(self, **attributes: Any) -> Config:
        config = Config(stdout=self.stdout)
        config.set_main_option("script_location", str(HERE / "alembic"))
        config.set_main_option("path_separator", "os")
        locations = [str(o.directory) for o in self.owners
                     if o.directory.is_dir() or o.label in attributes.get("creating", ())]
        import os

        config.set_main_option("version_locations", os.pathsep.join(locations))
        config.set_main_option("file_template",
                               "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
        config.set_main_option("hooks", "heron_format")
        config.set_section_option("post_write_hooks", "hooks", "heron_format")
        config.set_section_option("post_write_hooks", "heron_format.type", "heron_format")
        config.attributes["metadata"] = self.metadata()
        config.attributes.update({k: v for k, v in attributes.items() if k != "creating"})
        return config

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection in a transaction; a database out of reach is a clear error."""
        from sqlalchemy.exc import DBAPIError

        engine = self.state.engine()
        try:
            connection = engine.connect()
        except DBAPIError as exc:
            raise MigrationError(f"Cannot connect to the database "
                                 f"{engine.url.render_as_string(hide_password=True)}: "
                                 f"{exc.orig}") from None
        try:
            if connection.dialect.name == "sqlite":
                with _sqlite_transaction(connection):
                    yield connection
            else:
                with connection.begin():
                    yield connection
        finally:
            connection.close()

    def script(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self.config())

    def _heads_of(self, owner: Owner) -> list[str]:
        if not owner.directory.is_dir():
            return []
        script = self.script()
        try:
            return [r.revision for r in script.get_revisions(f"{owner.label}@head") if r]
        except Exception:
            return []

    def applied(self, connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    def pending(self, connection: Connection) -> list[str]:
        """Revisions not yet applied to the database."""
        script = self.script()
        applied = self.applied(connection)
        done: set[str] = set()
        for head in applied:
            done |= {r.revision for r in script.iterate_revisions(head, "base")}
        return [r.revision for r in script.walk_revisions() if r.revision not in done]

    def changes(self, connection: Connection, owner: Owner | None = None) -> list[Any]:
        """What autogenerate would write: differences between models and database."""
        context = MigrationContext.configure(connection, opts={
            "include_object": self._include(owner), "compare_type": True,
            "target_metadata": self.metadata(),
        })
        return list(compare_metadata(context, self.metadata()))

    # -- commands -----------------------------------------------------------

    def makemigrations(self, message: str, empty: bool = False) -> list[Path]:
        """Write a revision for each component whose models changed.

        Raises:
            MigrationError: the database has unapplied migrations (migrate first).
        """
        written: list[Path] = []
        with self.connect() as connection:
            pending = self.pending(connection)
            shipped = self._shipped_revisions()
            if pending and set(pending) <= shipped:
                # heron's own tables (and its components', heron.auth's): apply them,
                # as autogenerate compares against a database at every head.
                command.upgrade(self.config(connection=connection), "heads")
            elif pending:
                raise MigrationError("The database has migrations that are not applied yet; "
                                     "run `heron db migrate` first, then makemigrations.")
            owners = [o for o in self.owners if not o.shipped
                      and (self.changes(connection, o) or (empty and o.label == "app"))]
            if not owners:
                return []
            for owner in owners:
                owner.directory.mkdir(parents=True, exist_ok=True)
            config = self.config(
                connection=connection, include_object=self._include(None),
                process_revision_directives=self._splitter(owners, message, empty),
            )
            # Without autogenerate, Alembic runs env.py (and so the splitter, which
            # puts the revision in the app's branch) only with this option; else it
            # writes a revision on top of "head": heron's own branch, in heron's folder.
            config.set_main_option("revision_environment", "true")
            scripts = command.revision(config, message, autogenerate=not empty)
            for script in scripts if isinstance(scripts, list) else [scripts]:
                if script is not None:
                    written.append(Path(script.path))
        return written

    def _splitter(self, owners: list[Owner], message: str, empty: bool) -> Any:
        """Turn autogenerate's one revision into one per owner, in its own branch."""
        from alembic.operations import ops
        from alembic.util import rev_id

        by_label = {o.label: o for o in owners}
        tables = self.metadata().tables

        def owner_label(op: Any) -> str:
            name = getattr(op, "table_name", None)
            table = tables.get(name) if name else None
            return self.owner_of(table).label if table is not None else "app"

        def split(context: Any, revision: Any, directives: list[Any]) -> None:
            template = directives[0]
            _add_expression_indexes(template, tables)
            parts = {}
            for label in by_label:
                upgrade = [op for op in template.upgrade_ops.ops if owner_label(op) == label]
                downgrade = [op for op in template.downgrade_ops.ops if owner_label(op) == label]
                if upgrade or (empty and label == "app"):
                    parts[label] = (rev_id(), upgrade, downgrade)
            # A foreign key to a table created in this same pass must wait for the
            # revision that creates it, not for its owner's current head.
            created = {op.table_name: parts[owner_label(op)][0]
                       for op in template.upgrade_ops.ops
                       if isinstance(op, ops.CreateTableOp) and owner_label(op) in parts}
            scripts: dict[str, Any] = {}
            waits_for: dict[str, set[str]] = {}
            for label, (revision_id, upgrade, downgrade) in parts.items():
                owner = by_label[label]
                heads = self._heads_of(owner)
                depends = self._dependencies(owner, created)
                scripts[revision_id] = ops.MigrationScript(
                    revision_id, ops.UpgradeOps(ops=upgrade), ops.DowngradeOps(ops=downgrade),
                    message=message, head=f"{label}@head" if heads else "base",
                    branch_label=None if heads else label, version_path=str(owner.directory),
                    depends_on=",".join(depends) or None,
                )
                waits_for[revision_id] = set(depends) & set(created.values())
            # Alembic writes them in order and checks that depends_on exists.
            ordered: list[str] = []
            while waits_for:
                ready = [r for r, needs in waits_for.items() if needs <= set(ordered)]
                if not ready:
                    raise MigrationError(
                        "New tables of " + " and ".join(
                            sorted(scripts[r].branch_label or by_label_of(scripts[r])
                                   for r in waits_for))
                        + " refer to each other: no order of their migrations works. "
                        "Add one of the foreign keys in a second makemigrations.")
                for r in ready:
                    ordered.append(r)
                    del waits_for[r]
            directives[:] = [scripts[r] for r in ordered]

        def by_label_of(script: Any) -> str:
            return next(label for label, o in by_label.items()
                        if str(o.directory) == script.version_path)

        return split

    def _shipped_revisions(self) -> set[str]:
        script = self.script()
        shipped = {str(o.directory.resolve()) for o in self.owners if o.shipped}
        return {r.revision for r in script.walk_revisions()
                if str(Path(r.path).parent.resolve()) in shipped}

    def _dependencies(self, owner: Owner, created: dict[str, str] | None = None) -> list[str]:
        """What a new revision of ``owner`` depends on: for each table of another
        owner that ``owner``'s tables refer to, the revision of this pass that
        creates it (``created``: table name -> revision id), else that owner's heads."""
        created = created or {}
        heads: list[str] = []
        for table in self.tables_of(owner):
            for fk in table.foreign_keys:
                try:
                    target = fk.column.table
                except Exception:
                    continue  # refers to a table no model maps
                if self.owner_of(target) is owner:
                    continue
                if target.name in created:
                    found = [created[target.name]]
                else:
                    found = self._heads_of(self.owner_of(target))
                heads += [head for head in found if head not in heads]
        return heads

    def migrate(self, target: str = "heads",
                on_apply: Callable[[Revision], None] | None = None) -> list[Revision]:
        """Upgrade the database to ``target`` (every branch's head by default),
        then run the components' ``post_migrate(app)`` hooks (heron.auth makes
        the permission rows there).

        Args:
            target: a revision id, ``label@head``, or ``heads``.
            on_apply: called with each revision as soon as it is applied (the
                command line prints progress with it).

        Returns:
            The revisions applied, in order; empty when the database was up to date.
        """
        with self.connect() as connection:
            self._forget_implied_versions(connection)
            applied = self._steps(connection, on_apply,
                                  lambda config: command.upgrade(config, target))
        post_migrate(self.app)
        return applied

    def downgrade(self, target: str,
                  on_revert: Callable[[Revision], None] | None = None) -> list[Revision]:
        """Downgrade to ``target``: a revision id, ``label@-1``, or ``base``.

        Returns:
            The revisions undone, in order.
        """
        with self.connect() as connection:
            reverted = self._steps(connection, on_revert,
                                   lambda config: command.downgrade(config, target))
            self._forget_implied_versions(connection)
        return reverted

    def _steps(self, connection: Connection, report: Callable[[Revision], None] | None,
               run: Callable[[Config], None]) -> list[Revision]:
        """Run an upgrade or downgrade, collecting (and reporting) each revision it ran."""
        done: list[Revision] = []

        def on_version_apply(*, step: Any, **_: Any) -> None:
            if step.is_migration and step.up_revision is not None:
                revision = self.describe(step.up_revision)
                done.append(revision)
                if report is not None:
                    report(revision)

        run(self.config(connection=connection, on_version_apply=on_version_apply))
        return done

    def describe(self, script: Script) -> Revision:
        """The :class:`Revision` of one of Alembic's scripts: its branch is the
        owner whose folder holds it."""
        folder = Path(script.path).parent.resolve()
        branch = next((o.label for o in self.owners if o.directory.resolve() == folder),
                      ",".join(sorted(script.branch_labels)) or "?")
        return Revision(script.revision, branch, (script.doc or "").strip())

    def _forget_implied_versions(self, connection: Connection) -> None:
        """Remove from ``alembic_version`` the revisions another one there implies.

        Downgrading a revision whose branch another one depends on (``depends_on``:
        a foreign key to another component's table) can leave both that revision
        and its dependency in the table; Alembic then refuses every upgrade with
        "Requested revision ... overlaps with other requested revisions ...".
        """
        from sqlalchemy import text

        heads = set(self.applied(connection))
        if len(heads) < 2:
            return
        script = self.script()
        implied: set[str] = set()
        for head in heads:
            implied |= {r.revision for r in script.iterate_revisions(head, "base")
                        if r.revision != head}
        for revision in sorted(heads & implied):
            connection.execute(text("DELETE FROM alembic_version WHERE version_num = :v"),
                               {"v": revision})

    def history(self) -> None:
        command.history(self.config(), indicate_current=False)

    def current(self) -> list[Revision] | None:
        """The revisions the database is at (one per branch head), or ``None`` when
        it has no migration table at all (``heron db migrate`` never ran on it)."""
        with self.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            heads = sorted(self.applied(connection))
        script = self.script()
        found = [self.describe(s) for s in map(script.get_revision, heads) if s is not None]
        return sorted(found, key=lambda revision: (revision.branch, revision.id))

    def pending_count(self) -> int:
        """How many migrations are not yet applied."""
        with self.connect() as connection:
            return len(self.pending(connection))

    def sql(self, target: str = "heads", start: str | None = None) -> str:
        """The SQL of the migrations, for a DBA to run by hand (offline mode)."""
        buffer = io.StringIO()
        config = self.config(url=self.state.engine().url.render_as_string(hide_password=False))
        config.output_buffer = buffer
        command.upgrade(config, f"{start}:{target}" if start else target, sql=True)
        return buffer.getvalue()

    def check(self) -> list[str]:
        """Problems that make CI fail: pending migrations, models that differ."""
        problems: list[str] = []
        with self.connect() as connection:
            pending = self.pending(connection)
            if pending:
                problems.append(f"{len(pending)} migration(s) not applied: "
                                f"{', '.join(pending)} (run `heron db migrate`)")
                return problems
            for owner in self.owners:
                if owner.shipped:
                    continue
                for change in self.changes(connection, owner):
                    problems.append(f"{owner.label}: models differ from migrations: "
                                    f"{_describe(change)} (run `heron db makemigrations`)")
        return problems

    def reset(self) -> None:
        """Drop every table, then migrate from scratch (debug only)."""
        with self.connect() as connection:
            reflected = MetaData()
            reflected.reflect(connection)
            reflected.drop_all(connection)
        self.migrate()


_UNUSED = Owner("unused", None, Path(), shipped=True)


def post_migrate(app: App) -> None:
    """Run the components' and plugins' ``post_migrate(app)`` hooks: rows migrating makes
    (heron.auth's permissions).  Test fixtures run them again after emptying tables."""
    for component in app.components.values():
        hook = getattr(component.module, "post_migrate", None)
        if hook is not None:
            hook(app)
    for plugin in app.plugins.values():
        plugin.post_migrate(app)


def _add_expression_indexes(script: Any, tables: Any) -> None:
    """Add the indexes on expressions of the tables a revision creates.

    Autogenerate leaves them out on SQLite, which cannot reflect them (heron.auth's
    unique index on ``lower(username)`` of a project's user model): without this
    the revision would make them on no database.  They are added after the table
    is created (and dropped before it is) unless the revision already has them.
    """
    from alembic.operations import ops
    from sqlalchemy import Column

    def walk(operations: list[Any]) -> Iterator[Any]:
        for op in operations:
            yield op
            yield from walk(getattr(op, "ops", []))

    upgrade, downgrade = script.upgrade_ops.ops, script.downgrade_ops.ops
    present = {op.index_name for op in walk(upgrade) if isinstance(op, ops.CreateIndexOp)}
    for created in [op for op in upgrade if isinstance(op, ops.CreateTableOp)]:
        table = tables.get(created.table_name)
        missing = [index for index in (table.indexes if table is not None else ())
                   if index.name and index.name not in present
                   and any(not isinstance(e, Column) for e in index.expressions)]
        for index in sorted(missing, key=lambda i: str(i.name), reverse=True):
            upgrade.insert(upgrade.index(created) + 1, ops.ModifyTableOps(
                created.table_name, [ops.CreateIndexOp.from_index(index)]))
            drop = next((op for op in downgrade if isinstance(op, ops.DropTableOp)
                         and op.table_name == created.table_name), None)
            downgrade.insert(downgrade.index(drop) if drop is not None else 0,
                             ops.ModifyTableOps(created.table_name,
                                                [ops.DropIndexOp.from_index(index)]))


@contextmanager
def _sqlite_transaction(connection: Connection) -> Iterator[None]:
    """A transaction for migrations on SQLite: DDL included, foreign keys checked at the end.

    The sqlite3 module opens a transaction only before INSERT, UPDATE and DELETE,
    so a migration that failed half-way would leave the tables it had already
    created or dropped (such as batch mode's ``_alembic_tmp_*`` copy).  And with
    ``foreign_keys=ON`` (heron's setting), batch mode's copy-and-drop of a table
    that other rows refer to fails, or with ``ON DELETE CASCADE`` deletes those
    rows; SQLite's advice is to turn the checks off for the change and to run
    ``PRAGMA foreign_key_check`` before committing.
    """
    dbapi_connection: Any = connection.connection.driver_connection
    isolation_level = dbapi_connection.isolation_level
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # has no effect inside a transaction
    dbapi_connection.isolation_level = None  # heron says BEGIN, before DDL too
    try:
        with connection.begin():
            dbapi_connection.execute("BEGIN")
            yield
            broken = dbapi_connection.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                table, rowid, parent, _ = broken[0]
                raise MigrationError(
                    f"The migration would leave {len(broken)} row(s) whose foreign key "
                    f"refers to no row (first: table {table!r}, rowid {rowid}, "
                    f"referring to {parent!r}); nothing was changed.")
    finally:
        dbapi_connection.isolation_level = isolation_level
        dbapi_connection.execute("PRAGMA foreign_keys=ON")


def _format_revision(filename: str, options: Any) -> None:
    """Format a new revision with ruff (or black) when installed, so it passes linters."""
    import shutil
    import subprocess

    # Next to this Python first: `.venv/bin/heron` works without the venv activated.
    scripts = str(Path(sys.executable).parent)
    for tool, args in (("ruff", ["format", "--quiet"]), ("black", ["--quiet"])):
        executable = shutil.which(tool, path=scripts) or shutil.which(tool)
        if executable:
            subprocess.run([executable, *args, filename], check=False, timeout=60)
            return


def _register_format_hook() -> None:
    from alembic.script import write_hooks

    if "heron_format" not in write_hooks._registry:
        write_hooks.register("heron_format")(_format_revision)


_register_format_hook()


def _model_modules() -> dict[str, str]:
    return {m.local_table.name: m.class_.__module__ for m in Model.registry.mappers
            if isinstance(m.local_table, Table)}


def _describe(change: Any) -> str:
    if isinstance(change, list):
        return "; ".join(_describe(c) for c in change)
    if isinstance(change, tuple) and change:
        kind = change[0]
        names = []
        for part in change[1:]:
            name = getattr(part, "name", None)
            if isinstance(name, str):
                names.append(name)
            elif isinstance(part, str):
                names.append(part)
        return f"{kind} {'.'.join(names[:3])}".strip()
    return str(change)
