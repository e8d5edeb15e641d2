"""Passkeys (WebAuthn) in heron.auth (issue 22): registration, rename, removal, the
second login step, the passwordless login, and every bad answer refused with a 400.

The authenticator is :class:`soft_authenticator.SoftAuthenticator`: real keys,
real CBOR and signatures, over heron's real endpoints and database.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_pages import COOKIE, PASSWORD, add_user, build_app, log_in, token_of, whoami
from soft_authenticator import SoftAuthenticator, b64, unb64

from heron import App, signals
from heron.testing import TestClient

pytestmark = pytest.mark.usefixtures("db_clean")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> str:
    """SQLite, or PostgreSQL with ``parametrize("database_url", ["postgresql"], indirect=True)``."""
    if getattr(request, "param", None) == "postgresql":
        server = request.getfixturevalue("postgres_server")
        return str(server.create_database(f"heron_passkeys_{uuid.uuid4().hex[:12]}"))
    return f"sqlite:///{tmp_path_factory.mktemp('passkeys') / 'db.sqlite3'}"


@pytest.fixture
def app(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> App:
    return build_app(tmp_path, database_url, **getattr(request, "param", {}))


@pytest.fixture
def client(app: App) -> Iterator[httpx.Client]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def changes() -> Iterator[list[dict[str, Any]]]:
    """Every ``two_factor_changed`` signal sent during the test."""
    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append({"user": kwargs["user"].get_username(), "factor": kwargs["factor"],
                     "action": kwargs["action"], "detail": kwargs["detail"]})

    signals.two_factor_changed.connect(receiver)
    try:
        yield seen
    finally:
        signals.two_factor_changed.disconnect(receiver)


def post(client: httpx.Client, url: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    """POST JSON with the session's CSRF token in its header, as auth/passkeys.js does."""
    headers = {"x-csrf-token": token_of(client, "/auth/login"), "accept": "application/json"}
    if body is None:
        return client.post(url, headers=headers, **kwargs)
    return client.post(url, json=body, headers=headers, **kwargs)


def add_passkey(client: httpx.Client, authenticator: SoftAuthenticator,
                name: str) -> httpx.Response:
    options = post(client, "/auth/passkeys/register/options", {})
    assert options.status_code == 200, options.text
    credential = authenticator.create(options.json())
    return post(client, "/auth/passkeys/register", {"credential": credential, "name": name})


def enrolled(app: App, client: httpx.Client, username: str = "ada",
             names: tuple[str, ...] = ("Laptop",)) -> SoftAuthenticator:
    """``username`` with one authenticator holding a passkey per name, logged out again."""
    add_user(app, username)
    assert log_in(client, username).status_code == 303
    authenticator = SoftAuthenticator()
    for name in names:
        fresh = SoftAuthenticator()
        assert add_passkey(client, fresh, name).status_code == 201
        authenticator.credentials.update(fresh.credentials)
    log_out(client)
    return authenticator


def log_out(client: httpx.Client) -> None:
    client.post("/auth/logout", data={"csrf_token": token_of(client, "/auth/login")})


def passwordless(client: httpx.Client, authenticator: SoftAuthenticator,
                 **body: Any) -> httpx.Response:
    options = post(client, "/auth/passkeys/login/options", {})
    assert options.status_code == 200, options.text
    return post(client, "/auth/passkeys/login",
                {"credential": authenticator.get(options.json()), **body})


def log_in_with_passkey(client: httpx.Client, username: str,
                        authenticator: SoftAuthenticator) -> None:
    """The password, then a passkey as the second step."""
    assert log_in(client, username).status_code == 303
    options = post(client, "/auth/passkeys/second/options", {}).json()
    done = post(client, "/auth/passkeys/second", {"credential": authenticator.get(options)})
    assert done.status_code == 200, done.text


