"""Two-factor login with TOTP and recovery codes (issue 22): enrolment, the second
login step, wrong and reused codes, clock drift, recovery codes, the throttle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from auth_pages import COOKIE, PASSWORD, add_user, build_app, log_in, token_of, whoami
from two_factor_helpers import T0, codes_of, enrol, freeze, password_step, second_step

from heron import App
from heron.testing import TestClient

pytestmark = pytest.mark.usefixtures("db_clean")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('two-factor') / 'db.sqlite3'}"


@pytest.fixture
def app(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> App:
    return build_app(tmp_path, database_url, **getattr(request, "param", {}))


@pytest.fixture
def client(app: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    freeze(monkeypatch)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def enrolled(app: App, client: httpx.Client) -> tuple[str, list[str]]:
    """ada, with TOTP set up (at T0) and logged out again: her secret and codes."""
    add_user(app, "ada")
    log_in(client, "ada")
    found = enrol(client)
    client.post("/auth/logout", data={"csrf_token": token_of(client, "/auth/security")})
    return found


# -- enrolment ---------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_key_then_wants_a_right_code(
        app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    log_in(client, "ada")
    page = client.get("/auth/security/totp")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert '<svg viewBox="0 0' in page.text
    assert 'class="qr"' in page.text
    assert "<script>" not in page.text  # nothing the default CSP would block
    assert 'style="' not in page.text
    from two_factor_helpers import secret_of

    secret = secret_of(page.text)
    assert client.get("/auth/security/totp").text.count(secret[:4]) >= 1  # the same key
    token = token_of(client, "/auth/security/totp")

    wrong = client.post("/auth/security/totp", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 400
    assert "This code is not right" in wrong.text
    empty = client.post("/auth/security/totp", data={"csrf_token": token, "code": " "})
    assert empty.status_code == 422

    right = client.post("/auth/security/totp",
                        data={"csrf_token": token, "code": pyotp.TOTP(secret).at(T0)})
    assert right.status_code == 200
    assert right.headers["cache-control"] == "no-store"
    codes = codes_of(right.text)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert "shown only now" in right.text
    # The page of the security settings now says it is on; the codes are not shown again.
    security = client.get("/auth/security")
    assert "10 unused recovery codes" in security.text
    assert codes[0] not in security.text
    assert client.get("/auth/security/totp").status_code == 303  # already on


def test_the_secret_is_stored_encrypted(app: App, client: httpx.Client) -> None:
    from sqlalchemy import text

    from heron.db import db

    add_user(app, "ada")
    log_in(client, "ada")
    secret, codes = enrol(client)
    with db.context(app):
        stored = db.session.execute(text("SELECT secret FROM auth_user_totp")).scalar_one()
        hashes = db.session.execute(text("SELECT code_hash FROM auth_user_recovery_code"))
        kept = {row[0] for row in hashes}
    assert secret not in stored
    assert stored.startswith("gAAAA")
    assert not any(code in h or code.replace("-", "") in h for code in codes for h in kept)


def test_a_stale_login_asks_for_the_password_before_enrolment(
        app: App, client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    add_user(app, "ada")
    log_in(client, "ada")
    # A session that proved itself long ago (as after a "remember me" login).
    import heron.auth._two_factor_views as views

    monkeypatch.setattr(views, "RECENT_SECONDS", -1)
    page = client.get("/auth/security/totp")
    assert 'name="password"' in page.text
    from two_factor_helpers import secret_of

    code = pyotp.TOTP(secret_of(page.text)).at(T0)
    token = token_of(client, "/auth/security/totp")
    refused = client.post("/auth/security/totp",
                          data={"csrf_token": token, "code": code, "password": "wrong"})
    assert refused.status_code == 422
    assert "Your password was entered incorrectly." in refused.text
    done = client.post("/auth/security/totp",
                       data={"csrf_token": token, "code": code, "password": PASSWORD})
    assert done.status_code == 200


# -- logging in with a code --------------------------------------------------------


def test_login_with_a_code_rotates_the_session_and_keeps_next(
        app: App, client: httpx.Client, enrolled: tuple[str, list[str]]) -> None:
    secret, _ = enrolled
    step = password_step(client, "ada", next="/private")
    assert step.headers["location"] == "/auth/two-factor?next=%2Fprivate"
    pending_cookie = client.cookies.get(COOKIE)
    assert whoami(app, pending_cookie) is None  # not logged in yet
    page = client.get("/auth/two-factor?next=%2Fprivate")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.text
    assert 'name="next" value="/private"' in page.text

    done = second_step(client, pyotp.TOTP(secret).at(T0 + 30), next="/private")

    assert done.status_code == 303
    assert done.headers["location"] == "/private"
    assert client.cookies.get(COOKIE) != pending_cookie  # a new session key
    assert client.get("/private").json() == {"username": "ada"}
    assert whoami(app, pending_cookie) is None  # the old key is worth nothing


def test_wrong_empty_and_odd_codes_are_refused(
        client: httpx.Client, enrolled: tuple[str, list[str]]) -> None:
    password_step(client, "ada")
    for code, status in [("123456", 400), ("", 422), ("  ", 422), ("12\x0034", 400),
                         ("x" * 5000, 400), ("<script>", 400), ("١٢٣٤٥٦", 400)]:
        answer = second_step(client, code)
        assert answer.status_code == status, (code, answer.text)
    assert "This code is not valid" in second_step(client, "654321").text
    assert client.get("/private", headers={"accept": "text/html"}).status_code == 302


def test_a_code_is_accepted_once(app: App, enrolled: tuple[str, list[str]],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    secret, _ = enrolled
    code = pyotp.TOTP(secret).at(T0 + 30)
    with TestClient(app) as first:
        password_step(first, "ada")
        assert second_step(first, code).status_code == 303
    with TestClient(app) as second:  # someone who saw the code over her shoulder
        password_step(second, "ada")
        assert second_step(second, code).status_code == 400
        # An older code (of the enrolment's step) is refused too: steps only go forward.
        assert second_step(second, pyotp.TOTP(secret).at(T0)).status_code == 400


@pytest.mark.parametrize(("offset", "accepted"), [(-30, True), (0, True), (30, True),
                                                   (-60, False), (60, False)])
def test_clock_drift_of_one_step_is_accepted(
        app: App, enrolled: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch,
        offset: int, accepted: bool) -> None:
    secret, _ = enrolled
    later = T0 + 300  # after the enrolment's step
    freeze(monkeypatch, later)
    with TestClient(app) as client:
        password_step(client, "ada")
        answer = second_step(client, pyotp.TOTP(secret).at(later + offset))
        assert answer.status_code == (303 if accepted else 400)


@pytest.mark.parametrize("app", [{"auth_totp_drift": 0}], indirect=True)
def test_the_drift_window_is_a_setting(app: App, enrolled: tuple[str, list[str]],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    secret, _ = enrolled
    freeze(monkeypatch, T0 + 300)
    with TestClient(app) as client:
        password_step(client, "ada")
        assert second_step(client, pyotp.TOTP(secret).at(T0 + 270)).status_code == 400
        assert second_step(client, pyotp.TOTP(secret).at(T0 + 300)).status_code == 303


def test_the_pending_step_expires(app: App, client: httpx.Client,
                                  enrolled: tuple[str, list[str]],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import heron.auth.two_factor as two_factor

    secret, _ = enrolled
    password_step(client, "ada", next="/private")
    monkeypatch.setattr(two_factor, "_now", lambda: time.time() + 301)
    answer = second_step(client, pyotp.TOTP(secret).at(T0 + 30), next="/private")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/auth/login?next=%2Fprivate"
    page = client.get(answer.headers["location"])
    assert "Your login expired before the second step" in page.text
    # Without any pending login, the page sends to the login form too.
    with TestClient(app) as fresh:
        assert fresh.get("/auth/two-factor").headers["location"] == "/auth/login"


def test_a_password_change_voids_the_pending_step(
        app: App, client: httpx.Client, enrolled: tuple[str, list[str]]) -> None:
    from heron.auth import get_user_model
    from heron.db import db

    secret, _ = enrolled
    password_step(client, "ada")
    with db.context(app):
        user = db.session.query(get_user_model(app)).one()
        user.set_password("a brand new passphrase 9", app.settings)
        db.session.commit()
    answer = second_step(client, pyotp.TOTP(secret).at(T0 + 30))
    assert answer.headers["location"] == "/auth/login"


# -- recovery codes ------------------------------------------------------------------


def test_each_recovery_code_works_once(app: App, enrolled: tuple[str, list[str]]) -> None:
    _, codes = enrolled
    with TestClient(app) as client:
        password_step(client, "ada")
        done = second_step(client, codes[0].upper().replace("-", " "))  # as people type it
        assert done.status_code == 303
        assert "9 left" in client.get("/auth/security").text
    with TestClient(app) as again:
        password_step(again, "ada")
        assert second_step(again, codes[0]).status_code == 400
        assert second_step(again, codes[1]).status_code == 303


def test_new_recovery_codes_replace_the_old(app: App, enrolled: tuple[str, list[str]]) -> None:
    secret, old = enrolled
    with TestClient(app) as client:
        password_step(client, "ada")
        second_step(client, pyotp.TOTP(secret).at(T0 + 30))
        token = token_of(client, "/auth/security")
        page = client.post("/auth/security/recovery-codes", data={"csrf_token": token})
        assert page.status_code == 200
        new = codes_of(page.text)
        assert len(new) == 10
        assert not set(new) & set(old)
        assert "Your old codes no longer work." in page.text
    with TestClient(app) as other:
        password_step(other, "ada")
        assert second_step(other, old[2]).status_code == 400
        assert second_step(other, new[2]).status_code == 303


# -- the throttle ------------------------------------------------------------------


@pytest.mark.parametrize("app", [{"login_throttle_limit": 3}], indirect=True)
def test_too_many_wrong_codes_answer_429(app: App, client: httpx.Client,
                                         enrolled: tuple[str, list[str]]) -> None:
    secret, _ = enrolled
    password_step(client, "ada")
    for _ in range(3):
        assert second_step(client, "000000").status_code == 400
    blocked = second_step(client, pyotp.TOTP(secret).at(T0 + 30))  # even the right code
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= app.settings.login_throttle_window
    assert "Too many attempts" in blocked.text


# -- removing it -----------------------------------------------------------------------


def test_removing_totp_needs_the_password_and_ends_the_second_step(
        app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    log_in(client, "ada")
    enrol(client)
    token = token_of(client, "/auth/security")
    refused = client.post("/auth/security/totp/disable", data={"csrf_token": token})
    assert refused.status_code == 400
    assert "Enter your password." in refused.text
    done = client.post("/auth/security/totp/disable",
                       data={"csrf_token": token, "password": PASSWORD})
    assert done.status_code == 303
    page = client.get("/auth/security")
    assert "Set up an authenticator app" in page.text
    client.post("/auth/logout", data={"csrf_token": token_of(client, "/auth/security")})
    assert log_in(client, "ada").headers["location"] == "/"  # no second step any more


def test_every_form_is_csrf_protected(client: httpx.Client,
                                      enrolled: tuple[str, list[str]]) -> None:
    secret, _ = enrolled
    password_step(client, "ada")
    answer = client.post("/auth/two-factor", data={"code": pyotp.TOTP(secret).at(T0 + 30)})
    assert answer.status_code == 403
