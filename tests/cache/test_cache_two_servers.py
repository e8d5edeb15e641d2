"""The cache across processes: two ``heron run`` servers of one app share a real
redis-server (``cache_url``).  A page one of them cached is served by the other, and
clearing the cache (or forgetting a fragment) on one is seen by both; rate-limit
counts add up across the two."""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from app_server import AppServer

from heron.testing.servers import RedisServer

APP = '''
import itertools
import os

import heron
from heron import App, Request
from heron.cache import ainvalidate_fragment, cache_page, rate_limit

app = App(
    secret_key="a secret key shared by both processes",
    allowed_hosts=["127.0.0.1"],
    cache_url=os.environ["TEST_CACHE_URL"],
    cache_debug_header=True,
)
served = itertools.count(1)  # this process's own count


@app.get("/")
async def index() -> str:
    return "ready"


@app.get("/page")
@cache_page(60)
async def page() -> str:
    return f"page pid={os.getpid()} n={next(served)}"


@app.get("/clear")
async def clear(request: Request) -> str:
    await request.app.cache.aclear()
    return f"cleared by {os.getpid()}"


@app.get("/fragment")
async def fragment(request: Request) -> object:
    return await heron.render_async(request, "fragment.html",
                                    {"pid": os.getpid(), "served": served})


@app.get("/forget")
async def forget(request: Request) -> dict:
    return {"forgotten": await ainvalidate_fragment(request.app, "box")}


@app.get("/limited")
@rate_limit("5/minute")
async def limited() -> str:
    return f"limited pid={os.getpid()}"
'''

FRAGMENT = ('<div>{% cache 60, "box" %}box pid={{ pid }} n={{ served.__next__() }}'
            '{% endcache %}</div> served by {{ pid }}')

#: What a load balancer in front of both would pass on: one host for both servers
#: (the page cache keys pages on the Host header, port included).
HOST = {"host": "127.0.0.1"}


class Server(AppServer):
    """``heron run cached:app`` on a free port of 127.0.0.1, with a log of its own."""

    def __init__(self, root: Path, env: dict[str, str], name: str) -> None:
        super().__init__("cached:app", cwd=root, env=env, args=("--no-debug",))
        self.log = root / f"{name}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None, "not running"
        return self.process.pid

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, headers=HOST, timeout=10)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory,
            redis_server: RedisServer) -> Iterator[tuple[Server, Server]]:
    root = tmp_path_factory.mktemp("two-servers")
    (root / "cached.py").write_text(textwrap.dedent(APP))
    (root / "templates").mkdir()
    (root / "templates" / "fragment.html").write_text(FRAGMENT)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HERON_") and k != "PYTHONPATH"}
    env.update(TEST_CACHE_URL=redis_server.url, PYTHONDONTWRITEBYTECODE="1")
    first, second = Server(root, env, "first"), Server(root, env, "second")
    try:
        yield first.start(), second.start()
    finally:
        first.stop()
        second.stop()


@pytest.fixture(autouse=True)
def _empty_redis(redis_server: RedisServer) -> None:
    redis_server.flushall()


def _pid(text: str) -> int:
    return int(text.split("pid=")[1].split()[0])


def test_a_page_cached_by_one_server_is_served_by_the_other(
        servers: tuple[Server, Server], redis_server: RedisServer) -> None:
    first, second = servers
    assert first.pid != second.pid

    miss = first.get("/page")
    assert miss.status_code == 200
    assert miss.headers["x-heron-cache"] == "miss"
    assert _pid(miss.text) == first.pid
    assert int(redis_server.command("DBSIZE")[1:]) > 0  # the page lives in Redis

    hit = second.get("/page")
    assert hit.status_code == 200
    assert hit.headers["x-heron-cache"] == "hit"
    assert hit.text == miss.text  # the first server's page, pid and count included
    assert first.get("/page").text == miss.text  # and its own, from the cache too

    # clearing the shared cache on the second server empties it for the first
    assert second.get("/clear").text == f"cleared by {second.pid}"
    assert int(redis_server.command("DBSIZE")[1:]) == 0
    again = first.get("/page")
    assert again.headers["x-heron-cache"] == "miss"
    assert again.text != miss.text  # rendered anew: the count went on
    assert _pid(again.text) == _pid(miss.text)
    assert second.get("/page").text == again.text


def test_a_fragment_forgotten_by_one_server_is_rendered_again_by_the_other(
        servers: tuple[Server, Server]) -> None:
    first, second = servers
    made = first.get("/fragment")
    assert made.status_code == 200
    box = made.text.split("</div>")[0]
    assert box.startswith(f"<div>box pid={first.pid} n=")

    seen = second.get("/fragment")
    assert seen.text == f"{box}</div> served by {second.pid}"  # the first's fragment

    assert second.get("/forget").json() == {"forgotten": True}
    assert second.get("/forget").json() == {"forgotten": False}
    fresh = first.get("/fragment").text.split("</div>")[0]
    assert fresh.startswith(f"<div>box pid={first.pid} n=")
    assert fresh != box  # rendered again: the count went on
    assert second.get("/fragment").text.split("</div>")[0] == fresh


def test_rate_limit_counts_are_shared(servers: tuple[Server, Server],
                                      redis_server: RedisServer) -> None:
    first, second = servers
    if 60 - time.time() % 60 < 5:  # all six requests in one window of the minute
        time.sleep(60 - time.time() % 60 + 0.1)

    pids = []
    for server, remaining in zip((first, second, first, second, first), (4, 3, 2, 1, 0),
                                 strict=True):
        response = server.get("/limited")
        assert response.status_code == 200, response.text
        assert response.headers["ratelimit-limit"] == "5"
        assert response.headers["ratelimit-remaining"] == str(remaining)
        assert response.headers["ratelimit-policy"] == "5;w=60"
        pids.append(_pid(response.text))
    assert set(pids) == {first.pid, second.pid}  # both really answered
    assert int(redis_server.command("DBSIZE")[1:]) == 1  # one counter, in Redis

    for server in (second, first):  # the sixth, and more, on either server
        response = server.get("/limited")
        assert response.status_code == 429
        assert 1 <= int(response.headers["retry-after"]) <= 60
        assert response.headers["ratelimit-remaining"] == "0"
