"""The cache session backend on a real Redis (the ``redis_url`` fixture): sessions shared
by separate apps (processes), TTLs in Redis, and a Redis that is down -> 503."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from session_helpers import add_session_views, cookie_value, is_deletion, set_cookie

from heron import App
from heron.testing import TestClient
from heron.testing.servers import RedisServer, start_or_skip

SessionAppFactory = Any
#: Where a session lives in Redis: ``<cache_key_prefix><cache version>:session:<key>``.
PREFIX = "heron:default:1:session:"


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sessions_are_stored_in_redis(session_app: SessionAppFactory, redis_url: str,
                                      redis_client: redis.Redis) -> None:
    app = session_app(session_backend="cache", cache_url=redis_url, session_max_age=600)
    with TestClient(app) as client:
        client.get("/set", params={"user": "ada"})
        key = client.cookies["heron_session"]
        assert redis_client.keys("*") == [(PREFIX + key).encode()]
        ttl = redis_client.ttl(PREFIX + key)
        assert 590 <= ttl <= 600
        assert client.get("/read").json() == {"data": {"user": "ada"}, "is_new": False}


def test_two_apps_share_sessions_through_redis(session_app: SessionAppFactory,
                                               redis_url: str,
                                               redis_client: redis.Redis) -> None:
    """Two App instances (as two server processes would be) on one Redis."""
    first = session_app(session_backend="cache", cache_url=redis_url)
    second = session_app(session_backend="cache", cache_url=redis_url, secret_key="other")
    with TestClient(first) as one, TestClient(second) as two:
        one.get("/set", params={"user": "ada"})
        key = one.cookies["heron_session"]
        two.cookies.set("heron_session", key)
        assert two.get("/read").json() == {"data": {"user": "ada"}, "is_new": False}
        # A write on the second is seen by the first.
        two.get("/set", params={"cart": "2"})
        assert one.get("/read").json()["data"] == {"user": "ada", "cart": "2"}
        # cycle_key on the first kills the old key for the second too.
        new = cookie_value(set_cookie(one.get("/login", params={"user": "bob"})))
        assert new != key
        assert two.get("/read").json() == {"data": {}, "is_new": True}
        two.cookies.clear()
        two.cookies.set("heron_session", new)
        assert two.get("/read").json()["data"] == {"user": "bob", "cart": "2"}
        # flush on the second logs the first out.
        assert is_deletion(set_cookie(two.get("/logout")))
        assert redis_client.exists(PREFIX + new) == 0
        assert one.get("/read").json()["data"] == {}


def test_cycle_key_and_flush_in_redis(session_app: SessionAppFactory, redis_url: str,
                                      redis_client: redis.Redis) -> None:
    app = session_app(session_backend="cache", cache_url=redis_url)
    with TestClient(app) as client:
        client.get("/set", params={"a": "1"})
        old = client.cookies["heron_session"]
        new = cookie_value(set_cookie(client.get("/login")))
        assert redis_client.exists(PREFIX + old) == 0
        assert redis_client.exists(PREFIX + new) == 1
        client.get("/logout")
        assert redis_client.exists(PREFIX + new) == 0


def test_server_side_expiry_is_enforced_even_if_redis_still_has_the_record(
    session_app: SessionAppFactory, redis_url: str, redis_client: redis.Redis
) -> None:
    app = session_app(session_backend="cache", cache_url=redis_url)
    key = "k" * 43
    redis_client.set(PREFIX + key, b'{"data":{"user":"ada"},"expires":1000.0}', ex=600)
    with TestClient(app) as client:
        client.cookies.set("heron_session", key)
        response = client.get("/read")
        assert response.status_code == 200
        assert response.json() == {"data": {}, "is_new": True}
        assert cookie_value(set_cookie(response)) != key


def test_redis_ttl_expires_the_session(session_app: SessionAppFactory, redis_url: str,
                                       redis_client: redis.Redis) -> None:
    app = session_app(session_backend="cache", cache_url=redis_url)
    with TestClient(app) as client:
        client.get("/set", params={"a": "1"})
        key = client.cookies["heron_session"]
        redis_client.pexpire(PREFIX + key, 1)  # Redis forgets it (as after session_max_age)
        time.sleep(0.01)
        assert client.get("/read").json() == {"data": {}, "is_new": True}


def test_garbage_in_redis_is_an_empty_session(session_app: SessionAppFactory, redis_url: str,
                                              redis_client: redis.Redis,
                                              caplog: pytest.LogCaptureFixture) -> None:
    app = session_app(session_backend="cache", cache_url=redis_url)
    key = "g" * 43
    redis_client.set(PREFIX + key, b'{"data": "not a dict", "expires": 9e12}')
    with TestClient(app) as client:
        client.cookies.set("heron_session", key)
        response = client.get("/read")
        assert response.status_code == 200, caplog.text
        assert response.json()["data"] == {}


def test_websocket_reads_a_redis_session(session_app: SessionAppFactory, redis_url: str) -> None:
    app = session_app(session_backend="cache", cache_url=redis_url)
    with TestClient(app) as client:
        client.get("/set", params={"user": "ada"})
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_json() == {"data": {"user": "ada"}, "is_new": False}


# -- Redis down --------------------------------------------------------------------------------


def assert_generic_503(response: Any, *secrets: str) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert "unavailable" in response.text.lower()
    assert response.headers.get_list("set-cookie") == []
    for forbidden in ("Traceback", "ConnectionError", "redis", "127.0.0.1", *secrets):
        assert forbidden not in response.text


def assert_logged(caplog: pytest.LogCaptureFixture) -> None:
    records = [r for r in caplog.records if r.name == "heron.error"]
    assert records, "the failure was not logged on heron.error"
    assert any("unreachable" in r.getMessage() or "store failed" in r.getMessage()
               for r in records), [r.getMessage() for r in records]
    assert all(r.levelno >= logging.ERROR for r in records)


@pytest.mark.parametrize("path", ["/set?a=1", "/read"])
@pytest.mark.parametrize("with_cookie", [False, True])
def test_redis_on_a_closed_port_answers_503_fast(make_app: Any,
                                                 caplog: pytest.LogCaptureFixture,
                                                 path: str, with_cookie: bool) -> None:
    url = f"redis://:hunter2@127.0.0.1:{closed_port()}/0"
    app = add_session_views(make_app(session_backend="cache", cache_url=url))
    with TestClient(app) as client:
        if with_cookie:
            client.cookies.set("heron_session", "k" * 43)
        started = time.monotonic()
        with caplog.at_level(logging.ERROR, "heron.error"):
            response = client.get(path)
        assert time.monotonic() - started < 4
        if path == "/read" and not with_cookie:
            # Nothing to load and nothing to save: Redis is never asked.
            assert response.status_code == 200
            return
        assert_generic_503(response, "hunter2")
        assert_logged(caplog)
        assert "hunter2" not in caplog.text
        # Pages that do not need the session still work.
        if not with_cookie:
            assert client.get("/noop").status_code == 200


def test_redis_down_fails_only_the_views_that_use_the_session(
        make_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    """docs/sessions.md: with a session cookie and the store down, the session is
    preloaded in vain, but only a view that touches it gets the 503."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    app = add_session_views(make_app(session_backend="cache", cache_url=url))
    with TestClient(app) as client:
        client.cookies.set("heron_session", "k" * 43)
        with caplog.at_level(logging.ERROR, "heron.error"):
            response = client.get("/noop")
        assert (response.status_code, response.text) == (200, "noop")
        assert response.headers.get_list("set-cookie") == []
        assert not [r for r in caplog.records if r.name == "heron.error"]
        with caplog.at_level(logging.ERROR, "heron.error"):
            assert_generic_503(client.get("/read"))
        assert_logged(caplog)


