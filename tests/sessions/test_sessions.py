"""request.session end to end: saved only when modified, cookie flags, cycle_key/flush,
bad cookies, the 5xx rule, sync/async views and websockets -- on the cookie backend and
the cache backend (memory://)."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import pytest
from session_helpers import (
    cookie_attributes,
    cookie_value,
    is_deletion,
    set_cookie,
    set_cookie_headers,
)

from heron import App, Request, abort
from heron.sessions import Session
from heron.testing import TestClient

SessionAppFactory = Any

# -- Session, the object ------------------------------------------------------------


def test_session_is_a_mutable_mapping_that_tracks_changes() -> None:
    session = Session()
    assert session.is_new
    assert not session.modified
    assert len(session) == 0
    assert session.get("missing") is None
    assert session.get("missing", 3) == 3
    assert "x" not in session
    session["x"] = 1
    assert session.modified
    assert session["x"] == 1
    assert "x" in session
    assert list(session) == ["x"]
    assert dict(session) == {"x": 1}
    assert session == {"x": 1}


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.__setitem__("b", 2),
        lambda s: s.__delitem__("a"),
        lambda s: s.pop("a"),
        lambda s: s.popitem(),
        lambda s: s.update(b=2),
        lambda s: s.setdefault("b", 2),
        lambda s: s.clear(),
        lambda s: s.flush(),
        lambda s: s.cycle_key(),
    ],
    ids=["setitem", "delitem", "pop", "popitem", "update", "setdefault-new", "clear",
         "flush", "cycle_key"],
)
def test_every_change_marks_the_session_modified(change: Any) -> None:
    session = Session({"a": 1})
    assert not session.is_new
    change(session)
    assert session.modified


@pytest.mark.parametrize(
    "read",
    [
        lambda s: s["a"],
        lambda s: s.get("a"),
        lambda s: "a" in s,
        lambda s: list(s.items()),
        lambda s: len(s),
        lambda s: s.pop("missing", None),
        lambda s: s.setdefault("a", 2),
        lambda s: s.to_dict(),
    ],
    ids=["getitem", "get", "contains", "items", "len", "pop-missing", "setdefault-existing",
         "to_dict"],
)
def test_reading_does_not_mark_the_session_modified(read: Any) -> None:
    session = Session({"a": 1})
    read(session)
    assert not session.modified


def test_clear_of_an_empty_session_is_not_a_change() -> None:
    session = Session()
    session.clear()
    assert not session.modified


def test_to_dict_is_a_copy() -> None:
    session = Session({"a": 1})
    copy = session.to_dict()
    copy["b"] = 2
    assert "b" not in session
    assert not session.modified


def test_missing_key_raises_key_error() -> None:
    with pytest.raises(KeyError):
        Session()["nope"]
    with pytest.raises(KeyError):
        del Session()["nope"]


# -- saved only when modified -------------------------------------------------------------


def test_no_cookie_and_no_vary_when_the_view_does_not_touch_the_session(
    session_app: SessionAppFactory, backend: str
) -> None:
    app = session_app(session_backend=backend)
    with TestClient(app) as client:
        response = client.get("/noop")
        assert response.status_code == 200
        assert response.headers.get_list("set-cookie") == []
        assert "cookie" not in response.headers.get("vary", "").lower()
        assert "cache-control" not in response.headers
        # With a session cookie too: the page does not depend on it.
        client.get("/set", params={"colour": "blue"})
        assert "cache-control" not in client.get("/noop").headers


@pytest.mark.parametrize("path", ["/read", "/set?colour=blue", "/logout"])
def test_a_page_that_read_the_session_is_private(session_app: SessionAppFactory, backend: str,
                                                 path: str) -> None:
    """Issue 20: a shared cache must not keep one visitor's page for another."""
    app = session_app(session_backend=backend)
    with TestClient(app) as client:
        client.get("/set", params={"user": "ada"})
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers.get_list("cache-control") == ["private"]
        assert "Cookie" in response.headers["vary"]


def test_a_cache_control_of_the_view_is_kept(make_app: Any, backend: str) -> None:
    app = make_app(session_backend=backend)

    @app.get("/")
    def view(request: Request) -> Any:
        from heron import PlainTextResponse

        request.session.get("x")
        return PlainTextResponse("x", headers={"cache-control": "no-store"})

    with TestClient(app) as client:
        assert client.get("/").headers.get_list("cache-control") == ["no-store"]


