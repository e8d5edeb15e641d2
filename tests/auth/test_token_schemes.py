"""API tokens: the ``Authorization`` schemes heron reads, tokens ending with a password
change, and ``expired_tokens`` (what ``heron cleartokens`` runs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from auth_helpers import AuthAppFactory, make_user
from sqlalchemy import select

from heron import App, Request
from heron.auth import login_required, new_token, revoke
from heron.auth.checks import check_tokens
from heron.auth.tokens import expired_tokens
from heron.auth.user import User
from heron.db import db
from heron.testing import TestClient

UserToken = User.token_model


def build(auth_site: AuthAppFactory, **settings: Any) -> App:
    app = auth_site(**settings)

    @app.get("/whoami")
    def whoami(request: Request) -> dict[str, Any]:
        return {"user": request.user.get_username()}

    @app.get("/private")
    @login_required
    async def private(request: Request) -> dict[str, Any]:
        return {"user": request.user.get_username()}

    make_user(app, "alice")
    make_user(app, "bob")
    return app


def issue(app: App, username: str = "alice", **options: Any) -> tuple[int, str]:
    with db.context(app):
        user = db.session.scalars(select(User).filter_by(username=username)).one()
        token, secret = new_token(app, user, "test", **options)
        db.session.add(token)
        db.session.commit()
        return int(token.id), secret


@pytest.fixture
def app(auth_site: AuthAppFactory) -> App:
    return build(auth_site)


# -- schemes --------------------------------------------------------------------------


def test_an_unknown_scheme_is_401_naming_the_accepted_one(app: App) -> None:
    _, secret = issue(app)
    for path in ("/whoami", "/private"):
        answer = TestClient(app).get(path, headers={"authorization": f"Token {secret}"})
        assert answer.status_code == 401, answer.text
        assert answer.headers["www-authenticate"] == "Bearer"
        assert "'Token' is not accepted" in answer.text
        assert secret not in answer.text


def test_the_scheme_is_case_insensitive(app: App) -> None:
    _, secret = issue(app)
    answer = TestClient(app).get("/whoami", headers={"authorization": f"bearer {secret}"})
    assert answer.json() == {"user": "alice"}


def test_configured_schemes_are_read_and_named_back(auth_site: AuthAppFactory) -> None:
    app = build(auth_site, auth_token_schemes=["Bearer", "Token"])
    _, secret = issue(app)
    client = TestClient(app)
    for scheme in ("Token", "Bearer"):
        answer = client.get("/whoami", headers={"authorization": f"{scheme} {secret}"})
        assert answer.json() == {"user": "alice"}
    # WWW-Authenticate names the scheme the client used, spelled as configured
    answer = client.get("/private", headers={"authorization": "token heron_nothing"})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Token error="invalid_token"'
    answer = client.get("/whoami", headers={"authorization": "JWT x"})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer, Token"


@pytest.mark.parametrize("header", ["Basic YWxpY2U6c2VjcmV0", "Negotiate abc", ""])
def test_ignored_schemes_stay_anonymous(app: App, header: str) -> None:
    # a proxy's password prompt forwards Basic credentials: not heron's to refuse
    client = TestClient(app)
    assert client.get("/whoami", headers={"authorization": header}).json() == {"user": ""}
    answer = client.get("/private", headers={"authorization": header,
                                             "accept": "application/json"})
    assert answer.status_code == 401


@pytest.mark.parametrize("schemes", [[], ["Bearer token"], [""], ["Bearer", "a,b"]])
def test_bad_schemes_are_e014(auth_app: AuthAppFactory, schemes: list[str]) -> None:
    (problem,) = check_tokens(auth_app(auth_token_schemes=schemes), serves_jwt=False)
    assert problem.id == "heron.auth.E014"
    assert repr(schemes) in problem.message


def test_the_default_token_settings_pass(auth_app: AuthAppFactory) -> None:
    assert [p for p in auth_app().check() if p.id.startswith("heron.auth.")] == []


# -- a new password ends the tokens ---------------------------------------------------


def set_password(app: App, username: str, password: str) -> None:
    with db.context(app):
        user = db.session.scalars(select(User).filter_by(username=username)).one()
        user.set_password(password, app.settings)
        db.session.commit()


def test_a_new_password_ends_the_users_tokens(app: App) -> None:
    _, alice = issue(app)
    _, bob = issue(app, "bob")
    client = TestClient(app)
    assert client.get("/whoami", headers={"authorization": f"Bearer {alice}"}).status_code == 200
    set_password(app, "alice", "a brand new passphrase")
    answer = client.get("/private", headers={"authorization": f"Bearer {alice}"})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert "password changed" in answer.text
    # only hers
    assert client.get("/private", headers={"authorization": f"Bearer {bob}"}).json() == \
        {"user": "bob"}
    # a token made after the change works
    _, fresh = issue(app)
    assert client.get("/private", headers={"authorization": f"Bearer {fresh}"}).status_code == 200


def test_tokens_survive_a_secret_key_rotation(auth_site: AuthAppFactory) -> None:
    app = build(auth_site, secret_key="the first secret key of this site")
    _, secret = issue(app)
    rotated = auth_site(secret_key="the second secret key of this site",
                        secret_key_fallbacks=["the first secret key of this site"])

    @rotated.get("/whoami")
    def whoami(request: Request) -> dict[str, Any]:
        return {"user": request.user.get_username()}

    answer = TestClient(rotated).get("/whoami", headers={"authorization": f"Bearer {secret}"})
    assert answer.json() == {"user": "alice"}


def test_a_token_made_before_fingerprints_keeps_working(app: App) -> None:
    token_id, secret = issue(app)
    with db.context(app):
        token = db.session.get(UserToken, token_id)
        token.auth_hash = None  # as the migration leaves older tokens
        db.session.commit()
    answer = TestClient(app).get("/whoami", headers={"authorization": f"Bearer {secret}"})
    assert answer.json() == {"user": "alice"}


# -- clearing ----------------------------------------------------------------------------


def test_expired_tokens_deletes_the_expired_and_revoked_only(app: App) -> None:
    keep, _ = issue(app)
    forever, _ = issue(app, expires_in=None)
    issue(app, expires_in=timedelta(seconds=-1))
    revoked, _ = issue(app)
    with db.context(app):
        revoke(db.session.get(UserToken, revoked))
        db.session.commit()
        result: Any = db.session.execute(expired_tokens(app))
        db.session.commit()
        assert result.rowcount == 2
        left = set(db.session.scalars(select(UserToken.id)))
    assert left == {keep, forever}
