"""Session backends: bad, tampered and expired cookies, key rotation, the cache backend's
keys, server-side expiry and TTL, and pluggable backends (heron.sessions.E001, E004)."""

from __future__ import annotations

import re
import sys
import time
import types
from typing import Any, ClassVar

import orjson
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from session_helpers import (
    add_session_views,
    cookie_value,
    is_deletion,
    set_cookie,
    set_cookie_headers,
)

from heron import App, Request
from heron.exceptions import ImproperlyConfigured
from heron.sessions import CacheSessionBackend, CookieSessionBackend, SessionBackend
from heron.sessions.backends import _JSONSerializer
from heron.testing import TestClient

SessionAppFactory = Any
SECRET = "test-secret-key"  # make_app's
#: Where the cache backend keeps a session: ``<cache_key_prefix><cache version>:session:<key>``.
SESSION_PREFIX = "heron:default:1:session:"


def sign(data: Any, secret: str = SECRET, salt: str = "heron.sessions", age: int = 0) -> str:
    """A cookie-session value as heron makes it, optionally ``age`` seconds old."""

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    serializer = URLSafeTimedSerializer(secret, salt=salt, serializer=_JSONSerializer,
                                        signer=Signer)
    return serializer.dumps(data)


def read_with_cookie(client: TestClient, value: str, path: str = "/read") -> Any:
    header = f"heron_session={value}".encode("latin-1")  # as a browser may send it
    return client.get(path, headers={"cookie": header})  # type: ignore[dict-item]


def stored_sessions(app: App) -> dict[str, Any]:
    """The records of a memory:// cache backend, by session key."""
    store = app.cache.store
    return {key.removeprefix(SESSION_PREFIX): orjson.loads(value)
            for key, (value, _) in store._data.items()  # type: ignore[attr-defined]
            if key.startswith(SESSION_PREFIX)}


# -- cookie backend: bad cookies ------------------------------------------------------


def test_a_valid_signed_cookie_is_accepted(session_app: SessionAppFactory) -> None:
    app = session_app()
    with TestClient(app) as client:
        response = read_with_cookie(client, sign({"user": "ada"}))
        assert response.json() == {"data": {"user": "ada"}, "is_new": False}
        assert set_cookie_headers(response) == []


def tampered(value: str) -> str:
    payload, _, signature = value.rpartition(".")
    flipped = "A" if signature[0] != "A" else "B"
    return f"{payload}.{flipped}{signature[1:]}"


def tampered_payload(value: str) -> str:
    # Same signature, different data: {"user": "root"} instead of {"user": "ada"}.
    import base64

    _, timestamp, signature = value.split(".")
    forged = base64.urlsafe_b64encode(b'{"user":"root"}').rstrip(b"=").decode()
    return f"{forged}.{timestamp}.{signature}"


BAD_COOKIES = {
    "tampered signature": lambda: tampered(sign({"user": "ada"})),
    "tampered payload": lambda: tampered_payload(sign({"user": "ada"})),
    "other secret": lambda: sign({"user": "ada"}, secret="someone-else"),
    "other salt": lambda: sign({"user": "ada"}, salt="heron.csrf"),
    "expired": lambda: sign({"user": "ada"}, age=15 * 24 * 3600),
    "not a dict": lambda: sign(["user", "ada"]),
    "json null": lambda: sign(None),
    "garbage": lambda: "garbage",
    "dots": lambda: "a.b.c",
    "bad base64": lambda: "!!!!.$$$$.%%%%",
    "compressed junk": lambda: ".eJzLSM3JyVcozy_KSQEAGgQEXQ.ZZZZZZ.abc",
    "long": lambda: "A" * 10_000,
    "non-ascii": lambda: "caf\xe9",
    "server-side key": lambda: CacheSessionBackend.new_key(),
}


@pytest.mark.parametrize("make_cookie", BAD_COOKIES.values(), ids=BAD_COOKIES.keys())
def test_a_bad_cookie_is_an_empty_session_and_a_fresh_cookie_is_issued(
    session_app: SessionAppFactory, make_cookie: Any
) -> None:
    app = session_app()
    with TestClient(app) as client:
        response = read_with_cookie(client, make_cookie())
        assert response.status_code == 200
        assert response.json() == {"data": {}, "is_new": True}
        fresh = cookie_value(set_cookie(response))
        assert not is_deletion(set_cookie(response))
        # The fresh cookie is valid: sent back, it is read without a new Set-Cookie.
        again = read_with_cookie(client, fresh)
        assert again.json() == {"data": {}, "is_new": False}
        assert set_cookie_headers(again) == []


