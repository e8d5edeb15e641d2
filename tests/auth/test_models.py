"""Users, groups and permissions on a real (SQLite) database made by the migrations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

import pytest
from auth_helpers import AuthAppFactory
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from heron import App, Request
from heron.auth import Group, Permission, create_user, new_token
from heron.auth.hashing import UNUSABLE_PASSWORD
from heron.auth.user import User
from heron.db import db
from heron.testing import TestClient


@pytest.fixture
def app(auth_app: AuthAppFactory) -> App:
    return auth_app()


def new_user(session: Session, app: App, username: str, password: str | None,
             **fields: Any) -> User:
    """``create_user``, typed as heron's ``User``."""
    return cast(User, create_user(session, app, username, password, **fields))


def perm(session: Session, key: str) -> Permission:
    """The permission row ``"component.codename"`` that migrate made."""
    component, _, codename = key.partition(".")
    return session.scalars(select(Permission).filter_by(component=component,
                                                        codename=codename)).one()


@pytest.fixture
def queries(app: App) -> Iterator[list[str]]:
    """Every SQL statement run on the app's database during the test."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = db.state(app).engine()
    event.listen(engine, "before_cursor_execute", record)
    yield statements
    event.remove(engine, "before_cursor_execute", record)


# -- fields ------------------------------------------------------------------------


def test_a_new_user_has_the_defaults(app: App, db_session: Session) -> None:
    user = new_user(db_session, app, "  alice ", "a long secret", email="a@example.org")
    db_session.expire_all()
    found = db_session.get(User, user.id)
    assert found is not None
    user = found
    assert user.username == "alice"  # trimmed
    assert user.get_username() == str(user) == "alice"
    assert user.email == user.get_email() == "a@example.org"
    assert user.is_active is True
    assert user.is_staff is False
    assert user.is_superuser is False
    assert user.last_login is None
    assert isinstance(user.date_joined, datetime)
    assert user.password.startswith("$argon2id$")
    assert "a long secret" not in user.password
    assert user.is_authenticated is True
    assert user.is_anonymous is False
    assert User.USERNAME_FIELD == "username"
    assert User.REQUIRED_FIELDS == ("email",)


def test_usernames_are_unique_whatever_their_case(app: App, db_session: Session) -> None:
    new_user(db_session, app, "Alice", "a long secret")
    with pytest.raises(IntegrityError), db_session.begin_nested():
        new_user(db_session, app, "alice", "another secret")
    # the look-up of a login ignores case too
    from heron.auth.users import find_user

    assert db_session.execute(find_user(User, "ALICE")).scalar_one().username == "Alice"


def test_usernames_are_normalised_so_look_alikes_collide(app: App, db_session: Session) -> None:
    new_user(db_session, app, "\uff41lice", "a long secret")  # fullwidth a
    assert db_session.scalars(select(User.username)).one() == "alice"
    with pytest.raises(IntegrityError), db_session.begin_nested():
        new_user(db_session, app, "alice", "a long secret")


def test_passwords(app: App, db_session: Session) -> None:
    user = new_user(db_session, app, "alice", "a long secret")
    assert user.check_password("a long secret", app.settings)
    assert not user.check_password("A long secret", app.settings)
    assert user.has_usable_password()
    first = user.password
    user.set_password("a long secret", app.settings)
    assert user.password != first  # a new salt each time
    assert user.check_password("a long secret", app.settings)
    with db.context(app):  # the settings of the current app, when none are given
        user.set_password("another secret")
        assert user.check_password("another secret")


def test_an_unusable_password_matches_nothing(app: App, db_session: Session) -> None:
    user = new_user(db_session, app, "robot", None)
    other = new_user(db_session, app, "robot2", None)
    assert user.password.startswith(UNUSABLE_PASSWORD)
    assert user.password != other.password
    assert not user.has_usable_password()
    assert not user.check_password("", app.settings)
    assert not user.check_password(user.password, app.settings)
    user.set_password("now one", app.settings)
    assert user.has_usable_password()
    user.set_password(None, app.settings)
    assert not user.has_usable_password()


# -- groups and permissions -----------------------------------------------------------


def test_groups_and_permissions_are_related(app: App, db_session: Session) -> None:
    editors = Group(name="editors", permissions=[perm(db_session, "auth.change_group")])
    user = new_user(db_session, app, "alice", "a long secret")
    user.groups.append(editors)
    user.user_permissions.append(perm(db_session, "auth.view_group"))
    db_session.flush()
    db_session.expire_all()
    loaded = db_session.get(User, user.id)
    assert loaded is not None
    assert [g.name for g in loaded.groups] == ["editors"]
    assert [str(p) for p in loaded.groups[0].permissions] == ["auth.change_group"]
    assert [p.key for p in loaded.user_permissions] == ["auth.view_group"]
    # deleting the group removes the link, not the user
    db_session.delete(loaded.groups[0])
    db_session.flush()
    db_session.expire_all()
    assert db_session.get(User, user.id).groups == []  # type: ignore[union-attr]


def test_has_perm_directly_and_through_groups(app: App, db_session: Session) -> None:
    group = Group(name="editors", permissions=[perm(db_session, "auth.change_group"),
                                               perm(db_session, "auth.view_user")])
    user = new_user(db_session, app, "alice", "a long secret")
    user.groups.append(group)
    user.user_permissions.append(perm(db_session, "auth.view_group"))
    db_session.flush()
    user.forget_permissions()
    assert user.get_all_permissions() == {"auth.change_group", "auth.view_user",
                                          "auth.view_group"}
    assert user.has_perm("auth.view_group")
    assert user.has_perm("auth.change_group")
    assert not user.has_perm("auth.delete_group")
    assert user.has_perms(["auth.view_group", "auth.change_group"])
    assert not user.has_perms(["auth.view_group", "auth.delete_group"])
    # a permission given both ways is one permission
    user.user_permissions.append(perm(db_session, "auth.view_user"))
    db_session.flush()
    user.forget_permissions()
    assert len(user.get_all_permissions()) == 3


def test_superusers_have_every_permission_and_inactive_users_none(
        app: App, db_session: Session) -> None:
    root = new_user(db_session, app, "root", "a long secret", is_superuser=True)
    assert root.has_perm("anything.at_all")
    assert root.has_perms(["auth.view_group", "blog.publish_post"])
    assert root.get_all_permissions() == set()  # superuser status is not a permission row
    staff = new_user(db_session, app, "staff", "a long secret")
    staff.user_permissions.append(perm(db_session, "auth.view_group"))
    db_session.flush()
    staff.forget_permissions()
    assert staff.has_perm("auth.view_group")
    for user in (root, staff):
        user.is_active = False
        assert not user.has_perm("auth.view_group")
        assert not user.has_perms(["auth.view_group"])


def test_permissions_are_read_in_one_query_and_kept(app: App, db_session: Session,
                                                    queries: list[str]) -> None:
    group = Group(name="editors", permissions=[perm(db_session, "auth.change_group")])
    user = new_user(db_session, app, "alice", "a long secret")
    user.groups.append(group)
    db_session.flush()
    user.forget_permissions()
    queries.clear()
    for _ in range(3):
        assert user.has_perm("auth.change_group")
        assert not user.has_perm("auth.delete_group")
    assert user.has_perms(["auth.change_group"])
    assert len(queries) == 1
    # given more, the user keeps the old set until told to forget it
    user.user_permissions.append(perm(db_session, "auth.delete_group"))
    db_session.flush()
    assert not user.has_perm("auth.delete_group")
    user.forget_permissions()
    assert user.has_perm("auth.delete_group")


def test_permissions_are_read_once_per_request(app: App, db_session: Session,
                                               queries: list[str]) -> None:
    user = new_user(db_session, app, "alice", "a long secret")
    user.user_permissions.append(perm(db_session, "auth.view_group"))
    token, secret = new_token(app, user, "test")
    db_session.add(token)
    db_session.commit()

    @app.get("/perms")
    def perms(request: Request) -> dict[str, bool]:
        user = request.user
        return {"view": user.has_perm("auth.view_group"),
                "change": user.has_perm("auth.change_group"),
                "both": user.has_perms(["auth.view_group", "auth.change_group"]),
                "again": request.user.has_perm("auth.view_group")}

    with TestClient(app) as client:
        for _ in range(2):
            queries.clear()
            response = client.get("/perms", headers={"authorization": f"Bearer {secret}"})
            assert response.json() == {"view": True, "change": False, "both": False,
                                       "again": True}
            assert sum("auth_permission" in q for q in queries) == 1, queries


class Document:
    """Not a model: anything with the object-level hook."""

    def __init__(self, owner_id: int) -> None:
        self.owner_id = owner_id

    def has_object_permission(self, user: Any, perm: str) -> bool:
        return perm == "app.change_document" and user.id == self.owner_id


def test_the_object_level_hook(app: App, db_session: Session) -> None:
    alice = new_user(db_session, app, "alice", "a long secret")
    bob = new_user(db_session, app, "bob", "a long secret")
    bob.user_permissions.append(perm(db_session, "auth.view_group"))
    db_session.flush()
    doc = Document(owner_id=alice.id)
    assert alice.has_perm("app.change_document", doc)
    assert not alice.has_perm("app.change_document")  # no model permission
    assert not alice.has_perm("app.delete_document", doc)
    assert not bob.has_perm("app.change_document", doc)
    assert bob.has_perm("auth.view_group", object())  # the model permission is enough
    assert alice.has_perms(["app.change_document"], doc)
    alice.is_active = False
    assert not alice.has_perm("app.change_document", doc)


# -- async ---------------------------------------------------------------------


async def test_async_permission_checks(app: App, db_clean: None) -> None:
    session = db.session
    group = Group(name="editors", permissions=[perm(session, "auth.change_group")])
    alice = new_user(session, app, "alice", "a long secret")
    alice.groups.append(group)
    root = new_user(session, app, "root", "a long secret", is_superuser=True)
    session.commit()
    ids = alice.id, root.id

    from heron.auth import acreate_user

    async_session = db.async_session
    bob = await acreate_user(async_session, app, "bob", "a long secret", email="b@example.org")
    await async_session.commit()
    assert bob.check_password("a long secret", app.settings)

    alice_async = await async_session.get(User, ids[0])
    root_async = await async_session.get(User, ids[1])
    assert alice_async is not None
    assert root_async is not None
    with pytest.raises(RuntimeError, match="ahas_perm"):
        alice_async.has_perm("auth.change_group")  # would block the loop
    assert await alice_async.ahas_perm("auth.change_group")
    assert not await alice_async.ahas_perm("auth.delete_group")
    assert await alice_async.ahas_perms(["auth.change_group"])
    assert not await alice_async.ahas_perms(["auth.change_group", "auth.delete_group"])
    assert alice_async.has_perm("auth.change_group")  # loaded now
    assert await alice_async.aget_all_permissions() == {"auth.change_group"}
    assert await alice_async.ahas_perm("app.change_document", Document(ids[0]))
    assert await root_async.ahas_perm("anything.at_all")
    root_async.is_active = False
    assert not await root_async.ahas_perm("anything.at_all")
