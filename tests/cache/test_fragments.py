"""``{% cache ttl, name, *vary_on %}``: fragments rendered once per name and vary
values, by sync and async templates alike, kept for their time to live (or until
invalidated) in the cache ``cache_fragments`` names, and rendered every time when
that cache is down."""

from __future__ import annotations

import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import orjson
import pytest
import redis

import heron
from heron import App
from heron.cache import ainvalidate_fragment, fragment_key, invalidate_fragment
from heron.requests import Request
from heron.testing import TestClient

AppFactory = Callable[..., App]

TEMPLATES = {
    "page.html": '<p>{% cache 300, "side", v %}[{{ v }}:{{ tick(v) }}]{% endcache %}</p>',
    "two.html": ('{% cache 300, "side", v %}[{{ v }}:{{ tick(v) }}]{% endcache %}'
                 '{% cache 300, "other", v %}({{ v }}:{{ tick("other") }}){% endcache %}'),
    "forever.html": '{% cache None, "forever" %}{{ tick("forever") }}{% endcache %}',
    "short.html": '{% cache 0.3, "short" %}{{ tick("short") }}{% endcache %}',
    "escaped.html": ('{% cache 300, "escaped" %}{{ text }}<i>{{ tick("e") }}</i>'
                     '{% endcache %}|{{ text }}'),
    "loop.html": ('{% for item in items %}{% cache 300, "item", item.id, item.version %}'
                  '<li>{{ item.id }}:{{ tick(item.id) }}</li>{% endcache %}{% endfor %}'),
    "badttl.html": '{% cache ttl, "bad" %}x{% endcache %}',
}


class Ticks:
    """Counts how often each fragment body really rendered."""

    def __init__(self) -> None:
        self.counts: Counter[Any] = Counter()

    def __call__(self, what: Any) -> int:
        self.counts[what] += 1
        return self.counts[what]


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def fragment_app(make_app: AppFactory, tmp_path: Path, ticks: Ticks) -> Callable[..., App]:
    """An app (settings as given) whose views render TEMPLATES sync and async."""
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, source in TEMPLATES.items():
        (folder / name).write_text(source)

    def factory(**settings: Any) -> App:
        app = make_app(**settings)

        @app.get("/sync/{name}/{v}")
        def sync_page(request: Request, name: str, v: str) -> Any:
            return heron.render(request, f"{name}.html", {"v": v, "tick": ticks})

        @app.get("/async/{name}/{v}")
        async def async_page(request: Request, name: str, v: str) -> Any:
            return await heron.render_async(request, f"{name}.html", {"v": v, "tick": ticks})

        @app.get("/forget/{name}/{v}")
        async def forget(request: Request, name: str, v: str) -> dict[str, bool]:
            return {"forgotten": await ainvalidate_fragment(request.app, name, v)}

        return app

    return factory


@pytest.fixture
def client(fragment_app: Callable[..., App]) -> Iterator[TestClient]:
    with TestClient(fragment_app()) as test_client:
        yield test_client


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_fragment_renders_once_per_vary_value(client: TestClient, ticks: Ticks,
                                                mode: str) -> None:
    def get(v: str) -> str:
        response = client.get(f"/{mode}/page/{v}")
        assert response.status_code == 200
        return response.text

    assert get("1") == "<p>[1:1]</p>"
    assert get("1") == "<p>[1:1]</p>"  # from the cache: the body did not run again
    assert ticks.counts == {"1": 1}
    assert get("2") == "<p>[2:1]</p>"  # another vary value is another fragment
    assert (get("2"), get("1")) == ("<p>[2:1]</p>", "<p>[1:1]</p>")
    assert ticks.counts == {"1": 1, "2": 1}


def test_sync_and_async_templates_share_fragments(client: TestClient, ticks: Ticks) -> None:
    assert client.get("/sync/page/a").text == "<p>[a:1]</p>"
    assert client.get("/async/page/a").text == "<p>[a:1]</p>"  # written sync, read async
    assert client.get("/async/page/b").text == "<p>[b:1]</p>"
    assert client.get("/sync/page/b").text == "<p>[b:1]</p>"  # and the other way round
    assert ticks.counts == {"a": 1, "b": 1}