@pytest.mark.parametrize("make_cookie", BAD_COOKIES.values(), ids=BAD_COOKIES.keys())
def test_a_bad_cookie_can_be_replaced_by_new_data(session_app: SessionAppFactory,
                                                  make_cookie: Any) -> None:
    app = session_app()
    with TestClient(app) as client:
        header = f"heron_session={make_cookie()}".encode("latin-1")
        response = client.get("/set", params={"a": "1"},
                              headers={"cookie": header})  # type: ignore[dict-item]
        assert response.status_code == 200
        fresh = cookie_value(set_cookie(response))
        assert read_with_cookie(client, fresh).json()["data"] == {"a": "1"}


def test_a_bad_cookie_on_a_page_that_ignores_the_session(session_app: SessionAppFactory) -> None:
    app = session_app()
    with TestClient(app) as client:
        response = read_with_cookie(client, "garbage", "/noop")
        assert response.status_code == 200
        assert response.headers.get_list("set-cookie") == []


def test_a_cookie_within_max_age_is_accepted(session_app: SessionAppFactory) -> None:
    app = session_app(session_max_age=60)
    with TestClient(app) as client:
        assert read_with_cookie(client, sign({"a": 1}, age=50)).json()["data"] == {"a": 1}
        assert read_with_cookie(client, sign({"a": 1}, age=70)).json()["data"] == {}


