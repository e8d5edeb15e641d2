"""heron.auth.api: sign-up and token login for API clients, through heron's test client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from auth_helpers import PASSWORD, AuthAppFactory, make_user
from sqlalchemy import select

from heron import App, Request
from heron.auth import login_required
from heron.auth.api import token_router
from heron.auth.user import User
from heron.db import db
from heron.testing import TestClient

WRONG = "Please enter a correct username and password."


def build(auth_site: AuthAppFactory, **settings: Any) -> App:
    app = auth_site(**settings)
    app.include(token_router(), prefix="/api")

    @app.get("/api/me")
    @login_required
    async def api_me(request: Request) -> dict[str, Any]:
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


def bearer(answer: httpx.Response) -> dict[str, str]:
    return {"authorization": f"Bearer {answer.json()['token']}"}


def problems(answer: httpx.Response) -> list[tuple[str, str, str]]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return [(e["location"], e["field"], e["message"]) for e in answer.json()["errors"]]


# -- registering ----------------------------------------------------------------------


def test_register_answers_201_with_a_token_that_works(app: App, client: TestClient) -> None:
    answer = client.post("/api/auth/register", json={
        "username": "bob", "password": PASSWORD, "email": "bob@example.com",
        "token_name": "bob's phone"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert set(body) == {"token", "token_type", "expires_at"}
    assert body["token"].startswith("heron_")
    assert body["token_type"] == "bearer"
    expires = datetime.fromisoformat(body["expires_at"])
    assert abs(expires - datetime.now(UTC) - timedelta(days=90)) < timedelta(minutes=1)
    assert answer.headers["cache-control"] == "no-store"
    assert "set-cookie" not in answer.headers
    assert client.get("/api/me", headers=bearer(answer)).json() == {"user": "bob"}
    with db.context(app):
        bob = db.session.scalars(select(User).filter_by(username="bob")).one()
        assert bob.email == "bob@example.com"
        assert bob.check_password(PASSWORD)
        (token,) = db.session.scalars(select(User.token_model).filter_by(user_id=bob.id))
        assert token.name == "bob's phone"
        assert token.key_hash != body["token"]


def test_register_a_taken_login_is_409_whatever_its_case(client: TestClient) -> None:
    answer = client.post("/api/auth/register", json={
        "username": "ALICE", "password": PASSWORD, "email": "a2@example.com"})
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == "A user with that username already exists."


def test_register_a_weak_password_is_a_validation_422(client: TestClient) -> None:
    answer = client.post("/api/auth/register", json={
        "username": "bob", "password": "bob12", "email": "bob@example.com"})
    found = problems(answer)
    assert {(location, field) for location, field, _ in found} == {("body", "password")}
    assert "This password is too short. It must contain at least 10 characters." in [
        message for _, _, message in found]
    assert answer.json()["errors"][0]["type"] == "value_error"
    # The same format as pydantic's own errors on this body.
    missing = client.post("/api/auth/register", json={"username": "bob",
                                                      "email": "bob@example.com"})
    assert problems(missing) == [("body", "password", "Field required")]


def test_register_checks_the_login_and_the_email(client: TestClient) -> None:
    answer = client.post("/api/auth/register", json={
        "username": "bob smith", "password": PASSWORD, "email": "not-an-address"})
    assert problems(answer) == [
        ("body", "username", "Enter a username of letters, digits and @ . + - _ only."),
        ("body", "email", "Enter a valid email address.")]
    # heron's user model requires an email address (REQUIRED_FIELDS).
    no_email = client.post("/api/auth/register", json={"username": "bob", "password": PASSWORD})
    assert problems(no_email) == [("body", "email", "Enter an email address.")]


def test_register_throttles_taken_logins_per_address(auth_site: AuthAppFactory) -> None:
    app = build(auth_site, login_throttle_ip_limit=2)
    make_user(app, "alice")
    client = TestClient(app)
    taken = {"username": "alice", "password": PASSWORD, "email": "a@example.com"}
    assert [client.post("/api/auth/register", json=taken).status_code
            for _ in range(2)] == [409, 409]
    blocked = client.post("/api/auth/register", json={
        "username": "carol", "password": PASSWORD, "email": "carol@example.com"})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0


def test_register_can_be_left_out(auth_site: AuthAppFactory) -> None:
    app = auth_site()
    app.include(token_router("/tokens", register=False))
    client = TestClient(app)
    assert client.post("/tokens/register", json={}).status_code == 404
    assert client.post("/tokens/token", json={}).status_code == 422


# -- logging in -----------------------------------------------------------------------


def test_login_gives_a_token_for_a_login_required_route(app: App, client: TestClient) -> None:
    answer = client.post("/api/auth/token", json={"username": "Alice", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "bearer"
    assert answer.headers["cache-control"] == "no-store"
    assert client.get("/api/me", headers=bearer(answer)).json() == {"user": "alice"}
    assert client.get("/api/me", headers={"accept": "application/json"}).status_code == 401
    with db.context(app):
        alice = db.session.scalars(select(User).filter_by(username="alice")).one()
        assert alice.last_login is not None
        (token,) = db.session.scalars(select(User.token_model).filter_by(user_id=alice.id))
        assert token.name == "API"


def test_wrong_credentials_are_400_without_saying_which(client: TestClient) -> None:
    wrong_password = client.post("/api/auth/token", json={"username": "alice", "password": "x"})
    unknown_user = client.post("/api/auth/token", json={"username": "zed", "password": PASSWORD})
    for answer in (wrong_password, unknown_user):
        assert answer.status_code == 400
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["detail"] == WRONG
        assert "token" not in answer.json()


def test_login_is_throttled_like_the_login_page(auth_site: AuthAppFactory) -> None:
    app = build(auth_site, login_throttle_limit=2)
    make_user(app, "alice")
    client = TestClient(app)
    wrong = {"username": "alice", "password": "wrong password"}
    assert [client.post("/api/auth/token", json=wrong).status_code
            for _ in range(2)] == [400, 400]
    blocked = client.post("/api/auth/token", json={"username": "alice", "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert blocked.json()["status"] == 429


def test_a_browser_with_a_session_needs_the_csrf_token(client: TestClient) -> None:
    # JSON without cookies passes the CSRF check; with the session cookie it needs the token.
    csrf = client.get("/csrf").text
    credentials = {"username": "alice", "password": PASSWORD}
    assert client.post("/api/auth/token", json=credentials).status_code == 403
    answer = client.post("/api/auth/token", json=credentials, headers={"x-csrf-token": csrf})
    assert answer.status_code == 200


# -- revoking ---------------------------------------------------------------------------


def test_revoke_ends_the_token_of_the_request(client: TestClient) -> None:
    first = bearer(client.post("/api/auth/token", json={"username": "alice",
                                                          "password": PASSWORD}))
    second = bearer(client.post("/api/auth/token", json={"username": "alice",
                                                           "password": PASSWORD}))
    revoked = client.post("/api/auth/token/revoke", headers=first)
    assert revoked.status_code == 204
    assert client.get("/api/me", headers=first).status_code == 401
    assert client.post("/api/auth/token/revoke", headers=first).status_code == 401
    assert client.get("/api/me", headers=second).json() == {"user": "alice"}


def test_revoke_needs_a_token(client: TestClient) -> None:
    refused = client.post("/api/auth/token/revoke", headers={"accept": "application/json"})
    assert refused.status_code == 401
    # Logged in by session (a browser): no token to revoke.
    csrf = client.get("/csrf").text
    client.post("/login", json={"username": "alice", "password": PASSWORD},
                headers={"x-csrf-token": csrf})
    csrf = client.get("/csrf").text  # a login starts a new session
    no_token = client.post("/api/auth/token/revoke", headers={
        "x-csrf-token": csrf, "accept": "application/json"})
    assert no_token.status_code == 400


# -- the OpenAPI document -----------------------------------------------------------------


def test_the_endpoints_are_typed_in_openapi(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    register = paths["/api/auth/register"]["post"]
    assert sorted(register["responses"]) == ["201", "400", "409", "415", "422", "429"]
    assert register["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TokenOut"}
    assert register["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RegisterIn"}
    assert register["tags"] == ["auth"]
    assert register["operationId"] == "auth_api_register"
    login = paths["/api/auth/token"]["post"]
    assert sorted(login["responses"]) == ["200", "400", "415", "422", "429"]
    assert "security" not in login
    revoke = paths["/api/auth/token/revoke"]["post"]
    assert "security" in revoke
    assert "204" in revoke["responses"]
    schemas = doc["components"]["schemas"]
    assert schemas["TokenOut"]["required"] == ["token", "expires_at"]