def test_redis_on_a_closed_port_in_debug_is_still_a_503(make_app: Any,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    app = add_session_views(make_app(session_backend="cache", cache_url=url, debug=True))
    with TestClient(app) as client, caplog.at_level(logging.ERROR, "heron.error"):
        response = client.get("/set", params={"a": "1"})
    assert response.status_code == 503
    assert "retry-after" in response.headers
    assert_logged(caplog)


def ws_with_redis_down(make_app: Any) -> Any:
    from heron import WebSocketDisconnect

    url = f"redis://127.0.0.1:{closed_port()}/0"
    app = add_session_views(make_app(session_backend="cache", cache_url=url))
    with TestClient(app) as client:
        client.cookies.set("heron_session", "k" * 43)
        started = time.monotonic()
        with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/ws") as ws:
            ws.receive_json()
        assert time.monotonic() - started < 4
    return info.value


def test_a_websocket_with_redis_down_is_closed_not_hung(make_app: Any) -> None:
    closed = ws_with_redis_down(make_app)
    assert closed.code != 1000
    assert "Traceback" not in (closed.reason or "")


def test_a_websocket_with_redis_down_is_logged_and_closed_as_a_server_error(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, "heron.error"):
        closed = ws_with_redis_down(make_app)
    assert any(r.name == "heron.error" for r in caplog.records)
    assert closed.code in (1011, 1013)  # internal error / try again later


def test_redis_stopping_mid_life_answers_503(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A Redis that was up (connections pooled) and then goes away."""
    server = start_or_skip(RedisServer())
    try:
        app = add_session_views(make_app(session_backend="cache", cache_url=server.url))
        with TestClient(app) as client:
            client.get("/set", params={"a": "1"})
            assert client.get("/read").json()["data"] == {"a": "1"}
            server.stop()
            started = time.monotonic()
            with caplog.at_level(logging.ERROR, "heron.error"):
                response = client.get("/read")
            assert time.monotonic() - started < 4
            assert_generic_503(response)
            assert_logged(caplog)
    finally:
        server.stop()


def test_dropped_redis_connections_are_not_a_503(session_app: SessionAppFactory,
                                                redis_url: str,
                                                redis_client: redis.Redis) -> None:
    """Redis closing pooled connections (a restart, its idle ``timeout``) is retried."""
    app = session_app(session_backend="cache", cache_url=redis_url)
    with TestClient(app) as client:
        client.get("/set", params={"a": "1"})
        for _ in range(3):
            redis_client.client_kill_filter(_type="normal", skipme=True)
            response = client.get("/read")
            assert response.status_code == 200
            assert response.json()["data"] == {"a": "1"}
        redis_client.client_kill_filter(_type="normal", skipme=True)
        assert client.get("/set", params={"b": "2"}).status_code == 200
        assert client.get("/read").json()["data"] == {"a": "1", "b": "2"}


def test_a_redis_that_never_answers_times_out(make_app: Any,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """A Redis that accepts connections but never answers: 503 after the timeout, no hang."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        app = add_session_views(make_app(session_backend="cache",
                                         cache_url=f"redis://127.0.0.1:{port}/0?timeout=0.3"))
        assert app.cache.store.timeout == 0.3  # type: ignore[attr-defined]
        with TestClient(app) as client:
            client.cookies.set("heron_session", "k" * 43)
            started = time.monotonic()
            with caplog.at_level(logging.ERROR, "heron.error"):
                response = client.get("/read")
            assert time.monotonic() - started < 4
        assert_generic_503(response)
        assert any("TimeoutError" in r.getMessage() for r in caplog.records)


def test_the_real_redis_cache_is_used(make_app: Any, redis_url: str) -> None:
    from heron.cache.redis import RedisStore

    app: App = make_app(session_backend="cache", cache_url=redis_url)
    assert isinstance(app.cache.store, RedisStore)
    assert app.sessions.backend.cache.store is app.cache.store  # type: ignore[attr-defined]