def test_fragments_are_keyed_on_their_name(client: TestClient, ticks: Ticks) -> None:
    # "side" in two templates is one fragment; "other" with the same vary value is not
    assert client.get("/sync/page/x").text == "<p>[x:1]</p>"
    assert client.get("/sync/two/x").text == "[x:1](x:1)"
    assert client.get("/async/two/x").text == "[x:1](x:1)"
    assert ticks.counts == {"x": 1, "other": 1}


def test_a_cached_fragment_is_not_escaped_twice(client: TestClient,
                                                fragment_app: Callable[..., App]) -> None:
    app = client.app
    assert isinstance(app, App)
    first = app.templates.render_string(None, "escaped.html", {"text": "<b>", "tick": Ticks()})
    again = app.templates.render_string(None, "escaped.html", {"text": "<b>", "tick": Ticks()})
    assert first == again == "&lt;b&gt;<i>1</i>|&lt;b&gt;"


def test_a_fragment_in_a_loop_varies_on_each_item(client: TestClient, ticks: Ticks) -> None:
    app = client.app
    assert isinstance(app, App)

    def render(*items: tuple[int, int]) -> str:
        context = {"items": [{"id": i, "version": v} for i, v in items], "tick": ticks}
        return app.templates.render_string(None, "loop.html", context)

    assert render((1, 1), (2, 1)) == "<li>1:1</li><li>2:1</li>"
    assert render((1, 1), (2, 2), (3, 1)) == "<li>1:1</li><li>2:2</li><li>3:1</li>"
    assert ticks.counts == {1: 1, 2: 2, 3: 1}


async def test_async_rendering_outside_a_request(client: TestClient, ticks: Ticks) -> None:
    app = client.app
    assert isinstance(app, App)
    context = {"v": "z", "tick": ticks}
    assert await app.templates.render_string_async(None, "page.html", context) == "<p>[z:1]</p>"
    assert await app.templates.render_string_async(None, "page.html", context) == "<p>[z:1]</p>"
    assert app.templates.render_string(None, "page.html", context) == "<p>[z:1]</p>"
    assert ticks.counts == {"z": 1}


# -- lifetime and invalidation ---------------------------------------------------------------


def test_a_fragment_expires_after_its_ttl(client: TestClient, ticks: Ticks) -> None:
    assert client.get("/sync/short/-").text == "1"
    assert client.get("/async/short/-").text == "1"
    time.sleep(0.4)
    assert client.get("/async/short/-").text == "2"
    assert client.get("/sync/short/-").text == "2"


def test_invalidate_fragment(client: TestClient, ticks: Ticks) -> None:
    app = client.app
    assert isinstance(app, App)
    for v in ("1", "2"):
        assert client.get(f"/sync/page/{v}").text == f"<p>[{v}:1]</p>"
    assert invalidate_fragment(app, "side", "1") is True
    assert invalidate_fragment(app, "side", "1") is False  # nothing left to forget
    assert invalidate_fragment(app, "side", 1) is False  # 1 is not "1"
    assert invalidate_fragment(app, "nope", "1") is False
    assert client.get("/sync/page/1").text == "<p>[1:2]</p>"  # rendered again
    assert client.get("/async/page/1").text == "<p>[1:2]</p>"
    assert client.get("/sync/page/2").text == "<p>[2:1]</p>"  # another one is kept


def test_ainvalidate_fragment(client: TestClient, ticks: Ticks) -> None:
    assert client.get("/async/page/1").text == "<p>[1:1]</p>"
    assert client.get("/forget/side/1").json() == {"forgotten": True}
    assert client.get("/forget/side/1").json() == {"forgotten": False}
    assert client.get("/async/page/1").text == "<p>[1:2]</p>"
    assert client.get("/sync/page/1").text == "<p>[1:2]</p>"


def test_fragment_key() -> None:
    key = fragment_key("side", 1, "a")
    assert key.startswith("fragment:side:")
    assert key == fragment_key("side", 1, "a")
    assert len({key, fragment_key("side", "1", "a"), fragment_key("side", 1),
                fragment_key("other", 1, "a"), fragment_key("side", 1, "a", None),
                fragment_key("side")}) == 6
    assert fragment_key("side", {"b": 1}) == fragment_key("side", {"b": 1})


