"""heron.auth's pages mounted elsewhere, some or all of them left out, and the login
messages reworded (issue 18 item 8): the models, guards and hashing stay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from auth_pages import PASSWORD, add_user, build_app, token_of

from heron import App
from heron.checks import ConfigurationErrors
from heron.testing import TestClient

pytestmark = pytest.mark.usefixtures("db_clean")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('auth-pages') / 'db.sqlite3'}"


@pytest.fixture
def app(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> App:
    """The app; ``parametrize("app", [{setting: value}], indirect=True)`` changes settings."""
    return build_app(tmp_path, database_url, **getattr(request, "param", {}))


def _app(tmp_path: Path, database_url: str, **settings: Any) -> App:
    return build_app(tmp_path, database_url, **settings)


def with_settings(**settings: Any) -> Any:
    return pytest.mark.parametrize("app", [settings], indirect=True)


def _ids(app: App) -> list[str]:
    with pytest.raises(ConfigurationErrors) as caught:
        app.setup()
    return [problem.id for problem in caught.value.problems]


@with_settings(auth_url_prefix="/account/")
def test_pages_under_another_prefix(app: App) -> None:
    add_user(app, "ada")
    with TestClient(app) as client:
        assert client.get("/auth/login").status_code == 404
        page = client.get("/account/login")
        assert page.status_code == 200
        assert 'action="/account/login"' in page.text
        assert 'href="/account/password/reset"' in page.text
        assert app.url_for("auth:login") == "/account/login"
        # login_required sends browsers to the page where it is now.
        denied = client.get("/private", headers={"accept": "text/html"})
        assert denied.headers["location"].startswith("/account/login?next=")
        answer = client.post("/account/login", data={
            "csrf_token": token_of(client, "/account/login"), "username": "ada",
            "password": PASSWORD})
        assert answer.status_code == 303
        assert client.get("/private").json() == {"username": "ada"}


@with_settings(auth_pages=[], login_url="my_login")
def test_pages_left_out_keep_models_guards_and_your_own_login(app: App) -> None:
    """Before: the component and a project's own /auth/login were a startup error."""
    from heron.auth import aauthenticate, alogin
    from heron.requests import Request

    @app.route("/auth/login", ["GET", "POST"], name="my_login")
    async def my_login(request: Request) -> Any:
        if request.method == "GET":
            return "my own login page"
        form = await request.form()
        user = await aauthenticate(request, str(form["username"]), str(form["password"]))
        if user is None:
            return "no", 400
        await alogin(request, user)
        return "in"

    add_user(app, "ada")
    with TestClient(app) as client:
        assert client.get("/auth/login").text == "my own login page"
        for path in ("/auth/logout", "/auth/password/reset", "/auth/password/change"):
            assert client.get(path).status_code == 404, path
        denied = client.get("/private", headers={"accept": "text/html"})
        assert denied.headers["location"].startswith("/auth/login?next=")
        client.force_login(_user(app, "ada"))
        assert client.get("/private").json() == {"username": "ada"}


def _user(app: App, username: str) -> Any:
    from sqlalchemy import select

    from heron.auth import get_user_model
    from heron.db import db

    model = get_user_model(app)
    with db.context(app):
        return db.session.scalars(select(model).where(model.username == username)).one()


@with_settings(auth_pages=["login"], auth_signup=True)
def test_some_pages_only(app: App) -> None:
    with TestClient(app) as client:
        page = client.get("/auth/login")
        assert page.status_code == 200
        # No links to the pages left out (url_for would fail on them).
        assert "/auth/password/reset" not in page.text
        assert "/auth/signup" not in page.text
        assert client.get("/auth/password/reset").status_code == 404
        assert client.get("/auth/signup").status_code == 404


@with_settings(auth_messages={"wrong_login": "Nope: wrong {login_label} or password.",
                              "password_required": "Your password, please."})
def test_reworded_login_messages(app: App) -> None:
    add_user(app, "ada")
    with TestClient(app) as client:
        token = token_of(client, "/auth/login")
        wrong = client.post("/auth/login", data={"csrf_token": token, "username": "ada",
                                                 "password": "not it"})
        assert wrong.status_code == 400
        assert "Nope: wrong username or password." in wrong.text
        empty = client.post("/auth/login", data={"csrf_token": token, "username": "ada"})
        assert empty.status_code == 422
        assert "Your password, please." in empty.text
        assert "Enter your password." not in empty.text


@with_settings(login_throttle_limit=1, auth_messages={"throttled": "Slow down; wait {wait}."})
def test_reworded_throttle_message(app: App) -> None:
    add_user(app, "ada")
    with TestClient(app) as client:
        token = token_of(client, "/auth/login")
        data = {"csrf_token": token, "username": "ada", "password": "not it"}
        assert client.post("/auth/login", data=data).status_code == 400
        throttled = client.post("/auth/login", data=data)
        assert throttled.status_code == 429
        assert "Slow down; wait 15 minutes." in throttled.text


@pytest.mark.parametrize(("settings", "expected"), [
    ({"auth_pages": ["login", "logn"]}, ["heron.auth.E020"]),
    ({"auth_messages": {"wrong_password": "x"}}, ["heron.auth.E021"]),
    ({"auth_messages": {"wrong_login": "Wrong {username}"}}, ["heron.auth.E021"]),
    ({"auth_messages": {"throttled": "Wait {0}"}}, ["heron.auth.E021"]),
    ({"auth_pages": ["password_reset"]}, ["heron.auth.E022"]),
])
def test_bad_page_settings_fail_at_startup(tmp_path: Path, database_url: str,
                                           settings: dict[str, Any],
                                           expected: list[str]) -> None:
    assert _ids(_app(tmp_path, database_url, **settings)) == expected


def test_pages_from_the_environment(tmp_path: Path, database_url: str,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_AUTH_PAGES", "login,password_change")
    monkeypatch.setenv("HERON_AUTH_URL_PREFIX", "/users")
    app = _app(tmp_path, database_url)
    assert app.settings.auth_pages == ["login", "password_change"]
    assert app.url_for("auth:password_change") == "/users/password/change"
    monkeypatch.setenv("HERON_AUTH_PAGES", "")
    monkeypatch.setenv("HERON_LOGIN_URL", "/elsewhere")
    assert _app(tmp_path, database_url).settings.auth_pages == []
