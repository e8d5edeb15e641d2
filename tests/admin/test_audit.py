"""heron.admin's audit log: snapshots and diffs, recorded entries, the shipped
migration, and the all-writes mode with real requests of a logged-in user (sync and
async views), on SQLite files (and PostgreSQL for the migration)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Time,
    Uuid,
    inspect,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from heron import App, Request, run_async
from heron.admin.audit import (
    AUDITED_KEY,
    MASK,
    LogEntry,
    diff,
    entries_for,
    install_write_audit,
    recent_entries,
    record,
    skip_write_audit,
    snapshot,
)
from heron.auth import authenticate, create_user, login, login_required
from heron.auth._login import ANONYMOUS
from heron.csrf import get_token
from heron.db import Model, db
from heron.db.migrations import Migrations, Revision
from heron.db.models import table_name_for
from heron.testing import TestClient
from heron.testing.database import prepare_schema

FAST_HASHING: dict[str, Any] = {
    "password_time_cost": 1, "password_memory_cost": 8 * 1024, "password_parallelism": 1,
}
PASSWORD = "correct horse battery"


class AdmAudColor(enum.Enum):
    RED = "red"
    BLUE = "blue"


class AdmAudShape(enum.Enum):
    SQUARE = (1, 1)  # not a JSON scalar: recorded by name


class AdmAudAuthor(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))

    def __str__(self) -> str:
        return self.name


class AdmAudTag(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))

    def __str__(self) -> str:
        return self.name


adm_aud_thing_tags = Table(
    "adm_aud_thing_tags", Model.metadata,
    Column("thing_id", ForeignKey("adm_aud_thing.id"), primary_key=True),
    Column("tag_id", ForeignKey("adm_aud_tag.id"), primary_key=True),
)


class AdmAudThing(Model):
    __audit_mask__ = ("pin",)
    __audit_exclude__ = ("views",)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    count: Mapped[int] = mapped_column(Integer, default=0)
    ratio: Mapped[float | None]
    price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    active: Mapped[bool] = mapped_column(default=True)
    born: Mapped[dt.date | None] = mapped_column(Date)
    seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    opens: Mapped[dt.time | None] = mapped_column(Time)
    color: Mapped[AdmAudColor | None] = mapped_column(Enum(AdmAudColor))
    shape: Mapped[AdmAudShape | None] = mapped_column(Enum(AdmAudShape))
    blob: Mapped[bytes | None] = mapped_column(LargeBinary)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ref: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    password: Mapped[str | None] = mapped_column(String(100))
    api_key: Mapped[str | None] = mapped_column(String(100))
    pin: Mapped[str | None] = mapped_column(String(10))
    views: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("adm_aud_author.id"))

    author: Mapped[AdmAudAuthor | None] = relationship()
    tags: Mapped[list[AdmAudTag]] = relationship(secondary=adm_aud_thing_tags)

    def __str__(self) -> str:
        return self.title


class AdmAudNote(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(100))
    secret_token: Mapped[str] = mapped_column(String(100), default="")

    def __str__(self) -> str:
        return f"Note: {self.text}"


class AdmAudQuiet(Model):
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(100))


REF = uuid.UUID("12345678-1234-5678-1234-567812345678")


def full_thing(**fields: Any) -> AdmAudThing:
    values: dict[str, Any] = {
        "title": "Lamp", "count": 3, "ratio": 0.5, "price": Decimal("12.50"), "active": True,
        "born": dt.date(2024, 2, 29), "seen_at": dt.datetime(2024, 3, 1, 8, 30, tzinfo=dt.UTC),
        "opens": dt.time(9, 15), "color": AdmAudColor.BLUE, "shape": AdmAudShape.SQUARE,
        "blob": b"\x00\x01\x02", "data": {"k": [1, 2]}, "ref": REF, "password": "hash1",
        "api_key": "k1", "pin": "1234", "views": 7,
    }
    values.update(fields)
    return AdmAudThing(**values)


# -- snapshot and diff ----------------------------------------------------------------------


def test_snapshot_makes_every_column_type_json_safe() -> None:
    thing = full_thing(author_id=4, tags=[AdmAudTag(name="b"), AdmAudTag(name="a")])
    values = snapshot(thing)
    assert values == {
        "title": "Lamp", "count": 3, "ratio": 0.5, "price": "12.50", "active": True,
        "born": "2024-02-29", "seen_at": "2024-03-01T08:30:00+00:00", "opens": "09:15:00",
        "color": "blue", "shape": "SQUARE", "blob": "<3 bytes>", "data": {"k": [1, 2]},
        "ref": "12345678-1234-5678-1234-567812345678", "password": "hash1", "api_key": "k1",
        "pin": "1234", "views": 7, "author_id": 4, "tags": ["a", "b"],
    }
    import json

    json.dumps(values)  # as the JSON column will


def test_diff_keeps_changed_fields_masks_secrets_and_drops_excluded() -> None:
    before = snapshot(full_thing())
    after = snapshot(full_thing(title="Desk lamp", password="hash2", pin="9999", views=8,
                                api_key=None, price=Decimal("13.00")))
    assert diff(before, after, AdmAudThing) == {
        "title": ["Lamp", "Desk lamp"],
        "price": ["12.50", "13.00"],
        "password": [MASK, MASK],  # the name says it is a secret
        "api_key": [MASK, None],  # so does this one; emptied
        "pin": [MASK, MASK],  # the model's __audit_mask__
    }  # views: the model's __audit_exclude__
    assert diff(before, before, AdmAudThing) == {}
    # an addition and a deletion: every field on one side
    added = diff({}, {"title": "Lamp", "secret": "s", "note": None})
    assert added == {"title": [None, "Lamp"], "secret": [None, MASK]}
    assert diff({"token": "t", "x": 1}, {}) == {"token": [MASK, None], "x": [1, None]}


def test_snapshot_never_loads_a_many_to_many_collection(site: Callable[..., App]) -> None:
    app = site(audit=False)
    with db.context(app):
        thing = full_thing(author=AdmAudAuthor(name="Ann"), tags=[AdmAudTag(name="x")])
        db.session.add(thing)
        db.session.commit()
        thing_id = thing.id
        db.session.expunge_all()
        stored = db.session.get(AdmAudThing, thing_id)
        values = snapshot(stored)
        assert "tags" not in values
        assert "tags" not in inspect(stored).dict  # not loaded by the snapshot
        assert values["author_id"] == stored.author_id is not None
        assert values["seen_at"].startswith("2024-03-01T08:30:00")
        assert len(stored.tags) == 1
        assert snapshot(stored)["tags"] == ["x"]


# -- apps and databases ---------------------------------------------------------------------


@pytest.fixture
def site(make_app: Callable[..., App], tmp_path: Path) -> Callable[..., App]:
    """``site(audit=..., database_url=...)``: an app with heron.auth and heron.admin
    (on its own SQLite file by default), migrated, with views that write notes, and
    the all-writes mode installed."""

    def factory(audit: bool = True, database_url: str | None = None) -> App:
        app = make_app(components=["heron.auth", "heron.admin"],
                       database_url=database_url or f"sqlite:///{tmp_path / 'site.sqlite3'}",
                       admin_audit_writes=audit, **FAST_HASHING)
        add_views(app)
        prepare_schema(app)
        install_write_audit(app)  # what heron.admin does at startup when the setting is on
        return app

    return factory


def add_views(app: App) -> None:
    @app.get("/csrf")
    def csrf(request: Request) -> str:
        return get_token(request)

    @app.post("/login")
    def sign_in(request: Request) -> str:
        data = run_async(request.json())
        user = authenticate(request, data["username"], data["password"])
        assert user is not None
        login(request, user)
        return "in"

    def write_note(session: Session) -> int:
        """Add, change (after a commit expired it) and delete a note, committing each."""
        note = AdmAudNote(text="one", secret_token="s1")
        session.add(note)
        session.commit()
        note_id = note.id
        note.text = "two"
        note.secret_token = "s2"
        session.commit()
        session.delete(note)
        session.commit()
        return note_id

    @app.post("/sync/notes")
    @login_required
    def sync_notes(request: Request) -> dict[str, int]:
        return {"id": write_note(db.session)}

    @app.post("/sync/unguarded")
    def sync_unguarded(request: Request) -> dict[str, int]:
        # request.user is never loaded here: the entries get the session's user id
        return {"id": write_note(db.session)}

    @app.post("/async/notes")
    @login_required
    async def async_notes(request: Request) -> dict[str, int]:
        session = db.async_session
        note = AdmAudNote(text="one", secret_token="s1")
        session.add(note)
        await session.commit()
        note.text = "two"
        note.secret_token = "s2"
        await session.commit()
        await session.delete(note)
        await session.commit()
        return {"id": note.id}

    @app.post("/async/admin-save")
    @login_required
    async def admin_save(request: Request) -> dict[str, int]:
        # As the admin's views do: the session is marked while they save, and the
        # entry is the one they record.
        user = await request.auser()

        def save(session: Session) -> int:
            with skip_write_audit(session):
                note = AdmAudNote(text="admin")
                session.add(note)
                session.flush()
                record(session, action="add", obj=note, user=user, app=request.app,
                       changes=diff({}, snapshot(note), AdmAudNote))
                session.commit()
            return note.id

        return {"id": await db.async_session.run_sync(save)}


def make_user(app: App, username: str = "alice") -> str:
    with db.context(app):
        user = create_user(db.session, app, username, PASSWORD)
        db.session.commit()
        return str(user.id)


def log_in(client: TestClient, username: str = "alice") -> None:
    token = client.get("/csrf").text
    response = client.post("/login", json={"username": username, "password": PASSWORD},
                           headers={"x-csrf-token": token})
    assert response.status_code == 200, response.text
    client.headers["x-csrf-token"] = client.get("/csrf").text  # the login's new session


def entries(app: App, model: type[Any] | None = None) -> list[LogEntry]:
    """Every entry, oldest first (of one model)."""
    with db.context(app):
        statement = select(LogEntry).order_by(LogEntry.id)
        if model is not None:
            statement = statement.where(LogEntry.model == table_name_for(model.__name__))
        found = list(db.session.scalars(statement))
        db.session.expunge_all()
        return found


# -- record, entries_for, recent_entries ----------------------------------------------------


def test_record_and_read_back(site: Callable[..., App]) -> None:
    app = site(audit=False)
    alice_id, bob_id = make_user(app, "alice"), make_user(app, "bob")
    with db.context(app):
        session = db.session
        alice = session.get(_user_model(app), int(alice_id))
        bob = session.get(_user_model(app), int(bob_id))
        thing = full_thing()
        session.add(thing)
        added = record(session, action="add", obj=thing, user=alice,  # flushed for its id
                       changes=diff({}, snapshot(thing), AdmAudThing))
        assert thing.id is not None
        before = snapshot(thing)
        thing.title = "Desk lamp"
        changed = record(session, action="change", obj=thing, user=bob,
                         changes=diff(before, snapshot(thing), AdmAudThing), message="Renamed")
        deleted = record(session, action="delete", model=AdmAudThing, object_id=thing.id,
                         object_repr="Desk lamp", user=ANONYMOUS)
        other = record(session, action="add", model=AdmAudThing, object_id=thing.id + 1,
                       user=None)
        session.commit()

        assert (added.component, added.model, added.object_id, added.object_repr) == (
            "app", "adm_aud_thing", str(thing.id), "Lamp")
        assert (added.user_id, added.user_repr, added.source) == (alice_id, "alice", "admin")
        assert added.changes["title"] == [None, "Lamp"]
        assert added.changes["password"] == [None, MASK]
        assert "views" not in added.changes
        assert changed.changes == {"title": ["Lamp", "Desk lamp"]}
        assert changed.message == "Renamed"
        assert (deleted.user_id, deleted.user_repr) == (None, "")
        assert str(changed) == 'Changed adm_aud_thing "Desk lamp" (title) by bob'
        assert str(deleted) == 'Deleted adm_aud_thing "Desk lamp"'
        assert str(added) == 'Added adm_aud_thing "Lamp" by alice'

        history = entries_for(session, AdmAudThing, thing.id)
        assert [e.id for e in history] == [deleted.id, changed.id, added.id]  # newest first
        assert [e.id for e in entries_for(session, "adm_aud_thing", thing.id, limit=2)] == [
            deleted.id, changed.id]
        assert entries_for(session, AdmAudThing, thing.id, component="blog") == []
        assert [e.id for e in entries_for(session, AdmAudThing, thing.id + 1)] == [other.id]
        assert [e.id for e in recent_entries(session, limit=3)] == [
            other.id, deleted.id, changed.id]
        assert [e.id for e in recent_entries(session, user_id=int(alice_id))] == [added.id]
        assert recent_entries(session, user_id="nobody") == []

        with pytest.raises(ValueError, match="action"):
            record(session, action="publish", obj=thing)
        with pytest.raises(TypeError):
            record(session, action="add", model=AdmAudThing)


def _user_model(app: App) -> Any:
    from heron.auth import get_user_model

    return get_user_model(app)


# -- the shipped migration ------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        return str(server.create_database(f"heron_admin_audit_{uuid.uuid4().hex[:12]}"))
    return f"sqlite:///{tmp_path / 'migrated.sqlite3'}"


@pytest.mark.filterwarnings("ignore:.*expression-based index")  # SQLite: auth_user's
def test_the_shipped_migration_makes_the_model_s_table(make_app: Callable[..., App],
                                                       database_url: str) -> None:
    app = make_app(components=["heron.auth", "heron.admin"], database_url=database_url)
    migrations = Migrations(app)
    admin = next(o for o in migrations.owners if o.label == "admin")
    assert admin.shipped
    assert migrations.owner_of(Model.metadata.tables["admin_log_entry"]) is admin

    applied = migrations.migrate()
    assert Revision("admin_0001", "admin", "heron.admin: the audit log.") in applied
    with migrations.connect() as connection:
        assert migrations.changes(connection, admin) == []  # the model, exactly
        names = {i["name"] for i in inspect(connection).get_indexes("admin_log_entry")}
    assert names == {"ix_admin_log_entry_action_time", "ix_admin_log_entry_object",
                     "ix_admin_log_entry_user"}

    # and back
    reverted = migrations.downgrade("admin@base")
    assert [r.id for r in reverted] == ["admin_0001"]
    with migrations.connect() as connection:
        assert not inspect(connection).has_table("admin_log_entry")
        # the comparison above was not empty by accident: it sees the table missing now
        assert migrations.changes(connection, admin)[0][0] == "add_table"


# -- every write ----------------------------------------------------------------------------


def note_entries(app: App) -> list[tuple[str, str | None, str, str, dict[str, Any]]]:
    return [(e.action, e.user_id, e.user_repr, e.source, e.changes)
            for e in entries(app, AdmAudNote)]


def expected(user_id: str | None, name: str, source: str = "request") -> list[Any]:
    return [
        ("add", user_id, name, source,
         {"id": [None, 1], "text": [None, "one"], "secret_token": [None, MASK]}),
        ("change", user_id, name, source,
         {"text": ["one", "two"], "secret_token": [MASK, MASK]}),
        ("delete", user_id, name, source,
         {"id": [1, None], "text": ["two", None], "secret_token": [MASK, None]}),
    ]


@pytest.mark.parametrize("path", ["/sync/notes", "/async/notes"])
def test_a_logged_in_user_s_writes_are_recorded(site: Callable[..., App], path: str) -> None:
    app = site()
    user_id = make_user(app)
    with TestClient(app) as client:
        log_in(client)
        response = client.post(path)
        assert response.status_code == 200, response.text
    assert note_entries(app) == expected(user_id, "alice")
    found = entries(app, AdmAudNote)
    assert {(e.component, e.model, e.object_id) for e in found} == {
        ("app", "adm_aud_note", "1")}
    assert [e.object_repr for e in found] == ["Note: one", "Note: two", "Note: two"]
    # the user made by a command: recorded too, password masked
    (made,) = entries(app, _user_model(app))
    assert (made.action, made.source, made.user_id, made.object_repr) == (
        "add", "command", None, "alice")
    assert made.changes["password"] == [None, MASK]
    assert made.component == "auth"
    # logging in writes last_login with a statement, not through the unit of work
    assert {e.model for e in entries(app)} == {"adm_aud_note", "user"}


def test_a_view_that_never_loads_the_user_records_the_session_s_user_id(
        site: Callable[..., App]) -> None:
    app = site()
    user_id = make_user(app)
    with TestClient(app) as client:
        log_in(client)
        assert client.post("/sync/unguarded").status_code == 200
        client.cookies.clear()
        client.headers.pop("x-csrf-token")
        token = client.get("/csrf").text  # a new anonymous session
        assert client.post("/sync/unguarded", headers={"x-csrf-token": token}).status_code == 200
    recorded = note_entries(app)
    assert recorded[:3] == expected(user_id, "")  # no query for the name
    assert [e[1:4] for e in recorded[3:]] == [(None, "", "request")] * 3


def test_writes_outside_requests_are_recorded_as_commands(site: Callable[..., App],
                                                         database_url: str) -> None:
    app = site(database_url=database_url)
    with db.context(app):
        session = db.session
        author = AdmAudAuthor(name="Ann")
        thing = AdmAudThing(title="Lamp", author=author, tags=[AdmAudTag(name="old")])
        quiet = AdmAudQuiet(text="not recorded")
        session.add_all([thing, quiet])
        session.commit()
        thing.tags.append(AdmAudTag(name="new"))
        thing.author = AdmAudAuthor(name="Bob")
        session.commit()  # expires thing: its delete reads it first
        session.delete(thing)
        session.commit()
    found = entries(app, AdmAudThing)
    assert [(e.action, e.user_id, e.source) for e in found] == [
        ("add", None, "command"), ("change", None, "command"), ("delete", None, "command")]
    assert found[1].changes == {"author_id": [1, 2], "tags": [["old"], ["new", "old"]]}
    assert found[2].changes["title"] == ["Lamp", None]
    assert found[2].object_repr == "Lamp"
    assert [e.model for e in entries(app, AdmAudAuthor)] == ["adm_aud_author"] * 2
    assert entries(app, AdmAudQuiet) == []  # __audit__ = False


def test_the_admin_s_own_saves_are_recorded_once(site: Callable[..., App]) -> None:
    app = site()
    user_id = make_user(app)
    with TestClient(app) as client:
        log_in(client)
        assert client.post("/async/admin-save").status_code == 200
    assert [(e.action, e.user_id, e.user_repr, e.source) for e in entries(app, AdmAudNote)] == [
        ("add", user_id, "alice", "admin")]
    assert AUDITED_KEY == "heron.admin.audited"


def test_nothing_is_recorded_with_the_setting_off(site: Callable[..., App]) -> None:
    app = site(audit=False)
    make_user(app)
    with TestClient(app) as client:
        log_in(client)
        assert client.post("/sync/notes").status_code == 200
        assert client.post("/async/notes").status_code == 200
    with db.context(app):
        db.session.add(AdmAudNote(text="command"))
        db.session.commit()
    assert entries(app) == []