def test_expiry_uses_the_signature_time_not_the_browser(session_app: SessionAppFactory,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    app = session_app(session_max_age=60)
    with TestClient(app) as client:
        client.get("/set", params={"a": "1"})
        assert client.get("/read").json()["data"] == {"a": "1"}
        # Two minutes later, as itsdangerous sees it.
        import itsdangerous.timed

        real = time.time
        monkeypatch.setattr(itsdangerous.timed, "time",
                            types.SimpleNamespace(time=lambda: real() + 120))
        response = client.get("/read")
        assert response.json() == {"data": {}, "is_new": True}
        set_cookie(response)


def test_expire_at_browser_close_still_expires_server_side(
    session_app: SessionAppFactory,
) -> None:
    app = session_app(session_max_age=60, session_expire_at_browser_close=True)
    with TestClient(app) as client:
        assert read_with_cookie(client, sign({"a": 1}, age=70)).json()["data"] == {}


def test_the_cookie_is_signed_not_encrypted(session_app: SessionAppFactory) -> None:
    app = session_app()
    with TestClient(app) as client:
        client.get("/set", params={"user": "ada"})
        value = client.cookies["heron_session"]
    serializer = URLSafeTimedSerializer(SECRET, salt="heron.sessions",
                                        serializer=_JSONSerializer)
    assert serializer.loads(value) == {"user": "ada"}


# -- key rotation -----------------------------------------------------------------------------


def test_secret_key_fallbacks_accept_old_cookies_and_new_ones_use_the_new_key(
    session_app: SessionAppFactory,
) -> None:
    old_app = session_app(secret_key="old-key")
    rotated = session_app(secret_key="new-key", secret_key_fallbacks=["old-key"])
    new_only = session_app(secret_key="new-key")
    with TestClient(old_app) as client:
        client.get("/set", params={"user": "ada"})
        old_cookie = client.cookies["heron_session"]
    with TestClient(rotated) as client, TestClient(new_only) as strict:
        response = read_with_cookie(client, old_cookie)
        assert response.json() == {"data": {"user": "ada"}, "is_new": False}
        assert set_cookie_headers(response) == []  # read only: the old cookie stays
        assert read_with_cookie(strict, old_cookie).json()["data"] == {}
        # Written again, the session is signed with the new key.
        response = client.get("/set", params={"more": "1"},
                              headers={"cookie": f"heron_session={old_cookie}"})
        new_cookie = cookie_value(set_cookie(response))
        assert read_with_cookie(strict, new_cookie).json()["data"] == {"user": "ada",
                                                                        "more": "1"}


def test_several_fallbacks(session_app: SessionAppFactory) -> None:
    app = session_app(secret_key="k3", secret_key_fallbacks=["k1", "k2"])
    with TestClient(app) as client:
        for key in ("k1", "k2", "k3"):
            assert read_with_cookie(client, sign({"k": key}, secret=key)).json()["data"] == {
                "k": key}
        assert read_with_cookie(client, sign({"k": 0}, secret="k0")).json()["data"] == {}


# -- cache backend ---------------------------------------------------------------------------


def test_cache_backend_keeps_only_a_random_key_in_the_cookie(
    session_app: SessionAppFactory,
) -> None:
    app = session_app(session_backend="cache")
    with TestClient(app) as client:
        client.get("/set", params={"secret": "s3cr3t"})
        key = client.cookies["heron_session"]
        assert len(key) == 43
        assert "s3cr3t" not in key
        assert CacheSessionBackend.valid_key(key)
        assert stored_sessions(app)[key]["data"] == {"secret": "s3cr3t"}


def test_cache_backend_keys_are_unique(session_app: SessionAppFactory) -> None:
    app = session_app(session_backend="cache")
    keys = set()
    with TestClient(app) as client:
        for _ in range(5):
            client.cookies.clear()
            client.get("/set", params={"a": "1"})
            keys.add(client.cookies["heron_session"])
        assert len(keys) == 5
        assert set(stored_sessions(app)) == keys


def test_cache_backend_updates_in_place_under_the_same_key(session_app: SessionAppFactory) -> None:
    app = session_app(session_backend="cache")
    with TestClient(app) as client:
        client.get("/set", params={"a": "1"})
        key = client.cookies["heron_session"]
        response = client.get("/set", params={"b": "2"})
        assert cookie_value(set_cookie(response)) == key
        assert stored_sessions(app) == {key: {
            "data": {"a": "1", "b": "2"},
            "expires": pytest.approx(time.time() + 14 * 86400, abs=5)}}


def test_cache_backend_cycle_key(session_app: SessionAppFactory) -> None:
    app = session_app(session_backend="cache")
    with TestClient(app) as client:
        client.get("/set", params={"cart": "1"})
        old = client.cookies["heron_session"]
        new = cookie_value(set_cookie(client.get("/login")))
        assert new != old
        assert CacheSessionBackend.valid_key(new)
        assert client.cookies["heron_session"] == new
        assert client.get("/read").json()["data"] == {"cart": "1", "user": "ada"}
        assert set(stored_sessions(app)) == {new}
        # The old key is dead: replayed, it is an empty session with yet another key.
        response = read_with_cookie(client, old)
        assert response.json() == {"data": {}, "is_new": True}
        assert cookie_value(set_cookie(response)) not in (old, new)


def test_cache_backend_flush_deletes_the_record(session_app: SessionAppFactory) -> None:
    app = session_app(session_backend="cache")
    with TestClient(app) as client:
        client.get("/set", params={"a": "1"})
        key = client.cookies["heron_session"]
        assert key in stored_sessions(app)
        assert is_deletion(set_cookie(client.get("/logout")))
        assert stored_sessions(app) == {}
        assert read_with_cookie(client, key).json()["data"] == {}


UNKNOWN_KEYS = {
    "unknown key": lambda: CacheSessionBackend.new_key(),
    "too short": lambda: "abc",
    "too long": lambda: "a" * 81,
    "bad characters": lambda: "a" * 40 + "!@#",
    "a signed cookie": lambda: sign({"a": 1}),
    "key-like, with a dot": lambda: "a" * 30 + "." + "b" * 12,
}


@pytest.mark.parametrize("make_cookie", UNKNOWN_KEYS.values(), ids=UNKNOWN_KEYS.keys())
def test_cache_backend_unknown_or_malformed_key_is_an_empty_session(
    session_app: SessionAppFactory, make_cookie: Any
) -> None:
    app = session_app(session_backend="cache")
    cookie = make_cookie()
    with TestClient(app) as client:
        response = read_with_cookie(client, cookie)
        assert response.status_code == 200
        assert response.json() == {"data": {}, "is_new": True}
        # A key the store does not know is dropped, never adopted (session
        # fixation) and never stored as an empty session (a row per request).
        (header,) = set_cookie_headers(response)
        assert "max-age=0" in header.lower()
        assert app.cache.store._data == {}  # type: ignore[attr-defined]


async def test_cache_backend_does_not_look_up_malformed_keys(make_app: Any) -> None:
    app = make_app(session_backend="cache")
    looked_up: list[str] = []

    class SpyCache:
        @property
        def strict(self) -> SpyCache:
            return self

        async def aget(self, key: str, default: Any = None) -> Any:
            looked_up.append(key)
            return default

    backend = CacheSessionBackend(app, cache=SpyCache())  # type: ignore[arg-type]
    assert await backend.load("bad key!") is None
    assert await backend.load("x" * 500) is None
    assert looked_up == []
    assert await backend.load("k" * 43) is None
    assert looked_up == ["session:" + "k" * 43]


def write_record(app: App, key: str, data: Any, expires: float) -> None:
    app.cache.set("session:" + key, {"data": data, "expires": expires}, ttl=3600)


def test_cache_backend_enforces_expiry_server_side(session_app: SessionAppFactory) -> None:
    app = session_app(session_backend="cache")
    live, dead = CacheSessionBackend.new_key(), CacheSessionBackend.new_key()
    write_record(app, live, {"user": "ada"}, time.time() + 60)
    write_record(app, dead, {"user": "bob"}, time.time() - 1)
    with TestClient(app) as client:
        assert read_with_cookie(client, live).json() == {"data": {"user": "ada"},
                                                         "is_new": False}
        response = read_with_cookie(client, dead)
        assert response.json() == {"data": {}, "is_new": True}
        assert cookie_value(set_cookie(response)) != dead


def test_cache_backend_expiry_with_time_travel(session_app: SessionAppFactory,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import heron.sessions.backends as backends

    app = session_app(session_backend="cache", session_max_age=60)
    with TestClient(app) as client:
        client.get("/set", params={"a": "1"})
        real = time.time
        monkeypatch.setattr(backends, "time", types.SimpleNamespace(time=lambda: real() + 59))
        assert client.get("/read").json()["data"] == {"a": "1"}
        monkeypatch.setattr(backends, "time", types.SimpleNamespace(time=lambda: real() + 61))
        assert client.get("/read").json()["data"] == {}


@pytest.mark.parametrize(
    "record",
    [None, "a string", [1, 2], {"data": {"a": 1}}, {"expires": 9e12},
     {"data": [1], "expires": 9e12}, {"data": {"a": 1}, "expires": "tomorrow"}],
    ids=["null", "string", "list", "no expires", "no data", "data not a dict",
         "expires not a number"],
)
def test_cache_backend_corrupt_record_is_an_empty_session(
    session_app: SessionAppFactory, record: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = session_app(session_backend="cache")
    key = CacheSessionBackend.new_key()
    app.cache.set("session:" + key, record)
    assert SESSION_PREFIX + key in app.cache.store._data  # type: ignore[attr-defined]
    with TestClient(app) as client:
        response = read_with_cookie(client, key)
        assert response.status_code == 200, caplog.text
        assert response.json()["data"] == {}


def test_cache_backend_sets_the_ttl_in_the_store(session_app: SessionAppFactory) -> None:
    app = session_app(session_backend="cache", session_max_age=120)
    with TestClient(app) as client:
        client.get("/set", params={"a": "1"})
        key = client.cookies["heron_session"]
        _, expires_at = app.cache.store._data[SESSION_PREFIX + key]  # type: ignore[attr-defined]
        assert expires_at == pytest.approx(time.monotonic() + 120, abs=5)
        assert stored_sessions(app)[key]["expires"] == pytest.approx(time.time() + 120, abs=5)


def test_cache_backend_saves_are_only_on_change(session_app: SessionAppFactory) -> None:
    app = session_app(session_backend="cache")
    writes: list[str] = []
    with TestClient(app) as client:
        client.get("/set", params={"a": "1"})
        # Spied on the store, under every Cache write (set, add, replace, sync or async:
        # the memory store's async operations are its sync ones).
        store = app.cache.store
        original_set = store.set

        def spy_set(key: str, value: bytes, ttl: float | None, only: str | None = None) -> bool:
            writes.append(key)
            return original_set(key, value, ttl, only)

        store.set = spy_set  # type: ignore[method-assign]
        client.get("/read")
        client.get("/noop")
        assert writes == []
        client.get("/set", params={"b": "2"})
        assert writes == [SESSION_PREFIX + client.cookies["heron_session"]]


def test_cache_backend_with_expire_at_browser_close_still_has_a_ttl(
    session_app: SessionAppFactory,
) -> None:
    app = session_app(session_backend="cache", session_max_age=300,
                      session_expire_at_browser_close=True)
    with TestClient(app) as client:
        response = client.get("/set", params={"a": "1"})
        assert "max-age" not in set_cookie(response).lower()
        key = client.cookies["heron_session"]
        _, expires_at = app.cache.store._data[SESSION_PREFIX + key]  # type: ignore[attr-defined]
        assert expires_at == pytest.approx(time.monotonic() + 300, abs=5)


def test_session_key_attribute(make_app: Any) -> None:
    app = make_app(session_backend="cache")
    seen: list[Any] = []

    @app.get("/key")
    def key(request: Request) -> str:
        seen.append(request.session.key)
        request.session["a"] = 1
        return "ok"

    with TestClient(app) as client:
        client.get("/key")
        client.get("/key")
        assert seen == [None, client.cookies["heron_session"]]


def test_cookie_backend_has_no_key(make_app: Any) -> None:
    app = make_app()
    seen: list[Any] = []

    @app.get("/key")
    def key(request: Request) -> str:
        seen.append(request.session.key)
        request.session["a"] = 1
        return "ok"

    with TestClient(app) as client:
        client.get("/key")
        client.get("/key")
    assert seen == [None, None]


# -- backend objects -----------------------------------------------------------------------------


async def test_cookie_backend_round_trip(app: App) -> None:
    backend = CookieSessionBackend(app)
    assert not backend.server_side
    cookie = await backend.save(None, {"a": [1, 2]})
    assert await backend.load(cookie) == {"a": [1, 2]}
    assert await backend.load(cookie + "x") is None
    await backend.delete(cookie)  # a no-op for client-side data
    assert await backend.load(cookie) == {"a": [1, 2]}


async def test_cache_backend_round_trip_with_its_own_cache(app: App) -> None:
    from heron.cache import MemoryCache

    cache = MemoryCache()
    backend = CacheSessionBackend(app, cache=cache)
    assert backend.server_side
    # The backend uses the strict form of the cache it was given (same store).
    assert backend.cache is cache.strict
    assert backend.cache.store is cache.store
    assert backend.cache.errors == "raise"
    key = await backend.save(None, {"a": 1})
    assert await backend.load(key) == {"a": 1}
    assert await backend.save(key, {"a": 2}) == key
    assert await backend.load(key) == {"a": 2}
    await backend.delete(key)
    assert await backend.load(key) is None
    assert await cache.aget("session:" + key) is None
    assert cache.store._data == {}  # type: ignore[attr-defined]


def test_new_keys_are_valid_and_random() -> None:
    keys = {SessionBackend.new_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(k) == 43 and SessionBackend.valid_key(k) for k in keys)


# -- pluggable backends ------------------------------------------------------------------------


class DictBackend(SessionBackend):
    """A server-side backend in a plain dict (shared by every instance)."""

    records: ClassVar[dict[str, dict[str, Any]]] = {}
    calls: ClassVar[list[str]] = []

    async def load(self, cookie: str) -> dict[str, Any] | None:
        self.calls.append("load")
        return self.records.get(cookie)

    async def save(self, key: str | None, data: dict[str, Any]) -> str:
        self.calls.append("save")
        key = key or self.new_key()
        self.records[key] = data
        return key

    async def delete(self, key: str) -> None:
        self.calls.append("delete")
        self.records.pop(key, None)


class NotABackend:
    def __init__(self, app: App) -> None:
        self.app = app


@pytest.fixture
def backends_module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("fake_session_backends")
    module.DictBackend = DictBackend  # type: ignore[attr-defined]
    module.NotABackend = NotABackend  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_session_backends", module)
    DictBackend.records.clear()
    DictBackend.calls.clear()
    return module


@pytest.mark.parametrize("name", ["fake_session_backends:DictBackend",
                                  "fake_session_backends.DictBackend"])
def test_a_custom_backend_named_module_class(session_app: SessionAppFactory,
                                             backends_module: types.ModuleType,
                                             name: str) -> None:
    app = session_app(session_backend=name)
    assert app.check() == []
    assert isinstance(app.sessions.backend, DictBackend)
    with TestClient(app) as client:
        client.get("/set", params={"user": "ada"})
        key = client.cookies["heron_session"]
        assert DictBackend.records == {key: {"user": "ada"}}
        assert client.get("/read").json() == {"data": {"user": "ada"}, "is_new": False}
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_json()["data"] == {"user": "ada"}
        new = cookie_value(set_cookie(client.get("/login")))
        assert new != key
        assert set(DictBackend.records) == {new}
        assert is_deletion(set_cookie(client.get("/logout")))
        assert DictBackend.records == {}
    assert "delete" in DictBackend.calls


@pytest.mark.parametrize(
    ("name", "reason", "problem_id"),
    [
        ("no_such_module_xyz:Backend", "cannot be loaded", "heron.sessions.E001"),
        ("fake_session_backends:Missing", "cannot be loaded", "heron.sessions.E001"),
        ("nodots", "cannot be loaded", "heron.sessions.E001"),
        ("fake_session_backends:NotABackend", "not a SessionBackend", "heron.sessions.E004"),
        ("heron.sessions:Session", "not a SessionBackend", "heron.sessions.E004"),
        ("heron.sessions:CookieSessionBackend.server_side", "not a SessionBackend",
         "heron.sessions.E004"),
    ],
)
def test_a_bad_backend_name_is_reported_by_check(make_app: Any,
                                                 backends_module: types.ModuleType,
                                                 name: str, reason: str,
                                                 problem_id: str) -> None:
    app = make_app(session_backend=name)
    problems = app.check()
    assert [p.id for p in problems] == [problem_id]
    assert reason in problems[0].message
    assert repr(name) in problems[0].message
    with pytest.raises(RuntimeError, match=re.escape(problem_id)), TestClient(app):
        pass


def test_the_bad_backend_error_is_improperly_configured(make_app: Any) -> None:
    app = make_app(session_backend="no_such_module_xyz:Backend")
    with pytest.raises(ImproperlyConfigured) as info:
        app.sessions  # noqa: B018
    assert info.value.id == "heron.sessions.E001"


@pytest.mark.parametrize("name", ["cookie", "cache"])
def test_builtin_backends_pass_check(make_app: Any, name: str) -> None:
    assert make_app(session_backend=name).check() == []


def test_builtin_backend_names_pick_heron_classes(make_app: Any) -> None:
    assert type(make_app().sessions.backend) is CookieSessionBackend
    assert type(make_app(session_backend="cache").sessions.backend) is CacheSessionBackend
    name = "heron.sessions.backends:CacheSessionBackend"
    assert type(make_app(session_backend=name).sessions.backend) is CacheSessionBackend


def test_a_client_side_custom_backend(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backend that keeps the data in the cookie (server_side = False), plain JSON."""
    import base64

    class PlainBackend(SessionBackend):
        server_side = False

        async def load(self, cookie: str) -> dict[str, Any] | None:
            try:
                return orjson.loads(base64.urlsafe_b64decode(cookie))  # type: ignore[no-any-return]
            except ValueError:
                return None

        async def save(self, key: str | None, data: dict[str, Any]) -> str:
            assert key is None
            return base64.urlsafe_b64encode(orjson.dumps(data)).decode()

    module = types.ModuleType("plain_backend_mod")
    module.PlainBackend = PlainBackend  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "plain_backend_mod", module)
    app = add_session_views(make_app(session_backend="plain_backend_mod:PlainBackend"))
    with TestClient(app) as client:
        client.get("/set", params={"a": "1"})
        value = client.cookies["heron_session"]
        assert orjson.loads(base64.urlsafe_b64decode(value)) == {"a": "1"}
        assert client.get("/read").json() == {"data": {"a": "1"}, "is_new": False}
        assert read_with_cookie(client, "%%%").json()["data"] == {}


async def test_a_session_ended_meanwhile_is_not_saved_back() -> None:
    # A request that loaded the session before a concurrent logout must not revive it.
    from heron.cache import MemoryCache

    backend = CacheSessionBackend.__new__(CacheSessionBackend)
    backend._cache = MemoryCache()
    backend.max_age = 60
    key = await backend.save(None, {"user": "alice"})
    assert key is not None
    await backend.delete(key)  # the logout
    assert await backend.save(key, {"user": "alice", "seen": 2}) is None
    assert await backend.load(key) is None


# -- database backend: a database that is down ---------------------------------------


def test_a_database_store_down_fails_only_the_views_that_use_the_session(
        session_app: SessionAppFactory) -> None:
    """docs/sessions.md: PostgreSQL out of reach (nothing listens on the port) fails
    the requests that use the session with 503; a view that does not touch it answers."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = session_app(session_backend="database", database_connect_timeout=2,
                      database_url=f"postgresql+psycopg://heron@127.0.0.1:{port}/heron")
    with TestClient(app) as client:
        client.cookies.set("heron_session", "k" * 43)
        response = client.get("/noop")
        assert (response.status_code, response.text) == (200, "noop")
        response = client.get("/read")
        assert response.status_code == 503
        assert "retry-after" in response.headers
