"""The example guestbook app, end to end on a throwaway SQLite file (in production mode).

heron's ``db_clean`` fixture applies the example's committed migrations to one
SQLite file for the module and empties the tables after each test; ``db_clean``
rather than ``db_session``, as the async views write through ``db.async_session``,
which cannot join a test transaction.  The fixture also creates any table that
has no migration, so one test checks the migrations alone, with the real
``heron db migrate`` and ``heron db check`` on a fresh file.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from heron.db import db
from heron.db.migrations import Migrations
from heron.testing import TestClient, extract_csrf_token

ROOT = Path(__file__).resolve().parents[2]
MODULE = "examples.guestbook.app"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def load_guestbook(monkeypatch: pytest.MonkeyPatch, database_url: str, **env: str) -> Any:
    """A fresh import of the example (it reads its settings from the environment).

    Only the app module is imported again: ``examples.guestbook.models`` stays, as
    a model's table can be defined once per process.
    """
    monkeypatch.setenv("HERON_DATABASE_URL", database_url)
    monkeypatch.setenv("HERON_SECRET_KEY", "guestbook-test-secret")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    return importlib.import_module(MODULE)


def unload(module: Any) -> None:
    """Close the app's database connections and forget the module."""
    asyncio.run(db.state(module.app).dispose())
    sys.modules.pop(MODULE, None)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite file for the module: migrated once, emptied after each test."""
    return sqlite_url(tmp_path_factory.mktemp("guestbook") / "guestbook.sqlite3")


@pytest.fixture
def module(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    loaded = load_guestbook(monkeypatch, database_url)
    yield loaded
    unload(loaded)


@pytest.fixture
def app(module: Any) -> Any:
    """The example's app, for heron's database fixtures (``db_clean``)."""
    return module.app


@pytest.fixture
def guestbook(app: Any, db_clean: None) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def stranger(guestbook: TestClient) -> Iterator[TestClient]:
    """Another visitor, with cookies of their own (the app is already started)."""
    client = TestClient(guestbook.app)
    yield client
    client.close()


def token(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    assert page.status_code == 200
    return extract_csrf_token(page.text)


def sign(client: TestClient, name: str, message: str, **extra: str) -> Any:
    return client.post("/sign", data={"name": name, "message": message,
                                      "csrf_token": token(client), **extra})


def stored(client: TestClient) -> list[tuple[str, str]]:
    return [(e["name"], e["message"]) for e in client.get("/api/entries").json()]


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash flash-(\w+)">(.*?)</p>', page)


def test_runs_in_production_mode(module: Any) -> None:
    settings = module.app.settings
    assert not settings.debug
    assert settings.csrf
    assert module.app.check() == []


def test_sign_then_read_as_html_and_json(guestbook: TestClient) -> None:
    response = sign(guestbook, "Ann", "<b>hi</b>")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    page = guestbook.get("/").text
    assert "1 signature." in page
    assert "&lt;b&gt;hi&lt;/b&gt;" in page  # the message is escaped
    assert "<b>hi</b>" not in page
    entries = guestbook.get("/api/entries").json()
    assert [(e["name"], e["message"]) for e in entries] == [("Ann", "<b>hi</b>")]
    entry_id = entries[0]["id"]
    assert guestbook.get(f"/api/entries/{entry_id}").json()["name"] == "Ann"
    entry_page = guestbook.get(f"/entries/{entry_id}")
    assert entry_page.status_code == 200
    assert "<title>Entry 1</title>" in entry_page.text
    assert "<blockquote>&lt;b&gt;hi&lt;/b&gt;</blockquote>" in entry_page.text
    css = guestbook.get("/static/style.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")


def test_page_uses_the_layout_the_stylesheet_and_labelled_fields(guestbook: TestClient) -> None:
    page = guestbook.get("/")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<link rel="stylesheet" href="/static/style.css">' in page.text
    assert '<label for="name">' in page.text
    assert '<input id="name" name="name"' in page.text
    assert '<label for="message">' in page.text
    assert '<textarea id="message" name="message"' in page.text
    assert 'maxlength="80"' in page.text
    assert 'maxlength="500"' in page.text
    assert "Nobody has signed yet" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_flash_is_shown_exactly_once_after_the_redirect(guestbook: TestClient) -> None:
    response = sign(guestbook, "Zoë <Z>", "hello")
    assert response.status_code == 303
    assert flashes(guestbook.get("/").text) == [
        ("success", "Thanks for signing, Zoë &lt;Z&gt;!"),  # escaped like any text
    ]
    assert flashes(guestbook.get("/").text) == []


def test_post_without_a_token_is_refused_and_stores_nothing(guestbook: TestClient,
                                                             stranger: TestClient) -> None:
    guestbook.get("/")  # the client has a session cookie now
    refused = guestbook.post("/sign", data={"name": "Mallory", "message": "forged"})
    assert refused.status_code == 403
    assert "refused by the CSRF check" in refused.text  # production: no details
    # No cookies at all: a form post still needs a token (login CSRF).
    assert stranger.post("/sign", data={"name": "M", "message": "x"}).status_code == 403
    # A token from someone else's page does not fit this client's session.
    stranger.get("/")
    other = stranger.post("/sign", data={"name": "M", "message": "x",
                                         "csrf_token": token(guestbook)})
    assert other.status_code == 403
    assert stored(guestbook) == []


def test_post_from_another_origin_is_refused_even_with_a_token(guestbook: TestClient) -> None:
    response = guestbook.post(
        "/sign", data={"name": "M", "message": "x", "csrf_token": token(guestbook)},
        headers={"origin": "https://evil.example"},
    )
    assert response.status_code == 403
    same_site = guestbook.post(
        "/sign", data={"name": "Ann", "message": "x", "csrf_token": token(guestbook)},
        headers={"origin": "http://testserver"},
    )
    assert same_site.status_code == 303
    assert stored(guestbook) == [("Ann", "x")]


@pytest.mark.parametrize(
    ("name", "message", "error"),
    [
        ("", "hello", "Please give your name."),
        ("   ", "hello", "Please give your name."),
        ("a" * 81, "hello", "Your name can be at most 80 characters long."),
        ("Ann", "", "Please write a message."),
        ("Ann", " \n ", "Please write a message."),
        ("Ann", "m" * 501, "Your message can be at most 500 characters long."),
    ],
)
def test_invalid_entry_is_shown_again_with_422(guestbook: TestClient, name: str, message: str,
                                                error: str) -> None:
    response = sign(guestbook, name, message)
    assert response.status_code == 422
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Your entry was not saved" in response.text
    assert error in response.text
    assert 'aria-invalid="true"' in response.text
    assert stored(guestbook) == []


def test_422_keeps_the_values_escaped_and_a_retry_works(guestbook: TestClient) -> None:
    name = '"><script>alert(1)</script>'
    message = "</textarea><script>alert(2)</script>\nsecond line"
    response = sign(guestbook, name, "")
    assert response.status_code == 422
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text
    assert "<script>" not in response.text
    kept = sign(guestbook, "", message)
    assert kept.status_code == 422
    assert ("\n&lt;/textarea&gt;&lt;script&gt;alert(2)&lt;/script&gt;\nsecond line</textarea>"
            in kept.text)
    assert "<script>" not in kept.text
    assert 'aria-describedby="name-error"' in kept.text
    assert flashes(kept.text) == []
    # The re-rendered form carries a fresh token that works.
    retry = guestbook.post("/sign", data={"name": "Ann", "message": message,
                                          "csrf_token": extract_csrf_token(kept.text)})
    assert retry.status_code == 303
    assert stored(guestbook) == [("Ann", message)]


def test_boundary_lengths_are_accepted(guestbook: TestClient) -> None:
    assert sign(guestbook, "n" * 80, "m" * 500).status_code == 303
    assert sign(guestbook, "  Ann  ", "  hi  ").status_code == 303  # stripped
    assert stored(guestbook) == [("Ann", "hi"), ("n" * 80, "m" * 500)]


def test_bad_input_gets_clear_4xx(guestbook: TestClient) -> None:
    # JSON is no form: 415 (a cookie-less script posting JSON passes the CSRF check).
    assert guestbook.post("/sign", json={"name": "a"}).status_code == 415
    # With the session cookie, the CSRF check comes first; with the token, 415 again.
    guestbook.get("/")
    assert guestbook.post("/sign", json={"name": "a", "message": "b"}).status_code == 403
    with_token = guestbook.post("/sign", json={"name": "a", "message": "b"},
                                headers={"x-csrf-token": token(guestbook)})
    assert with_token.status_code == 415
    assert guestbook.get("/api/entries?limit=0").status_code == 400
    assert guestbook.get("/api/entries?limit=abc").status_code == 400
    assert guestbook.get("/api/entries?limit=101").status_code == 400
    assert len(guestbook.get("/api/entries?limit=100").json()) == 0
    missing = guestbook.get("/api/entries/999", headers={"accept": "application/json"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["detail"] == "There is no entry 999."
    # The API's 404s are JSON whatever the client accepts; the site's are pages.
    assert guestbook.get("/api/nothing").json()["status"] == 404
    page = guestbook.get("/entries/999")
    assert page.status_code == 404
    assert "<title>Not found</title>" in page.text
    assert "There is no entry 999." in page.text
    unknown = guestbook.get("/no/such/page")
    assert unknown.status_code == 404
    assert "Nothing is found at /no/such/page." in unknown.text
    assert guestbook.get("/sign").status_code == 405


def test_allowed_hosts_default_to_this_machine(guestbook: TestClient) -> None:
    assert guestbook.get("/", headers={"host": "127.0.0.1:8000"}).status_code == 200
    assert guestbook.get("/", headers={"host": "localhost"}).status_code == 200
    assert guestbook.get("/", headers={"host": "evil.example"}).status_code == 400


def test_allowed_hosts_come_from_the_environment(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_guestbook(monkeypatch, sqlite_url(tmp_path / "hosts.sqlite3"),
                            HERON_ALLOWED_HOSTS="guestbook.example,.example.org")
    try:
        Migrations(module.app).migrate()
        assert module.app.settings.allowed_hosts == ["guestbook.example", ".example.org"]
        with TestClient(module.app) as client:
            assert client.get("/", headers={"host": "guestbook.example"}).status_code == 200
            assert client.get("/", headers={"host": "www.example.org"}).status_code == 200
            assert client.get("/", headers={"host": "127.0.0.1"}).status_code == 400
    finally:
        unload(module)


# -- the database: pagination, migrations -----------------------------------


def add_entries(module: Any, count: int) -> None:
    """``count`` entries, "Guest 1" first (so the newest is ``Guest {count}``)."""
    with db.transaction() as session:
        session.add_all([module.Entry(name=f"Guest {n}", message=f"Message {n}")
                         for n in range(1, count + 1)])


def listed(page: str) -> list[str]:
    return re.findall(r'<li><a href="/entries/\d+">(.*?)</a>', page)


def pager_links(page: str) -> dict[str, str]:
    return dict(re.findall(r'<a rel="(prev|next)" href="([^"]*)"', page))


def test_index_pages_20_entries_at_a_time(module: Any, guestbook: TestClient) -> None:
    add_entries(module, 25)
    first = guestbook.get("/")
    assert first.status_code == 200
    assert "25 signatures." in first.text
    assert listed(first.text) == [f"Guest {n}" for n in range(25, 5, -1)]  # newest first
    assert "Page 1 of 2" in first.text
    assert pager_links(first.text) == {"next": "/?page=2"}
    assert listed(guestbook.get("/?page=1").text) == listed(first.text)

    second = guestbook.get(pager_links(first.text)["next"])
    assert second.status_code == 200
    assert listed(second.text) == ["Guest 5", "Guest 4", "Guest 3", "Guest 2", "Guest 1"]
    assert "25 signatures." in second.text
    assert "Page 2 of 2" in second.text
    assert pager_links(second.text) == {"prev": "/"}


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("page=3", "There is no page 3; the last is 2."),
        ("page=0", "There is no such page."),
        ("page=-1", "There is no such page."),
        ("page=two", "There is no such page."),
        ("page=", "There is no such page."),
    ],
)
def test_a_page_that_does_not_exist_is_the_404_page(module: Any, guestbook: TestClient,
                                                    query: str, detail: str) -> None:
    add_entries(module, 25)
    response = guestbook.get(f"/?{query}")
    assert response.status_code == 404
    assert "<title>Not found</title>" in response.text
    assert detail in response.text


def test_one_page_has_no_pager(module: Any, guestbook: TestClient) -> None:
    add_entries(module, 20)
    page = guestbook.get("/").text
    assert len(listed(page)) == 20
    assert "Page 1 of 1" not in page
    assert pager_links(page) == {}
    assert guestbook.get("/?page=2").status_code == 404
    # An empty guestbook has its one (empty) page.
    assert guestbook.get("/?page=1").status_code == 200


def test_a_failed_post_shows_the_first_page(module: Any, guestbook: TestClient) -> None:
    add_entries(module, 25)
    response = sign(guestbook, "", "hello")
    assert response.status_code == 422
    assert listed(response.text)[0] == "Guest 25"
    assert len(listed(response.text)) == 20
    assert pager_links(response.text) == {"next": "/?page=2"}


def test_entries_keep_when_and_the_api_limits(module: Any, guestbook: TestClient) -> None:
    add_entries(module, 3)
    entries = guestbook.get("/api/entries?limit=2").json()
    assert [e["name"] for e in entries] == ["Guest 3", "Guest 2"]
    assert all(e["created_at"] for e in entries)
    single = guestbook.get(f"/api/entries/{entries[0]['id']}").json()
    assert single == entries[0]


def heron_db(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``heron db --app examples.guestbook.app:app ARGS`` in a fresh interpreter, which
    knows the example's models only (this process may hold other tests' models)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env["HERON_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    heron = Path(sys.executable).with_name("heron")
    return subprocess.run([str(heron), "db", "--app", f"{MODULE}:app", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=60, check=False)


def test_migrations_build_the_tables_the_models_describe(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed migrations alone make the schema (no create_all), and they match
    the models: ``heron db check`` passes after ``heron db migrate``."""
    url = sqlite_url(tmp_path / "fresh.sqlite3")
    before = heron_db("check", database_url=url, cwd=tmp_path)
    assert before.returncode == 1
    assert "not applied" in before.stderr
    committed = [re.findall(r'^revision: str = "(\w+)"', path.read_text(), re.MULTILINE)[0]
                 for path in (ROOT / "examples/guestbook/migrations").glob("*.py")]
    assert committed
    assert all(revision in before.stderr for revision in committed)
    migrated = heron_db("migrate", database_url=url, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    after = heron_db("check", database_url=url, cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert "Models and migrations agree" in after.stdout

    module = load_guestbook(monkeypatch, url)
    try:
        with TestClient(module.app) as client:
            assert sign(client, "Ann", "hi").status_code == 303
            assert stored(client) == [("Ann", "hi")]
    finally:
        unload(module)


def test_the_app_creates_no_tables_itself(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables come from `heron db migrate`, not from starting the app."""
    path = tmp_path / "unmigrated.sqlite3"
    module = load_guestbook(monkeypatch, sqlite_url(path))
    try:
        with TestClient(module.app) as client:
            client.get("/api/nothing")  # a request that needs no table
    finally:
        unload(module)
    engine = create_engine(sqlite_url(path))
    try:
        assert "entry" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
