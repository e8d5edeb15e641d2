"""The admin's audit log: who added, changed or deleted which row, when, and how.

Every save and delete made through the admin is recorded as a :class:`LogEntry`
with a field-level diff (``{"title": ["Old", "New"]}``; passwords, tokens and
other secrets masked).  With the ``admin_audit_writes`` setting on, every write
made through heron.db is recorded too (a view, an API, a command), with the
user of the request that made it.

The admin itself calls :func:`record`; the all-writes mode works on its own once
:func:`install_write_audit` ran for the app (heron.admin does it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import enum
import math
import threading
import uuid
import weakref
from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, DateTime, Index, String, Text, event, select
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import ColumnProperty, Mapped, Mapper, Session, mapped_column
from sqlalchemy.sql import ClauseElement

from heron._context import current_scope
from heron.db.models import Model, table_name_for
from heron.i18n import pgettext

if TYPE_CHECKING:
    from sqlalchemy.orm import InstanceState, UOWTransaction

    from heron.app import App

__all__ = [
    "ACTIONS",
    "AUDITED_KEY",
    "MASK",
    "LogEntry",
    "diff",
    "entries_for",
    "install_write_audit",
    "recent_entries",
    "record",
    "skip_write_audit",
    "snapshot",
]

#: What a :class:`LogEntry` records.
ACTIONS = ("add", "change", "delete")
#: ``session.info[AUDITED_KEY] = True`` while code that records its own entries
#: (the admin's views) writes: the all-writes mode then leaves that session alone.
AUDITED_KEY = "heron.admin.audited"
#: What a secret's value becomes in a diff.
MASK = "********"

#: A field is secret if its name contains one of these (and masked in diffs).
_SECRET_WORDS = ("password", "secret", "token", "key_hash", "api_key")
#: Tables whose writes the all-writes mode never records: the log itself, the
#: database session store (written on every request), and the permission rows
#: ``heron db migrate`` makes.  Users, groups and API tokens are recorded.
_INTERNAL_TABLES = frozenset({"admin_log_entry", "heron_session", "auth_permission"})
_BEFORE_KEY = "heron.admin.audit.before"  # Session.info: values read before the flush
_NAMES_KEY = "heron.admin.audit.names"  # request scope: user id -> username, once seen
_URLS_KEY = "heron.admin.audit.urls"  # app.extensions: its default database's URLs


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LogEntry(Model):
    """One add, change or delete of a row: by whom, when, and the fields it changed.

    ``changes`` maps each changed field to ``[before, after]`` (JSON values, secrets
    masked); an add has ``None`` before, a delete ``None`` after.  ``user_id`` is the
    user's primary key as text, with no foreign key (the user model is a setting),
    and ``user_repr`` their username at the time, so the entry outlives the user.
    """

    __tablename__ = "admin_log_entry"
    __table_args__ = (
        Index("ix_admin_log_entry_object", "component", "model", "object_id"),
        Index("ix_admin_log_entry_user", "user_id", "action_time"),
    )

    if TYPE_CHECKING:
        id: Mapped[int]  # heron.db.Model adds it
    action_time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow,
                                                     index=True)
    user_id: Mapped[str | None] = mapped_column(String(64))
    user_repr: Mapped[str] = mapped_column(String(150), default="")
    #: The component of the model (``"blog"``; ``"app"`` for the app's own models).
    component: Mapped[str] = mapped_column(String(100))
    #: The model in snake case, as in permission codenames: ``"blog_post"``.
    model: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str] = mapped_column(String(255))
    object_repr: Mapped[str] = mapped_column(String(200))
    #: ``"add"``, ``"change"`` or ``"delete"``.
    action: Mapped[str] = mapped_column(String(10))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: ``"admin"``, ``"request"`` (a view or API) or ``"command"`` (outside requests).
    source: Mapped[str] = mapped_column(String(20), default="admin")
    message: Mapped[str] = mapped_column(Text, default="")

    @property
    def action_label(self) -> str:
        """The action as the history pages show it ("Add", "Change", "Delete"),
        in the active language."""
        labels = {"add": pgettext("history action", "Add"),
                  "change": pgettext("history action", "Change"),
                  "delete": pgettext("history action", "Delete")}
        return labels.get(self.action, self.action.capitalize())

    @property
    def source_label(self) -> str:
        """Where the change came from ("request", "command"), in the active language."""
        labels = {"admin": pgettext("history source", "admin"),
                  "request": pgettext("history source", "request"),
                  "command": pgettext("history source", "command")}
        return labels.get(self.source, self.source)

    def __str__(self) -> str:
        verb = {"add": "Added", "change": "Changed", "delete": "Deleted"}.get(self.action,
                                                                              self.action)
        text = f'{verb} {self.model} "{self.object_repr}"'
        if self.action == "change" and self.changes:
            text += f" ({', '.join(self.changes)})"
        who = self.user_repr or (f"user {self.user_id}" if self.user_id else "")
        return f"{text} by {who}" if who else text


# -- snapshots and diffs ------------------------------------------------------------


def snapshot(obj: Any, *, loaded_only: bool = False) -> dict[str, Any]:
    """The column values of a row, JSON-safe, by attribute name.

    Dates and times become ISO text, ``Decimal`` and ``UUID`` text, an ``Enum`` its
    value (its name when the value is not a JSON scalar), bytes ``"<N bytes>"``.  A
    many-to-one relationship shows as its foreign key column; a many-to-many one as
    the sorted ``str()`` of its rows, only when already loaded (never loaded here).

    Args:
        obj: an instance of a mapped model.
        loaded_only: leave out the columns not loaded (expired or deferred) instead
            of loading them.
    """
    state: InstanceState[Any] = sa_inspect(obj)
    mapper = state.mapper
    values: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        if not _is_table_column(prop):
            continue
        if prop.key in state.dict:
            values[prop.key] = _json_safe(state.dict[prop.key])
        elif not loaded_only and state.key is not None:
            values[prop.key] = _json_safe(getattr(obj, prop.key))
    for rel in mapper.relationships:
        if rel.secondary is not None and rel.key in state.dict:
            values[rel.key] = _rows(state.dict[rel.key] or ())
    return values


def diff(before: Mapping[str, Any], after: Mapping[str, Any],
         model: type[Any] | None = None) -> dict[str, list[Any]]:
    """The fields whose value differs: ``{field: [before, after]}``.

    A field missing on one side counts as ``None`` there.  Secret fields (a name with
    password, secret, token, key_hash or api_key in it, or listed in the model's
    ``__audit_mask__``) show :data:`MASK` instead of their values; fields in the
    model's ``__audit_exclude__`` are left out.
    """
    masked = set(getattr(model, "__audit_mask__", ()))
    excluded = set(getattr(model, "__audit_exclude__", ()))
    changes: dict[str, list[Any]] = {}
    for name in [*after, *(k for k in before if k not in after)]:
        if name in excluded:
            continue
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name in masked or _is_secret(name):
            old = None if old is None else MASK
            new = None if new is None else MASK
        changes[name] = [old, new]
    return changes


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _is_table_column(prop: Any) -> bool:
    # A column_property of an expression (a count, say) is no field of the row.
    from sqlalchemy import Column

    return isinstance(prop, ColumnProperty) and all(isinstance(c, Column) for c in prop.columns)


def _rows(collection: Any) -> list[str]:
    return sorted(_safe_str(row) for row in collection)


def _json_safe(value: Any) -> Any:
    if isinstance(value, enum.Enum):  # before str and int: StrEnum, IntEnum
        inner = value.value
        return inner if isinstance(inner, (str, int, float, bool)) else value.name
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID, dt.timedelta)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_safe(v) for v in value]
    if isinstance(value, ClauseElement):
        return "<SQL expression>"  # `row.count = Model.count + 1`: known after the UPDATE
    return str(value)


def _safe_str(obj: Any) -> str:
    """``str(obj)``, or ``"Post 3"`` when the model has no ``__str__`` or it fails."""
    cls: Any = type(obj)
    if cls.__str__ is not object.__str__:
        try:
            return str(obj)
        except Exception:  # a broken __str__ must not lose the entry (or the write)
            pass
    return f"{cls.__name__} {_object_id(obj)}"


def _object_id(obj: Any) -> str:
    """The primary key of a row as text (``"3"``; ``"3,en"`` for a composite one),
    from what is loaded: a row flushed a moment ago has no identity key yet."""
    state: InstanceState[Any] = sa_inspect(obj)
    mapper = state.mapper
    values = [state.dict.get(mapper.get_property_by_column(column).key)
              for column in mapper.primary_key]
    if any(v is None for v in values) and state.identity is not None:
        values = list(state.identity)
    return _format_id(tuple(values))


def _format_id(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join("" if v is None else str(v) for v in value)
    return str(value)


# -- recording ----------------------------------------------------------------------


def record(session: Session, *, action: str, obj: Any = None, model: type[Any] | None = None,
           object_id: Any = None, object_repr: str | None = None, user: Any = None,
           changes: Mapping[str, list[Any]] | None = None, source: str = "admin",
           message: str = "", component: str | None = None,
           app: App | None = None) -> LogEntry:
    """Add a :class:`LogEntry` to ``session`` (not committed: it goes with the change).

    Args:
        action: ``"add"``, ``"change"`` or ``"delete"``.
        obj: the row; gives ``model``, ``object_id`` and ``object_repr`` unless they
            are passed.  A new row not flushed yet is flushed for its primary key.
        user: who did it; ``None`` or an anonymous user records no user.
        changes: ``{field: [before, after]}``, as :func:`diff` makes.
        component: the model's component; by default found with the app (``app``,
            else the current request's or ``db.context``'s; ``"app"`` without one).

    Raises:
        ValueError: an unknown action, or ``obj`` has no primary key.
        TypeError: neither ``obj`` nor ``model`` and ``object_id`` are given.
    """
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if obj is None and (model is None or object_id is None):
        raise TypeError("record() needs obj, or model and object_id")
    if model is None:
        model = type(obj)
    if object_id is None:
        object_id = _key_of(session, obj)
    if object_repr is None:
        object_repr = _safe_str(obj) if obj is not None else _format_id(object_id)
    user_id, user_repr = _user_fields(user, may_load=True)
    entry = LogEntry(
        action_time=_utcnow(), user_id=user_id, user_repr=user_repr,
        component=component or _component(app, model) or "app",
        model=table_name_for(model.__name__), object_id=_format_id(object_id)[:255],
        object_repr=object_repr[:200], action=action, changes=dict(changes or {}),
        source=source, message=message,
    )
    session.add(entry)
    return entry


def _key_of(session: Session, obj: Any) -> str:
    state: InstanceState[Any] = sa_inspect(obj)
    if state.identity is None and state.pending:
        session.flush()
    key = _object_id(obj)
    if not key.strip(","):
        raise ValueError(f"{obj!r} has no primary key: add it to the session first")
    return key


def _component(app: App | None, model: type[Any]) -> str | None:
    if app is None:
        scope = current_scope.get()
        app = scope.get("app") if scope is not None else None
    if app is None:
        return None
    from heron.auth.permissions import component_label

    return component_label(app, model)


def entries_for(session: Session, model: type[Any] | str, object_id: Any, *,
                limit: int = 100, component: str | None = None,
                app: App | None = None) -> list[LogEntry]:
    """The entries of one row, newest first.

    Args:
        model: the model, or its snake-case name (``"blog_post"``).
        object_id: its primary key.
        component: only this component's model of that name; by default the model's
            own when an app is known (``app`` or the current one's).
    """
    name = model if isinstance(model, str) else table_name_for(model.__name__)
    statement = select(LogEntry).where(LogEntry.model == name,
                                       LogEntry.object_id == _format_id(object_id))
    if component is None and not isinstance(model, str):
        component = _component(app, model)
    if component is not None:
        statement = statement.where(LogEntry.component == component)
    statement = statement.order_by(LogEntry.action_time.desc(), LogEntry.id.desc()).limit(limit)
    return list(session.scalars(statement))


def recent_entries(session: Session, *, user_id: Any = None, limit: int = 10) -> list[LogEntry]:
    """The latest entries, newest first: everyone's, or one user's (their primary key)."""
    statement = select(LogEntry)
    if user_id is not None:
        statement = statement.where(LogEntry.user_id == str(user_id))
    statement = statement.order_by(LogEntry.action_time.desc(), LogEntry.id.desc()).limit(limit)
    return list(session.scalars(statement))


def _user_fields(user: Any, *, may_load: bool) -> tuple[str | None, str]:
    """``(user_id, user_repr)`` of a user; ``(None, "")`` for nobody.  Without
    ``may_load``, only what is loaded is read: no query runs (inside a flush)."""
    if user is None or getattr(user, "is_anonymous", False) \
            or not getattr(user, "is_authenticated", True):
        return None, ""
    state: InstanceState[Any] | None = sa_inspect(user, raiseerr=False)
    if state is None:  # not a row: anything with a pk and a name
        key = getattr(user, "pk", None) or getattr(user, "id", None)
        getter = getattr(user, "get_username", None)
        name = getter() if callable(getter) else str(user)
        return (None if key is None else str(key)[:64]), str(name)[:150]
    field = getattr(type(user), "USERNAME_FIELD", "username")
    name = state.dict.get(field)
    if name is None and may_load:
        try:
            name = getattr(user, field, None)
        except sa_exc.SQLAlchemyError:
            name = None
    key_text = _object_id(user)
    return (key_text[:64] or None), ("" if name is None else str(name)[:150])


# -- every write: SQLAlchemy session events -------------------------------------------

_apps: weakref.WeakSet[App] = weakref.WeakSet()
_listening = False
_install_lock = threading.Lock()


def install_write_audit(app: App) -> None:
    """Record every write made through ``app``'s heron.db sessions while its
    ``admin_audit_writes`` setting is on (read at each flush).

    Listens to the flushes of every SQLAlchemy ``Session`` of the process (async
    sessions included: theirs run on a sync session), once; each flush on ``app``'s
    default database is recorded, with source ``"request"`` and the request's user
    in a request, else ``"command"``.  The user is the one ``request.user`` loaded,
    else the user id the request's session holds (``user_repr`` then stays empty):
    no query runs to find them.  Not recorded: sessions marked with :data:`AUDITED_KEY`
    (:func:`skip_write_audit`), the log itself, the database session store, the
    permission rows, models with ``__audit__ = False``, and statements that bypass
    the unit of work (``session.execute(update(...))``, Core).  Calling it again
    is harmless.
    """
    global _listening
    with _install_lock:
        _apps.add(app)
        if not _listening:
            event.listen(Session, "before_flush", _before_flush)
            event.listen(Session, "after_flush", _after_flush)
            _listening = True


@contextlib.contextmanager
def skip_write_audit(session: Session) -> Iterator[Session]:
    """``with skip_write_audit(session):`` its flushes are not recorded by the
    all-writes mode (code that records its own entries: the admin's views)."""
    previous = session.info.get(AUDITED_KEY)
    session.info[AUDITED_KEY] = True
    try:
        yield session
    finally:
        if previous is None:
            session.info.pop(AUDITED_KEY, None)
        else:
            session.info[AUDITED_KEY] = previous


def _audited_app(session: Session) -> App | None:
    """The app whose audit log records this session's writes, if any: one with the
    setting on whose default database the session writes the log to."""
    if session.info.get(AUDITED_KEY) or not _apps:
        return None
    try:
        url = session.get_bind(mapper=LogEntry.__mapper__).engine.url
    except sa_exc.UnboundExecutionError:
        return None
    scope = current_scope.get()
    current = scope.get("app") if scope is not None else None
    with _install_lock:  # a WeakSet must not grow while it is listed
        apps = list(_apps)
    if current in apps:  # most often the one
        apps.remove(current)
        apps.insert(0, current)
    for app in apps:
        if getattr(app.settings, "admin_audit_writes", False) and url in _default_urls(app):
            return app
    return None


def _default_urls(app: App) -> tuple[URL, ...]:
    from heron.db import db
    from heron.db.database import async_url, sync_url

    default = db.state(app).urls[None]
    cached = app.extensions.get(_URLS_KEY)
    if cached is None or cached[0] != default:
        cached = app.extensions[_URLS_KEY] = (
            default, (make_url(sync_url(default)), make_url(async_url(default))))
    return cached[1]  # type: ignore[no-any-return]


def _audited(mapper: Mapper[Any]) -> bool:
    return getattr(mapper.local_table, "name", None) not in _INTERNAL_TABLES \
        and getattr(mapper.class_, "__audit__", True) is not False


def _before_flush(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    # What the flush will overwrite is read now: after it, a deleted row's values
    # (and a __str__ that needs a column a commit expired) are gone, and so is the
    # stored value of a column set while expired (after a commit).
    session.info.pop(_BEFORE_KEY, None)
    if not (session.dirty or session.deleted) or _audited_app(session) is None:
        return
    seen: dict[InstanceState[Any], tuple[dict[str, Any], str | None]] = {}
    with session.no_autoflush:
        for obj in session.deleted:
            state: InstanceState[Any] = sa_inspect(obj)
            if not _audited(state.mapper):
                continue
            try:
                before = snapshot(obj)
            except sa_exc.SQLAlchemyError:  # the row is gone already
                before = snapshot(obj, loaded_only=True)
            seen[state] = (before, _safe_str(obj))
        for obj in session.dirty:
            state = sa_inspect(obj)
            if _audited(state.mapper) and state.key is not None:
                unknown = [prop.key for prop in state.mapper.column_attrs
                           if _is_table_column(prop) and _set_while_unloaded(state, prop.key)]
                if unknown:
                    seen[state] = (_stored_values(session, state, unknown), None)
    session.info[_BEFORE_KEY] = seen


def _set_while_unloaded(state: InstanceState[Any], key: str) -> bool:
    history = state.attrs[key].history
    return bool(history.added) and not history.deleted and not history.unchanged


def _stored_values(session: Session, state: InstanceState[Any],
                   keys: list[str]) -> dict[str, Any]:
    """The stored values of some columns of a row, read with one query."""
    mapper = state.mapper
    cls = mapper.class_
    identity = state.identity or ()
    where = [getattr(cls, mapper.get_property_by_column(column).key) == value
             for column, value in zip(mapper.primary_key, identity, strict=True)]
    row = session.execute(select(*(getattr(cls, key) for key in keys)).where(*where)).first()
    return {} if row is None else {key: _json_safe(value) for key, value in zip(keys, row,
                                                                                 strict=True)}


def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    seen = session.info.pop(_BEFORE_KEY, None) or {}
    if not (session.new or session.dirty or session.deleted):
        return
    app = _audited_app(session)
    if app is None:
        return
    rows: list[tuple[str, Any, dict[str, list[Any]], str | None]] = []
    for obj in session.new:
        if _audited(sa_inspect(obj).mapper):
            rows.append(("add", obj, diff({}, snapshot(obj, loaded_only=True), type(obj)), None))
    for obj in session.dirty:
        state = sa_inspect(obj)
        if _audited(state.mapper):
            changes = _changes_of(obj, seen.get(state, ({}, None))[0])
            if changes:
                rows.append(("change", obj, changes, None))
    for obj in session.deleted:
        state = sa_inspect(obj)
        if _audited(state.mapper):
            before, text = seen.get(state) or (snapshot(obj, loaded_only=True), None)
            rows.append(("delete", obj, diff(before, {}, type(obj)), text))
    if rows:
        _insert(session, app, rows)


def _changes_of(obj: Any, stored: Mapping[str, Any]) -> dict[str, list[Any]]:
    """What a flush changes in a row, from its attributes' history; ``stored`` has the
    old values of the columns set while not loaded (read before the flush)."""
    state: InstanceState[Any] = sa_inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for prop in state.mapper.column_attrs:
        if not _is_table_column(prop):
            continue
        history = state.attrs[prop.key].history
        if history.added or history.deleted:
            before[prop.key] = _json_safe(history.deleted[0]) if history.deleted \
                else stored.get(prop.key)
            after[prop.key] = _json_safe(history.added[0]) if history.added else None
    for rel in state.mapper.relationships:
        if rel.secondary is None:
            continue
        history = state.attrs[rel.key].history
        if history.added or history.deleted:
            kept = list(history.unchanged or ())
            before[rel.key] = _rows([*kept, *history.deleted])
            after[rel.key] = _rows([*kept, *history.added])
    return diff(before, after, type(obj))


def _insert(session: Session, app: App,
            rows: list[tuple[str, Any, dict[str, list[Any]], str | None]]) -> None:
    """Write the entries of one flush, in its transaction: through the connection,
    as the unit of work cannot take new rows while it flushes."""
    from heron.auth.permissions import component_label

    scope = current_scope.get()
    in_request = scope is not None and scope.get("type") in ("http", "websocket")
    user_id, user_repr = _request_user(scope) if in_request and scope is not None else (None, "")
    now = _utcnow()
    values = [{
        "action_time": now, "user_id": user_id, "user_repr": user_repr,
        "component": component_label(app, type(obj)), "model": table_name_for(type(obj).__name__),
        "object_id": _object_id(obj)[:255], "object_repr": (text or _safe_str(obj))[:200],
        "action": action, "changes": changes, "source": "request" if in_request else "command",
        "message": "",
    } for action, obj, changes, text in rows]
    connection = session.connection(bind_arguments={"mapper": LogEntry.__mapper__})
    connection.execute(LogEntry.__table__.insert(), values)  # type: ignore[attr-defined]


def _request_user(scope: MutableMapping[str, Any]) -> tuple[str | None, str]:
    """The request's user without a query: ``request.user`` if it was loaded, else the
    id the session claims (checked against the password hash only when loaded)."""
    from heron.auth._login import SCOPE_KEY

    names: dict[str, str] = scope.setdefault(_NAMES_KEY, {})
    user = scope.get(SCOPE_KEY)
    if user is not None:
        user_id, name = _user_fields(user, may_load=False)
        if user_id is not None and name:
            names[user_id] = name  # a later commit may expire it
        return user_id, name or names.get(user_id or "", "")
    claimed = _claimed_user_id(scope)
    return claimed, names.get(claimed or "", "")


def _claimed_user_id(scope: MutableMapping[str, Any]) -> str | None:
    from heron.auth._login import USER_KEY
    from heron.requests import HTTPConnection

    conn = HTTPConnection(scope)
    try:
        settings = conn.app.settings
        # A cookie session is decoded here, a server-side one was loaded before the
        # view: reading either runs no query.
        if scope.get("heron.session") is None and (
                settings.session_backend != "cookie"
                or settings.session_cookie_name not in conn.cookies):
            return None
        value = conn.session.get(USER_KEY)
    except Exception:  # no sessions plugin, a broken cookie: nobody
        return None
    return None if value is None else str(value)[:64]
