"""heron.cache across real processes and a real Redis, no mocks: two processes see each
other's writes and deletes, four processes filling one key run the loader once, and a
Redis that stops and comes back on its port is a miss meanwhile, then works again with
the same cache object."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from heron.cache import CacheUnavailable, RedisCache
from heron.testing.servers import RedisServer, start_or_skip

#: How long a child process may take to do its part before the test gives up on it.
CHILD_TIMEOUT = 30.0


def child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith("HERON_") and k != "PYTHONPATH"}


def spawn(code: str, *args: str) -> subprocess.Popen[str]:
    """``python -c code args...`` with its stdout a pipe of lines."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=child_env())


def read_line(process: subprocess.Popen[str]) -> str:
    """The child's next line (each child ends itself within its own deadline)."""
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(CHILD_TIMEOUT)
        stderr: IO[str] | None = process.stderr
        pytest.fail(f"the child exited ({process.returncode}) without a line; its stderr:\n"
                    f"{stderr.read() if stderr else ''}")
    return line.rstrip("\n")


def finish(process: subprocess.Popen[str]) -> str:
    """Wait for the child; its remaining output, or a failure with its stderr."""
    try:
        out, err = process.communicate(timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"the child did not finish in {CHILD_TIMEOUT} s; its stderr:\n{err}")
    if process.returncode != 0:
        pytest.fail(f"the child exited with {process.returncode}; its stderr:\n{err}")
    return out


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    """Child processes the test starts, killed if the test leaves any behind."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


# -- two processes, one Redis -------------------------------------------------------------------

READER = """
    import asyncio, sys, time
    from heron.cache import RedisCache

    async def main(url):
        cache = RedisCache(url, errors="raise")
        deadline = time.monotonic() + 20
        print("ready", flush=True)
        while (value := await cache.aget("shared")) is None:
            assert time.monotonic() < deadline, "never saw the value"
            await asyncio.sleep(0.01)
        print("saw", value["from"], value["pid"], flush=True)
        while await cache.ahas_key("shared"):
            assert time.monotonic() < deadline, "never saw the invalidation"
            await asyncio.sleep(0.01)
        print("gone", flush=True)
        await cache.aclose()

    asyncio.run(main(sys.argv[1]))
"""

WRITER = """
    import os, sys
    from heron.cache import RedisCache

    cache = RedisCache(sys.argv[1], errors="raise")
    if sys.argv[2] == "set":
        cache.set("shared", {"from": "writer", "pid": os.getpid()}, ttl=60)
    else:
        print(cache.delete("shared"), flush=True)
    cache.close()
"""


def test_two_processes_see_a_value_and_its_invalidation(
        redis_url: str, children: list[subprocess.Popen[str]]) -> None:
    reader = spawn(READER, redis_url)
    children.append(reader)
    assert read_line(reader) == "ready"

    writer = spawn(WRITER, redis_url, "set")
    children.append(writer)
    finish(writer)
    saw, source, pid = read_line(reader).split()
    assert (saw, source) == ("saw", "writer")
    assert int(pid) == writer.pid != reader.pid != os.getpid()

    deleter = spawn(WRITER, redis_url, "delete")
    children.append(deleter)
    assert finish(deleter).strip() == "True"
    assert read_line(reader) == "gone"
    finish(reader)
    cache = RedisCache(redis_url)
    assert cache.get("shared") is None
    cache.close()


# -- a stampede across processes ----------------------------------------------------------------

FILLER = """
    import asyncio, json, os, sys, time
    from pathlib import Path
    from heron.cache import RedisCache

    url, log, go, mode = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
    cache = RedisCache(url, errors="raise", lock_timeout=10)

    def loader():
        with log.open("a") as out:
            out.write(f"{os.getpid()}\\n")
        time.sleep(0.5)
        return {"loaded_by": os.getpid(), "rows": [1, 2, 3]}

    print("ready", flush=True)
    deadline = time.monotonic() + 20
    while not go.exists():  # every process starts its get_or_set at once
        assert time.monotonic() < deadline, "never told to go"
        time.sleep(0.005)
    started = time.monotonic()
    if mode == "sync":
        value = cache.get_or_set("report", loader, ttl=60)
        cache.close()
    else:
        async def main():
            value = await cache.aget_or_set("report", loader, ttl=60)
            await cache.aclose()
            return value
        value = asyncio.run(main())
    print(json.dumps({"pid": os.getpid(), "value": value,
                      "seconds": time.monotonic() - started}), flush=True)
