"""The sign-up page: off by default (404); on, it creates a user with a unique
(case-insensitive) username, a checked password and email, and logs them in (issue 5)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest
from auth_pages import (
    COOKIE,
    PASSWORD,
    add_user,
    build_app,
    count_users,
    log_in,
    token_of,
    whoami,
)

from heron import App
from heron.auth import create_user
from heron.auth.validators import PasswordValidator
from heron.db import db
from heron.testing import TestClient

pytestmark = pytest.mark.usefixtures("db_clean")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('auth-signup') / 'db.sqlite3'}"


@pytest.fixture
def app(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> App:
    """Sign-up on; ``parametrize("app", [{setting: value}], indirect=True)`` changes settings."""
    settings = {"auth_signup": True, **getattr(request, "param", {})}
    return build_app(tmp_path, database_url, **settings)


@pytest.fixture
def client(app: App) -> Iterator[httpx.Client]:
    with TestClient(app) as test_client:
        yield test_client


def sign_up(client: httpx.Client, username: str = "ada", email: str = "ada@example.com",
            password: str = PASSWORD, again: str | None = None, url: str = "/auth/signup",
            **fields: str) -> httpx.Response:
    token = token_of(client, url)
    return client.post(url, data={"csrf_token": token, "username": username, "email": email,
                                  "password1": password,
                                  "password2": password if again is None else again,
                                  **fields})


@pytest.mark.parametrize("app", [{"auth_signup": False}], indirect=True)
def test_signup_is_off_by_default(app: App, client: httpx.Client) -> None:
    assert client.get("/auth/signup").status_code == 404
    token = token_of(client, "/auth/login")
    answer = client.post("/auth/signup", data={"csrf_token": token, "username": "ada",
                                               "password1": PASSWORD, "password2": PASSWORD})
    assert answer.status_code == 404
    assert count_users(app) == 0
    assert "/auth/signup" not in client.get("/auth/login").text


def test_signup_form(client: httpx.Client) -> None:
    page = client.get("/auth/signup")
    assert page.headers["cache-control"] == "no-store"  # issue 20
    html = page.text
    assert "<title>Create an account</title>" in html
    assert 'id="id_username" name="username" type="text" autocomplete="username"' in html
    assert 'id="id_email" name="email" type="email" autocomplete="email" required' in html
    assert html.count('autocomplete="new-password"') == 2
    assert 'aria-describedby="password1-help"' in html
    # The login page links to it.
    assert 'href="/auth/signup"' in client.get("/auth/login").text


def test_signup_creates_the_user_and_logs_in(app: App, client: httpx.Client) -> None:
    answer = sign_up(client, " Ada ", "ada@example.com")

    assert answer.status_code == 303
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["location"] == "/"
    assert client.get("/private").json() == {"username": "Ada"}  # trimmed
    assert whoami(app, client.cookies.get(COOKIE)) == "Ada"
    assert count_users(app) == 1
    with TestClient(app) as fresh:
        assert log_in(fresh, "ada", PASSWORD).status_code == 303


def test_signup_follows_a_safe_next_only(app: App, client: httpx.Client) -> None:
    form = client.get("/auth/signup?next=/private")
    assert '<input type="hidden" name="next" value="/private">' in form.text
    assert 'href="/auth/login?next=%2Fprivate"' in form.text
    assert sign_up(client, "ada", next="/private").headers["location"] == "/private"

    with TestClient(app) as other:
        assert sign_up(other, "grace", "grace@example.com",
                       next="//evil.com").headers["location"] == "/"


def test_duplicate_username_in_another_case_is_a_field_error(app: App,
                                                             client: httpx.Client) -> None:
    add_user(app, "ada")

    answer = sign_up(client, "ADA", "other@example.com")

    assert answer.status_code == 422
    assert '<div class="error" id="username-error">' in answer.text
    assert "A user with that username already exists." in answer.text
    assert 'value="ADA"' in answer.text
    assert 'value="other@example.com"' in answer.text
    assert PASSWORD not in answer.text
    assert count_users(app) == 1
    assert whoami(app, client.cookies.get(COOKIE)) is None


def test_duplicate_username_with_another_case_of_a_non_ascii_letter(app: App,
                                                                   client: httpx.Client) -> None:
    add_user(app, "Émile")

    answer = sign_up(client, "émile", "emile@example.com")

    assert answer.status_code == 422
    assert "A user with that username already exists." in answer.text
    assert count_users(app) == 1


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"username": ""}, "username", "Enter a username."),
    ({"username": "ada lovelace"}, "username", "Enter a username of letters, digits"),
    ({"username": "a" * 151}, "username", "at most 150 characters"),
    ({"email": ""}, "email", "Enter an email address."),
    ({"email": "ada"}, "email", "Enter a valid email address."),
    ({"password": "short"}, "password1", "This password is too short."),
    ({"password": "ada@example.com"}, "password1", "too similar to your"),
    ({"password": "98765432109876"}, "password1", "This password is entirely numeric."),
    ({"again": "not the same one"}, "password2", "The two passwords do not match."),
])
def test_invalid_signups_show_field_errors(app: App, client: httpx.Client,
                                           fields: Mapping[str, str], field: str,
                                           message: str) -> None:
    answer = sign_up(client, **fields)

    assert answer.status_code == 422
    assert 'role="alert">Your account was not created' in answer.text
    assert f'id="{field}-error"' in answer.text
    assert message in answer.text
    assert count_users(app) == 0


# -- the race between the uniqueness check and the insert -----------------------------

RACE: dict[str, App] = {}


class SameNameMeanwhile(PasswordValidator):
    """A password validator that, while the sign-up is being checked (after its
    uniqueness query), commits a user of the same name on another connection:
    a second sign-up that won the race."""

    def validate(self, password: str, user_attributes: Mapping[str, str] | None = None) -> None:
        app = RACE.pop("app", None)
        if app is not None and user_attributes:
            with db.context(app):
                create_user(db.session, app, user_attributes["username"].upper(), PASSWORD)
                db.session.commit()


@pytest.mark.parametrize("app", [{"password_validators": [f"{__name__}:SameNameMeanwhile"]}],
                         indirect=True)
def test_a_lost_race_for_the_name_is_a_field_error(app: App, client: httpx.Client) -> None:
    RACE["app"] = app

    answer = sign_up(client, "ada")

    assert answer.status_code == 422
    assert "A user with that username already exists." in answer.text
    assert count_users(app) == 1  # only the winner
    assert whoami(app, client.cookies.get(COOKIE)) is None
    assert sign_up(client, "grace", "grace@example.com").status_code == 303  # and on it goes
