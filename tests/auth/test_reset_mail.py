"""Password reset by mail: the request page (no account enumeration, throttled), the
mail (text and HTML, an absolute link), the link (single use, expiring, not a
login), through the memory outbox and through a real SMTP server (issue 5)."""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest
from auth_pages import (
    COOKIE,
    NEW_PASSWORD,
    PASSWORD,
    WRONG_LOGIN,
    add_user,
    build_app,
    log_in,
    token_of,
    whoami,
)
from itsdangerous import TimestampSigner
from sqlalchemy import select

from heron import App
from heron.auth import get_user_model
from heron.auth.reset import make_reset_token
from heron.auth.validators import PasswordValidator
from heron.db import db
from heron.mail import EmailMessage, mailer
from heron.testing import TestClient
from heron.testing.smtp import SMTPServer

pytestmark = pytest.mark.usefixtures("db_clean")

LINK = re.compile(r"http://testserver/auth/password/reset/[A-Za-z0-9_.-]+")
SENT = "If an account exists with the address you entered"


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('auth-reset') / 'db.sqlite3'}"


@pytest.fixture
def app(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> App:
    """The app; ``parametrize("app", [{setting: value}], indirect=True)`` changes settings."""
    return build_app(tmp_path, database_url, **getattr(request, "param", {}))


@pytest.fixture
def client(app: App) -> Iterator[httpx.Client]:
    with TestClient(app) as test_client:
        yield test_client


def outbox(app: App) -> list[EmailMessage]:
    return mailer(app).outbox


def ask_reset(client: httpx.Client, email: str) -> httpx.Response:
    token = token_of(client, "/auth/password/reset")
    return client.post("/auth/password/reset", data={"csrf_token": token, "email": email})


def set_password(client: httpx.Client, link: str, password: str,
                 again: str | None = None) -> httpx.Response:
    token = token_of(client, link)
    return client.post(link, data={"csrf_token": token, "password1": password,
                                   "password2": password if again is None else again})


def link_in(message: EmailMessage) -> str:
    found = LINK.findall(message.body)
    assert len(found) == 1, message.body
    return found[0]


# -- asking for a link -------------------------------------------------------------------


def test_reset_page_is_an_accessible_form(client: httpx.Client) -> None:
    html = client.get("/auth/password/reset").text
    assert '<label for="id_email">Email</label>' in html
    assert 'id="id_email" name="email" type="email" autocomplete="email" required' in html
    assert 'name="csrf_token"' in html


def test_reset_mail_has_an_absolute_single_link(app: App, client: httpx.Client) -> None:
    add_user(app, "ada", email="Ada@Example.com")

    answer = ask_reset(client, "ada@EXAMPLE.com")  # any case

    assert answer.status_code == 303
    assert answer.headers["location"] == "/auth/password/reset/done"
    assert SENT in client.get(answer.headers["location"]).text
    (message,) = outbox(app)
    assert message.to == ["Ada@Example.com"]  # the stored address
    assert message.subject == "Reset your password on testserver"
    assert message.body.startswith("Hello ada,\n")
    assert "within 60 minutes" in message.body
    link = link_in(message)
    assert message.html is not None
    assert f'<a href="{link}">Choose a new password</a>' in message.html
    mime = message.to_mime(app.settings.default_from_email)
    assert mime.get_content_type() == "multipart/alternative"


def test_unknown_address_gets_the_same_answer_and_no_mail(app: App,
                                                          client: httpx.Client) -> None:
    add_user(app, "ada")
    known = ask_reset(client, "ada@example.com")
    unknown = ask_reset(client, "nobody@example.com")

    assert (unknown.status_code, unknown.headers["location"]) == (
        known.status_code, known.headers["location"])
    assert [m.to for m in outbox(app)] == [["ada@example.com"]]


def test_no_mail_for_inactive_users_or_unusable_passwords(app: App,
                                                          client: httpx.Client) -> None:
    add_user(app, "ada", is_active=False, email="team@example.com")
    add_user(app, "bot", password=None, email="team@example.com")
    add_user(app, "grace", email="team@example.com")

    assert ask_reset(client, "team@example.com").status_code == 303

    (message,) = outbox(app)
    assert message.body.startswith("Hello grace,")


def test_every_account_with_the_address_gets_its_own_link(app: App,
                                                          client: httpx.Client) -> None:
    add_user(app, "ada", email="home@example.com")
    add_user(app, "grace", email="home@example.com")
    ask_reset(client, "home@example.com")
    first, second = outbox(app)
    assert {first.body.split(",")[0], second.body.split(",")[0]} == {"Hello ada", "Hello grace"}
    assert link_in(first) != link_in(second)


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b", "two words@example.com"])
def test_invalid_address_is_a_field_error(client: httpx.Client, email: str) -> None:
    answer = ask_reset(client, email)
    assert answer.status_code == 422
    assert 'aria-describedby="email-error"' in answer.text


def test_reset_requests_are_throttled_per_address(app: App, client: httpx.Client) -> None:
    """Three mails per address in the window: a mail flood stops; an unknown address is
    counted the same way, so the 429 tells nothing about accounts."""
    add_user(app, "ada")
    for _ in range(3):
        assert ask_reset(client, "ada@example.com").status_code == 303
        assert ask_reset(client, "nobody@example.com").status_code == 303

    for email in ("ADA@example.com", "nobody@example.com"):
        blocked = ask_reset(client, email)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        assert "Too many attempts." in blocked.text
    assert len(outbox(app)) == 3
    assert ask_reset(client, "grace@example.com").status_code == 303  # other addresses


@pytest.mark.parametrize("app", [{"mail_backend": "smtp", "mail_host": "127.0.0.1",
                                  "mail_timeout": 2.0}], indirect=True)
def test_a_mail_that_cannot_be_sent_is_logged_not_shown(
        app: App, client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        app.settings.mail_port = sock.getsockname()[1]
    add_user(app, "ada")

    with caplog.at_level(logging.ERROR, "heron.auth"):
        answer = ask_reset(client, "ada@example.com")

    assert answer.status_code == 303  # the same answer as for an unknown address
    assert "could not be sent" in caplog.text


# -- following the link ---------------------------------------------------------------------


def test_link_sets_the_password_once_and_does_not_log_in(app: App,
                                                         client: httpx.Client) -> None:
    add_user(app, "ada")
    with TestClient(app) as elsewhere:
        log_in(elsewhere, "ada")
        ask_reset(client, "ada@example.com")
        link = link_in(outbox(app)[0])

        form = client.get(link)
        assert form.status_code == 200
        assert form.headers["referrer-policy"] == "no-referrer"
        assert form.headers["cache-control"] == "no-store"
        assert form.text.count('autocomplete="new-password"') == 2
        assert '<form method="post" class="auth-form">' in form.text  # posts to the link

        answer = set_password(client, link, NEW_PASSWORD)

        assert answer.status_code == 303
        assert answer.headers["location"] == "/auth/login"
        login_page = client.get(answer.headers["location"])
        assert "Your password has been set. You may log in now." in login_page.text
        assert whoami(app, client.cookies.get(COOKIE)) is None  # not logged in
        # Other sessions ended with the old password.
        assert elsewhere.get("/private", headers={"accept": "text/html"}).status_code == 302

    # Used: the link is dead, for GET and POST.
    again = client.get(link)
    assert again.status_code == 400
    assert "This password reset link is not valid" in again.text
    assert 'href="/auth/password/reset"' in again.text
    reused = client.post(link, data={"csrf_token": token_of(client, "/auth/login"),
                                     "password1": "a third passphrase 99",
                                     "password2": "a third passphrase 99"})
    assert reused.status_code == 400

    assert log_in(client, "ada", PASSWORD).status_code == 400
    assert log_in(client, "ada", NEW_PASSWORD).status_code == 303


def test_new_password_is_validated(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    ask_reset(client, "ada@example.com")
    link = link_in(outbox(app)[0])

    weak = set_password(client, link, "password")
    assert weak.status_code == 422
    assert "This password is too common." in weak.text
    assert 'aria-describedby="password1-error password1-help"' in weak.text
    mismatch = set_password(client, link, NEW_PASSWORD, "another one entirely 5")
    assert mismatch.status_code == 422
    assert "The two passwords do not match." in mismatch.text

    assert set_password(client, link, NEW_PASSWORD).status_code == 303  # still good


def test_an_older_link_dies_with_the_password_change(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    ask_reset(client, "ada@example.com")
    ask_reset(client, "ada@example.com")
    older, newer = (link_in(m) for m in outbox(app))
    assert set_password(client, newer, NEW_PASSWORD).status_code == 303
    assert client.get(older).status_code == 400


def test_logging_in_ends_the_link(app: App, client: httpx.Client) -> None:
    """The user remembered the password: the link sent before is no longer needed."""
    add_user(app, "ada")
    ask_reset(client, "ada@example.com")
    link = link_in(outbox(app)[0])
    assert log_in(client, "ada").status_code == 303
    assert client.get(link).status_code == 400


def test_expired_link_is_refused(app: App, client: httpx.Client,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    user_id = add_user(app, "ada")
    with db.context(app):
        user = db.session.get(get_user_model(app), user_id)
        assert user is not None
        now = int(time.time())
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now - 3601)
        expired = make_reset_token(app, user)
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now - 3500)
        fresh = make_reset_token(app, user)
        monkeypatch.undo()

    assert client.get(f"/auth/password/reset/{expired}").status_code == 400
    assert set_password(client, f"/auth/password/reset/{fresh}", NEW_PASSWORD).status_code \
        == 303


@pytest.mark.parametrize("token", ["nonsense", "a" * 300, "WzEsImFiYyJd.Zz.xyz"])
def test_forged_links_are_refused(client: httpx.Client, token: str) -> None:
    answer = client.get(f"/auth/password/reset/{token}")
    assert answer.status_code == 400
    assert "This password reset link is not valid" in answer.text


def test_a_link_for_a_deleted_user_is_refused(app: App, client: httpx.Client) -> None:
    user_id = add_user(app, "ada")
    ask_reset(client, "ada@example.com")
    link = link_in(outbox(app)[0])
    with db.context(app):
        db.session.delete(db.session.get(get_user_model(app), user_id))
        db.session.commit()
    assert client.get(link).status_code == 400


# -- through a real SMTP server -------------------------------------------------------------


def test_reset_through_a_real_smtp_server(tmp_path: Path, database_url: str,
                                          smtp_server: SMTPServer) -> None:
    app = build_app(tmp_path, database_url, default_from_email="Shop <shop@example.com>",
                    **smtp_server.mail_settings())
    add_user(app, "ada")

    with TestClient(app) as client:
        assert ask_reset(client, "ada@example.com").status_code == 303

        (received,) = smtp_server.wait_for(1)
        assert received.recipients == ("ada@example.com",)
        assert received.sender == "shop@example.com"
        assert received.subject == "Reset your password on testserver"
        assert received.text is not None
        assert received.html is not None
        (link,) = LINK.findall(received.text)
        assert f'href="{link}"' in received.html

        assert set_password(client, link, NEW_PASSWORD).status_code == 303
        login = log_in(client, "ada", NEW_PASSWORD)
        assert login.status_code == 303
        assert client.get("/private").json() == {"username": "ada"}
        assert client.get(link).status_code == 400

    with TestClient(app) as other:
        old = log_in(other, "ada", PASSWORD)
        assert old.status_code == 400
        assert WRONG_LOGIN in old.text


# -- two uses of one link at the same moment ------------------------------------------------

RACE: dict[str, App] = {}


class UsedMeanwhile(PasswordValidator):
    """A password validator that, while the new password is being checked, sets the
    user's password on another connection: the same link used in a parallel request."""

    def validate(self, password: str, user_attributes: Mapping[str, str] | None = None) -> None:
        app = RACE.pop("app", None)
        if app is not None:
            with db.context(app):
                user = db.session.scalars(select(get_user_model(app))).one()
                user.set_password("the winner's passphrase 1", app.settings)
                db.session.commit()


@pytest.mark.parametrize("app", [{"password_validators": [f"{__name__}:UsedMeanwhile"]}],
                         indirect=True)
def test_a_link_used_twice_at_once_works_once(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    ask_reset(client, "ada@example.com")
    link = link_in(outbox(app)[0])
    RACE["app"] = app

    answer = set_password(client, link, NEW_PASSWORD)

    assert answer.status_code == 400
    assert "This password reset link is not valid" in answer.text
    with TestClient(app) as fresh:
        assert log_in(fresh, "ada", NEW_PASSWORD).status_code == 400
        assert log_in(fresh, "ada", "the winner's passphrase 1").status_code == 303


def test_a_link_stops_working_when_the_email_address_changes() -> None:
    from datetime import UTC, datetime

    from heron import App
    from heron.auth.reset import make_reset_token, read_reset_token, reset_token_matches
    from heron.auth.user import User

    app = App(debug=True, secret_key="s" * 40, openapi_url=None)
    user = User(id=5, username="ann", email="ann@example.com", password="$argon2id$x",
                is_active=True, last_login=datetime(2026, 1, 1, tzinfo=UTC))
    read = read_reset_token(app, make_reset_token(app, user))
    assert read is not None
    assert read[0] == 5
    assert reset_token_matches(user, read[1])
    user.email = "ANN@example.com"  # the same address, another case: still the same link
    assert reset_token_matches(user, read[1])
    user.email = "mallory@example.com"
    assert not reset_token_matches(user, read[1])