# -- mistakes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("ttl", [0, -5, -0.5, "300", True, [1], float("nan")])
def test_a_bad_ttl_is_a_value_error(client: TestClient, ttl: Any) -> None:
    app = client.app
    assert isinstance(app, App)
    with pytest.raises(ValueError,
                       match="the time to live must be a positive number of seconds or None"):
        app.templates.render_string(None, "badttl.html", {"ttl": ttl})


async def test_a_bad_ttl_is_a_value_error_async(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, App)
    with pytest.raises(ValueError, match="not 0"):
        await app.templates.render_string_async(None, "badttl.html", {"ttl": 0})


def test_a_bad_ttl_in_a_view_is_a_500(client: TestClient) -> None:
    assert client.get("/sync/badttl/-").status_code == 500


@pytest.mark.parametrize("source", [
    '{% cache 300 %}x{% endcache %}',
    '{% cache "sidebar" %}x{% endcache %}',
])
def test_a_fragment_needs_a_ttl_and_a_name(client: TestClient, source: str) -> None:
    app = client.app
    assert isinstance(app, App)
    with pytest.raises(jinja2.TemplateSyntaxError,
                       match=r"\{% cache %\} needs a time to live and a name"):
        app.templates.env.from_string(source)
    with pytest.raises(jinja2.TemplateSyntaxError, match="needs a time to live and a name"):
        app.templates.async_env.from_string(source)


@pytest.mark.parametrize("source", [
    '{% cache %}x{% endcache %}',
    '{% cache 300, "side" %}x',  # never closed
])
def test_other_syntax_errors(client: TestClient, source: str) -> None:
    app = client.app
    assert isinstance(app, App)
    with pytest.raises(jinja2.TemplateSyntaxError):
        app.templates.env.from_string(source)


# -- where fragments live --------------------------------------------------------------------


@pytest.fixture
def raw_redis(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_fragments_in_a_named_redis_cache(fragment_app: Callable[..., App], redis_url: str,
                                          raw_redis: redis.Redis, ticks: Ticks) -> None:
    app = fragment_app(caches={"fragments": redis_url}, cache_fragments="fragments")
    with TestClient(app) as client:
        assert client.get("/sync/page/1").text == "<p>[1:1]</p>"
        assert client.get("/async/page/1").text == "<p>[1:1]</p>"
        assert client.get("/async/forever/-").text == "1"
        assert client.get("/sync/forever/-").text == "1"
        side = f"heron:fragments:1:{fragment_key('side', '1')}".encode()
        forever = f"heron:fragments:1:{fragment_key('forever')}".encode()
        assert sorted(raw_redis.keys("*")) == sorted([side, forever])
        assert orjson.loads(raw_redis.get(side)) == "[1:1]"
        assert 290 < raw_redis.ttl(side) <= 300
        assert raw_redis.ttl(forever) == -1  # ttl None: until invalidated
        assert app.cache.get(fragment_key("side", "1")) is None  # not in the default cache

        # another process sees what this one rendered
        raw_redis.set(side, orjson.dumps("[from another process]"))
        assert client.get("/async/page/1").text == "<p>[from another process]</p>"

        assert client.get("/forget/side/1").json() == {"forgotten": True}
        assert invalidate_fragment(app, "forever") is True
        assert raw_redis.keys("*") == []
        assert client.get("/sync/page/1").text == "<p>[1:2]</p>"
        assert client.get("/sync/forever/-").text == "2"
    assert ticks.counts == {"1": 2, "forever": 2}


@pytest.fixture
def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("setting", ["default", "named"])
def test_a_cache_that_is_down_renders_the_block_every_time(
        fragment_app: Callable[..., App], closed_port: int, ticks: Ticks, setting: str) -> None:
    down = f"redis://127.0.0.1:{closed_port}/0?timeout=0.5"
    if setting == "default":
        app = fragment_app(cache_url=down)
    else:
        app = fragment_app(caches={"fragments": down}, cache_fragments="fragments")
    started = time.monotonic()
    with TestClient(app) as client:
        for count in range(1, 7):
            response = client.get(f"/{('sync', 'async')[count % 2]}/page/1")
            assert response.status_code == 200
            assert response.text == f"<p>[1:{count}]</p>"  # the block ran again
        assert client.get("/forget/side/1").json() == {"forgotten": False}
        assert invalidate_fragment(app, "side", "1") is False
    assert time.monotonic() - started < 5  # nothing waited on the dead server
