"""heron.auth's signals (issue 18 item 9): user logged in, logged out, login failed,
sent by its pages and by login()/logout()/authenticate() in a project's views."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_pages import PASSWORD, add_user, build_app, log_in, token_of

from heron import App, signals
from heron.testing import TestClient

pytestmark = pytest.mark.usefixtures("db_clean")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('auth-signals') / 'db.sqlite3'}"


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> App:
    return build_app(tmp_path, database_url)


@pytest.fixture
def heard() -> Iterator[list[tuple[str, Any, Any]]]:
    events: list[tuple[str, Any, Any]] = []

    def logged_in(sender: Any, *, request: Any, user: Any) -> None:
        events.append(("in", sender.__name__, user.get_username()))

    def logged_out(sender: Any, *, request: Any, user: Any) -> None:
        events.append(("out", getattr(sender, "__name__", None),
                       user.get_username() if user is not None else None))

    def failed(sender: Any, *, request: Any, username: str, **extra: Any) -> None:
        assert "password" not in extra
        events.append(("failed", sender.__name__, username))

    signals.user_logged_in.connect(logged_in)
    signals.user_logged_out.connect(logged_out)
    signals.user_login_failed.connect(failed)
    yield events
    signals.user_logged_in.disconnect(logged_in)
    signals.user_logged_out.disconnect(logged_out)
    signals.user_login_failed.disconnect(failed)


def test_the_pages_send_login_logout_and_failures(app: App,
                                                  heard: list[tuple[str, Any, Any]]) -> None:
    add_user(app, "ada")
    with TestClient(app) as client:
        assert log_in(client, "ada", "wrong password").status_code == 400
        assert log_in(client, "nobody").status_code == 400
        assert log_in(client, "ada", PASSWORD).status_code == 303
        token = token_of(client, "/auth/password/change")
        assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 303
        # Logging out with no session: nobody was logged in, nothing to send.
        assert client.post("/auth/logout", data={"csrf_token": token}).status_code in (303, 403)
    assert heard == [("failed", "User", "ada"), ("failed", "User", "nobody"),
                     ("in", "User", "ada"), ("out", "User", "ada")]


def test_logout_of_a_user_not_loaded_names_nobody(app: App,
                                                  heard: list[tuple[str, Any, Any]]) -> None:
    from heron import Request
    from heron.auth import logout

    @app.post("/bye")
    def bye(request: Request) -> str:
        logout(request)  # request.user was never read
        return "bye"

    add_user(app, "ada")
    with TestClient(app) as client:
        assert log_in(client, "ada").status_code == 303
        heard.clear()
        assert client.post("/bye", headers={"x-csrf-token": client.csrf_token()}).text == "bye"
    assert heard == [("out", None, None)]