def test_reading_an_empty_session_sets_no_cookie_but_varies(
    session_app: SessionAppFactory, backend: str
) -> None:
    app = session_app(session_backend=backend)
    with TestClient(app) as client:
        response = client.get("/read")
        assert response.json() == {"data": {}, "is_new": True}
        assert response.headers.get_list("set-cookie") == []
        assert "Cookie" in response.headers["vary"]


def test_writing_sets_the_cookie_and_later_reads_do_not(
    session_app: SessionAppFactory, backend: str
) -> None:
    app = session_app(session_backend=backend)
    with TestClient(app) as client:
        response = client.get("/set", params={"colour": "blue"})
        set_cookie(response)
        assert "Cookie" in response.headers["vary"]
        response = client.get("/read")
        assert response.json() == {"data": {"colour": "blue"}, "is_new": False}
        assert set_cookie_headers(response) == []
        assert "Cookie" in response.headers["vary"]
        # An unrelated page with the cookie: no Set-Cookie either.
        assert client.get("/noop").headers.get_list("set-cookie") == []


def test_vary_cookie_is_added_to_an_existing_vary(make_app: Any, backend: str) -> None:
    app = make_app(session_backend=backend)

    @app.get("/")
    def view(request: Request) -> Any:
        from heron import PlainTextResponse

        request.session.get("x")
        return PlainTextResponse("x", headers={"vary": "Accept-Encoding"})

    with TestClient(app) as client:
        vary = [v.strip() for v in client.get("/").headers["vary"].split(",")]
        assert vary == ["Accept-Encoding", "Cookie"]


JSON_VALUES: dict[str, Any] = {
    "text": "héron ✓ <b>&",
    "int": 42,
    "big": 2**53 + 1,
    "negative": -7,
    "float": 1.5,
    "true": True,
    "false": False,
    "none": None,
    "list": [1, "two", [3.0, None]],
    "dict": {"nested": {"deep": [1, {"x": "y"}]}},
    "empty": {},
}


def test_json_values_round_trip(make_app: Any, backend: str) -> None:
    app = make_app(session_backend=backend)

    @app.get("/put")
    def put(request: Request) -> str:
        request.session.update(JSON_VALUES)
        request.session["tuple"] = (1, 2)
        return "ok"

    @app.get("/get")
    def get(request: Request) -> dict[str, Any]:
        values = dict(request.session)
        assert all(type(values[k]) is type(v) for k, v in JSON_VALUES.items())
        return values

    with TestClient(app) as client:
        client.get("/put")
        assert client.get("/get").json() == {**JSON_VALUES, "tuple": [1, 2]}


def test_nested_mutation_is_saved_only_with_modified_true(make_app: Any, backend: str) -> None:
    app = make_app(session_backend=backend)

    @app.get("/start")
    def start(request: Request) -> str:
        request.session["cart"] = [1]
        return "ok"

    @app.get("/append-unnoticed")
    def append_unnoticed(request: Request) -> str:
        request.session["cart"].append(2)
        return "ok"

    @app.get("/append")
    def append(request: Request) -> str:
        request.session["cart"].append(3)
        request.session.modified = True
        return "ok"

    @app.get("/cart")
    def cart(request: Request) -> Any:
        return request.session["cart"]

    with TestClient(app) as client:
        client.get("/start")
        response = client.get("/append-unnoticed")
        assert set_cookie_headers(response) == []
        assert client.get("/cart").json() == [1]
        response = client.get("/append")
        set_cookie(response)
        assert client.get("/cart").json() == [1, 3]


def test_sessions_are_per_client(session_app: SessionAppFactory, backend: str) -> None:
    app = session_app(session_backend=backend)
    with TestClient(app) as first, TestClient(app) as second:
        first.get("/set", params={"who": "first"})
        second.get("/set", params={"who": "second"})
        assert first.get("/read").json()["data"] == {"who": "first"}
        assert second.get("/read").json()["data"] == {"who": "second"}


def test_emptying_a_session_deletes_the_cookie(make_app: Any, backend: str) -> None:
    app = make_app(session_backend=backend)

    @app.get("/set")
    def set_(request: Request) -> str:
        request.session["a"] = 1
        return "ok"

    @app.get("/remove")
    def remove(request: Request) -> str:
        del request.session["a"]
        return "ok"

    @app.get("/set-and-remove")
    def set_and_remove(request: Request) -> str:
        request.session["a"] = 1
        del request.session["a"]
        return "ok"

    with TestClient(app) as client:
        client.get("/set")
        assert is_deletion(set_cookie(client.get("/remove")))
        assert "heron_session" not in client.cookies
        # No cookie came in and nothing is left: nothing to set or delete.
        assert set_cookie_headers(client.get("/set-and-remove")) == []
        if backend == "cache":
            assert app.cache.store._data == {}  # type: ignore[attr-defined]


