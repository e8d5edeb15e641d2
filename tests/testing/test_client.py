"""TestClient and AsyncTestClient: cookies, lifespan, websockets, and the pytest plugin."""

from __future__ import annotations

import threading

import pytest

from heron import App, Request, Response, WebSocket
from heron.testing import AsyncTestClient, TestClient

pytest_plugins = ["pytester"]


def build_app(events: list[str] | None = None) -> App:
    app = App(debug=True)
    log = events if events is not None else []

    @app.on_startup
    async def started() -> None:
        log.append("startup")
        app.state.ready = True

    @app.on_shutdown
    def stopped() -> None:
        log.append("shutdown")

    @app.get("/ready")
    async def ready() -> dict:
        return {"ready": getattr(app.state, "ready", False)}

    @app.get("/login")
    async def login() -> Response:
        response = Response("ok")
        response.set_cookie("sid", "s3cret")
        return response

    @app.get("/whoami")
    async def whoami(request: Request) -> dict:
        return {"sid": request.cookies.get("sid")}

    @app.get("/logout")
    async def logout() -> Response:
        response = Response("bye")
        response.delete_cookie("sid")
        return response

    @app.get("/redirect")
    async def redirect() -> Response:
        return Response(status_code=302, headers={"location": "/ready"})

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(text.upper())

    return app


def test_lifespan_runs_on_enter_and_exit() -> None:
    events: list[str] = []
    with TestClient(build_app(events)) as client:
        assert events == ["startup"]
        assert client.get("/ready").json() == {"ready": True}
    assert events == ["startup", "shutdown"]


def test_without_with_no_lifespan_runs_but_requests_work() -> None:
    events: list[str] = []
    client = TestClient(build_app(events))
    try:
        assert client.get("/ready").json() == {"ready": False}
    finally:
        client.close()
    assert events == []


def test_close_stops_the_event_loop_thread() -> None:
    before = set(threading.enumerate())
    client = TestClient(build_app())
    client.get("/ready")
    client.close()
    started = [t for t in set(threading.enumerate()) - before if t.name == "heron-testclient"]
    assert started == []


def test_startup_failure_raises_with_the_message() -> None:
    app = App(debug=True)

    @app.on_startup
    def broken() -> None:
        raise ValueError("database is down")

    before = set(threading.enumerate())
    with pytest.raises(RuntimeError, match="database is down"), TestClient(app):
        pass
    started = [t for t in set(threading.enumerate()) - before if t.name == "heron-testclient"]
    assert started == []


def test_cookies_persist_across_requests() -> None:
    with TestClient(build_app()) as client:
        client.get("/login")
        assert client.get("/whoami").json() == {"sid": "s3cret"}
        client.get("/logout")
        assert client.get("/whoami").json() == {"sid": None}


def test_redirects_are_not_followed_by_default() -> None:
    with TestClient(build_app()) as client:
        assert client.get("/redirect").status_code == 302
        assert client.get("/redirect", follow_redirects=True).json() == {"ready": True}


def test_websocket_session() -> None:
    with TestClient(build_app()) as client, client.websocket_connect("/ws") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "HELLO"


def test_websocket_session_sends_the_client_cookies() -> None:
    app = build_app()

    @app.websocket("/ws-cookie")
    async def ws_cookie(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.cookies.get("sid", "none"))
        await websocket.close()

    with TestClient(app) as client:
        client.get("/login")
        with client.websocket_connect("/ws-cookie") as ws:
            assert ws.receive_text() == "s3cret"


def test_peer_address_can_be_chosen() -> None:
    app = App(debug=True)

    @app.get("/")
    async def index(request: Request) -> str:
        return request.client.host if request.client else "none"

    with TestClient(app, client=("192.0.2.5", 1234)) as client:
        assert client.get("/").text == "192.0.2.5"


async def test_async_client_lifespan_cookies_and_websocket() -> None:
    events: list[str] = []
    async with AsyncTestClient(build_app(events)) as client:
        assert events == ["startup"]
        await client.get("/login")
        assert (await client.get("/whoami")).json() == {"sid": "s3cret"}
        async with client.websocket_connect("/ws") as ws:
            await ws.send_text("abc")
            assert await ws.receive_text() == "ABC"
    assert events == ["startup", "shutdown"]


def test_pytest_plugin_provides_app_and_client_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app="""
        from heron import App

        app = App(debug=True)

        @app.get("/")
        async def index():
            return {"hello": "world"}
    """)
    pytester.makepyfile(test_project="""
        from heron import App

        def test_app_fixture_finds_app_py(app):
            assert isinstance(app, App)

        def test_client_fixture(client):
            assert client.get("/").json() == {"hello": "world"}

        async def test_async_client_fixture(async_client):
            assert (await async_client.get("/")).json() == {"hello": "world"}
    """)
    result = pytester.runpytest_subprocess("-p", "asyncio", "-o", "asyncio_mode=auto")
    result.assert_outcomes(passed=3)


def test_pytest_plugin_app_fixture_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import pytest
        from heron import App

        @pytest.fixture
        def app():
            app = App(debug=True)

            @app.get("/")
            async def index():
                return "custom"

            return app
    """)
    pytester.makepyfile(test_custom="""
        def test_client_uses_the_custom_app(client):
            assert client.get("/").text == "custom"
    """)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_pytest_plugin_without_an_app_fails_with_advice(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_none="""
        def test_needs_app(client):
            pass
    """)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*found no app*"])


async def test_async_startup_failure_raises_with_the_message() -> None:
    app = App(debug=True)

    @app.on_startup
    async def broken() -> None:
        raise ValueError("cache is down")

    with pytest.raises(RuntimeError, match="cache is down"):
        async with AsyncTestClient(app):
            pass
