"""Throwaway real servers (heron.testing.servers) and the plugin fixtures around them."""

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

import psycopg
import pytest
import redis
import sqlalchemy

from heron.testing import servers
from heron.testing.servers import (
    PostgresServer,
    RedisServer,
    ServerError,
    ServerUnavailable,
    require_server,
    start_or_skip,
)

pytest_plugins = ["pytester"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _children(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


# -- Redis ---------------------------------------------------------------------------


def test_redis_server_answers_and_stop_leaves_nothing_behind() -> None:
    server = RedisServer()
    with server:
        assert server.running
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        client = redis.Redis.from_url(server.url)
        assert client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"
        assert client.config_get("bind") == {"bind": "127.0.0.1"}
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("dir")["dir"] == str(server.tmpdir.resolve())
        client.close()
        pid, port, tmpdir = server.pid, server.port, server.tmpdir
        assert pid is not None
        assert tmpdir.is_dir()
    assert not server.running
    assert server.pid is None
    assert not tmpdir.exists()
    assert not _alive(pid)
    assert not _port_open(port)
    server.stop()  # twice is fine


def test_redis_command_and_flushall() -> None:
    with RedisServer() as server:
        assert server.command("PING") == b"+PONG"
        assert server.command("SET", "k", "v") == b"+OK"
        client = redis.Redis.from_url(server.url_for(3))
        client.set("other", "db")
        server.flushall()
        assert client.dbsize() == 0
        assert redis.Redis.from_url(server.url).get("k") is None
        client.close()
        with pytest.raises(ServerError, match="unknown command"):
            server.command("NOSUCHCOMMAND")


def test_server_stops_when_the_with_block_raises() -> None:
    server = RedisServer()
    seen: list[Path] = []

    def use_and_fail() -> None:
        with server:
            seen.append(server.tmpdir)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        use_and_fail()
    assert not server.running
    assert not seen[0].exists()


def test_url_before_start_is_an_error() -> None:
    with pytest.raises(ServerError, match="not running"):
        _ = RedisServer().url
    with pytest.raises(ServerError, match="not running"):
        _ = PostgresServer().url


def test_redis_url_fixture(redis_url: str, redis_server: RedisServer) -> None:
    assert redis_url == redis_server.url
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    client.set("left", "behind")  # the next user of redis_url must not see it
    client.close()


# -- PostgreSQL ----------------------------------------------------------------------


def test_postgres_server_runs_sql_and_stop_leaves_nothing_behind() -> None:
    server = PostgresServer()
    with server:
        assert server.url == f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/postgres"
        with psycopg.connect(server.dsn) as conn:
            conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
            conn.execute("INSERT INTO notes (body) VALUES (%s), (%s)", ("one", "two"))
            rows = conn.execute("SELECT body FROM notes ORDER BY id").fetchall()
            assert rows == [("one",), ("two",)]
            listen = conn.execute("SHOW listen_addresses").fetchone()
            assert listen == ("127.0.0.1",)
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
        pid, port, tmpdir = server.pid, server.port, server.tmpdir
        assert pid is not None
        if os.geteuid() == 0:  # PostgreSQL refuses root: it runs as another user
            assert (tmpdir / "data").stat().st_uid != 0
            status = Path(f"/proc/{pid}/status").read_text()
            uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
            assert uid_line.split()[1] != "0"
        children = _children(pid)
        assert children  # checkpointer, walwriter, ...
    assert not server.running
    assert not tmpdir.exists()
    assert not _port_open(port)
    assert not [p for p in [pid, *children] if _alive(p)]


def test_postgres_create_database(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("heron_test_app")
    assert url == postgres_server.url_for("heron_test_app")
    assert url.endswith(f":{postgres_server.port}/heron_test_app")
    engine = sqlalchemy.create_engine(url)  # the URL is SQLAlchemy's, driver psycopg
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("CREATE TABLE t (x int)"))
        conn.execute(sqlalchemy.text("INSERT INTO t VALUES (41), (1)"))
        total = conn.execute(sqlalchemy.text("SELECT sum(x) FROM t")).scalar_one()
        assert total == 42
        assert conn.execute(sqlalchemy.text("SELECT current_database()")).scalar_one() == (
            "heron_test_app"
        )
    engine.dispose()
    with pytest.raises(ServerError, match="already exists"):
        postgres_server.create_database("heron_test_app")


def test_postgres_create_database_quotes_the_name(postgres_server: PostgresServer) -> None:
    name = 'odd "name"; DROP'
    url = postgres_server.create_database(name)
    with psycopg.connect(postgres_server.url_for(name, driver=None)) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (name,)
    assert "%22" in url
    assert " " not in url


# -- never leaving anything behind ----------------------------------------------------


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port of 127.0.0.1 that something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("server_class", [RedisServer, PostgresServer])
def test_a_port_taken_meanwhile_is_retried(
    server_class: type[RedisServer | PostgresServer], taken_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ports = iter([taken_port])
    real_free_port = servers._free_port
    monkeypatch.setattr(servers, "_free_port", lambda: next(ports, None) or real_free_port())
    with server_class() as server:
        assert server.port != taken_port
        assert server.running


def _run_script(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, text=True,
    )


def test_servers_are_stopped_at_exit_without_stop() -> None:
    script = _run_script("""
        from heron.testing.servers import RedisServer
        server = RedisServer().start()
        print(server.pid, server.tmpdir, flush=True)
    """)
    out, _ = script.communicate(timeout=60)
    pid, tmpdir = out.split()
    assert script.returncode == 0
    assert not _alive(int(pid))
    assert not Path(tmpdir).exists()


def test_servers_die_with_a_killed_test_process() -> None:
    script = _run_script("""
        import time
        from heron.testing.servers import RedisServer
        server = RedisServer().start()
        print(server.pid, server.tmpdir, flush=True)
        time.sleep(60)
    """)
    assert script.stdout is not None
    pid, tmpdir = script.stdout.readline().split()
    try:
        assert _alive(int(pid))
    finally:
        script.send_signal(signal.SIGKILL)  # no atexit: the kernel's parent-death signal
        script.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while _alive(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(int(pid))
    Path(tmpdir).joinpath("redis.log").unlink()  # what SIGKILL leaves: the directory
    Path(tmpdir).rmdir()


# -- missing binaries ----------------------------------------------------------------


@pytest.mark.parametrize(
    "server",
    [RedisServer(executable="/nonexistent/redis-server"), PostgresServer(bin_dir="/nonexistent")],
    ids=["redis", "postgres"],
)
def test_missing_binary_raises_server_unavailable(server: RedisServer | PostgresServer) -> None:
    with pytest.raises(ServerUnavailable, match="/nonexistent") as info:
        server.start()
    assert "install" in info.value.reason
    assert not server.running


@pytest.mark.parametrize(
    "server",
    [RedisServer(executable="/nonexistent/redis-server"), PostgresServer(bin_dir="/nonexistent")],
    ids=["redis", "postgres"],
)
def test_missing_binary_skips_outside_ci(
    server: RedisServer | PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not found"):
        start_or_skip(server)


@pytest.mark.parametrize(
    "server",
    [RedisServer(executable="/nonexistent/redis-server"), PostgresServer(bin_dir="/nonexistent")],
    ids=["redis", "postgres"],
)
def test_missing_binary_fails_under_ci(
    server: RedisServer | PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"not found.*CI=true"):
        start_or_skip(server)


@pytest.mark.parametrize(("ci", "outcome"), [
    (None, pytest.skip.Exception), ("false", pytest.skip.Exception), ("", pytest.skip.Exception),
    ("true", pytest.fail.Exception), ("TRUE", pytest.fail.Exception),
])
def test_require_server(
    ci: str | None, outcome: type[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no redis here"):
        require_server("no redis here")


# -- the plugin's fixtures in a user's project ---------------------------------------


def test_plugin_server_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_project="""
        import sys

        import psycopg
        import redis

        def test_plugin_imports_servers_only_when_asked():
            assert "heron.testing.servers" not in sys.modules

        def test_first(redis_url):
            client = redis.Redis.from_url(redis_url)
            assert client.dbsize() == 0
            client.set("key", "value")

        def test_second_sees_a_flushed_db(redis_url):
            assert redis.Redis.from_url(redis_url).dbsize() == 0

        def test_postgres(postgres_server):
            url = postgres_server.create_database("project_test")
            assert url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
            with psycopg.connect(postgres_server.url_for("project_test", driver=None)) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
    """)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=4)