# -- cookie flags ------------------------------------------------------------------------


def test_default_cookie_flags(session_app: SessionAppFactory, backend: str) -> None:
    app = session_app(session_backend=backend)
    with TestClient(app) as client:
        header = set_cookie(client.get("/set", params={"a": "1"}))
    attributes = cookie_attributes(header)
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    assert attributes["path"] == "/"
    assert attributes["max-age"] == str(14 * 24 * 3600)
    assert "secure" not in attributes  # plain http, session_cookie_secure unset
    assert "domain" not in attributes


def test_max_age_follows_session_max_age(session_app: SessionAppFactory, backend: str) -> None:
    app = session_app(session_backend=backend, session_max_age=3600)
    with TestClient(app) as client:
        header = set_cookie(client.get("/set", params={"a": "1"}))
    assert cookie_attributes(header)["max-age"] == "3600"


def test_expire_at_browser_close_sends_no_max_age(
    session_app: SessionAppFactory, backend: str
) -> None:
    app = session_app(session_backend=backend, session_expire_at_browser_close=True)
    with TestClient(app) as client:
        header = set_cookie(client.get("/set", params={"a": "1"}))
        assert client.get("/read").json()["data"] == {"a": "1"}
    attributes = cookie_attributes(header)
    assert "max-age" not in attributes
    assert "expires" not in attributes
    assert "httponly" in attributes


def test_secure_on_https_by_default(session_app: SessionAppFactory, backend: str) -> None:
    app = session_app(session_backend=backend)
    with TestClient(app, base_url="https://testserver") as client:
        header = set_cookie(client.get("/set", params={"a": "1"}))
        assert "secure" in cookie_attributes(header)
        assert client.get("/read").json()["data"] == {"a": "1"}
        assert "secure" in cookie_attributes(set_cookie(client.get("/logout")))


def test_secure_forced_by_setting_on_http(session_app: SessionAppFactory, backend: str) -> None:
    app = session_app(session_backend=backend, session_cookie_secure=True)
    with TestClient(app) as client:
        header = set_cookie(client.get("/set", params={"a": "1"}))
    assert "secure" in cookie_attributes(header)


def test_secure_false_is_never_secure(session_app: SessionAppFactory) -> None:
    app = session_app(session_cookie_secure=False)
    with TestClient(app, base_url="https://testserver") as client:
        header = set_cookie(client.get("/set", params={"a": "1"}))
    assert "secure" not in cookie_attributes(header)


@pytest.mark.parametrize(("setting", "expected", "secure"),
                         [("strict", "Strict", False), ("Lax", "Lax", False),
                          ("none", "None", True)])
def test_samesite_setting(session_app: SessionAppFactory, setting: str, expected: str,
                          secure: bool) -> None:
    app = session_app(session_cookie_samesite=setting)
    with TestClient(app) as client:
        attributes = cookie_attributes(set_cookie(client.get("/set", params={"a": "1"})))
    assert attributes["samesite"] == expected
    # Browsers reject SameSite=None without Secure, so it is added.
    assert ("secure" in attributes) is secure


def test_custom_cookie_name_domain_and_path(make_app: Any, backend: str) -> None:
    app = make_app(session_backend=backend, session_cookie_name="sid",
                   session_cookie_domain="testserver.local", session_cookie_path="/app")

    @app.get("/app/set")
    def set_(request: Request) -> str:
        request.session["a"] = 1
        return "ok"

    @app.get("/app/flush")
    def flush(request: Request) -> str:
        request.session.flush()
        return "ok"

    with TestClient(app) as client:
        response = client.get("/app/set")
        assert set_cookie_headers(response, "heron_session") == []
        attributes = cookie_attributes(set_cookie(response, "sid"))
        assert attributes["domain"] == "testserver.local"
        assert attributes["path"] == "/app"
        # The deletion names the same domain and path, or the browser keeps the cookie.
        value = cookie_value(set_cookie(response, "sid"))
        deleted = client.get("/app/flush", headers={"cookie": f"sid={value}"})
        header = set_cookie(deleted, "sid")
        assert is_deletion(header)
        attributes = cookie_attributes(header)
        assert attributes["domain"] == "testserver.local"
        assert attributes["path"] == "/app"


