"""heron.auth's pages: logging in and out, changing the password, the guards' answers,
throttling, CSRF on every form, and templates a project overrides (issue 5).

Wrong logins answer 400 (one message for a wrong name or a wrong password), forms
with invalid input 422, too many attempts 429 with Retry-After.
"""

from __future__ import annotations

from collections.abc import Iterator
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

from heron import App
from heron.testing import TestClient

pytestmark = pytest.mark.usefixtures("db_clean")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('auth-views') / 'db.sqlite3'}"


@pytest.fixture
def app(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> App:
    """The app; ``parametrize("app", [{setting: value}], indirect=True)`` changes settings."""
    return build_app(tmp_path, database_url, **getattr(request, "param", {}))


@pytest.fixture
def client(app: App) -> Iterator[httpx.Client]:
    with TestClient(app) as test_client:
        yield test_client


# -- the login page ----------------------------------------------------------------------


def test_login_page_is_an_accessible_form(client: httpx.Client) -> None:
    page = client.get("/auth/login")

    assert page.status_code == 200
    html = page.text
    assert "<title>Log in</title>" in html
    assert '<form method="post" action="/auth/login"' in html
    assert 'name="csrf_token"' in html
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert 'id="id_username" name="username" type="text" autocomplete="username"' in html
    assert ('id="id_password" name="password" type="password" '
            'autocomplete="current-password"') in html
    assert 'href="/static/auth/auth.css"' in html
    assert 'href="/auth/password/reset"' in html
    assert "/auth/signup" not in html  # sign-up is off by default
    # One script, a file of the component (the passkey button's): nothing inline.
    assert html.count("<script") == 1
    assert '<script src="/static/auth/passkeys.js' in html
    assert client.get("/static/auth/auth.css").status_code == 200


@pytest.mark.parametrize("path", ["/auth/login", "/auth/password/reset",
                                  "/auth/password/reset/done", "/auth/password/reset/bad-token",
                                  "/auth/password/change", "/auth/password/change/done"])
def test_auth_pages_are_never_stored(app: App, client: httpx.Client, path: str) -> None:
    """Issue 20: the pages carry CSRF tokens and the user's name (Django's login views
    are never_cache)."""
    add_user(app, "ada")
    assert client.get("/auth/login").headers["cache-control"] == "no-store"  # anonymous
    log_in(client, "ada")
    page = client.get(path)
    assert page.status_code in (200, 400), page.text
    assert page.headers.get_list("cache-control") == ["no-store"]


def test_logging_in_and_out_is_never_stored_and_logged_in_pages_are_private(
        app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    assert log_in(client, "ada").headers["cache-control"] == "no-store"  # the 303
    assert log_in(client, "ada", "wrong").headers["cache-control"] == "no-store"  # the 400
    page = client.get("/private")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private"  # it read the session
    assert "Cookie" in page.headers["vary"]
    token = token_of(client, "/auth/login")
    out = client.post("/auth/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert out.headers["cache-control"] == "no-store"
    assert client.get("/").headers.get("cache-control") is None  # a page that reads nothing


def test_login_logs_in_and_redirects_to_the_default(app: App, client: httpx.Client) -> None:
    add_user(app, "Ada")
    before = client.cookies.get(COOKIE)

    answer = log_in(client, "ada", PASSWORD)  # any case

    assert answer.status_code == 303
    assert answer.headers["location"] == "/"  # login_redirect_url
    assert client.cookies.get(COOKIE) != before
    assert client.get("/private").json() == {"username": "Ada"}
    # A logged-in user may still see the form (to log in as someone else); the
    # page says who is logged in and offers to log out.
    page = client.get("/auth/login")
    assert page.status_code == 200
    assert "Logged in as <strong>Ada</strong>" in page.text
    assert 'action="/auth/logout"' in page.text


@pytest.mark.parametrize("app", [{"login_redirect_url": "auth:password_change"}],
                         indirect=True)
def test_login_redirect_url_may_be_a_route_name(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    answer = log_in(client, "ada")
    assert answer.headers["location"] == "/auth/password/change"


@pytest.mark.parametrize("username", ["ada", "nobody"], ids=["wrong-password", "unknown-user"])
def test_wrong_login_is_one_generic_message(app: App, client: httpx.Client,
                                            username: str) -> None:
    add_user(app, "ada")

    answer = log_in(client, username, "not the password")

    assert answer.status_code == 400
    html = answer.text
    assert html.count(WRONG_LOGIN) == 1
    assert 'id="form-error" role="alert"' in html
    assert f'value="{username}"' in html  # the username is kept...
    assert "not the password" not in html  # ...the password never
    # The message is tied to both fields.
    assert html.count('aria-invalid="true" aria-describedby="form-error"') == 2
    assert whoami(app, client.cookies.get(COOKIE)) is None


def test_inactive_user_cannot_log_in(app: App, client: httpx.Client) -> None:
    add_user(app, "ada", is_active=False)
    answer = log_in(client, "ada")
    assert answer.status_code == 400
    assert WRONG_LOGIN in answer.text


def test_empty_fields_are_field_errors(client: httpx.Client) -> None:
    token = token_of(client, "/auth/login")
    answer = client.post("/auth/login", data={"csrf_token": token, "username": " ",
                                              "password": ""})
    assert answer.status_code == 422
    html = answer.text
    assert '<div class="error" id="username-error">' in html
    assert "Enter your username." in html
    assert 'aria-describedby="password-error"' in html
    assert "Enter your password." in html


def test_safe_next_is_followed(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    form = client.get("/auth/login", params={"next": "/private?tab=2"})
    assert '<input type="hidden" name="next" value="/private?tab=2">' in form.text

    answer = log_in(client, "ada", next="/private?tab=2")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/private?tab=2"


def test_next_from_the_query_string_alone(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    token = token_of(client, "/auth/login?next=/private")
    answer = client.post("/auth/login?next=/private",
                         data={"csrf_token": token, "username": "ada", "password": PASSWORD})
    assert answer.headers["location"] == "/private"


@pytest.mark.parametrize("evil", [
    "//evil.com", "https://evil.com", "/\\evil.com", "javascript:alert(1)",
    "http://testserver.evil.com/", "\t//evil.com", "///evil.com", "evil.com",
])
def test_open_redirects_in_next_go_to_the_default(app: App, client: httpx.Client,
                                                  evil: str) -> None:
    add_user(app, "ada")
    form = client.get("/auth/login", params={"next": evil})
    assert 'name="next"' not in form.text  # not even carried in the form

    answer = log_in(client, "ada", next=evil)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


# -- session fixation, logout ---------------------------------------------------------


@pytest.mark.parametrize("app", [{}, {"session_backend": "cache"},
                                 {"session_backend": "database"}],
                         indirect=True, ids=["cookie", "cache", "database"])
def test_login_gives_a_new_session_and_the_old_one_stays_anonymous(
        app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    token_of(client, "/auth/login")  # the form's CSRF token opens a session
    planted = client.cookies.get(COOKIE)
    assert planted is not None

    assert log_in(client, "ada").status_code == 303

    current = client.cookies.get(COOKIE)
    assert current is not None
    assert current != planted
    assert whoami(app, current) == "ada"
    assert whoami(app, planted) is None  # the pre-login session is not logged in


def test_logout_is_post_only(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    log_in(client, "ada")

    assert client.get("/auth/logout").status_code == 405
    assert client.get("/private").status_code == 200  # still logged in


@pytest.mark.parametrize("app", [{"session_backend": "cache"},
                                 {"session_backend": "database"}],
                         indirect=True, ids=["cache", "database"])
def test_logout_ends_a_server_side_session(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    log_in(client, "ada")
    cookie = client.cookies.get(COOKIE)
    token = token_of(client, "/auth/password/change")

    answer = client.post("/auth/logout", data={"csrf_token": token})

    assert answer.status_code == 303
    assert answer.headers["location"] == "/"  # logout_redirect_url
    assert client.get("/private").status_code == 302
    assert whoami(app, cookie) is None  # the old key is dead in the store


@pytest.mark.parametrize("app", [{"logout_redirect_url": "auth:login"}], indirect=True)
def test_cookie_sessions_end_for_the_browser_only(app: App, client: httpx.Client) -> None:
    """A cookie session is the cookie: logging out makes the browser drop it, but a
    copy taken before stays valid until it expires, because the server keeps no
    list of sessions.  Only a password change ends every copy (the session holds
    a fingerprint of the password hash).  Use session_backend "cache" or
    "database" when logouts must end stolen copies too."""
    add_user(app, "ada")
    log_in(client, "ada")
    copy = client.cookies.get(COOKIE)

    answer = client.post("/auth/logout", data={"csrf_token": token_of(client, "/auth/login")})

    assert answer.headers["location"] == "/auth/login"
    assert client.cookies.get(COOKIE) != copy
    assert client.get("/private").status_code == 302
    assert whoami(app, copy) == "ada"  # the replayed copy: the documented limit

    log_in(client, "ada")
    change_password(client, PASSWORD, NEW_PASSWORD)
    assert whoami(app, copy) is None


def test_logout_without_a_session_just_redirects(client: httpx.Client) -> None:
    token = token_of(client, "/auth/login")
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 303


# -- changing the password ------------------------------------------------------------


def change_password(client: httpx.Client, old: str, new: str,
                    again: str | None = None) -> httpx.Response:
    token = token_of(client, "/auth/password/change")
    return client.post("/auth/password/change", data={
        "csrf_token": token, "old_password": old, "password1": new,
        "password2": new if again is None else again})


def test_password_change_needs_a_login(client: httpx.Client) -> None:
    answer = client.get("/auth/password/change", headers={"accept": "text/html"})
    assert answer.status_code == 302
    assert answer.headers["location"] == (
        "/auth/login?next=/auth/password/change")


def test_password_change_form(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    log_in(client, "ada")
    html = client.get("/auth/password/change").text
    assert 'autocomplete="current-password"' in html
    assert html.count('autocomplete="new-password"') == 2
    assert '<label for="id_password1">New password</label>' in html
    # The validators' help texts, tied to the new password field.
    assert 'aria-describedby="password1-help"' in html
    assert '<ul class="help" id="password1-help">' in html


def test_password_change_ends_other_sessions_and_keeps_this_one(app: App,
                                                               client: httpx.Client) -> None:
    add_user(app, "ada")
    log_in(client, "ada")
    with TestClient(app) as elsewhere:
        log_in(elsewhere, "ada")
        assert elsewhere.get("/private").status_code == 200

        answer = change_password(client, PASSWORD, NEW_PASSWORD)

        assert answer.status_code == 303
        assert answer.headers["location"] == "/auth/password/change/done"
        done = client.get(answer.headers["location"])
        assert done.status_code == 200
        assert "Your password was changed." in done.text
        assert client.get("/private").status_code == 200  # this session continues
        assert elsewhere.get("/private", headers={"accept": "text/html"}).status_code == 302

    with TestClient(app) as fresh:
        assert log_in(fresh, "ada", PASSWORD).status_code == 400
        assert log_in(fresh, "ada", NEW_PASSWORD).status_code == 303


def test_password_change_errors_are_on_their_fields(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    log_in(client, "ada")

    wrong_old = change_password(client, "not it", NEW_PASSWORD)
    assert wrong_old.status_code == 422
    assert '<div class="error" id="old_password-error">' in wrong_old.text
    assert "Your current password was entered incorrectly." in wrong_old.text

    mismatch = change_password(client, PASSWORD, NEW_PASSWORD, "something else entirely")
    assert mismatch.status_code == 422
    assert 'aria-describedby="password2-error"' in mismatch.text
    assert "The two passwords do not match." in mismatch.text

    weak = change_password(client, PASSWORD, "12345")
    assert weak.status_code == 422
    assert 'aria-describedby="password1-error password1-help"' in weak.text
    assert "This password is too short." in weak.text
    assert "12345" not in weak.text  # passwords are never sent back

    similar = change_password(client, PASSWORD, "ada@example.com!")
    assert similar.status_code == 422
    assert "too similar" in similar.text

    assert client.get("/private").status_code == 200
    with TestClient(app) as fresh:
        assert log_in(fresh, "ada", PASSWORD).status_code == 303  # unchanged


# -- throttling ------------------------------------------------------------------------


@pytest.mark.parametrize("app", [{"login_throttle_limit": 2}], indirect=True)
def test_too_many_failed_logins_answer_429(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    assert log_in(client, "ada", "wrong 1").status_code == 400
    assert log_in(client, "ada", "wrong 2").status_code == 400

    blocked = log_in(client, "ada", PASSWORD)  # even the right password, for now

    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= app.settings.login_throttle_window
    assert "Too many attempts. Please try again in 15 minutes." in blocked.text
    assert 'value="ada"' in blocked.text
    assert client.get("/private", headers={"accept": "text/html"}).status_code == 302
    # Another username is not blocked (the per-address limit is higher).
    add_user(app, "grace")
    assert log_in(client, "grace").status_code == 303


@pytest.mark.parametrize("app", [{"login_throttle_limit": 2}], indirect=True)
def test_wrong_current_passwords_count_as_failed_logins(app: App,
                                                        client: httpx.Client) -> None:
    add_user(app, "ada")
    log_in(client, "ada")
    assert change_password(client, "guess 1", NEW_PASSWORD).status_code == 422
    assert change_password(client, "guess 2", NEW_PASSWORD).status_code == 422

    blocked = change_password(client, PASSWORD, NEW_PASSWORD)

    assert blocked.status_code == 429
    assert "retry-after" in blocked.headers


# -- guards: 401 for APIs, a redirect for browsers --------------------------------------


@pytest.mark.parametrize(("headers", "status"), [
    ({"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, 302),
    ({}, 302),
    ({"accept": "application/json"}, 401),
    ({"authorization": "Basic YTpi"}, 401),
])
def test_guard_answers_by_accept_header(client: httpx.Client, headers: dict[str, str],
                                        status: int) -> None:
    answer = client.get("/private?x=1", headers=headers)

    assert answer.status_code == status
    if status == 302:
        assert answer.headers["location"] == "/auth/login?next=/private%3Fx%3D1"
    else:
        assert answer.headers["www-authenticate"] == 'Bearer realm="api"'
        if headers.get("accept") == "application/json":
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["status"] == 401


def test_the_login_redirect_leads_back(app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    login_url = client.get("/private", headers={"accept": "text/html"}).headers["location"]
    token = token_of(client, login_url)
    answer = client.post(login_url, data={"csrf_token": token, "username": "ada",
                                          "password": PASSWORD})
    assert answer.headers["location"] == "/private"
    assert client.get(answer.headers["location"]).json() == {"username": "ada"}


# -- CSRF on every form -----------------------------------------------------------------


@pytest.mark.parametrize("app", [{"auth_signup": True}], indirect=True)
@pytest.mark.parametrize("path", [
    "/auth/login", "/auth/logout", "/auth/password/change", "/auth/password/reset",
    "/auth/password/reset/some-token", "/auth/signup",
])
def test_every_form_needs_the_csrf_token(app: App, client: httpx.Client, path: str) -> None:
    add_user(app, "ada")
    log_in(client, "ada")
    data = {"username": "ada", "password": PASSWORD, "old_password": PASSWORD,
            "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "email": "ada@example.com"}

    answer = client.post(path, data=data, headers={"accept": "text/html"})

    assert answer.status_code == 403
    assert "CSRF" in answer.text
    assert client.get("/private").status_code == 200  # nothing happened: still logged in
    with TestClient(app) as fresh:
        assert log_in(fresh, "ada", PASSWORD).status_code == 303


# -- templates a project overrides --------------------------------------------------------


def test_a_project_overrides_templates_by_name(app: App, client: httpx.Client) -> None:
    folder = app.root / "templates" / "auth"
    folder.mkdir(parents=True)
    (folder / "base.html").write_text(
        "<!doctype html><title>Shop | {% block title %}{% endblock %}</title>"
        "<nav>Shop</nav>{% block content %}{% endblock %}")
    (folder / "password_reset_done.html").write_text(
        "{% extends 'auth/base.html' %}{% block title %}Sent{% endblock %}"
        "{% block content %}<p>Look in your inbox.</p>{% endblock %}")

    login = client.get("/auth/login").text
    assert login.startswith("<!doctype html><title>Shop | Log in</title><nav>Shop</nav>")
    assert 'name="csrf_token"' in login  # the component's form, in the project's layout
    assert client.get("/auth/password/reset/done").text.endswith("<p>Look in your inbox.</p>")