"""


def test_four_processes_filling_one_key_run_the_loader_once(
        redis_url: str, tmp_path: Path, children: list[subprocess.Popen[str]]) -> None:
    log, go = tmp_path / "loader.log", tmp_path / "go"
    modes = ["sync", "async", "sync", "async"]
    processes = [spawn(FILLER, redis_url, str(log), str(go), mode) for mode in modes]
    children.extend(processes)
    for process in processes:
        assert read_line(process) == "ready"
    go.touch()
    results: list[dict[str, Any]] = [json.loads(finish(p)) for p in processes]

    loaders = log.read_text().splitlines()
    assert len(loaders) == 1, loaders  # one process loaded; three waited for its value
    loader_pid = int(loaders[0])
    assert loader_pid in {p.pid for p in processes}
    assert [r["value"] for r in results] == [{"loaded_by": loader_pid, "rows": [1, 2, 3]}] * 4
    assert {r["pid"] for r in results} == {p.pid for p in processes}
    for result in results:
        assert result["seconds"] < 5  # the waiters got the value soon after it was stored
    cache = RedisCache(redis_url)
    try:
        assert cache.get("report") == {"loaded_by": loader_pid, "rows": [1, 2, 3]}
        assert cache.store.sync_client().keys("heron:lock:*") == []  # type: ignore[attr-defined]
    finally:
        cache.close()


# -- Redis stops and comes back -----------------------------------------------------------------


class RestartableRedis(RedisServer):
    """A throwaway redis-server that, started again, comes back on the port it had."""

    def __init__(self) -> None:
        super().__init__()
        self.fixed_port: int | None = None

    def stop_keeping_the_port(self) -> int:
        """Stop; the next start() listens on the same port again (returned)."""
        self.fixed_port = self.port
        self.stop()
        return self.fixed_port

    def _spawn(self) -> None:
        if self.fixed_port is not None:
            self._port = self.fixed_port
        super()._spawn()


@pytest.fixture
def own_redis() -> Iterator[RestartableRedis]:
    server = start_or_skip(RestartableRedis())
    try:
        yield server
    finally:
        server.stop()


TIMEOUT = 1.0  # the cache's: no call may take much longer while Redis is down
RETRY_AFTER = 0.2


def timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


async def atimed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = await call()
    return result, time.monotonic() - started


async def test_redis_stopping_and_coming_back(own_redis: RestartableRedis) -> None:
    url = own_redis.url
    cache = RedisCache(url, timeout=TIMEOUT, retry_after=RETRY_AFTER)
    try:
        cache.set("k", "before")
        await cache.aset("a", "before")
        assert cache.get("k") == "before"
        assert await cache.aget("a") == "before"

        port = own_redis.stop_keeping_the_port()  # SIGTERM: Redis closes the connections
        assert not own_redis.running
        failures = cache.stats()["failures"]
        calls = 0
        down_until = time.monotonic() + 1.0  # several retry_after windows
        while time.monotonic() < down_until:
            for result, seconds in (
                    timed(lambda: cache.get("k", "miss")),
                    await atimed(lambda: cache.aget("a", "miss")),
                    timed(lambda: cache.set("k", "during")),
                    await atimed(lambda: cache.aadd("new", 1)),
                    timed(lambda: cache.get_or_set("g", lambda: "loaded")),
                    await atimed(lambda: cache.aget_many(["k", "a"]))):
                assert result in ("miss", None, False, "loaded", {})
                assert seconds < TIMEOUT + 0.5
                calls += 1
            with pytest.raises(CacheUnavailable):
                cache.strict.get("k")
            with pytest.raises(CacheUnavailable):
                await cache.aincr("n")  # a counter raises even in miss mode
            await asyncio.sleep(0.05)
        assert calls >= 30
        assert cache.stats()["failures"] > failures

        own_redis.start()
        assert own_redis.port == port
        assert own_redis.url == url

        # The same cache object, not recreated: once retry_after has passed, the next
        # call reconnects (the data is gone: a throwaway server keeps nothing).
        await asyncio.sleep(RETRY_AFTER + 0.05)
        assert cache.get("k", "miss") == "miss"
        assert await cache.aget("a", "miss") == "miss"
        failures = cache.stats()["failures"]
        cache.set("k", "after")
        await cache.aset("a", "after")
        assert cache.get("k") == "after"
        assert await cache.aget("a") == "after"
        assert cache.strict.get("k") == "after"
        assert await cache.aincr("n") == 1
        assert cache.incr("n") == 2
        assert cache.get_or_set("g", lambda: "reloaded") == "reloaded"
        assert cache.stats()["failures"] == failures
    finally:
        await cache.aclose()