def test_custom_path_is_respected_by_the_client(make_app: Any) -> None:
    app = make_app(session_cookie_path="/app")

    @app.get("/app/set")
    def set_(request: Request) -> str:
        request.session["a"] = 1
        return "ok"

    @app.get("/app/read")
    @app.get("/other/read")
    def read(request: Request) -> Any:
        return dict(request.session)

    with TestClient(app) as client:
        client.get("/app/set")
        assert client.get("/app/read").json() == {"a": 1}
        assert client.get("/other/read").json() == {}


def test_custom_cookie_name_is_read(session_app: SessionAppFactory, backend: str) -> None:
    app = session_app(session_backend=backend, session_cookie_name="sid")
    with TestClient(app) as client:
        client.get("/set", params={"a": "1"})
        assert "sid" in client.cookies
        assert "heron_session" not in client.cookies
        assert client.get("/read").json()["data"] == {"a": "1"}


# -- cycle_key and flush --------------------------------------------------------------------


def test_cycle_key_keeps_the_data(session_app: SessionAppFactory, backend: str) -> None:
    app = session_app(session_backend=backend)
    with TestClient(app) as client:
        client.get("/set", params={"cart": "3 items"})
        response = client.get("/login", params={"user": "ada"})
        set_cookie(response)
        assert client.get("/read").json()["data"] == {"cart": "3 items", "user": "ada"}


def test_cycle_key_on_a_new_session(session_app: SessionAppFactory, backend: str) -> None:
    app = session_app(session_backend=backend)
    with TestClient(app) as client:
        set_cookie(client.get("/login"))
        assert client.get("/read").json()["data"] == {"user": "ada"}


def test_flush_forgets_the_data_and_deletes_the_cookie(
    session_app: SessionAppFactory, backend: str
) -> None:
    app = session_app(session_backend=backend)
    with TestClient(app) as client:
        client.get("/set", params={"a": "1"})
        old = client.cookies["heron_session"]
        response = client.get("/logout")
        assert is_deletion(set_cookie(response))
        assert "heron_session" not in client.cookies
        assert client.get("/read").json() == {"data": {}, "is_new": True}
        if backend == "cache":
            assert app.cache.store._data == {}  # type: ignore[attr-defined]
            # The old cookie, replayed, finds nothing.
            client.cookies.set("heron_session", old)
            assert client.get("/read").json()["data"] == {}


def test_flush_without_a_session_sets_nothing(session_app: SessionAppFactory,
                                              backend: str) -> None:
    app = session_app(session_backend=backend)
    with TestClient(app) as client:
        assert set_cookie_headers(client.get("/logout")) == []


def test_flush_then_write_starts_a_new_session(make_app: Any, backend: str) -> None:
    app = make_app(session_backend=backend)

    @app.get("/set")
    def set_(request: Request) -> str:
        request.session["user"] = "ada"
        return "ok"

    @app.get("/switch")
    def switch(request: Request) -> str:
        request.session.flush()
        request.session["user"] = "bob"
        return "ok"

    @app.get("/read")
    def read(request: Request) -> Any:
        return dict(request.session)

    with TestClient(app) as client:
        client.get("/set")
        old = client.cookies["heron_session"]
        set_cookie(client.get("/switch"))
        assert client.get("/read").json() == {"user": "bob"}
        if backend == "cache":
            assert client.cookies["heron_session"] != old
            response = client.get("/read", headers={"cookie": f"heron_session={old}"})
            assert response.json() == {}


# -- errors in the view ------------------------------------------------------------------------


