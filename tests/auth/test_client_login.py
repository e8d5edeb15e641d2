"""``client.force_login(user)`` (issue 18 item 10): logged in without the login page,
its password or its throttle, as heron.auth's own login would leave the session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from auth_pages import add_user, build_app

from heron import App
from heron.auth import get_user_model
from heron.db import db
from heron.testing import AsyncTestClient, TestClient

pytestmark = pytest.mark.usefixtures("db_clean")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('client-login') / 'db.sqlite3'}"


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> App:
    return build_app(tmp_path, database_url)


def _user(app: App, user_id: int) -> Any:
    with db.context(app):
        return db.session.get(get_user_model(app), user_id)


def test_force_login_then_guarded_pages_open(app: App) -> None:
    ada = _user(app, add_user(app, "ada"))
    bob = _user(app, add_user(app, "bob"))
    with TestClient(app) as client:
        assert client.get("/private", headers={"accept": "text/html"}).status_code == 302
        session = client.session
        session["theme"] = "dark"
        session.save()
        client.force_login(ada)
        assert client.get("/private").json() == {"username": "ada"}
        assert client.session["theme"] == "dark"  # the same user's data stays
        client.force_login(bob)
        assert client.get("/private").json() == {"username": "bob"}
        assert "theme" not in client.session  # another user's data does not carry over
        client.logout()
        assert client.get("/private", headers={"accept": "text/html"}).status_code == 302


async def test_async_force_login(app: App) -> None:
    ada = _user(app, add_user(app, "ada"))
    async with AsyncTestClient(app) as client:
        await client.force_login(ada)
        assert (await client.get("/private")).json() == {"username": "ada"}


def test_force_login_refuses_inactive_and_unsaved_users(app: App) -> None:
    sleeper = _user(app, add_user(app, "sleeper", is_active=False))
    with TestClient(app) as client:
        with pytest.raises(ValueError, match="inactive"):
            client.force_login(sleeper)
        with pytest.raises(ValueError, match="saved user"):
            client.force_login(get_user_model(app)(username="ghost"))
        assert client.session == {}


def test_a_password_change_ends_a_forced_login(app: App) -> None:
    ada = _user(app, add_user(app, "ada"))
    with TestClient(app) as client:
        client.force_login(ada)
        with db.context(app):
            user = db.session.get(get_user_model(app), ada.id)
            user.set_password("a brand new passphrase 9", app.settings)
            db.session.commit()
        assert client.get("/private", headers={"accept": "text/html"}).status_code == 302
