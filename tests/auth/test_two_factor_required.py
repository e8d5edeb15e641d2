"""``auth_two_factor_required`` with its grace period, API tokens left alone, and
``areset_factors`` / ``two_factor_changed`` (issue 22)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from auth_pages import add_user, build_app, log_in, token_of
from two_factor_helpers import T0, enrol, freeze, password_step, second_step

from heron import App, signals
from heron.db import db
from heron.testing import TestClient

pytestmark = pytest.mark.usefixtures("db_clean")

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('two-factor-required') / 'db.sqlite3'}"


@pytest.fixture
def app(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> App:
    return build_app(tmp_path, database_url, **getattr(request, "param", {}))


@pytest.fixture
def client(app: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    freeze(monkeypatch)
    with TestClient(app) as test_client:
        yield test_client


def _start_grace(app: App, username: str, days_ago: float) -> None:
    """Move the grace period's start of ``username`` back."""
    from sqlalchemy import update

    from heron.auth import get_user_model
    from heron.auth.models import utcnow

    model = get_user_model(app)
    with db.context(app):
        user = db.session.query(model).filter_by(username=username).one()
        totp = model.totp_model
        db.session.execute(update(totp).where(totp.user_id == user.id)
                           .values(grace_started_at=utcnow() - timedelta(days=days_ago)))
        db.session.commit()