def passkeys_in_database(app: App) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from heron.auth import get_user_model
    from heron.db import db

    model = get_user_model(app).passkey_model
    with db.context(app):
        return [(row.user.username, row.name)
                for row in db.session.scalars(select(model).order_by(model.id))]


# -- registration, rename, removal ------------------------------------------------------


def test_a_user_registers_two_passkeys_and_sees_them_on_the_security_page(
        app: App, client: httpx.Client, changes: list[dict[str, Any]]) -> None:
    add_user(app, "ada")
    log_in(client, "ada")
    options = post(client, "/auth/passkeys/register/options", {})
    assert options.status_code == 200
    assert options.headers["cache-control"] == "no-store"
    data = options.json()
    assert data["rp"] == {"id": "testserver", "name": "testserver"}
    assert data["user"]["name"] == "ada"
    assert data["authenticatorSelection"]["residentKey"] == "required"
    assert data["excludeCredentials"] == []
    user_id = data["user"]["id"]
    assert "ada" not in unb64(user_id).decode("latin-1")  # an opaque handle

    laptop = SoftAuthenticator()
    added = post(client, "/auth/passkeys/register",
                 {"credential": laptop.create(data), "name": "  Work   laptop "})
    assert added.status_code == 201, added.text
    assert added.json()["name"] == "Work laptop"
    assert added.json()["redirect"] == "/auth/security"

    # The second: the first is excluded, and the handle is the same user's.
    again = post(client, "/auth/passkeys/register/options", {}).json()
    assert [unb64(c["id"]) for c in again["excludeCredentials"]] == list(laptop.credentials)
    assert again["user"]["id"] == user_id
    with pytest.raises(ValueError, match="InvalidStateError"):
        laptop.create(again)
    phone = SoftAuthenticator(backed_up=True)
    assert post(client, "/auth/passkeys/register",
                {"credential": phone.create(again), "name": "Phone"}).status_code == 201

    assert passkeys_in_database(app) == [("ada", "Work laptop"), ("ada", "Phone")]
    page = client.get("/auth/security")
    assert page.status_code == 200
    html = page.text
    assert "The passkey “Phone” was added." in html
    assert html.index("Work laptop") < html.index("<strong>Phone</strong>")
    assert "not used yet · synced" in html
    assert 'data-passkey-register hidden' in html
    assert '<script src="/static/auth/passkeys.js' in html
    assert "<script>" not in html
    assert changes == [
        {"user": "ada", "factor": "passkey", "action": "added", "detail": "Work laptop"},
        {"user": "ada", "factor": "passkey", "action": "added", "detail": "Phone"},
    ]


