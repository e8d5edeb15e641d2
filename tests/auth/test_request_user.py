"""``request.user``: loading it, logging in and out, what ends a session, and the
password checks behind a login (rehash, the same work for unknown users)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from auth_helpers import FAST_HASHING, PASSWORD, AuthAppFactory, log_in, make_user
from sqlalchemy import select

from heron import App, Request
from heron.auth import update_session_auth_hash
from heron.auth.hashing import check_password
from heron.auth.user import User
from heron.db import db
from heron.testing import TestClient

COOKIE = "heron_session"


@pytest.fixture
def site(auth_site: AuthAppFactory) -> AuthAppFactory:
    return auth_site


@pytest.fixture
def app(site: Callable[..., App]) -> App:
    return site()


def stored(app: App, username: str = "alice") -> User:
    with db.context(app):
        user = db.session.scalars(select(User).filter_by(username=username)).one()
        db.session.expunge(user)
        return user


def test_anonymous_without_a_session(app: App) -> None:
    make_user(app)
    with TestClient(app) as client:
        for path in ("/me", "/ame"):
            response = client.get(path)
            assert response.json() == {"user": "", "authenticated": False}
            assert "set-cookie" not in response.headers  # no session was opened


@pytest.mark.parametrize("path", ["/login", "/alogin"])
def test_login_in_a_sync_and_an_async_view(app: App, path: str) -> None:
    make_user(app)
    assert stored(app).last_login is None
    with TestClient(app) as client:
        response = log_in(client, "ALICE", path=path)  # the username's case does not matter
        assert response.json() == {"user": "alice", "authenticated": True}
        assert client.get("/me").json() == {"user": "alice", "authenticated": True}
        assert client.get("/ame").json() == {"user": "alice", "authenticated": True}
        assert stored(app).last_login is not None
        response = log_in(client, password="wrong password", path=path)
        assert response.status_code == 400
        logout = client.post("/logout", headers={"x-csrf-token": client.get("/csrf").text})
        assert logout.json()["authenticated"] is False
        assert client.get("/me").json()["authenticated"] is False


def test_request_user_in_async_code_needs_auser_first(app: App) -> None:
    make_user(app)

    @app.get("/early")
    async def early(request: Request) -> dict[str, str]:
        try:
            request.user  # noqa: B018
        except RuntimeError as exc:
            error = str(exc)
        user = await request.auser()
        return {"error": error, "then": request.user.get_username(), "same": str(
            user is request.user)}

    with TestClient(app) as client:
        log_in(client)
        body = client.get("/early").json()
    assert "await request.auser()" in body["error"]
    assert body["then"] == "alice"
    assert body["same"] == "True"


@pytest.mark.parametrize("backend", ["cookie", "cache", "database"])
def test_login_changes_the_session_key(site: Callable[..., App], backend: str) -> None:
    """Session fixation: a key planted before the login is worth nothing after it."""
    app = site(session_backend=backend)
    make_user(app)
    with TestClient(app) as client:
        client.get("/csrf")  # a session exists before the login
        before = client.cookies[COOKIE]
        assert log_in(client).json()["authenticated"] is True
        after = client.cookies[COOKIE]
        assert after != before
        assert client.get("/me").json()["authenticated"] is True
    with TestClient(app) as attacker:  # who planted or read the old key
        attacker.cookies.set(COOKIE, before)
        assert attacker.get("/me").json()["authenticated"] is False
        assert attacker.get("/ame").json()["authenticated"] is False


def test_login_as_another_user_drops_the_first_users_data(app: App) -> None:
    make_user(app)
    make_user(app, "bob")

    @app.post("/remember")
    def remember(request: Request) -> str:
        request.session["cart"] = "alice's"
        return "ok"

    @app.get("/cart")
    def cart(request: Request) -> str:
        return str(request.session.get("cart"))

    with TestClient(app) as client:
        log_in(client)
        client.post("/remember", headers={"x-csrf-token": client.get("/csrf").text})
        log_in(client)  # the same user again keeps the data
        assert client.get("/cart").text == "alice's"
        assert log_in(client, "bob").json()["user"] == "bob"
        assert client.get("/cart").text == "None"


def test_a_password_change_elsewhere_ends_the_session(app: App) -> None:
    make_user(app)

    @app.post("/change")
    def change(request: Request) -> str:
        user = request.user
        user.set_password("a brand new secret")
        db.session.commit()
        update_session_auth_hash(request, user)
        return "changed"

    with TestClient(app) as first, TestClient(app) as second:
        log_in(first)
        log_in(second)
        # the second session changes the password and stays logged in ...
        assert second.post("/change",
                           headers={"x-csrf-token": second.get("/csrf").text}).text == "changed"
        assert second.get("/me").json()["authenticated"] is True
        assert second.get("/ame").json()["authenticated"] is True
        # ... the first one is over, and its data with it
        response = first.get("/me")
        assert response.json()["authenticated"] is False
        assert first.get("/ame").json()["authenticated"] is False
    # a change made outside any request (heron changepassword) ends every session
    with TestClient(app) as client:
        log_in(client, password="a brand new secret")
        with db.context(app):
            user = db.session.scalars(select(User)).one()
            user.set_password("yet another secret", app.settings)
            db.session.commit()
        assert client.get("/ame").json()["authenticated"] is False
        assert client.get("/me").json()["authenticated"] is False


@pytest.mark.parametrize("path", ["/me", "/ame"])
def test_a_deactivated_user_is_anonymous(app: App, path: str) -> None:
    user_id = make_user(app)
    with TestClient(app) as client:
        log_in(client)
        assert client.get(path).json()["authenticated"] is True
        with db.context(app):
            db.session.get(User, user_id).is_active = False  # type: ignore[union-attr]
            db.session.commit()
        assert client.get(path).json()["authenticated"] is False
        # and a deactivated user cannot log in
        assert log_in(client).status_code == 400


def test_a_deleted_user_is_anonymous(app: App) -> None:
    user_id = make_user(app)
    with TestClient(app) as client:
        log_in(client)
        with db.context(app):
            db.session.delete(db.session.get(User, user_id))
            db.session.commit()
        assert client.get("/me").json()["authenticated"] is False


def test_rotating_the_secret_key_keeps_users_logged_in(site: Callable[..., App]) -> None:
    old = site(secret_key="the old secret key")
    make_user(old)
    with TestClient(old) as client:
        log_in(client)
        cookie = {"cookie": f"{COOKIE}={client.cookies[COOKIE]}"}
    new = site(secret_key="the new secret key", secret_key_fallbacks=["the old secret key"])
    newer = site(secret_key="the new secret key")  # the old key retired
    with TestClient(new) as client, TestClient(newer) as later:
        response = client.get("/me", headers=cookie)
        assert response.json() == {"user": "alice", "authenticated": True}
        assert client.get("/ame", headers=cookie).json()["authenticated"] is True
        # the session is moved to the new key as it is used ...
        moved = {"cookie": f"{COOKIE}={response.cookies[COOKIE]}"}
        assert later.get("/me", headers=moved).json()["authenticated"] is True
        # ... while one that was not used meanwhile ends with the old key
        assert later.get("/me", headers=cookie).json()["authenticated"] is False


@pytest.mark.parametrize("path", ["/login", "/alogin"])
def test_a_hash_of_older_costs_is_upgraded_on_login(site: Callable[..., App], path: str) -> None:
    strong = {"password_time_cost": 2, "password_memory_cost": 16 * 1024,
              "password_parallelism": 2}
    before = site(**strong)
    make_user(before)
    old_hash = stored(before).password
    assert "m=16384,t=2,p=2" in old_hash
    after = site()  # FAST_HASHING
    with TestClient(after) as client:
        assert log_in(client, path=path).json()["authenticated"] is True
    new_hash = stored(after).password
    assert new_hash != old_hash
    assert "m=8192,t=1,p=1" in new_hash
    assert check_password(PASSWORD, new_hash, after.settings)
    with TestClient(after) as client:  # the new hash logs in, and is kept
        assert log_in(client, path=path).json()["authenticated"] is True
        assert client.get("/me").json()["authenticated"] is True  # the session hash matches
    assert stored(after).password == new_hash
    # a wrong password upgrades nothing
    again = site(**strong)
    with TestClient(again) as client:
        assert log_in(client, password="not it", path=path).status_code == 400
    assert stored(again).password == new_hash


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes argon2's ``PasswordHasher.verify`` was called with (still verifying)."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def counted(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        calls.append(hash if isinstance(hash, str) else hash.decode())
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    return calls


@pytest.mark.parametrize("path", ["/login", "/alogin"])
def test_an_unknown_user_costs_the_same_argon2_work(app: App, path: str,
                                                    verifications: list[str]) -> None:
    make_user(app)
    make_user(app, "robot", None)  # no usable password
    make_user(app, "gone", is_active=False)
    costs = "m={password_memory_cost},t={password_time_cost},p={password_parallelism}".format(
        **FAST_HASHING)
    with TestClient(app) as client:
        for username, password in [("nobody", PASSWORD), ("alice", "wrong password"),
                                   ("robot", PASSWORD), ("gone", PASSWORD),
                                   ("alice", PASSWORD)]:
            verifications.clear()
            log_in(client, username, password, path=path)
            # one argon2 verification at the current costs, whoever asks
            assert len(verifications) == 1, username
            assert costs in verifications[0]
        assert client.get("/me").json()["user"] == "alice"


@pytest.mark.parametrize("path", ["/login", "/alogin"])
def test_too_many_failures_get_429_in_one_process(site: AuthAppFactory, path: str) -> None:
    app = site(login_throttle_limit=3)  # memory:// cache
    make_user(app)
    with TestClient(app) as client:
        for _ in range(3):
            assert log_in(client, password="wrong password", path=path).status_code == 400
        response = log_in(client, path=path)  # right, but too late
        assert response.status_code == 429
        assert 1 <= int(response.headers["retry-after"]) <= app.settings.login_throttle_window
        assert log_in(client, "nobody", path=path).status_code == 400  # other names go on


@pytest.mark.parametrize("path", ["/me", "/ame"])
def test_a_session_with_a_malformed_user_id_is_anonymous_and_ended(app: App, path: str) -> None:
    @app.post("/plant")
    def plant(request: Request) -> str:  # what a forged or stale session could hold
        request.session["_auth_user_id"] = "not a number"
        request.session["_auth_user_hash"] = "x"
        return "planted"

    with TestClient(app) as client:
        token = client.get("/csrf").text
        assert client.post("/plant", headers={"x-csrf-token": token}).text == "planted"
        assert client.get(path).json()["authenticated"] is False
        assert COOKIE not in client.cookies  # the session was ended
