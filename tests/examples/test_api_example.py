"""The example typed API (examples/api), end to end on a throwaway SQLite file, in
production mode, its writes behind heron.auth's API tokens.

heron's ``db_clean`` fixture applies the example's committed migrations to one SQLite
file for the module and empties the tables after each test (the views write through
``db.async_session``, which cannot join a test transaction).  One test checks the
migrations alone with the real ``heron db migrate`` and ``heron db check``.
The same app is served by ``heron run`` and fuzzed by schemathesis in
tests/api/test_schemathesis.py.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heron.db import db
from heron.testing import TestClient

ROOT = Path(__file__).resolve().parents[2]
MODULE = "examples.api.app"
#: The smallest argon2 costs, so that signing up and logging in are quick.
FAST_HASHING = {"HERON_PASSWORD_TIME_COST": "1", "HERON_PASSWORD_MEMORY_COST": "8",
                "HERON_PASSWORD_PARALLELISM": "1"}
PASSWORD = "correct horse battery"


def load_api(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Any:
    """A fresh import of the app module (it reads its settings from the environment);
    the models module stays, as a table can be defined once per process."""
    monkeypatch.setenv("HERON_DATABASE_URL", database_url)
    monkeypatch.setenv("HERON_SECRET_KEY", "api-example-test-secret")
    for name, value in FAST_HASHING.items():
        monkeypatch.setenv(name, value)
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    return importlib.import_module(MODULE)


def unload(module: Any) -> None:
    asyncio.run(db.state(module.app).dispose())
    sys.modules.pop(MODULE, None)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> str:
    """The example on a SQLite file, then on a real PostgreSQL (heron's ``postgres_server``),
    where NUL characters and ids past 32 bits used to give 500s."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_server").create_database("api_example"))
    return f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.sqlite3'}"


