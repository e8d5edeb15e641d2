"""CORS and CSRF together, startup checks of the CORS settings, and big integers in JSON."""

from __future__ import annotations

import pytest

from heron import App, JSONResponse
from heron.testing import TestClient

ORIGIN = "https://app.example.com"


def make(**settings: object) -> App:
    app = App(debug=True, openapi_url=None, access_log=False, **settings)  # type: ignore[arg-type]

    @app.post("/notes")
    async def notes() -> dict[str, bool]:
        return {"ok": True}

    return app


def test_cookieless_json_from_a_cors_origin_passes_the_csrf_check() -> None:
    client = TestClient(make(cors_allow_origins=[ORIGIN]))
    answer = client.post("/notes", json={}, headers={"origin": ORIGIN})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ORIGIN


def test_without_credentials_a_cors_origin_gains_nothing_for_cookie_requests() -> None:
    client = TestClient(make(cors_allow_origins=[ORIGIN]))
    client.cookies.set("session", "x")
    assert client.post("/notes", json={}, headers={"origin": ORIGIN}).status_code == 403
    # and a form from it, without cookies, is still a login-CSRF risk: refused
    fresh = TestClient(make(cors_allow_origins=[ORIGIN]))
    assert fresh.post("/notes", data={"a": "b"}, headers={"origin": ORIGIN}).status_code == 403


def test_with_credentials_a_cors_origin_is_trusted_like_csrf_trusted_origins() -> None:
    client = TestClient(make(cors_allow_origins=[ORIGIN], cors_allow_credentials=True))
    client.get("/notes")  # no session yet; a token comes from a page in real life
    from heron.csrf import CSRFProtection

    protection = CSRFProtection(client.app.settings)  # type: ignore[attr-defined]
    assert ORIGIN in protection.trusted


def test_other_origins_are_still_refused() -> None:
    client = TestClient(make(cors_allow_origins=[ORIGIN]))
    answer = client.post("/notes", json={}, headers={"origin": "https://evil.example"})
    assert answer.status_code == 403


def test_wildcard_cors_lets_cookieless_json_through_from_anywhere() -> None:
    client = TestClient(make(cors_allow_origins=["*"]))
    answer = client.post("/notes", json={}, headers={"origin": "https://any.example"})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(("settings", "error"), [
    ({"cors_allow_origins": ["*"], "cors_allow_credentials": True}, "heron.cors.E001"),
    ({"cors_allow_origins": ["app.example.com"]}, "heron.cors.E002"),
])
def test_check_reports_bad_cors_settings(settings: dict[str, object], error: str) -> None:
    assert [p.id for p in make(**settings).check()] == [error]


def test_integers_beyond_64_bits_are_still_json() -> None:
    app = App(debug=True, openapi_url=None)

    @app.get("/big/{n:int}")
    async def big(n: int) -> dict[str, int]:
        return {"n": n, "square": n * n}

    answer = TestClient(app).get("/big/99999999999999999999999999")
    assert answer.status_code == 200
    assert answer.json() == {"n": 99999999999999999999999999,
                             "square": 99999999999999999999999999 ** 2}
    assert JSONResponse({"x": 2**70}).body == b'{"x":1180591620717411303424}'