@pytest.mark.parametrize("app", [{"auth_two_factor_required": "all"}], indirect=True)
def test_during_the_grace_period_users_are_reminded_and_may_go_on(
        app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    answer = log_in(client, "ada", next="/private")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/auth/security?next=%2Fprivate"
    page = client.get(answer.headers["location"])
    assert "Please set up two-factor login: it is required for your account (in 7 days)." \
        in page.text
    assert "Your account must use two-factor login." in page.text
    assert 'href="/private"' in page.text  # "Continue"
    assert client.get("/private", headers=HTML).status_code == 200  # still allowed


@pytest.mark.parametrize("app", [{"auth_two_factor_required": "all"}], indirect=True)
def test_after_the_grace_period_every_page_but_the_setup_sends_to_the_setup(
        app: App, client: httpx.Client) -> None:
    add_user(app, "ada")
    log_in(client, "ada")  # the grace period starts
    _start_grace(app, "ada", days_ago=8)
    with TestClient(app) as later:
        log_in(later, "ada")
        blocked = later.get("/private", headers=HTML)
        assert blocked.status_code == 302
        assert blocked.headers["location"] == "/auth/security?next=%2Fprivate"
        assert later.get("/", headers=HTML).status_code == 302
        assert later.get("/private", headers={"accept": "application/json"}).status_code == 403
        assert later.get("/auth/security").status_code == 200  # the setup pages stay open
        # A header in a scheme request.user ignores (Basic) leaves the session user in
        # charge, and the requirement with it (refused as an API client would be).
        basic = later.get("/private", headers={**HTML, "authorization": "Basic eDp5"})
        assert basic.status_code == 403
        enrol(later)
        assert later.get("/private", headers=HTML).status_code == 200
        out = later.post("/auth/logout", data={"csrf_token": token_of(later, "/auth/security")})
        assert out.status_code == 303


@pytest.mark.parametrize("app", [{"auth_two_factor_required": "staff"}], indirect=True)
def test_staff_only_requirement(app: App, client: httpx.Client) -> None:
    add_user(app, "bob")
    add_user(app, "eve", is_staff=True)
    for name in ("bob", "eve"):
        log_in(client, name)
    _start_grace(app, "eve", days_ago=30)
    with TestClient(app) as bob:
        assert log_in(bob, "bob").headers["location"] == "/"  # not asked
        assert bob.get("/private", headers=HTML).status_code == 200
    with TestClient(app) as eve:
        log_in(eve, "eve")
        assert eve.get("/private", headers=HTML).status_code == 302


@pytest.mark.parametrize("app", [{"auth_two_factor_required": "all"}], indirect=True)
def test_an_api_token_is_never_asked_for_a_second_factor(app: App,
                                                         client: httpx.Client) -> None:
    from heron.auth import get_user_model, new_token

    add_user(app, "ada")
    log_in(client, "ada")
    enrol(client)  # she has TOTP; her script has a token
    _start_grace(app, "ada", days_ago=30)
    with db.context(app):
        user = db.session.query(get_user_model(app)).one()
        token, secret = new_token(app, user, "script")
        db.session.add(token)
        db.session.commit()
    with TestClient(app) as script:
        answer = script.get("/private", headers={"authorization": f"Bearer {secret}"})
        assert answer.status_code == 200
        assert answer.json() == {"username": "ada"}


def test_reset_factors_removes_everything_and_sends_the_signal(
        app: App, client: httpx.Client) -> None:
    import asyncio

    from heron.auth import get_user_model
    from heron.auth.two_factor import afactors, areset_factors

    add_user(app, "ada")
    log_in(client, "ada")
    enrol(client)
    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append({"factor": kwargs["factor"], "action": kwargs["action"]})

    async def reset() -> tuple[Any, Any]:
        async with db.async_context(app):
            user = await db.async_session.get(get_user_model(app), 1)
            return await areset_factors(user), await afactors(user)

    with signals.two_factor_changed.connected_to(receiver):
        had, now = asyncio.run(reset())
    assert had.totp
    assert had.recovery_codes == 10
    assert not now.any
    assert now.recovery_codes == 0
    assert {"factor": "totp", "action": "reset"} in seen
    assert {"factor": "recovery_codes", "action": "reset"} in seen
    client.post("/auth/logout", data={"csrf_token": token_of(client, "/auth/security")})
    assert log_in(client, "ada").headers["location"] == "/"


def test_enrolment_and_codes_send_two_factor_changed(app: App, client: httpx.Client) -> None:
    seen: list[tuple[str, str]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        assert kwargs["request"] is not None
        assert kwargs["user"].username == "ada"
        seen.append((kwargs["factor"], kwargs["action"]))

    add_user(app, "ada")
    log_in(client, "ada")
    with signals.two_factor_changed.connected_to(receiver):
        secret, codes = enrol(client)
        client.post("/auth/logout", data={"csrf_token": token_of(client, "/auth/security")})
        password_step(client, "ada")
        second_step(client, codes[0])
    assert seen == [("totp", "added"), ("recovery_codes", "regenerated"),
                    ("recovery_codes", "removed")]
    assert pyotp.TOTP(secret).at(T0)  # (the secret is a real TOTP key)


@pytest.mark.parametrize(("settings", "expected"), [
    ({"auth_two_factor_required": "admins"}, ["heron.auth.E030"]),
    ({"auth_two_factor_required": "all", "auth_pages": ["login"]}, ["heron.auth.E031"]),
    ({"auth_totp_drift": -1}, ["heron.auth.E032"]),
    ({"auth_recovery_codes": 0, "auth_two_factor_grace": -5}, ["heron.auth.E032"]),
])
def test_bad_two_factor_settings_fail_at_startup(tmp_path: Path, database_url: str,
                                                 settings: dict[str, Any],
                                                 expected: list[str]) -> None:
    from heron.checks import ConfigurationErrors

    app = build_app(tmp_path, database_url, **settings)
    with pytest.raises(ConfigurationErrors) as caught:
        app.setup()
    assert [problem.id for problem in caught.value.problems] == expected


@pytest.mark.filterwarnings("ignore:.*expression-based index")  # SQLite cannot reflect it
def test_the_shipped_migration_matches_the_models(app: App) -> None:
    """auth_user_0004 made the three tables exactly as the models declare them."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from heron.db import Model

    ours = {"auth_user_totp", "auth_user_recovery_code", "auth_user_passkey"}

    def factor_table(item: object, name: str | None, type_: str, *args: object) -> bool:
        table = getattr(item, "table", item)
        return getattr(table, "name", name) in ours

    with db.state(app).engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": factor_table})
        assert compare_metadata(context, Model.metadata) == []