def test_registration_refuses_bad_answers(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    log_in(client, "ada")
    key = SoftAuthenticator()

    # No options asked: nothing is under way.
    options = {"rp": {"id": "testserver"}, "user": {"id": b64(b"x")}, "challenge": b64(b"c")}
    refused = post(client, "/auth/passkeys/register",
                   {"credential": key.create(options), "name": "Key"})
    assert refused.status_code == 400
    assert refused.json() == {"error": "No passkey request is under way here (or it was "
                                       "already answered): start again."}

    # Another challenge than the one asked.
    real = post(client, "/auth/passkeys/register/options", {}).json()
    forged = post(client, "/auth/passkeys/register",
                  {"credential": key.create({**real, "challenge": b64(b"another")}),
                   "name": "Key"})
    assert forged.status_code == 400
    assert "the challenge does not match" in forged.json()["error"]

    # Another origin (a phishing site relaying the ceremony).
    real = post(client, "/auth/passkeys/register/options", {}).json()
    phished = SoftAuthenticator(origin="https://evil.example").create(real)
    answer = post(client, "/auth/passkeys/register", {"credential": phished, "name": "Key"})
    assert answer.status_code == 400
    assert "origin" in answer.json()["error"]
    assert "auth_passkey_origins" in answer.json()["error"]

    # A bad name, with the challenge kept for a better try.
    real = post(client, "/auth/passkeys/register/options", {}).json()
    for name, message in [("", "Give the passkey a name"), ("x" * 101, "at most 100"),
                          (7, "must be text"), ("a\x1bb", "control characters")]:
        answer = post(client, "/auth/passkeys/register",
                      {"credential": key.create(real), "name": name})
        assert answer.status_code == 400
        assert message in answer.json()["error"]
        key.credentials.clear()

    # Malformed bodies.
    post(client, "/auth/passkeys/register/options", {})
    assert post(client, "/auth/passkeys/register", {"name": "Key"}).json() == {
        "error": 'The passkey\'s answer is missing: send it as "credential".'}
    for body, status in [("not json", 400), ("[1, 2]", 400)]:
        answer = client.post("/auth/passkeys/register", content=body,
                             headers={"content-type": "application/json",
                                      "x-csrf-token": token_of(client, "/auth/login")})
        assert answer.status_code == status, answer.text
        assert answer.json()["error"]
    real = post(client, "/auth/passkeys/register/options", {}).json()
    broken = key.create(real)
    broken["response"]["attestationObject"] = "!!!"
    answer = post(client, "/auth/passkeys/register", {"credential": broken, "name": "Key"})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("The new passkey could not be verified")
    assert passkeys_in_database(app) == []


def test_registration_needs_a_login_and_the_csrf_token(app: App, client: httpx.Client) -> None:
    answer = post(client, "/auth/passkeys/register/options", {})
    assert answer.status_code in (401, 302)
    add_user(app, "ada")
    log_in(client, "ada")
    answer = client.post("/auth/passkeys/register/options", json={})
    assert answer.status_code == 403


def test_rename_and_remove(app: App, client: httpx.Client,
                           changes: list[dict[str, Any]]) -> None:
    authenticator = enrolled(app, client, "ada", ("Laptop", "Phone"))
    enrolled(app, client, "bob", ("Bob's key",))
    changes.clear()
    log_in_with_passkey(client, "ada", authenticator)
    ids = re.findall(r'action="/auth/passkeys/(\d+)/rename"', client.get("/auth/security").text)
    laptop, phone = map(int, ids)
    token = token_of(client, "/auth/security")

    renamed = client.post(f"/auth/passkeys/{laptop}/rename",
                          data={"csrf_token": token, "name": "Old laptop"})
    assert renamed.status_code == 303
    assert renamed.headers["location"] == "/auth/security"
    assert "The passkey is now called “Old laptop”." in client.get("/auth/security").text
    assert client.post(f"/auth/passkeys/{laptop}/rename",
                       data={"csrf_token": token, "name": " "}).status_code == 400

    # Bob's passkey is not Ada's to rename or remove.
    bob_key = max(laptop, phone) + 1
    assert client.post(f"/auth/passkeys/{bob_key}/rename",
                       data={"csrf_token": token, "name": "Mine"}).status_code == 404

    # Removal asks for the password, every time.
    no_password = client.post(f"/auth/passkeys/{phone}/remove", data={"csrf_token": token})
    assert no_password.status_code == 400
    assert "Enter your password." in no_password.text
    wrong = client.post(f"/auth/passkeys/{phone}/remove",
                        data={"csrf_token": token, "password": "not it"})
    assert wrong.status_code == 400
    assert client.post(f"/auth/passkeys/{bob_key}/remove",
                       data={"csrf_token": token, "password": PASSWORD}).status_code == 404
    removed = client.post(f"/auth/passkeys/{phone}/remove",
                          data={"csrf_token": token, "password": PASSWORD})
    assert removed.status_code == 303
    assert "The passkey “Phone” was removed." in client.get("/auth/security").text

    assert passkeys_in_database(app) == [("ada", "Old laptop"), ("bob", "Bob's key")]
    assert changes == [
        {"user": "ada", "factor": "passkey", "action": "renamed", "detail": "Old laptop"},
        {"user": "ada", "factor": "passkey", "action": "removed", "detail": "Phone"},
    ]


# -- logging in ------------------------------------------------------------------------------


def test_a_passkey_is_the_second_step_after_the_password(app: App, client: httpx.Client) -> None:
    authenticator = enrolled(app, client, "ada", ("Laptop", "Phone"))
    answer = log_in(client, "ada", next="/private")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/auth/two-factor")
    page = client.get(answer.headers["location"])
    assert "Use a passkey" in page.text
    assert 'data-next="/private"' in page.text
    assert whoami(app, client.cookies.get(COOKIE)) is None  # not yet

    options = post(client, "/auth/passkeys/second/options", {}).json()
    assert options["userVerification"] == "preferred"
    assert {unb64(c["id"]) for c in options["allowCredentials"]} == set(authenticator.credentials)
    before = client.cookies.get(COOKIE)
    authenticator.user_verified = False  # presence is enough after a password
    done = post(client, "/auth/passkeys/second",
                {"credential": authenticator.get(options), "next": "/private"})
    assert done.status_code == 200, done.text
    assert done.json() == {"redirect": "/private"}
    assert client.cookies.get(COOKIE) != before  # a new session key
    assert whoami(app, client.cookies.get(COOKIE)) == "ada"
    assert "last used" in client.get("/auth/security").text


def test_the_second_step_refuses_another_users_passkey(app: App, client: httpx.Client) -> None:
    enrolled(app, client, "ada")
    bobs = enrolled(app, client, "bob")
    log_in(client, "ada")
    options = post(client, "/auth/passkeys/second/options", {}).json()
    # Bob's authenticator answers Ada's login with his own passkey.
    credential = bobs.get(options, next(iter(bobs.credentials)))
    answer = post(client, "/auth/passkeys/second", {"credential": credential})
    assert answer.status_code == 400
    assert answer.json() == {"error": "This passkey belongs to another account."}
    assert whoami(app, client.cookies.get(COOKIE)) is None


def test_the_second_step_needs_a_pending_login(client: httpx.Client) -> None:
    answer = post(client, "/auth/passkeys/second/options", {})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("No login is waiting for a second step")


def test_a_passkey_logs_in_without_a_password(app: App, client: httpx.Client) -> None:
    authenticator = enrolled(app, client)
    page = client.get("/auth/login?next=/private")
    assert "Log in with a passkey" in page.text
    assert 'data-passkey-login hidden' in page.text

    options = post(client, "/auth/passkeys/login/options", {}).json()
    assert options["userVerification"] == "required"
    assert options.get("allowCredentials", []) == []  # any passkey of the site
    answer = post(client, "/auth/passkeys/login",
                  {"credential": authenticator.get(options), "next": "/private"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"redirect": "/private"}
    assert whoami(app, client.cookies.get(COOKIE)) == "ada"

    # An unsafe next goes to login_redirect_url instead.
    log_out(client)
    answer = passwordless(client, authenticator, next="https://evil.example/")
    assert answer.json() == {"redirect": "/"}


def test_a_passwordless_login_needs_user_verification(app: App, client: httpx.Client) -> None:
    authenticator = enrolled(app, client)
    authenticator.user_verified = False
    answer = passwordless(client, authenticator)
    assert answer.status_code == 400
    assert "User verification is required" in answer.json()["error"]
    assert whoami(app, client.cookies.get(COOKIE)) is None


def test_an_answer_serves_once_and_only_for_its_challenge(app: App,
                                                          client: httpx.Client) -> None:
    authenticator = enrolled(app, client)
    options = post(client, "/auth/passkeys/login/options", {}).json()
    credential = authenticator.get(options)
    assert post(client, "/auth/passkeys/login", {"credential": credential}).status_code == 200
    log_out(client)

    replayed = post(client, "/auth/passkeys/login", {"credential": credential})
    assert replayed.status_code == 400
    assert replayed.json()["error"].startswith("No passkey request is under way")

    post(client, "/auth/passkeys/login/options", {})  # a new challenge: the old answer fails
    replayed = post(client, "/auth/passkeys/login", {"credential": credential})
    assert replayed.status_code == 400
    assert "the challenge does not match" in replayed.json()["error"]
    assert whoami(app, client.cookies.get(COOKIE)) is None


def test_a_cloned_authenticator_is_refused(app: App, client: httpx.Client) -> None:
    authenticator = enrolled(app, client)
    clone = authenticator.clone()
    assert passwordless(client, authenticator).status_code == 200  # count 1
    assert passwordless(client, authenticator).status_code == 200  # count 2
    log_out(client)
    copied = passwordless(client, clone)  # count 1 again: behind the stored 2
    assert copied.status_code == 400
    assert "signature counter went backwards" in copied.json()["error"]
    assert whoami(app, client.cookies.get(COOKIE)) is None


def test_unknown_tampered_and_malformed_answers(app: App, client: httpx.Client) -> None:
    authenticator = enrolled(app, client)

    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "testserver"}, "user": {"id": b64(b"nobody")},
                     "challenge": b64(b"c")})
    answer = passwordless(client, stranger)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("This passkey is not registered on this site")

    options = post(client, "/auth/passkeys/login/options", {}).json()
    credential = authenticator.get(options)
    client_data = json.loads(unb64(credential["response"]["clientDataJSON"]))
    client_data["origin"] = "http://testserver.evil.example"
    credential["response"]["clientDataJSON"] = b64(json.dumps(client_data).encode())
    answer = post(client, "/auth/passkeys/login", {"credential": credential})
    assert answer.status_code == 400
    assert "origin" in answer.json()["error"]

    options = post(client, "/auth/passkeys/login/options", {}).json()
    credential = authenticator.get(options)
    credential["response"]["authenticatorData"] = b64(
        unb64(credential["response"]["authenticatorData"])[:-1] + b"\x7f")  # another count
    answer = post(client, "/auth/passkeys/login", {"credential": credential})
    assert answer.status_code == 400
    assert "Could not verify authentication signature" in answer.json()["error"]

    for body in [{}, {"credential": "text"}, {"credential": {"id": 1}},
                 {"credential": {**credential, "rawId": "%%%", "id": "%%%"}},
                 {"credential": {**credential, "response": {**credential["response"],
                                                            "userHandle": "%%%"}}}]:
        post(client, "/auth/passkeys/login/options", {})
        answer = post(client, "/auth/passkeys/login", body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["error"]
    for content in ["{", "[]", "null"]:
        answer = client.post("/auth/passkeys/login", content=content,
                             headers={"content-type": "application/json",
                                      "x-csrf-token": token_of(client, "/auth/login")})
        assert answer.status_code == 400, answer.text
    answer = client.post("/auth/passkeys/login", content="x=1",
                         headers={"content-type": "text/plain",
                                  "x-csrf-token": token_of(client, "/auth/login")})
    assert answer.status_code == 415
    assert whoami(app, client.cookies.get(COOKIE)) is None


@pytest.mark.parametrize("app", [{"login_throttle_ip_limit": 3}], indirect=True)
def test_failed_passkey_logins_are_throttled(app: App, client: httpx.Client) -> None:
    authenticator = enrolled(app, client)
    authenticator.user_verified = False
    for _ in range(3):
        assert passwordless(client, authenticator).status_code == 400
    answer = passwordless(client, authenticator)
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) > 0
    assert answer.json()["error"] == "Too many failed attempts; try again later."


