"""The core of heron.auth on a real PostgreSQL: migrations, the case-insensitive
unique index, logins (sync and async) with a timezone-aware ``last_login``,
permissions through groups, tokens and reset links."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from auth_helpers import AuthAppFactory, log_in, make_user
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from heron import App, Request
from heron.auth import Group, Permission, create_user, new_token, permission_required
from heron.auth.reset import make_reset_token, read_reset_token, reset_token_matches
from heron.auth.user import User
from heron.db import db
from heron.testing import TestClient
from heron.testing.database import clean_tables


@pytest.fixture(scope="module")
def pg_url(request: pytest.FixtureRequest) -> str:
    server = request.getfixturevalue("postgres_server")
    return str(server.create_database(f"heron_auth_{uuid.uuid4().hex[:12]}"))


@pytest.fixture
def app(auth_site: AuthAppFactory, pg_url: str) -> Iterator[App]:
    app = auth_site(database_url=pg_url)

    @app.get("/groups")
    @permission_required("auth.change_group")
    async def groups(request: Request) -> str:
        return "groups"

    @app.get("/sgroups")
    @permission_required("auth.change_group")
    def sync_groups(request: Request) -> str:
        return "groups"

    yield app
    clean_tables(app)


def stored(app: App, username: str = "alice") -> User:
    with db.context(app):
        user = db.session.scalars(select(User).filter_by(username=username)).one()
        db.session.expunge(user)
        return user


def test_the_migrations_made_the_lower_index(app: App) -> None:
    with db.context(app):
        definition = db.session.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_auth_user_username_lower'"
        )).scalar_one()
        assert "UNIQUE" in definition
        assert "lower" in definition
        create_user(db.session, app, "Alice", "a long secret")
        db.session.commit()
        with pytest.raises(IntegrityError):
            create_user(db.session, app, "aLICE", "a long secret")
        db.session.rollback()
        # the unique index serves case-insensitive look-ups
        from heron.auth.users import find_user

        assert db.session.execute(find_user(User, "ALICE")).scalar_one().username == "Alice"


@pytest.mark.parametrize("path", ["/login", "/alogin"])
def test_login_stores_an_aware_last_login(app: App, path: str) -> None:
    make_user(app)
    before = datetime.now(UTC)
    with TestClient(app) as client:
        assert log_in(client, "Alice", path=path).json()["authenticated"] is True
        assert client.get("/me").json()["user"] == "alice"
        assert client.get("/ame").json()["user"] == "alice"
    last_login = stored(app).last_login
    assert last_login is not None
    assert last_login.tzinfo is not None
    assert before - timedelta(seconds=1) <= last_login <= datetime.now(UTC)
    assert stored(app).date_joined.tzinfo is not None


def test_permissions_through_groups(app: App) -> None:
    make_user(app, "editor")
    make_user(app)
    with db.context(app):
        change = db.session.scalars(select(Permission).filter_by(
            component="auth", codename="change_group")).one()
        group = Group(name="editors", permissions=[change])
        editor = db.session.scalars(select(User).filter_by(username="editor")).one()
        editor.groups.append(group)
        db.session.commit()
    with TestClient(app) as client:
        log_in(client)
        assert client.get("/groups").status_code == 403
        assert client.get("/sgroups").status_code == 403
        log_in(client, "editor")
        assert client.get("/groups").text == client.get("/sgroups").text == "groups"


def test_tokens_and_reset_links_with_aware_datetimes(app: App) -> None:
    make_user(app)
    with TestClient(app) as client:
        log_in(client)  # last_login is set: reset links made before it stop working
    user = stored(app)
    link = make_reset_token(app, user)
    found = read_reset_token(app, link)
    assert found is not None
    assert found[0] == user.id
    assert reset_token_matches(stored(app), found[1])
    with db.context(app):
        owner: Any = db.session.get(User, user.id)
        token, secret = new_token(app, owner, "pg", expires_in=timedelta(minutes=5))
        db.session.add(token)
        db.session.commit()
        db.session.refresh(token)
        assert token.expires_at.tzinfo is not None
        assert token.is_usable
        owner.last_login += timedelta(seconds=5)  # a later login spends the link
        db.session.commit()
    assert not reset_token_matches(stored(app), found[1])
    with TestClient(app) as client:
        response = client.get("/ame", headers={"authorization": f"Bearer {secret}"})
        assert response.json()["user"] == "alice"


def test_nul_characters_in_logins_and_addresses_are_no_500(app: App) -> None:
    # PostgreSQL refuses NUL in text: looking such a login or address up was a 500.
    from heron.csrf import get_token

    @app.get("/token")
    def token(request: Request) -> str:
        return get_token(request)

    make_user(app, email="a@example.com")
    with TestClient(app) as client:
        csrf = {"csrf_token": client.get("/token").text}
        assert client.post("/auth/login", data={
            "username": "al\x00ice", "password": "x", **csrf}).status_code == 400
        assert client.post("/login", json={"username": "a\x00", "password": "x"},
                           headers={"x-csrf-token": csrf["csrf_token"]}).status_code == 400
        assert client.post("/auth/password/reset", data={
            "email": "a\x00@example.com", **csrf}).status_code == 400  # refused as the form is read
