"""Login throttling holds across processes: two ``heron run`` servers of one app share
a real Redis (``cache_url``) and one SQLite database; failed logins alternate
between them, and past the limit both answer 429 with ``Retry-After``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from auth_helpers import FAST_HASHING, PASSWORD, AuthAppFactory, make_user

from heron.db.migrations import Migrations
from heron.testing.servers import RedisServer

LIMIT = 4  # failures per username
IP_LIMIT = 7  # failures per client address

APP = """
import os

from heron import App, Request
from heron.auth import aauthenticate

app = App(
    components=["heron.auth"],
    secret_key="a secret key shared by both processes",
    allowed_hosts=["127.0.0.1"],
    database_url=os.environ["TEST_DATABASE_URL"],
    cache_url=os.environ["TEST_CACHE_URL"],
    login_throttle_limit={limit},
    login_throttle_ip_limit={ip_limit},
    login_throttle_window=600,
    **{hashing!r},
)


@app.get("/")
async def index() -> str:
    return "ready"


@app.post("/login")
async def login(request: Request) -> dict:
    data = await request.json()
    user = await aauthenticate(request, data["username"], data["password"])
    return {{"user": user.get_username() if user else None, "pid": os.getpid()}}
"""


class Server:
    """``heron run throttled:app`` on a free port of 127.0.0.1."""

    def __init__(self, root: Path, env: dict[str, str], name: str) -> None:
        self.root = root
        self.env = env
        self.log = root / f"{name}.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        for _ in range(3):  # another process may take the free port first
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                self.port = sock.getsockname()[1]
            with self.log.open("ab") as out:
                self.process = subprocess.Popen(
                    [str(Path(sys.executable).with_name("heron")), "run", "throttled:app",
                     "--host", "127.0.0.1", "--port", str(self.port)],
                    cwd=self.root, env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                    stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if httpx.get(self.url, timeout=1).text == "ready":
                        return self
                except httpx.TransportError:
                    time.sleep(0.1)
            self.stop()
        pytest.fail(f"heron run did not start:\n{self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def login(self, username: str, password: str) -> httpx.Response:
        return httpx.post(f"{self.url}/login", json={"username": username,
                                                      "password": password}, timeout=10)


@pytest.fixture
def servers(tmp_path: Path, redis_server: RedisServer, redis_url: str,
            auth_app: AuthAppFactory) -> Iterator[tuple[Server, Server]]:
    database_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    app = auth_app(database_url=database_url)  # the same models and database
    Migrations(app).migrate()
    make_user(app, "alice")
    make_user(app, "bob")
    (tmp_path / "throttled.py").write_text(textwrap.dedent(APP.format(
        limit=LIMIT, ip_limit=IP_LIMIT, hashing=FAST_HASHING)))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HERON_") and k != "PYTHONPATH"}
    env.update(TEST_DATABASE_URL=database_url, TEST_CACHE_URL=redis_url,
               PYTHONDONTWRITEBYTECODE="1")
    first, second = Server(tmp_path, env, "first"), Server(tmp_path, env, "second")
    try:
        yield first.start(), second.start()
    finally:
        first.stop()
        second.stop()


def test_failures_are_counted_across_processes(servers: tuple[Server, Server],
                                               redis_server: RedisServer) -> None:
    first, second = servers
    pids = set()
    for attempt in range(LIMIT):  # alternate between the two processes
        server = (first, second)[attempt % 2]
        response = server.login("alice", "wrong password")
        assert response.status_code == 200
        assert response.json()["user"] is None
        pids.add(response.json()["pid"])
    assert len(pids) == 2  # two processes really answered
    assert int(redis_server.command("DBSIZE")[1:]) > 0  # the counts live in Redis

    for server in (first, second):
        # over the limit on either process, even with the right password,
        # and the username's case changes nothing
        for username in ("alice", "ALICE"):
            response = server.login(username, PASSWORD)
            assert response.status_code == 429
            assert 1 <= int(response.headers["retry-after"]) <= 600
    # another username is not throttled ...
    assert first.login("bob", PASSWORD).json()["user"] == "bob"
    # ... until the address has failed too often, whoever it names
    for _ in range(IP_LIMIT - LIMIT):
        assert second.login("bob", "wrong password").status_code == 200
    response = first.login("bob", PASSWORD)
    assert response.status_code == 429
    assert "retry-after" in response.headers


def test_a_success_resets_the_username_count(servers: tuple[Server, Server]) -> None:
    first, second = servers
    for server in (first, second) * ((LIMIT - 1) // 2) + (first,) * ((LIMIT - 1) % 2):
        assert server.login("alice", "wrong password").json()["user"] is None
    assert second.login("alice", PASSWORD).json()["user"] == "alice"
    for _ in range(LIMIT - 1):  # the count started again
        assert first.login("alice", "wrong password").status_code == 200
    assert second.login("alice", PASSWORD).status_code == 200
