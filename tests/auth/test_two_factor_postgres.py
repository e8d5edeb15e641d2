"""Two-factor login on a real PostgreSQL: the shipped tables, enrolment, the second
step with a code used once, recovery codes (issue 22)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from auth_pages import add_user, build_app, log_in, token_of
from two_factor_helpers import T0, enrol, freeze, password_step, second_step

from heron import App
from heron.testing import TestClient
from heron.testing.database import clean_tables, prepare_schema


@pytest.fixture(scope="module")
def pg_url(request: pytest.FixtureRequest) -> str:
    server = request.getfixturevalue("postgres_server")
    return str(server.create_database(f"heron_2fa_{uuid.uuid4().hex[:12]}"))


@pytest.fixture
def app(tmp_path: Path, pg_url: str) -> Iterator[App]:
    app = build_app(tmp_path, pg_url)
    prepare_schema(app)
    yield app
    clean_tables(app)


def test_two_factor_login_on_postgresql(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import text

    from heron.db import db

    freeze(monkeypatch)
    add_user(app, "ada")
    with TestClient(app) as client:
        log_in(client, "ada")
        secret, codes = enrol(client)
        client.post("/auth/logout", data={"csrf_token": token_of(client, "/auth/security")})
        password_step(client, "ada")
        code = pyotp.TOTP(secret).at(T0 + 30)
        assert second_step(client, code).status_code == 303
    with TestClient(app) as other:
        password_step(other, "ada")
        assert second_step(other, code).status_code == 400  # used
        assert second_step(other, codes[3]).status_code == 303
    with db.context(app):
        kinds = dict(db.session.execute(text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'auth_user_passkey'")).all())
    assert kinds["credential_id"] == "bytea"
    assert kinds["backed_up"] == "boolean"