@pytest.mark.parametrize("app", [{"auth_passkeys": False}], indirect=True)
def test_passkeys_can_be_turned_off(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    assert "passkey" not in client.get("/auth/login").text.lower()
    assert post(client, "/auth/passkeys/login/options", {}).status_code == 404
    log_in(client, "ada")
    assert post(client, "/auth/passkeys/register/options", {}).status_code == 404
    assert "Passkeys" not in client.get("/auth/security").text


@pytest.mark.parametrize("app", [{"auth_passkey_rp_id": "example.com",
                                  "auth_passkey_rp_name": "Example shop",
                                  "auth_passkey_origins": ["https://www.example.com"]}],
                         indirect=True)
def test_the_relying_party_settings(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    log_in(client, "ada")
    options = post(client, "/auth/passkeys/register/options", {}).json()
    assert options["rp"] == {"id": "example.com", "name": "Example shop"}
    key = SoftAuthenticator(origin="https://www.example.com")
    answer = post(client, "/auth/passkeys/register", {"credential": key.create(options),
                                                      "name": "Key"})
    assert answer.status_code == 201, answer.text
    log_out(client)
    assert passwordless(client, key).status_code == 200
    assert whoami(app, client.cookies.get(COOKIE)) == "ada"


def test_api_tokens_are_unaffected(app: App, client: httpx.Client) -> None:
    enrolled(app, client)
    from heron.auth import get_user_model, new_token
    from heron.db import db

    with db.context(app):
        from sqlalchemy import select

        model = get_user_model(app)
        user = db.session.scalar(select(model).where(model.username == "ada"))
        token, secret = new_token(app, user, "cli")
        db.session.add(token)
        db.session.commit()
    fresh = TestClient(app)
    try:
        answer = fresh.get("/private", headers={"authorization": f"Bearer {secret}"})
    finally:
        fresh.close()
    assert answer.status_code == 200
    assert answer.json() == {"username": "ada"}


def test_a_passkey_id_out_of_range_is_a_404(app: App, client: httpx.Client) -> None:
    authenticator = enrolled(app, client)
    log_in_with_passkey(client, "ada", authenticator)
    token = token_of(client, "/auth/security")
    for path in ["/auth/passkeys/99999999999999999999999/rename", "/auth/passkeys/0/rename"]:
        answer = client.post(path, data={"csrf_token": token, "name": "Mine"})
        assert answer.status_code == 404, answer.text


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_passkeys_on_postgresql(app: App, client: httpx.Client) -> None:
    """The bytes columns, the unique credential id and the timestamps on a real server."""
    authenticator = enrolled(app, client, "ada", ("Laptop", "Phone"))
    log_in_with_passkey(client, "ada", authenticator)
    assert "last used" in client.get("/auth/security").text
    # The same passkey again: refused by the unique credential id, not a 500.
    options = post(client, "/auth/passkeys/register/options", {}).json()
    options["excludeCredentials"] = []
    taken = next(iter(authenticator.credentials))
    answer = SoftAuthenticator().create(options, credential_id=taken)
    refused = post(client, "/auth/passkeys/register", {"credential": answer, "name": "Again"})
    assert refused.status_code == 400
    assert refused.json() == {"error": "This passkey is already registered."}
    log_out(client)
    clone = authenticator.clone()
    assert passwordless(client, authenticator).status_code == 200
    log_out(client)
    assert passwordless(client, clone).status_code == 400
    assert passkeys_in_database(app) == [("ada", "Laptop"), ("ada", "Phone")]


def test_adding_a_passkey_asks_for_the_password_when_the_login_is_old(
        app: App, client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import heron.auth._two_factor_views as views

    add_user(app, "ada")
    log_in(client, "ada")
    later = time.time() + 3600  # the login's proof is older than RECENT_SECONDS then

    class Later:
        @staticmethod
        def time() -> float:
            return later

    monkeypatch.setattr(views, "time", Later)
    url = "/auth/passkeys/register/options"
    assert post(client, url, {}).json() == {"error": "Enter your password."}
    assert post(client, url, {"password": "not it"}).json() == {
        "error": "Your password was entered incorrectly."}
    blank = post(client, url, {"password": PASSWORD, "name": " "})
    assert blank.status_code == 400
    assert blank.json()["error"].startswith("Give the passkey a name")
    assert post(client, url, {"password": PASSWORD, "name": "Key"}).status_code == 200
    assert post(client, url, {}).status_code == 200  # proved again: not asked for a while


@pytest.mark.parametrize(("settings", "expected"), [
    ({"auth_passkey_rp_id": "https://example.com"}, ["heron.auth.E040"]),
    ({"auth_passkey_rp_id": "127.0.0.1"}, ["heron.auth.E040"]),
    ({"auth_passkey_rp_id": "Example.com"}, ["heron.auth.E040"]),
    ({"auth_passkey_origins": ["example.com"]}, ["heron.auth.E041"]),
    ({"auth_passkey_origins": ["http://example.com"]}, ["heron.auth.E041"]),
    ({"auth_passkey_origins": ["https://example.com/login"]}, ["heron.auth.E041"]),
    ({"auth_passkey_origins": ["https://example.com:x"]}, ["heron.auth.E041"]),
    ({"auth_passkey_rp_id": "example.com",
      "auth_passkey_origins": ["https://shop.example.org"]}, ["heron.auth.E041"]),
    ({"auth_passkey_rp_id": "example.com",
      "auth_passkey_origins": ["https://example.com", "https://www.example.com:8443"]}, []),
    ({"auth_passkey_origins": ["http://localhost:8000"]}, []),
    ({"auth_passkeys": False, "auth_passkey_rp_id": "127.0.0.1"}, []),
])
def test_passkey_settings_are_checked_at_startup(tmp_path: Path, settings: dict[str, Any],
                                                 expected: list[str]) -> None:
    from heron.auth.passkeys import check_settings

    app = build_app(tmp_path, "sqlite://", **settings)
    assert [problem.id for problem in check_settings(app)] == expected


def test_a_bad_rp_id_stops_the_app(tmp_path: Path) -> None:
    app = build_app(tmp_path, "sqlite://", auth_passkey_rp_id="10.0.0.1")
    with pytest.raises(RuntimeError, match=r"heron\.auth\.E040"), TestClient(app):
        pass


def test_passkey_changes_are_in_the_admins_history(tmp_path: Path) -> None:
    # heron.admin's audit records two_factor_changed: an entry per added, renamed and
    # removed passkey, committed with the change (not left in the request's session).
    from sqlalchemy import select

    from heron.admin.audit import LogEntry
    from heron.db import db
    from heron.testing.database import prepare_schema

    app = App(root=tmp_path, components=["heron.auth", "heron.admin"],
              secret_key="test-secret-key", allowed_hosts=["testserver"], access_log=False,
              database_url=f"sqlite:///{tmp_path / 'audit.sqlite3'}", password_time_cost=1,
              password_memory_cost=8,
              password_parallelism=1)
    prepare_schema(app)
    user_id = add_user(app, "grace")
    with TestClient(app) as client:
        assert log_in(client, "grace").status_code == 303
        assert add_passkey(client, SoftAuthenticator(), "Phone").status_code == 201
        (passkey_id,) = [int(n) for n in re.findall(r"/auth/passkeys/(\d+)/rename",
                                                    client.get("/auth/security").text)]
        token = token_of(client, "/auth/security")
        assert client.post(f"/auth/passkeys/{passkey_id}/rename",
                           data={"csrf_token": token, "name": "Old phone"}).status_code == 303
        assert client.post(f"/auth/passkeys/{passkey_id}/remove",
                           data={"csrf_token": token, "password": PASSWORD}).status_code == 303
    with db.context(app):
        messages = db.session.scalars(select(LogEntry.message).where(
            LogEntry.object_id == str(user_id)).order_by(LogEntry.id)).all()
    assert len(messages) == 3, messages
    assert all("Passkey" in message for message in messages), messages
