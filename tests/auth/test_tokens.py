"""Personal API tokens: made once, stored as a hash, ``Authorization: Bearer``."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from auth_helpers import AuthAppFactory, make_user
from sqlalchemy import select

from heron import App, Request
from heron.auth import login_required, new_token, revoke
from heron.auth.tokens import PREFIX
from heron.auth.user import User
from heron.db import db
from heron.testing import TestClient

UserToken = User.token_model


@pytest.fixture
def app(auth_site: AuthAppFactory) -> App:
    app = auth_site()

    @app.get("/whoami")
    def whoami(request: Request) -> dict[str, Any]:
        return {"user": request.user.get_username()}

    @app.get("/awhoami")
    async def awhoami(request: Request) -> dict[str, Any]:
        return {"user": (await request.auser()).get_username()}

    @app.post("/notes")
    @login_required
    async def add_note(request: Request) -> dict[str, Any]:
        return {"by": request.user.get_username()}

    @app.post("/snotes")
    @login_required
    def add_note_sync(request: Request) -> dict[str, Any]:
        return {"by": request.user.get_username()}

    make_user(app, "alice")
    return app


def issue(app: App, username: str = "alice", **options: Any) -> tuple[int, str]:
    """A committed token of ``username``: (its id, the secret)."""
    with db.context(app):
        user = db.session.scalars(select(User).filter_by(username=username)).one()
        token, secret = new_token(app, user, "test token", **options)
        db.session.add(token)
        db.session.commit()
        return int(token.id), secret


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


def test_the_secret_is_shown_once_and_only_its_hash_is_kept(app: App) -> None:
    token_id, secret = issue(app)
    assert secret.startswith(PREFIX)
    assert len(secret) > 40
    with db.context(app):
        token = db.session.get(UserToken, token_id)
        assert token is not None
        row = {c.name: getattr(token, c.key) for c in UserToken.__table__.columns}
    assert secret not in {str(v) for v in row.values()}
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix)
    assert len(token.prefix) < 16
    assert str(token) == f"test token ({token.prefix}...)"
    assert issue(app)[1] != secret


@pytest.mark.parametrize("path", ["/whoami", "/awhoami"])
def test_a_bearer_token_sets_request_user(app: App, path: str) -> None:
    _, secret = issue(app)
    with TestClient(app) as client:
        assert client.get(path, headers=bearer(secret)).json() == {"user": "alice"}
        assert client.get(path, headers={"authorization": f"bearer   {secret} "}).json() == \
            {"user": "alice"}
        assert client.get(path).json() == {"user": ""}
        assert "set-cookie" not in client.get(path, headers=bearer(secret)).headers


@pytest.mark.parametrize("path", ["/whoami", "/awhoami", "/notes"])
def test_an_answer_to_a_token_is_private(app: App, path: str) -> None:
    """Issue 20: no shared cache keeps what one token holder was shown."""
    _, secret = issue(app)
    with TestClient(app) as client:
        method = client.post if path == "/notes" else client.get
        response = method(path, headers=bearer(secret))
        assert response.status_code == 200
        assert response.headers.get_list("cache-control") == ["private"]
        # A bad token's 401 too; a request without a token is not marked.
        assert method(path, headers=bearer("heron_nope")).headers["cache-control"] == "private"
        if path != "/notes":
            assert "cache-control" not in client.get(path).headers


@pytest.mark.parametrize("path", ["/whoami", "/awhoami"])
def test_unknown_revoked_and_expired_tokens_get_401(app: App, path: str) -> None:
    revoked_id, revoked = issue(app)
    with db.context(app):
        token = db.session.get(UserToken, revoked_id)
        revoke(token)
        when = token.revoked_at  # type: ignore[union-attr]
        revoke(token)  # revoking again keeps the first moment
        assert token.revoked_at == when  # type: ignore[union-attr]
        db.session.commit()
    _expired_id, expired = issue(app, expires_in=timedelta(seconds=-1))
    with TestClient(app) as client:
        for secret in (revoked, expired, PREFIX + "unknown", "", revoked + "x"):
            response = client.get(path, headers=bearer(secret))
            assert response.status_code == 401, secret
            assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
            assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/whoami", "/awhoami"])
def test_an_inactive_users_tokens_stop_working(app: App, path: str) -> None:
    _, secret = issue(app)
    with TestClient(app) as client:
        assert client.get(path, headers=bearer(secret)).status_code == 200
        with db.context(app):
            db.session.scalars(select(User)).one().is_active = False
            db.session.commit()
        assert client.get(path, headers=bearer(secret)).status_code == 401


@pytest.mark.parametrize("path", ["/notes", "/snotes"])
def test_token_requests_need_no_csrf_token(app: App, path: str) -> None:
    _, secret = issue(app)
    with TestClient(app) as client:
        response = client.post(path, json={"note": "hi"}, headers=bearer(secret))
        assert response.status_code == 200
        assert response.json()["by"] == "alice"
        # a form post too: no cookie, so no ambient credentials to forge
        response = client.post(path, data={"note": "hi"}, headers=bearer(secret))
        assert response.status_code == 200
        # with a session cookie, the CSRF check applies again
        client.get("/csrf")
        response = client.post(path, data={"note": "hi"}, headers=bearer(secret))
        assert response.status_code == 403


def test_expiry_follows_api_token_lifetime(auth_site: AuthAppFactory) -> None:
    app = auth_site()
    make_user(app, "alice")
    before = datetime.now(UTC)
    with db.context(app):
        user = db.session.scalars(select(User)).one()
        default, _ = new_token(app, user, "default")
        assert default.expires_at - before == pytest.approx(timedelta(days=90),
                                                            abs=timedelta(seconds=5))
        short, _ = new_token(app, user, "short", expires_in=timedelta(hours=1))
        assert short.expires_at - before < timedelta(hours=1, seconds=5)
        assert new_token(app, user, "never", expires_in=None)[0].expires_at is None
        assert new_token(app, user, "never", expires_in=False)[0].expires_at is None
        assert len(new_token(app, user, "x" * 300)[0].name) == 100
        app.settings.api_token_lifetime = 0  # 0 = never
        forever, secret = new_token(app, user, "forever")
        assert forever.expires_at is None
        db.session.add(forever)
        db.session.commit()
    with TestClient(app) as client:
        assert client.get("/me", headers=bearer(secret)).json()["user"] == "alice"


def test_is_usable() -> None:
    now = datetime.now(UTC)
    assert UserToken(expires_at=None).is_usable
    assert UserToken(expires_at=now + timedelta(minutes=1)).is_usable
    assert not UserToken(expires_at=now - timedelta(minutes=1)).is_usable
    # SQLite hands back naive UTC datetimes
    assert UserToken(expires_at=(now + timedelta(minutes=1)).replace(tzinfo=None)).is_usable
    assert not UserToken(expires_at=None, revoked_at=now).is_usable
