"""JWT access and refresh tokens: token_router(jwt=True), rotation, revocation, key ids."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from auth_helpers import PASSWORD, AuthAppFactory, make_user
from sqlalchemy import select

from heron import App, Request
from heron.auth import login_required
from heron.auth.api import token_router
from heron.auth.checks import check_tokens
from heron.auth.user import User
from heron.db import db
from heron.testing import TestClient

K1 = "the first JWT key, long enough for HS256"
K2 = "the second JWT key, long enough for HS256"


def build(auth_site: AuthAppFactory, **settings: Any) -> App:
    settings.setdefault("jwt_keys", {"k1": K1})
    app = auth_site(**settings)
    app.include(token_router(jwt=True), prefix="/api")

    @app.get("/api/me")
    @login_required
    async def api_me(request: Request) -> dict[str, Any]:
        return {"user": request.user.get_username()}

    @app.get("/api/sme")
    @login_required
    def api_sme(request: Request) -> dict[str, Any]:
        return {"user": request.user.get_username()}

    return app


@pytest.fixture
def app(auth_site: AuthAppFactory) -> App:
    app = build(auth_site)
    make_user(app, "alice")
    return app


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(app)


def log_in(client: TestClient, username: str = "alice") -> dict[str, Any]:
    answer = client.post("/api/auth/jwt", json={"username": username, "password": PASSWORD,
                                                "token_name": "phone"})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def me(client: TestClient, access: str, path: str = "/api/me",
       scheme: str = "Bearer") -> httpx.Response:
    return client.get(path, headers={"authorization": f"{scheme} {access}",
                                     "accept": "application/json"})


def refresh(client: TestClient, token: str) -> httpx.Response:
    return client.post("/api/auth/jwt/refresh", json={"refresh_token": token})


def refused(answer: httpx.Response, why: str = "") -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert why in answer.json()["detail"]


def test_a_login_gives_a_pair_whose_access_token_works(client: TestClient) -> None:
    pair = log_in(client)
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in",
                         "refresh_expires_at"}
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 300
    until = datetime.fromisoformat(pair["refresh_expires_at"])
    assert abs(until - datetime.now(UTC) - timedelta(days=14)) < timedelta(minutes=1)
    header = pyjwt.get_unverified_header(pair["access_token"])
    assert header == {"alg": "HS256", "typ": "JWT", "kid": "k1"}
    claims = pyjwt.decode(pair["access_token"], K1, algorithms=["HS256"])
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 300
    for path in ("/api/me", "/api/sme"):
        answer = me(client, pair["access_token"], path)
        assert answer.json() == {"user": "alice"}
        assert answer.headers["cache-control"] == "private"


def test_wrong_credentials_are_400(client: TestClient) -> None:
    answer = client.post("/api/auth/jwt", json={"username": "alice", "password": "nope"})
    assert answer.status_code == 400
    assert client.post("/api/auth/jwt", json={"username": "alice"}).status_code == 422


def test_refresh_rotates_and_a_replayed_refresh_token_revokes_the_login(
        client: TestClient) -> None:
    first = log_in(client)
    answer = refresh(client, first["refresh_token"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    second = answer.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert me(client, second["access_token"]).json() == {"user": "alice"}
    # the old refresh token was used once already: someone holds a copy
    refused(refresh(client, first["refresh_token"]), "already used")
    refused(refresh(client, second["refresh_token"]))
    refused(me(client, second["access_token"]))


def test_revoke_ends_the_refresh_and_access_tokens(client: TestClient) -> None:
    pair = log_in(client)
    other = log_in(client)
    answer = client.post("/api/auth/jwt/revoke", json={"refresh_token": pair["refresh_token"]})
    assert answer.status_code == 204, answer.text
    refused(me(client, pair["access_token"]))
    refused(refresh(client, pair["refresh_token"]))
    # another login of the same user goes on
    assert me(client, other["access_token"]).json() == {"user": "alice"}
    # revoking again, or a token heron never signed
    assert client.post("/api/auth/jwt/revoke",
                       json={"refresh_token": pair["refresh_token"]}).status_code == 204
    refused(client.post("/api/auth/jwt/revoke", json={"refresh_token": "x.y.z"}))
    assert client.post("/api/auth/jwt/revoke", json={}).status_code == 422


def test_the_token_revoke_endpoint_ends_the_jwt_login(client: TestClient) -> None:
    pair = log_in(client)
    answer = client.post("/api/auth/token/revoke",
                         headers={"authorization": f"Bearer {pair['access_token']}"})
    assert answer.status_code == 204, answer.text
    refused(refresh(client, pair["refresh_token"]))


def test_an_expired_access_token_is_401(auth_site: AuthAppFactory) -> None:
    app = build(auth_site, jwt_access_lifetime=-5)
    make_user(app, "alice")
    client = TestClient(app)
    pair = log_in(client)
    refused(me(client, pair["access_token"]), "expired")
    # the refresh token still buys a pair
    assert refresh(client, pair["refresh_token"]).status_code == 200


def forge(claims: dict[str, Any], key: str = K1, **headers: Any) -> str:
    return pyjwt.encode(claims, key, algorithm="HS256", headers={"kid": "k1", **headers})


def test_tokens_of_the_wrong_kind_or_forged_are_401(client: TestClient) -> None:
    pair = log_in(client)
    refused(me(client, pair["refresh_token"]), "not a access token")
    refused(refresh(client, pair["access_token"]), "not a refresh token")
    claims = pyjwt.decode(pair["access_token"], K1, algorithms=["HS256"])
    refused(me(client, forge(claims, key="another key that is also long enough")))
    refused(me(client, forge(claims, kid="k9")), "unknown key")
    refused(me(client, forge({**claims, "sub": "2"})))  # someone else's login
    unsigned = pyjwt.encode(claims, None, algorithm="none", headers={"kid": "k1"})
    refused(me(client, unsigned))
    no_exp = {k: v for k, v in claims.items() if k != "exp"}
    refused(me(client, forge(no_exp)))
    refused(me(client, "a.b.c"))
    refused(refresh(client, "not a token at all"))


def test_a_new_password_ends_the_jwt_login(app: App, client: TestClient) -> None:
    pair = log_in(client)
    with db.context(app):
        user = db.session.scalars(select(User).filter_by(username="alice")).one()
        user.set_password("a brand new passphrase", app.settings)
        db.session.commit()
    refused(me(client, pair["access_token"]))
    refused(refresh(client, pair["refresh_token"]))


def test_www_authenticate_names_the_clients_scheme(auth_site: AuthAppFactory) -> None:
    app = build(auth_site, auth_token_schemes=["Bearer", "JWT"])
    make_user(app, "alice")
    client = TestClient(app)
    pair = log_in(client)
    assert me(client, pair["access_token"], scheme="JWT").json() == {"user": "alice"}
    answer = me(client, pair["refresh_token"], scheme="jwt")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'JWT error="invalid_token"'


def test_key_rotation_by_kid(auth_site: AuthAppFactory) -> None:
    app = build(auth_site)
    make_user(app, "alice")
    old = log_in(TestClient(app))
    # k2 signs from now on; k1's tokens work until they expire
    rotated = build(auth_site, jwt_keys={"k1": K1, "k2": K2}, jwt_key_id="k2")
    client = TestClient(rotated)
    assert me(client, old["access_token"]).json() == {"user": "alice"}
    new = refresh(client, old["refresh_token"]).json()
    assert pyjwt.get_unverified_header(new["access_token"])["kid"] == "k2"
    # k1 retired
    retired = build(auth_site, jwt_keys={"k2": K2})
    client = TestClient(retired)
    refused(me(client, old["access_token"]), "unknown key")
    assert me(client, new["access_token"]).json() == {"user": "alice"}


def test_an_api_token_is_not_confused_with_a_jwt(client: TestClient) -> None:
    answer = client.post("/api/auth/token", json={"username": "alice", "password": PASSWORD})
    token = answer.json()["token"]
    assert me(client, token).json() == {"user": "alice"}


# -- configuration ---------------------------------------------------------------------


def test_jwt_endpoints_without_keys_are_e011(auth_app: AuthAppFactory) -> None:
    app = auth_app()
    app.include(token_router(jwt=True), prefix="/api")
    assert "heron.auth.E011" in [p.id for p in app.check()]
    without = auth_app()
    without.include(token_router(), prefix="/api")
    assert "heron.auth.E011" not in [p.id for p in without.check()]


def test_short_keys_and_unknown_key_ids_are_e012_and_e013(auth_app: AuthAppFactory) -> None:
    app = auth_app(jwt_keys={"a": "tiny-secret", "b": K1}, jwt_key_id="c")
    problems = check_tokens(app, serves_jwt=False)
    assert [p.id for p in problems] == ["heron.auth.E012", "heron.auth.E013"]
    assert "'a'" in problems[0].message
    assert "'b'" not in problems[0].message
    assert "tiny-secret" not in problems[0].message + problems[1].message
    assert check_tokens(auth_app(jwt_keys={"a": K1, "b": K2}, jwt_key_id="a"),
                        serves_jwt=True) == []


def test_without_pyjwt_the_error_names_the_extra(tmp_path: Any) -> None:
    script = textwrap.dedent("""
        import json, sys
        sys.modules["jwt"] = None  # as if PyJWT were not installed
        from heron import App
        from heron.auth.checks import check_tokens
        app = App(components=["heron.auth"], jwt_keys={"k1": "x" * 40})
        ids = [p.id for p in check_tokens(app, serves_jwt=True)]
        try:
            import heron.auth.jwt
        except ImportError as exc:
            print(json.dumps([ids, type(exc).__name__, str(exc)]))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, timeout=60, cwd=tmp_path)
    ids, kind, message = json.loads(result.stdout.strip().splitlines()[-1])
    assert ids == ["heron.auth.E010"]
    assert kind == "MissingDependency"
    assert 'pip install "heron[jwt]"' in message