def test_a_session_is_not_saved_when_the_view_raises(make_app: Any, backend: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(session_backend=backend)

    @app.get("/set")
    def set_(request: Request) -> str:
        request.session["step"] = 1
        return "ok"

    @app.get("/boom")
    def boom(request: Request) -> str:
        request.session["step"] = 2
        request.session["junk"] = "x"
        raise RuntimeError("boom")

    @app.get("/unavailable")
    def unavailable(request: Request) -> str:
        request.session["step"] = 3
        abort(503)

    @app.get("/read")
    def read(request: Request) -> Any:
        return dict(request.session)

    with TestClient(app) as client:
        # A new client: the failed view's session is not created.
        with caplog.at_level(logging.ERROR, "heron.error"):
            response = client.get("/boom")
        assert response.status_code == 500
        assert response.headers.get_list("set-cookie") == []
        assert "heron_session" not in client.cookies
        client.get("/set")
        with caplog.at_level(logging.ERROR, "heron.error"):
            response = client.get("/boom")
        assert response.status_code == 500
        assert response.headers.get_list("set-cookie") == []
        assert client.get("/unavailable").status_code == 503
        assert client.get("/read").json() == {"step": 1}
        if backend == "cache":
            assert len(app.cache.store._data) == 1  # type: ignore[attr-defined]


def test_a_session_is_saved_with_a_4xx_response(make_app: Any, backend: str) -> None:
    app = make_app(session_backend=backend)

    @app.get("/bad")
    def bad(request: Request) -> str:
        request.session["tries"] = 1
        abort(400, "bad input")

    @app.get("/read")
    def read(request: Request) -> Any:
        return dict(request.session)

    with TestClient(app) as client:
        response = client.get("/bad")
        assert response.status_code == 400
        set_cookie(response)
        assert client.get("/read").json() == {"tries": 1}


def test_a_session_touched_by_an_error_handler_is_saved(make_app: Any, backend: str) -> None:
    app = make_app(session_backend=backend)

    @app.on_error(404)
    def not_found(request: Request, exc: Exception) -> Any:
        request.session["missed"] = request.path
        from heron import PlainTextResponse

        return PlainTextResponse("gone", status_code=404)

    @app.get("/read")
    def read(request: Request) -> Any:
        return dict(request.session)

    with TestClient(app) as client:
        response = client.get("/nowhere")
        assert response.status_code == 404
        set_cookie(response)
        assert client.get("/read").json() == {"missed": "/nowhere"}


def test_a_value_that_is_not_json_fails_loudly(make_app: Any, backend: str,
                                               caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(session_backend=backend)

    @app.get("/set")
    def set_(request: Request) -> str:
        request.session["tags"] = {"a", "b"}
        return "ok"

    with TestClient(app) as client, caplog.at_level(logging.ERROR, "heron.error"):
        response = client.get("/set")
    assert response.status_code >= 500
    assert response.headers.get_list("set-cookie") == []
    assert "Traceback" not in response.text
    assert any("set" in record.getMessage() or record.exc_info for record in caplog.records)


# -- sync and async views, websockets -----------------------------------------------------------


def test_async_views_share_the_session_with_sync_views(make_app: Any, backend: str) -> None:
    app = make_app(session_backend=backend)

    @app.get("/async-set")
    async def async_set(request: Request) -> str:
        request.session["by"] = "async"
        return "ok"

    @app.get("/sync-read")
    def sync_read(request: Request) -> Any:
        return dict(request.session)

    @app.get("/sync-set")
    def sync_set(request: Request) -> str:
        request.session["by"] = "sync"
        return "ok"

    @app.get("/async-read")
    async def async_read(request: Request) -> Any:
        return dict(request.session)

    with TestClient(app) as client:
        client.get("/async-set")
        assert client.get("/sync-read").json() == {"by": "async"}
        client.get("/sync-set")
        assert client.get("/async-read").json() == {"by": "sync"}


def test_websocket_reads_the_session(session_app: SessionAppFactory, backend: str) -> None:
    app = session_app(session_backend=backend)
    with TestClient(app) as client:
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_json() == {"data": {}, "is_new": True}
        client.get("/set", params={"user": "ada"})
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_json() == {"data": {"user": "ada"}, "is_new": False}


def test_websocket_with_a_bad_cookie_gets_an_empty_session(
    session_app: SessionAppFactory, backend: str
) -> None:
    app = session_app(session_backend=backend)
    with TestClient(app) as client:
        client.cookies.set("heron_session", "x" * 43)
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_json() == {"data": {}, "is_new": True}


def test_sessions_in_a_component_router_and_with_request_url_for(make_app: Any,
                                                                 backend: str) -> None:
    from heron import Router

    app = make_app(session_backend=backend)
    router = Router()

    @router.get("/set")
    def set_(request: Request) -> str:
        request.session["in"] = "router"
        return "ok"

    @app.get("/read")
    def read(request: Request) -> Any:
        return dict(request.session)

    app.include(router, prefix="/r")
    with TestClient(app) as client:
        client.get("/r/set")
        assert client.get("/read").json() == {"in": "router"}


def test_large_cookie_session_logs_a_warning(make_app: Any,
                                             caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    @app.get("/big")
    def big(request: Request) -> str:
        request.session["blob"] = secrets.token_urlsafe(4000)  # incompressible
        return "ok"

    with TestClient(app) as client, caplog.at_level(logging.WARNING, "heron.sessions"):
        assert client.get("/big").status_code == 200
    assert any("4 KB" in record.getMessage() for record in caplog.records)


def test_app_sessions_property_is_cached(app: App) -> None:
    assert app.sessions is app.sessions