@pytest.fixture
def module(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    loaded = load_api(monkeypatch, database_url)
    yield loaded
    unload(loaded)


@pytest.fixture
def app(module: Any) -> Any:
    return module.app


@pytest.fixture
def client(app: Any, db_clean: None) -> Iterator[TestClient]:
    """A client that sends the token of a user who signed up (the writes need one)."""
    with TestClient(app) as test_client:
        test_client.headers["authorization"] = f"Bearer {register(test_client)}"
        yield test_client


def register(client: TestClient, username: str = "ada") -> str:
    """Sign up through the API; the new user's token."""
    response = client.post("/api/auth/register", json={
        "username": username, "password": PASSWORD, "email": f"{username}@example.com"})
    assert response.status_code == 201, response.text
    return response.json()["token"]  # type: ignore[no-any-return]


def refused(response: Any, challenge: str) -> None:
    """A 401 in API mode: problem JSON, and the scheme to authenticate with."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert response.headers["www-authenticate"] == challenge


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/tasks", json=fields)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def titles(client: TestClient, query: str = "") -> list[str]:
    response = client.get(f"/api/tasks{query}")
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()["items"]]


def problems(response: Any) -> list[tuple[str, str, str]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [(e["location"], e["field"], e["type"]) for e in response.json()["errors"]]


def test_runs_in_production_mode(module: Any) -> None:
    settings = module.app.settings
    assert not settings.debug
    assert settings.csrf
    assert "auth" in module.app.components  # heron.auth, without its HTML pages:
    assert not [r.path for r in module.app.routes() if r.path.startswith("/auth")]
    assert module.app.check() == []


def test_create_read_update_delete(client: TestClient) -> None:
    made = create(client, title="Water the plants", priority="high", due="2030-05-01")
    assert made == {
        "id": made["id"], "title": "Water the plants", "notes": "", "priority": "high",
        "done": False, "due": "2030-05-01",
        "created_at": made["created_at"], "updated_at": made["updated_at"],
    }
    assert made["created_at"].endswith("Z")  # UTC, with its offset
    url = f"/api/tasks/{made['id']}"
    assert client.get(url).json() == made

    changed = client.patch(url, json={"done": True, "due": None})
    assert changed.status_code == 200
    assert changed.json() | {"updated_at": None} == made | {
        "done": True, "due": None, "updated_at": None}
    assert changed.json()["updated_at"] >= made["updated_at"]
    assert client.patch(url, json={}).json() == changed.json()  # nothing sent, nothing changed
    assert client.get(url).json() == changed.json()  # committed

    deleted = client.delete(url)
    assert (deleted.status_code, deleted.content) == (204, b"")
    gone = client.get(url)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert gone.json() == {"type": "about:blank", "title": "Not Found", "status": 404,
                           "detail": f"There is no task {made['id']}."}
    assert client.patch(url, json={"done": False}).status_code == 404
    assert client.delete(url).status_code == 404


def test_the_response_model_filters_what_is_returned(client: TestClient, module: Any) -> None:
    made = create(client, title="a")
    assert set(made) == set(module.TaskOut.model_fields)


def test_writes_are_committed(client: TestClient, app: Any, module: Any) -> None:
    made = create(client, title="Kept")
    with db.context(app):  # another session, another connection
        assert db.session.get(module.Task, made["id"]).title == "Kept"


def test_list_pages_filters_and_sorts(client: TestClient) -> None:
    for n in range(1, 6):
        create(client, title=f"Task {n}", done=n % 2 == 0,
               priority=["low", "normal", "high"][n % 3], due=f"2030-01-{10 - n:02d}")
    create(client, title="No due date, with 100% and _ in it")
    assert titles(client) == ["No due date, with 100% and _ in it", "Task 5", "Task 4",
                              "Task 3", "Task 2", "Task 1"]
    assert titles(client, "?order=oldest")[:2] == ["Task 1", "Task 2"]
    assert titles(client, "?order=due") == ["Task 5", "Task 4", "Task 3", "Task 2", "Task 1",
                                            "No due date, with 100% and _ in it"]
    assert titles(client, "?done=true") == ["Task 4", "Task 2"]
    assert titles(client, "?done=false&order=oldest")[0] == "Task 1"
    assert titles(client, "?priority=high&priority=low") == ["Task 5", "Task 3", "Task 2"]
    assert titles(client, "?q=TASK 3") == ["Task 3"]
    assert titles(client, "?q=100%25") == ["No due date, with 100% and _ in it"]
    assert titles(client, "?q=_") == ["No due date, with 100% and _ in it"]  # no wildcard

    page = client.get("/api/tasks?per_page=4&page=2").json()
    assert [t["title"] for t in page["items"]] == ["Task 2", "Task 1"]
    assert (page["page"], page["per_page"], page["total"]) == (2, 4, 6)
    past = client.get("/api/tasks?page=9").json()
    assert (past["items"], past["total"]) == ([], 6)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?page=0", [("query", "page", "greater_than_equal")]),
        ("?page=1000001", [("query", "page", "less_than_equal")]),
        ("?per_page=0", [("query", "per_page", "greater_than_equal")]),
        ("?per_page=101", [("query", "per_page", "less_than_equal")]),
        ("?per_page=ten", [("query", "per_page", "int_parsing")]),
        ("?done=maybe", [("query", "done", "bool_parsing")]),
        ("?priority=urgent", [("query", "priority.0", "enum")]),
        ("?order=random", [("query", "order", "enum")]),
        ("?q=" + "x" * 101, [("query", "q", "string_too_long")]),
        ("?page=0&per_page=0", [("query", "page", "greater_than_equal"),
                                ("query", "per_page", "greater_than_equal")]),
    ],
)
def test_invalid_query_parameters_are_422(client: TestClient, query: str,
                                          expected: list[tuple[str, str, str]]) -> None:
    assert problems(client.get(f"/api/tasks{query}")) == expected


@pytest.mark.parametrize("task_id", ["0", "x", "9223372036854775808", "1.5"])
def test_invalid_ids_are_422(client: TestClient, task_id: str) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = client.request(method, f"/api/tasks/{task_id}", json={})
        assert [p[:2] for p in problems(response)] == [("path", "id")]


def test_the_largest_id_is_a_404(client: TestClient) -> None:
    assert client.get("/api/tasks/9223372036854775807").status_code == 404


@pytest.mark.parametrize("task_id", [2**31 - 1, 2**31, 2**32, 2**63 - 2, 2**63 - 1])
def test_ids_past_32_bits_are_404s(client: TestClient, task_id: int) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = client.request(method, f"/api/tasks/{task_id}", json={})
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == f"There is no task {task_id}."


def test_nul_characters_are_refused_before_the_database(client: TestClient) -> None:
    """PostgreSQL cannot store NUL in text: a 400, on every backend, never a 500."""
    for body in ({"title": "\x00"}, {"title": "ok", "notes": "a\x00b"}):
        response = client.post("/api/tasks", json=body)
        assert response.status_code == 400, response.text
        assert "NUL" in response.json()["detail"]
    made = create(client, title="a")
    assert client.patch(f"/api/tasks/{made['id']}", json={"title": "\x00"}).status_code == 400
    for query in ("?q=%00", "?q=a%00b", "?priority=%00"):
        assert client.get(f"/api/tasks{query}").status_code == 400
    assert titles(client) == ["a"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, [("body", "title", "missing")]),
        ({"title": ""}, [("body", "title", "string_too_short")]),
        ({"title": "t" * 201}, [("body", "title", "string_too_long")]),
        ({"title": "t", "notes": "n" * 2001}, [("body", "notes", "string_too_long")]),
        ({"title": 5}, [("body", "title", "string_type")]),
        ({"title": "t", "done": 1}, [("body", "done", "bool_type")]),  # strict: no coercion
        ({"title": "t", "done": "true"}, [("body", "done", "bool_type")]),
        ({"title": "t", "priority": "urgent"}, [("body", "priority", "enum")]),
        ({"title": "t", "due": "tomorrow"}, [("body", "due", "date_parsing")]),
        ({"title": "t", "colour": "red"}, [("body", "colour", "extra_forbidden")]),
        ([], [("body", "", "model_type")]),
    ],
)
def test_invalid_bodies_are_422(client: TestClient, body: Any,
                                expected: list[tuple[str, str, str]]) -> None:
    assert problems(client.post("/api/tasks", json=body)) == expected
    assert titles(client) == []


def test_a_patch_cannot_null_a_required_field(client: TestClient) -> None:
    made = create(client, title="a")
    response = client.patch(f"/api/tasks/{made['id']}", json={"title": None, "done": None})
    assert problems(response) == [("body", "title", "string_type"),
                                  ("body", "done", "bool_type")]


def test_malformed_json_is_400_and_other_media_types_415(client: TestClient) -> None:
    broken = client.post("/api/tasks", content=b'{"title": ',
                         headers={"content-type": "application/json"})
    assert broken.status_code == 400
    assert broken.headers["content-type"] == "application/problem+json"
    assert broken.json()["detail"].startswith("Malformed JSON body")
    xml = client.post("/api/tasks", content=b"<task/>",
                      headers={"content-type": "application/xml"})
    assert xml.status_code == 415
    assert xml.headers["content-type"] == "application/problem+json"
    assert problems(client.post("/api/tasks")) == [("body", "", "missing")]


def test_the_api_is_in_api_mode_whatever_the_client_accepts(client: TestClient) -> None:
    """curl (``*/*``) and browsers get problem JSON under /api; the site's pages stay HTML."""
    token = client.headers.pop("authorization")
    for accept in ("*/*", "text/html,application/xhtml+xml,*/*;q=0.8"):
        headers = {"accept": accept}
        with_token = {**headers, "authorization": token}
        for response, status in (
                (client.get("/api/tasks/999999", headers=headers), 404),
                (client.get("/api/nothing", headers=headers), 404),
                (client.put("/api/tasks/1", headers=headers), 405),
                (client.post("/api/tasks", json={"title": "x"}, headers=headers), 401),
                (client.post("/api/auth/token", json={}, headers=headers), 422),
                (client.post("/api/tasks", content=b"<task/>",
                             headers={**with_token, "content-type": "application/xml"}), 415),
                (client.post("/api/tasks", content=b"title=x",
                             headers={**headers, "content-type": "text/plain"}), 403)):
            assert response.status_code == status, response.text
            assert response.headers["content-type"] == "application/problem+json"
        page = client.get("/nothing", headers=headers)
        assert (page.status_code, page.headers["content-type"]) == (
            404, "text/html; charset=utf-8")


def test_api_clients_pass_the_csrf_check(client: TestClient) -> None:
    """Scripts and API clients send a token, or post JSON, with no cookie and no CSRF
    token: nothing to forge.  A body an HTML form could send without a token, or a
    request carrying cookies, is checked."""
    assert "cookie" not in client.build_request("POST", "/api/tasks").headers
    create(client, title="from a script")
    token = client.headers.pop("authorization")
    assert client.post("/api/auth/token", json={"username": "ada", "password": PASSWORD}
                       ).status_code == 200  # JSON, no token: the login itself
    form_like = client.post("/api/tasks", content=b"title=x",
                            headers={"content-type": "text/plain"})
    assert form_like.status_code == 403
    client.cookies.set("heron_session", "anything")
    with_cookie = client.post("/api/tasks", json={"title": "x"},
                              headers={"authorization": token})
    assert with_cookie.status_code == 403
    assert titles(client) == ["from a script"]


# -- tokens ----------------------------------------------------------------------------


def test_signing_up_and_logging_in_give_tokens_that_write(client: TestClient) -> None:
    client.headers.pop("authorization")
    signup = client.post("/api/auth/register", json={
        "username": "grace", "password": PASSWORD, "email": "grace@example.com",
        "token_name": "laptop"})
    assert signup.status_code == 201, signup.text
    assert signup.json()["token"].startswith("heron_")
    assert signup.json()["token_type"] == "bearer"
    assert signup.headers["cache-control"] == "no-store"

    login = client.post("/api/auth/token", json={"username": "grace", "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = login.json()["token"]
    assert token != signup.json()["token"]  # each login makes a new token
    made = client.post("/api/tasks", json={"title": "Signed"},
                       headers={"authorization": f"Bearer {token}"})
    assert made.status_code == 201, made.text

    wrong = client.post("/api/auth/token", json={"username": "grace", "password": "nope"})
    assert wrong.status_code == 400
    assert wrong.headers["content-type"] == "application/problem+json"
    taken = client.post("/api/auth/register", json={
        "username": "Grace", "password": PASSWORD, "email": "g2@example.com"})
    assert taken.status_code == 409


def test_writes_need_a_token_and_reads_do_not(client: TestClient) -> None:
    made = create(client, title="Kept")
    url = f"/api/tasks/{made['id']}"
    client.headers.pop("authorization")
    for response in (client.post("/api/tasks", json={"title": "x"}),
                     client.patch(url, json={"done": True}),
                     client.delete(url)):
        refused(response, 'Bearer realm="api"')
    # the guard answers before the body is read or the task looked up
    refused(client.post("/api/tasks", json={"title": ""}), 'Bearer realm="api"')
    refused(client.delete("/api/tasks/999999"), 'Bearer realm="api"')
    assert client.get(url).json() == made
    assert titles(client) == ["Kept"]


@pytest.mark.parametrize("authorization", [
    "Bearer heron_not-a-token",
    "Bearer not-even-heron's",
])
def test_a_wrong_token_is_401(client: TestClient, authorization: str) -> None:
    made = create(client, title="Kept")
    headers = {"authorization": authorization}
    for response in (client.post("/api/tasks", json={"title": "x"}, headers=headers),
                     client.patch(f"/api/tasks/{made['id']}", json={"done": True},
                                  headers=headers),
                     client.delete(f"/api/tasks/{made['id']}", headers=headers)):
        refused(response, 'Bearer error="invalid_token"')
    assert titles(client) == ["Kept"]


def test_another_scheme_is_401_naming_bearer(client: TestClient) -> None:
    token = client.headers.pop("authorization").removeprefix("Bearer ")
    refused(client.post("/api/tasks", json={"title": "x"},
                        headers={"authorization": f"Token {token}"}), "Bearer")


def test_a_revoked_token_stops_working(client: TestClient) -> None:
    other = register(client, "grace")
    assert client.post("/api/auth/token/revoke").status_code == 204
    refused(client.post("/api/tasks", json={"title": "x"}), 'Bearer error="invalid_token"')
    made = client.post("/api/tasks", json={"title": "x"},
                       headers={"authorization": f"Bearer {other}"})
    assert made.status_code == 201  # the other user's token still works


def test_health(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok"}


def test_openapi_document_describes_the_api(client: TestClient) -> None:
    from openapi_spec_validator import validate

    response = client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert schema["info"]["title"] == "Tasks API"
    paths = schema["paths"]
    assert set(paths) == {"/api/tasks", "/api/tasks/{id}", "/api/health", "/api/auth/register",
                          "/api/auth/token", "/api/auth/token/revoke"}
    assert set(paths["/api/tasks"]) == {"get", "post"}
    assert set(paths["/api/tasks/{id}"]) == {"get", "patch", "delete"}
    assert "201" in paths["/api/tasks"]["post"]["responses"]
    assert "204" in paths["/api/tasks/{id}"]["delete"]["responses"]
    assert "404" in paths["/api/tasks/{id}"]["get"]["responses"]
    assert paths["/api/tasks"]["get"]["tags"] == ["tasks"]
    assert paths["/api/health"]["get"]["tags"] == ["meta"]
    query = {p["name"]: p for p in paths["/api/tasks"]["get"]["parameters"]}
    assert set(query) == {"page", "per_page", "done", "priority", "q", "order"}
    assert query["per_page"]["schema"]["maximum"] == 100
    # The writes need a token, and say so; the reads are public.
    assert "bearerAuth" in schema["components"]["securitySchemes"]
    writes = [paths["/api/tasks"]["post"], paths["/api/tasks/{id}"]["patch"],
              paths["/api/tasks/{id}"]["delete"]]
    for operation in writes:
        assert {"bearerAuth": []} in operation["security"]
        assert "401" in operation["responses"]
    for operation in (paths["/api/tasks"]["get"], paths["/api/tasks/{id}"]["get"]):
        assert "security" not in operation
        assert "401" not in operation["responses"]
    assert paths["/api/auth/token"]["post"]["tags"] == ["auth"]
    assert "security" not in paths["/api/auth/register"]["post"]


# -- migrations ----------------------------------------------------------------------


def heron_db(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``heron db --app examples.api.app:app ARGS`` in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env["HERON_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    heron = Path(sys.executable).with_name("heron")
    return subprocess.run([str(heron), "db", "--app", f"{MODULE}:app", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_committed_migrations_match_the_models(tmp_path: Path, backend: str,
                                               request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_server").create_database(
            f"api_fresh_{uuid.uuid4().hex[:12]}")
    assert heron_db("check", database_url=url, cwd=tmp_path).returncode == 1  # not applied
    migrated = heron_db("migrate", database_url=url, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    checked = heron_db("check", database_url=url, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "Models and migrations agree" in checked.stdout


def test_the_home_page_links_to_the_documentation(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for link in ('href="/docs"', 'href="/openapi.json"', 'href="/api/tasks"'):
        assert link in response.text
    # a page for people, not part of the API's contract
    assert "/" not in client.get("/openapi.json").json()["paths"]
