"""``@rate_limit``: rates parsed, fixed and sliding windows, the RateLimit-* headers and
429 with ``Retry-After``, what is counted together (address, user, key function,
methods, routers, groups), counters in a named Redis cache, and a cache that is down
(fail open or closed) -- through the test client, with the limiter's clock
controlled where the windows matter."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis

from heron import App
from heron.cache import RateLimited, rate_limit
from heron.cache import ratelimit as ratelimit_module
from heron.cache.ratelimit import parse_rate
from heron.csrf import csrf_exempt
from heron.exceptions import ImproperlyConfigured
from heron.requests import Request
from heron.routing import Router
from heron.testing import TestClient

AppFactory = Callable[..., App]
DAY = 86400
HEADERS = ("limit", "remaining", "reset", "policy")


class Clock:
    """Stands for the ``time`` module in heron.cache.ratelimit: windows on demand."""

    def __init__(self) -> None:
        self.now = 20_000 * DAY + 10.0  # 10 s into a minute, an hour and a day

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def at(self, period: int, into: float, windows_later: int = 0) -> None:
        """Move to ``into`` seconds into the window of ``period`` ``windows_later``
        windows after the current one."""
        self.now = (self.now // period + windows_later) * period + into


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(ratelimit_module, "time", fake)
    return fake


def limits(response: httpx.Response) -> dict[str, str | None]:
    """The four RateLimit-* headers of a response (None for a missing one)."""
    return {name: response.headers.get(f"ratelimit-{name}") for name in HEADERS}


def expect(response: httpx.Response, status: int, limit: int, remaining: int, reset: int,
           period: int) -> None:
    assert response.status_code == status, response.text
    assert limits(response) == {"limit": str(limit), "remaining": str(remaining),
                                "reset": str(reset), "policy": f"{limit};w={period}"}


@pytest.fixture
def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (bound for a free number, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- parse_rate -------------------------------------------------------------------------------


@pytest.mark.parametrize(("rate", "expected"), [
    ("5/second", (5, 1)), ("5/seconds", (5, 1)), ("5/sec", (5, 1)), ("5/secs", (5, 1)),
    ("5/s", (5, 1)),
    ("100/minute", (100, 60)), ("100/minutes", (100, 60)), ("100/min", (100, 60)),
    ("100/mins", (100, 60)), ("100/m", (100, 60)),
    ("1000/hour", (1000, 3600)), ("1000/hours", (1000, 3600)), ("1000/h", (1000, 3600)),
    ("10000/day", (10000, DAY)), ("10000/days", (10000, DAY)), ("10000/d", (10000, DAY)),
    ("10/5m", (10, 300)), ("3/2s", (3, 2)), ("1/1d", (1, DAY)), ("7/10minutes", (7, 600)),
    ("100/MINUTE", (100, 60)), (" 10 / 5 m ", (10, 300)), ("1/s", (1, 1)),
])
def test_parse_rate(rate: str, expected: tuple[int, int]) -> None:
    assert parse_rate(rate) == expected


@pytest.mark.parametrize("rate", [
    "", "100", "100/", "/minute", "minute", "0/minute", "-1/minute", "1.5/minute",
    "100/fortnight", "100/week", "100/ms", "100/ss", "100 per minute", "100/minute/x",
    "10/0m", "10/-5m", "abc/minute", "100/1.5m", "100//minute",
    None, 100, b"100/minute",
])
def test_parse_rate_refuses(rate: Any) -> None:
    with pytest.raises(ValueError, match="'count/period' such as '100/minute'") as raised:
        parse_rate(rate)
    assert repr(rate) in str(raised.value)  # the message quotes what was given


def test_decorator_arguments_are_checked_when_decorating() -> None:
    with pytest.raises(ValueError, match="not 'ten a minute'"):
        rate_limit("ten a minute")
    with pytest.raises(ValueError, match="window must be 'fixed' or 'sliding', not 'rolling'"):
        rate_limit("1/minute", window="rolling")
    with pytest.raises(ValueError, match="key must be 'ip', 'user' or a function of the "
                                         "request, not 'session'"):
        rate_limit("1/minute", key="session")
    with pytest.raises(TypeError, match="decorates a view function or a Router, not int"):
        rate_limit("1/minute")(42)


def test_the_unknown_cache_of_a_decorator_stops_the_app_at_startup(make_app: AppFactory) -> None:
    app = make_app()

    @app.get("/limited")
    @rate_limit("3/minute", cache="nope")
    def limited() -> str:
        return "ok"

    with pytest.raises(ImproperlyConfigured, match="The route /limited names the cache 'nope'") \
            as raised:
        app.setup()
    assert raised.value.id == "heron.cache.E004"
    assert "['default']" in raised.value.message  # the caches it has
    # a test client (as a server) refuses to start, saying why
    again = make_app()
    again.get("/limited")(rate_limit("3/minute", cache="nope")(lambda: "ok"))
    with pytest.raises(RuntimeError, match=r"heron\.cache\.E004"), TestClient(again):
        pass  # pragma: no cover


def test_an_unknown_rate_limit_cache_setting_is_a_check_problem(make_app: AppFactory) -> None:
    problems = make_app(rate_limit_cache="limits").check()
    assert [p.id for p in problems] == ["heron.cache.E004"]
    assert "rate_limit_cache names the cache 'limits'" in problems[0].message


# -- fixed window -----------------------------------------------------------------------------


@pytest.fixture
def limited_app(make_app: AppFactory) -> App:
    app = make_app()

    @app.get("/limited")
    @rate_limit("3/minute")
    def limited() -> str:
        return "ok"

    @app.get("/free")
    def free() -> str:
        return "free"

    return app


def test_a_fixed_window_counts_and_refuses_with_retry_after(limited_app: App,
                                                           clock: Clock) -> None:
    with TestClient(limited_app) as client:
        for remaining in (2, 1, 0):
            response = client.get("/limited")
            expect(response, 200, 3, remaining, reset=50, period=60)
            assert response.text == "ok"
            assert "retry-after" not in response.headers
        response = client.get("/limited")
        expect(response, 429, 3, 0, reset=50, period=60)
        assert response.headers["retry-after"] == "50"
        assert "Too many requests; try again in 50 seconds." in response.text
        assert "text/html" in response.headers["content-type"]  # a browser's error page

        clock.advance(45)  # 5 s before the window ends
        response = client.get("/limited")
        expect(response, 429, 3, 0, reset=5, period=60)
        assert response.headers["retry-after"] == "5"
        # a route without a limit neither counts nor says anything
        assert not any(limits(client.get("/free")).values())

        clock.advance(5)  # the next window: counted from zero
        expect(client.get("/limited"), 200, 3, 2, reset=60, period=60)
        clock.advance(59.5)
        expect(client.get("/limited"), 200, 3, 1, reset=1, period=60)  # reset is >= 1


def test_a_json_client_gets_problem_json(limited_app: App, clock: Clock) -> None:
    with TestClient(limited_app) as client:
        for _ in range(3):
            assert client.get("/limited", headers={"accept": "application/json"}).is_success
        response = client.get("/limited", headers={"accept": "application/json"})
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"type": "about:blank", "title": "Too Many Requests",
                               "status": 429,
                               "detail": "Too many requests; try again in 50 seconds."}
    assert response.headers["retry-after"] == "50"
    expect(response, 429, 3, 0, reset=50, period=60)


def test_rate_limited_is_an_http_exception() -> None:
    exc = RateLimited(7, {"RateLimit-Limit": "1"})
    assert (exc.status_code, exc.retry_after) == (429, 7)
    assert exc.headers == {"RateLimit-Limit": "1", "Retry-After": "7"}


# -- sliding window ---------------------------------------------------------------------------


def test_a_sliding_window_weighs_the_previous_window(make_app: AppFactory,
                                                     clock: Clock) -> None:
    app = make_app()

    @app.get("/sliding")
    @rate_limit("3/10s", window="sliding")
    def sliding() -> str:
        return "ok"

    @app.get("/fixed")
    @rate_limit("3/10s")
    def fixed() -> str:
        return "ok"

    with TestClient(app) as client:
        clock.at(10, into=0)
        for remaining in (2, 1, 0):
            expect(client.get("/sliding"), 200, 3, remaining, reset=10, period=10)
            expect(client.get("/fixed"), 200, 3, remaining, reset=10, period=10)

        # 2 s into the next window, 80% of the last one still counts: 1 + 3 * 0.8 > 3
        clock.at(10, into=2, windows_later=1)
        response = client.get("/sliding")
        expect(response, 429, 3, 0, reset=8, period=10)
        assert response.headers["retry-after"] == "8"
        expect(client.get("/fixed"), 200, 3, 2, reset=8, period=10)  # a fixed one starts over

        # 8 s in, 20% of it: 2 (the refused request counted too) + 0.6 <= 3
        clock.at(10, into=8)
        expect(client.get("/sliding"), 200, 3, 0, reset=2, period=10)  # 2.6 rounds up
        # half a window after that one (2 requests): 1 + 1, and one left
        clock.at(10, into=5, windows_later=1)
        expect(client.get("/sliding"), 200, 3, 1, reset=5, period=10)
        clock.at(10, into=9)  # 10% of 2: 2 + 0.2 (none left), and 3 + 0.2 is over
        expect(client.get("/sliding"), 200, 3, 0, reset=1, period=10)
        expect(client.get("/sliding"), 429, 3, 0, reset=1, period=10)
        # a window with nothing before it counts alone
        clock.at(10, into=5, windows_later=2)
        expect(client.get("/sliding"), 200, 3, 2, reset=5, period=10)


def _sleep_until(period: float, into: float, windows_later: int) -> None:
    """Sleep until ``into`` seconds into the window of ``period`` that comes
    ``windows_later`` windows after the current one (real time)."""
    now = time.time()
    target = (now // period + windows_later) * period + into
    assert target > now
    time.sleep(target - now)


def test_a_sliding_window_in_real_time(make_app: AppFactory) -> None:
    app = make_app()

    @app.get("/sliding")
    @rate_limit("3/2s", window="sliding")
    def sliding() -> str:
        return "ok"

    with TestClient(app) as client:
        client.get("/")  # started, and the first request's costs paid
        _sleep_until(2, 0.05, windows_later=1)
        assert [client.get("/sliding").status_code for _ in range(3)] == [200, 200, 200]
        # 1 + 3 * ~0.9 > 3 in the next window, where a fixed window would start over
        _sleep_until(2, 0.2, windows_later=1)
        response = client.get("/sliding")
        assert response.status_code == 429
        assert response.headers["retry-after"] in ("1", "2")
        _sleep_until(2, 1.6, windows_later=0)  # 2 + 3 * ~0.2 <= 3
        response = client.get("/sliding")
        assert response.status_code == 200
        assert response.headers["ratelimit-policy"] == "3;w=2"


# -- whose requests count together ----------------------------------------------------------


def _app_with_key(make_app: AppFactory, key: Any, rate: str = "2/minute") -> App:
    app = make_app()

    @app.get("/limited")
    @rate_limit(rate, key=key)
    def limited() -> str:
        return "ok"

    return app


@pytest.mark.parametrize("key", ["ip", "user"])
def test_the_client_address_is_counted(make_app: AppFactory, clock: Clock, key: str) -> None:
    # "user" without heron.auth: nobody is logged in, so the address counts
    app = _app_with_key(make_app, key)
    assert "auser" not in app.request_attributes
    with TestClient(app) as first:
        other = TestClient(app, client=("10.0.0.2", 40000))
        try:
            assert [first.get("/limited").status_code for _ in range(3)] == [200, 200, 429]
            expect(other.get("/limited"), 200, 2, 1, reset=50, period=60)  # its own count
            assert other.get("/limited").status_code == 200
            assert other.get("/limited").status_code == 429
            # and the same address from another port is the same client
            same = TestClient(app, client=("127.0.0.1", 40001))
            try:
                assert same.get("/limited").status_code == 429
            finally:
                same.close()
        finally:
            other.close()


def _api_key(request: Request) -> str:
    return request.headers.get("x-api-key", "anonymous")


async def _async_api_key(request: Request) -> str:
    return request.headers.get("x-api-key", "anonymous")


@pytest.mark.parametrize("key", [_api_key, _async_api_key], ids=["sync", "async"])
def test_a_key_function_counts_each_key(make_app: AppFactory, clock: Clock,
                                        key: Callable[[Request], Any]) -> None:
    app = _app_with_key(make_app, key)
    with TestClient(app) as client:
        def get(api_key: str) -> httpx.Response:
            return client.get("/limited", headers={"x-api-key": api_key})

        expect(get("alpha"), 200, 2, 1, reset=50, period=60)
        expect(get("alpha"), 200, 2, 0, reset=50, period=60)
        assert get("alpha").status_code == 429
        # the same address with another key: counted apart
        expect(get("beta"), 200, 2, 1, reset=50, period=60)
        assert get("beta").status_code == 200
        assert get("beta").status_code == 429
        assert client.get("/limited").status_code == 200  # "anonymous"


def test_methods_limits_only_those_methods(make_app: AppFactory, clock: Clock) -> None:
    app = make_app()

    @app.route("/form", methods=["GET", "POST"])
    @rate_limit("2/minute", methods=["post"])
    @csrf_exempt
    def form(request: Request) -> str:
        return request.method

    with TestClient(app) as client:
        for _ in range(5):  # GETs neither count nor carry the headers
            response = client.get("/form")
            assert response.status_code == 200
            assert not any(limits(response).values())
        expect(client.post("/form"), 200, 2, 1, reset=50, period=60)
        expect(client.post("/form"), 200, 2, 0, reset=50, period=60)
        response = client.post("/form")
        expect(response, 429, 2, 0, reset=50, period=60)
        assert response.headers["retry-after"] == "50"
        assert client.get("/form").text == "GET"  # still served


# -- routers and groups ------------------------------------------------------------------------


def test_a_router_limit_is_shared_by_its_routes(make_app: AppFactory, clock: Clock) -> None:
    app = make_app()
    limited, other = Router("/limited", name="limited"), Router("/other", name="other")

    @limited.get("/one")
    def one() -> str:
        return "one"

    @limited.get("/two")
    def two() -> str:
        return "two"

    @other.get("/three")
    def three() -> str:
        return "three"

    assert rate_limit("3/minute")(limited) is limited
    app.include(limited)
    app.include(other)

    with TestClient(app) as client:
        expect(client.get("/limited/one"), 200, 3, 2, reset=50, period=60)
        expect(client.get("/limited/two"), 200, 3, 1, reset=50, period=60)
        expect(client.get("/limited/one"), 200, 3, 0, reset=50, period=60)
        for path in ("/limited/two", "/limited/one"):
            response = client.get(path)
            expect(response, 429, 3, 0, reset=50, period=60)
            assert response.headers["retry-after"] == "50"
        for _ in range(5):  # another router is not limited
            response = client.get("/other/three")
            assert response.text == "three"
            assert not any(limits(response).values())


def test_routers_without_names_or_prefixes_keep_their_own_counts(make_app: AppFactory,
                                                                 clock: Clock) -> None:
    # Regression: both were counted under "router:/", so requests to one used up the
    # other's limit.
    app = make_app()
    api, admin = Router(), Router()
    api.get("/x", name="x")(lambda: "x")
    admin.get("/y", name="y")(lambda: "y")
    rate_limit("2/minute")(api)
    rate_limit("100/minute")(admin)
    app.include(api, "/api")
    app.include(admin, "/admin")
    with TestClient(app) as client:
        for remaining in (99, 98, 97):
            expect(client.get("/admin/y"), 200, 100, remaining, reset=50, period=60)
        expect(client.get("/api/x"), 200, 2, 1, reset=50, period=60)


def test_a_view_limit_and_its_router_limit_both_apply(make_app: AppFactory,
                                                      clock: Clock) -> None:
    app = make_app()
    router = rate_limit("5/minute")(Router("/r", name="r"))

    @router.get("/tight")
    @rate_limit("2/minute")
    def tight() -> str:
        return "tight"

    @router.get("/loose")
    def loose() -> str:
        return "loose"

    app.include(router)
    with TestClient(app) as client:
        # the headers are those of the tightest limit: the view's (the router's has 4, 3 left)
        expect(client.get("/r/tight"), 200, 2, 1, reset=50, period=60)
        expect(client.get("/r/tight"), 200, 2, 0, reset=50, period=60)
        expect(client.get("/r/tight"), 429, 2, 0, reset=50, period=60)  # the view's limit
        # the router counted all three: 4 and 5 of 5, then over
        expect(client.get("/r/loose"), 200, 5, 1, reset=50, period=60)
        expect(client.get("/r/loose"), 200, 5, 0, reset=50, period=60)
        response = client.get("/r/loose")
        expect(response, 429, 5, 0, reset=50, period=60)
        assert response.headers["retry-after"] == "50"
        expect(client.get("/r/tight"), 429, 5, 0, reset=50, period=60)  # the router's now


def test_a_view_limit_with_a_looser_router_limit_in_another_period(make_app: AppFactory,
                                                                   clock: Clock) -> None:
    app = make_app()
    router = rate_limit("2/10s")(Router("/r", name="r"))

    @router.get("/hourly")
    @rate_limit("100/hour")
    def hourly() -> str:
        return "ok"

    app.include(router)
    with TestClient(app) as client:
        clock.at(10, into=0)
        # 99 left of the hour's 100, 1 of the router's 2: the router's are the tightest
        expect(client.get("/r/hourly"), 200, 2, 1, reset=10, period=10)
        expect(client.get("/r/hourly"), 200, 2, 0, reset=10, period=10)
        clock.advance(10)
        expect(client.get("/r/hourly"), 200, 2, 1, reset=10, period=10)


def test_a_group_shares_counts_across_views(make_app: AppFactory, clock: Clock) -> None:
    app = make_app()

    @app.get("/search")
    @rate_limit("3/minute", group="search")
    def search() -> str:
        return "search"

    @app.get("/suggest")
    @rate_limit("3/minute", group="search")
    def suggest() -> str:
        return "suggest"

    @app.get("/alone")
    @rate_limit("3/minute")
    def alone() -> str:
        return "alone"

    with TestClient(app) as client:
        expect(client.get("/search"), 200, 3, 2, reset=50, period=60)
        expect(client.get("/suggest"), 200, 3, 1, reset=50, period=60)
        expect(client.get("/search"), 200, 3, 0, reset=50, period=60)
        assert client.get("/suggest").status_code == 429
        assert client.get("/search").status_code == 429
        expect(client.get("/alone"), 200, 3, 2, reset=50, period=60)  # its own count


# -- where the counters live -----------------------------------------------------------------


@pytest.fixture
def raw_redis(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.mark.parametrize("how", ["setting", "decorator"])
def test_counters_in_a_named_redis_cache(make_app: AppFactory, clock: Clock, redis_url: str,
                                         raw_redis: redis.Redis, how: str) -> None:
    settings: dict[str, Any] = {"caches": {"limits": redis_url}}
    if how == "setting":
        settings["rate_limit_cache"] = "limits"
    app = make_app(**settings)

    @app.get("/limited")
    @rate_limit("2/minute", cache=None if how == "setting" else "limits")
    def limited() -> str:
        return "ok"

    with TestClient(app) as client:
        expect(client.get("/limited"), 200, 2, 1, reset=50, period=60)
        expect(client.get("/limited"), 200, 2, 0, reset=50, period=60)
        response = client.get("/limited")
        expect(response, 429, 2, 0, reset=50, period=60)
        assert response.headers["retry-after"] == "50"

    window = int(clock.now // 60)
    key = f"heron:limits:1:rl:view:limited:ip:127.0.0.1:{window}".encode()
    assert raw_redis.keys("*") == [key]  # under the named cache's prefix, nothing else
    assert raw_redis.get(key) == b"3"
    assert 0 < raw_redis.ttl(key) <= 61
    assert app.cache.get(f"rl:view:limited:ip:127.0.0.1:{window}") is None  # not the default


def test_counters_in_redis_hold_across_apps(make_app: AppFactory, clock: Clock,
                                            redis_url: str) -> None:
    # two apps of the same code (two processes, say) on one Redis count together
    def build() -> App:
        app = make_app(cache_url=redis_url)
        app.get("/limited", name="limited")(rate_limit("3/minute")(lambda: "ok"))
        return app

    with TestClient(build()) as first:
        assert [first.get("/limited").status_code for _ in range(2)] == [200, 200]
    with TestClient(build()) as second:
        expect(second.get("/limited"), 200, 3, 0, reset=50, period=60)
        assert second.get("/limited").status_code == 429


# -- a cache that is down --------------------------------------------------------------------


def _down_app(make_app: AppFactory, port: int, **settings: Any) -> App:
    app = make_app(cache_url=f"redis://127.0.0.1:{port}/0?timeout=0.5", **settings)

    @app.get("/limited")
    @rate_limit("1/minute")
    def limited() -> str:
        return "ok"

    @app.get("/closed")
    @rate_limit("1/minute", fail_open=False)
    def closed() -> str:
        return "ok"

    @app.get("/open")
    @rate_limit("1/minute", fail_open=True)
    def opened() -> str:
        return "ok"

    return app


def test_a_cache_that_is_down_lets_requests_through_by_default(
        make_app: AppFactory, closed_port: int, caplog: pytest.LogCaptureFixture) -> None:
    app = _down_app(make_app, closed_port)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="heron.cache"), TestClient(app) as client:
        for _ in range(3):  # over the limit, were it counted
            response = client.get("/limited")
            assert response.status_code == 200
            assert response.text == "ok"
            assert not any(limits(response).values())
        assert client.get("/closed").status_code == 503  # the view's own choice
    assert time.monotonic() - started < 5  # nothing waited long
    warnings = [r for r in caplog.records
                if r.name == "heron.cache" and r.levelno == logging.WARNING]
    assert any("Rate limit 1;w=60 for view:limited skipped: its cache is down"
               in r.getMessage() for r in warnings)


def test_a_cache_that_is_down_refuses_requests_when_failing_closed(
        make_app: AppFactory, closed_port: int) -> None:
    app = _down_app(make_app, closed_port, rate_limit_fail_open=False)
    started = time.monotonic()
    with TestClient(app) as client:
        for _ in range(3):
            response = client.get("/limited")
            assert response.status_code == 503
            assert int(response.headers["retry-after"]) > 0
            assert not any(limits(response).values())
        response = client.get("/limited", headers={"accept": "application/json"})
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 503
        assert client.get("/open").status_code == 200  # the view's own choice
        assert client.get("/closed").status_code == 503
    assert time.monotonic() - started < 5
