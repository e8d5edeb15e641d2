"""The example guestbook app, end to end on a throwaway SQLite file."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heron.testing import TestClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def guestbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("GUESTBOOK_INSTANCE", str(tmp_path))
    monkeypatch.setenv("HERON_DEBUG", "1")
    monkeypatch.syspath_prepend(str(ROOT))
    sys.modules.pop("examples.guestbook.app", None)
    module: Any = importlib.import_module("examples.guestbook.app")
    with TestClient(module.app) as client:
        yield client
    module.engine.dispose()
    sys.modules.pop("examples.guestbook.app", None)


def test_sign_then_read_as_html_and_json(guestbook: TestClient) -> None:
    response = guestbook.post("/sign", data={"name": "Ann", "message": "<b>hi</b>"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    page = guestbook.get("/").text
    assert "1 signatures." in page
    assert "&lt;b&gt;hi&lt;/b&gt;" in page  # the message is escaped
    entries = guestbook.get("/api/entries").json()
    assert [(e["name"], e["message"]) for e in entries] == [("Ann", "<b>hi</b>")]
    assert guestbook.get(f"/api/entries/{entries[0]['id']}").json()["name"] == "Ann"
    assert guestbook.get("/static/style.css").status_code == 200


def test_bad_input_gets_clear_4xx(guestbook: TestClient) -> None:
    assert guestbook.post("/sign", data={"name": "", "message": "x"}).status_code == 422
    assert guestbook.post("/sign", data={"name": "a" * 81, "message": "x"}).status_code == 422
    assert guestbook.post("/sign", json={"name": "a"}).status_code == 415
    assert guestbook.get("/api/entries?limit=0").status_code == 400
    assert guestbook.get("/api/entries?limit=abc").status_code == 400
    missing = guestbook.get("/api/entries/999", headers={"accept": "application/json"})
    assert missing.status_code == 404
    assert missing.json()["detail"] == "There is no entry 999."
    assert guestbook.get("/entries/999").status_code == 404
