"""The cache as code uses it: keys, versions, encoded values, sync and async entry points.

Every operation is written once.  A simple one is a store call between two shared
helpers (the key made, the value encoded or decoded, a store that is down handled),
with a sync and an async entry point (``get``/``aget``).  ``get_or_set`` and
``incr_version``, which make several calls, are generators of steps that one sync
and one async driver run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from heron.cache.base import CacheUnavailable, Store, check_ttl
from heron.cache.serializers import Serializer, serializer

__all__ = ["DEFAULT_TTL", "Cache"]

logger = logging.getLogger("heron.cache")


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT_TTL"


#: ``ttl=DEFAULT_TTL`` (the default) means the cache's ``default_ttl``; ``None`` means forever.
DEFAULT_TTL: Any = _Default()
_MISSING: Any = object()
_RAISE: Any = object()  # the fallback of counters: a store that is down always raises
_LOG_EVERY = 30.0  # seconds between two warnings that a cache is down


class _Op(NamedTuple):  # a store operation: ("get", key)...
    name: str
    args: tuple[Any, ...]


class _Load(NamedTuple):  # run the loader of get_or_set
    loader: Callable[[], Any]


class _Sleep(NamedTuple):
    seconds: float


_Steps = Generator[_Op | _Load | _Sleep, Any, Any]


class Cache:
    """A cache: values under keys, with expiry, on a :class:`~heron.cache.base.Store`.

    Sync code calls ``get``, ``set``...; async code awaits ``aget``, ``aset``...
    Values are anything the serializer holds (JSON by default).

    Args:
        store: where the bytes go (memory, Redis, null).
        name: the cache's name in the app (for logs and errors).
        prefix: put before every key, so that caches and apps can share one store.
        version: part of every key; raise it to leave every old entry behind.
        default_ttl: seconds an entry lives when ``ttl`` is not given; ``None``: forever.
        serializer: ``"json"`` or ``"msgpack"`` (or a :class:`Serializer`).
        errors: ``"miss"`` (a store that is down reads as a miss and drops writes,
            logged and counted) or ``"raise"`` (:class:`CacheUnavailable`, a 503).
        lock_timeout: in ``get_or_set`` on a shared store, the longest another process's
            fill is waited for, and the life of its lock.
    """

    def __init__(self, store: Store, *, name: str = "default", prefix: str = "heron:",
                 version: int = 1, default_ttl: float | None = 300,
                 serializer: str | Serializer = "json", errors: str = "miss",
                 lock_timeout: float = 10.0) -> None:
        if errors not in ("miss", "raise"):
            raise ValueError(f"errors must be 'miss' or 'raise', not {errors!r}")
        check_ttl(default_ttl)
        if isinstance(lock_timeout, bool) or not 0 < lock_timeout <= 3600:
            raise ValueError(f"lock_timeout must be a number of seconds from 0 to 3600, "
                             f"not {lock_timeout!r}")
        self.store = store
        self.name = name
        self.prefix = prefix
        self.version = version
        self.default_ttl = default_ttl
        self.serializer = _serializer(serializer)
        self.errors = errors
        self.lock_timeout = lock_timeout
        self.hits = self.misses = self.failures = 0
        self._last_warning = -_LOG_EVERY  # monotonic() may be under 30 s (a fresh boot)
        self._locks = _KeyLocks()
        self._strict: Cache | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} on {type(self.store).__name__}>"

    @property
    def strict(self) -> Cache:
        """This cache with ``errors="raise"``: for data that is not a cache (sessions,
        counters), where a store that is down must not pass for a miss."""
        if self.errors == "raise":
            return self
        if self._strict is None:
            self._strict = Cache(self.store, name=self.name, prefix=self.prefix,
                                 version=self.version, default_ttl=self.default_ttl,
                                 serializer=self.serializer, errors="raise",
                                 lock_timeout=self.lock_timeout)
        return self._strict

    def stats(self) -> dict[str, int]:
        """Reads that hit and missed, and operations the store failed, since the start."""
        return {"hits": self.hits, "misses": self.misses, "failures": self.failures}

    # -- the shared helpers --------------------------------------------------------------------

    def make_key(self, key: str, version: int | None = None) -> str:
        """The key the store sees: ``<prefix><version>:<key>``."""
        if not isinstance(key, str):
            raise TypeError(f"A cache key is a str, not {type(key).__name__}")
        return f"{self.prefix}{self.version if version is None else version}:{key}"

    def _ttl(self, ttl: Any) -> float | None:
        if ttl is DEFAULT_TTL:
            return self.default_ttl
        check_ttl(ttl)
        return ttl  # type: ignore[no-any-return]

    def _decoded(self, raw: bytes | None, default: Any) -> Any:
        if raw is None:
            self.misses += 1
            return default
        self.hits += 1
        return self.serializer.loads(raw)

    def _failed(self, exc: CacheUnavailable, fallback: Any) -> Any:
        """A store that is down: ``fallback`` (a miss), or the error for a strict cache."""
        self.failures += 1
        if self.errors == "raise" or fallback is _RAISE:
            raise exc
        now = time.monotonic()
        if now - self._last_warning >= _LOG_EVERY:
            self._last_warning = now
            logger.warning("Cache %r is unavailable (%s); reads miss and writes are dropped "
                           "until it is back", self.name, exc.message)
        return fallback

    # -- reading -------------------------------------------------------------------------------

    def get(self, key: str, default: Any = None, *, version: int | None = None) -> Any:
        """The value under ``key``, or ``default``."""
        full = self.make_key(key, version)
        try:
            raw = self.store.get(full)
        except CacheUnavailable as exc:
            return self._failed(exc, default)
        return self._decoded(raw, default)

    async def aget(self, key: str, default: Any = None, *, version: int | None = None) -> Any:
        """The value under ``key``, or ``default``."""
        full = self.make_key(key, version)
        try:
            raw = await self.store.aget(full)
        except CacheUnavailable as exc:
            return self._failed(exc, default)
        return self._decoded(raw, default)

    def get_many(self, keys: Iterable[str], *, version: int | None = None) -> dict[str, Any]:
        """The keys found, with their values (missing ones are left out)."""
        keys = list(keys)
        try:
            raws = self.store.get_many([self.make_key(k, version) for k in keys])
        except CacheUnavailable as exc:
            return self._failed(exc, {})  # type: ignore[no-any-return]
        return self._found(keys, raws)

    async def aget_many(self, keys: Iterable[str], *,
                        version: int | None = None) -> dict[str, Any]:
        """The keys found, with their values (missing ones are left out)."""
        keys = list(keys)
        try:
            raws = await self.store.aget_many([self.make_key(k, version) for k in keys])
        except CacheUnavailable as exc:
            return self._failed(exc, {})  # type: ignore[no-any-return]
        return self._found(keys, raws)

    def _found(self, keys: list[str], raws: list[bytes | None]) -> dict[str, Any]:
        found = {}
        for key, raw in zip(keys, raws, strict=True):
            value = self._decoded(raw, _MISSING)
            if value is not _MISSING:
                found[key] = value
        return found

    def has_key(self, key: str, *, version: int | None = None) -> bool:
        """Whether ``key`` holds a value."""
        return self.get(key, _MISSING, version=version) is not _MISSING

    async def ahas_key(self, key: str, *, version: int | None = None) -> bool:
        """Whether ``key`` holds a value."""
        return await self.aget(key, _MISSING, version=version) is not _MISSING

    def get_bytes(self, key: str, *, version: int | None = None) -> bytes | None:
        """The bytes :meth:`set_bytes` stored under ``key`` (no serializer), or ``None``."""
        try:
            raw = self.store.get(self.make_key(key, version))
        except CacheUnavailable as exc:
            return self._failed(exc, None)  # type: ignore[no-any-return]
        return self._counted(raw)

    async def aget_bytes(self, key: str, *, version: int | None = None) -> bytes | None:
        """The bytes :meth:`aset_bytes` stored under ``key`` (no serializer), or ``None``."""
        try:
            raw = await self.store.aget(self.make_key(key, version))
        except CacheUnavailable as exc:
            return self._failed(exc, None)  # type: ignore[no-any-return]
        return self._counted(raw)

    def _counted(self, raw: bytes | None) -> bytes | None:
        if raw is None:
            self.misses += 1
        else:
            self.hits += 1
        return raw

    # -- writing -------------------------------------------------------------------------------

    def set_bytes(self, key: str, data: bytes, ttl: Any = DEFAULT_TTL, *,
                  version: int | None = None) -> None:
        """Store ``data`` as it is (no serializer): pages, images, what you encoded."""
        full, seconds = self.make_key(key, version), self._ttl(ttl)
        try:
            self.store.set(full, bytes(data), seconds)
        except CacheUnavailable as exc:
            self._failed(exc, None)

    async def aset_bytes(self, key: str, data: bytes, ttl: Any = DEFAULT_TTL, *,
                         version: int | None = None) -> None:
        """Store ``data`` as it is (no serializer): pages, images, what you encoded."""
        full, seconds = self.make_key(key, version), self._ttl(ttl)
        try:
            await self.store.aset(full, bytes(data), seconds)
        except CacheUnavailable as exc:
            self._failed(exc, None)


    def set(self, key: str, value: Any, ttl: Any = DEFAULT_TTL, *,
            version: int | None = None) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (``None``: until deleted).

        Raises:
            TypeError: the serializer cannot hold the value (nothing is stored).
        """
        self._write(key, value, ttl, version, None)

    async def aset(self, key: str, value: Any, ttl: Any = DEFAULT_TTL, *,
                   version: int | None = None) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (``None``: until deleted)."""
        await self._awrite(key, value, ttl, version, None)

    def add(self, key: str, value: Any, ttl: Any = DEFAULT_TTL, *,
            version: int | None = None) -> bool:
        """Store ``value`` only if ``key`` holds nothing; True when it was stored."""
        return self._write(key, value, ttl, version, "absent")

    async def aadd(self, key: str, value: Any, ttl: Any = DEFAULT_TTL, *,
                   version: int | None = None) -> bool:
        """Store ``value`` only if ``key`` holds nothing; True when it was stored."""
        return await self._awrite(key, value, ttl, version, "absent")

    def replace(self, key: str, value: Any, ttl: Any = DEFAULT_TTL, *,
                version: int | None = None) -> bool:
        """Store ``value`` only if ``key`` holds something; True when it was stored."""
        return self._write(key, value, ttl, version, "present")

    async def areplace(self, key: str, value: Any, ttl: Any = DEFAULT_TTL, *,
                       version: int | None = None) -> bool:
        """Store ``value`` only if ``key`` holds something; True when it was stored."""
        return await self._awrite(key, value, ttl, version, "present")

    def _write(self, key: str, value: Any, ttl: Any, version: int | None,
               only: str | None) -> bool:
        args = (self.make_key(key, version), self.serializer.dumps(value), self._ttl(ttl), only)
        try:
            return self.store.set(*args)
        except CacheUnavailable as exc:
            return self._failed(exc, False)  # type: ignore[no-any-return]

    async def _awrite(self, key: str, value: Any, ttl: Any, version: int | None,
                      only: str | None) -> bool:
        args = (self.make_key(key, version), self.serializer.dumps(value), self._ttl(ttl), only)
        try:
            return await self.store.aset(*args)
        except CacheUnavailable as exc:
            return self._failed(exc, False)  # type: ignore[no-any-return]

    def set_many(self, values: Mapping[str, Any], ttl: Any = DEFAULT_TTL, *,
                 version: int | None = None) -> None:
        """Store every value, each under its key, with the same ``ttl``."""
        items, seconds = self._items(values, version), self._ttl(ttl)
        try:
            self.store.set_many(items, seconds)
        except CacheUnavailable as exc:
            self._failed(exc, None)

    async def aset_many(self, values: Mapping[str, Any], ttl: Any = DEFAULT_TTL, *,
                        version: int | None = None) -> None:
        """Store every value, each under its key, with the same ``ttl``."""
        items, seconds = self._items(values, version), self._ttl(ttl)
        try:
            await self.store.aset_many(items, seconds)
        except CacheUnavailable as exc:
            self._failed(exc, None)

    def _items(self, values: Mapping[str, Any], version: int | None) -> dict[str, bytes]:
        return {self.make_key(k, version): self.serializer.dumps(v) for k, v in values.items()}

    def delete(self, key: str, *, version: int | None = None) -> bool:
        """Remove ``key``; True when it held a value."""
        return self.delete_many([key], version=version) == 1

    async def adelete(self, key: str, *, version: int | None = None) -> bool:
        """Remove ``key``; True when it held a value."""
        return await self.adelete_many([key], version=version) == 1

    def delete_many(self, keys: Iterable[str], *, version: int | None = None) -> int:
        """Remove the keys; how many held a value."""
        try:
            return self.store.delete([self.make_key(k, version) for k in keys])
        except CacheUnavailable as exc:
            return self._failed(exc, 0)  # type: ignore[no-any-return]

    async def adelete_many(self, keys: Iterable[str], *, version: int | None = None) -> int:
        """Remove the keys; how many held a value."""
        try:
            return await self.store.adelete([self.make_key(k, version) for k in keys])
        except CacheUnavailable as exc:
            return self._failed(exc, 0)  # type: ignore[no-any-return]

    def touch(self, key: str, ttl: Any = DEFAULT_TTL, *, version: int | None = None) -> bool:
        """Give ``key`` a new time to live; False when it holds nothing."""
        full, seconds = self.make_key(key, version), self._ttl(ttl)
        try:
            return self.store.touch(full, seconds)
        except CacheUnavailable as exc:
            return self._failed(exc, False)  # type: ignore[no-any-return]

    async def atouch(self, key: str, ttl: Any = DEFAULT_TTL, *,
                     version: int | None = None) -> bool:
        """Give ``key`` a new time to live; False when it holds nothing."""
        full, seconds = self.make_key(key, version), self._ttl(ttl)
        try:
            return await self.store.atouch(full, seconds)
        except CacheUnavailable as exc:
            return self._failed(exc, False)  # type: ignore[no-any-return]

    def clear(self) -> None:
        """Remove every entry of this cache (every key under its prefix), and nothing else."""
        try:
            self.store.clear(self.prefix)
        except CacheUnavailable as exc:
            self._failed(exc, None)

    async def aclear(self) -> None:
        """Remove every entry of this cache (every key under its prefix), and nothing else."""
        try:
            await self.store.aclear(self.prefix)
        except CacheUnavailable as exc:
            self._failed(exc, None)

    # -- counters ------------------------------------------------------------------------------
    # A counter is state, not a cache: a store that is down raises CacheUnavailable.

    def incr(self, key: str, delta: int = 1, ttl: float | None = None, *,
             version: int | None = None) -> int:
        """Add ``delta`` to the integer under ``key`` (0 when absent) and return it.

        ``ttl`` applies when the key is created, so a counter of events in a window
        expires with the window.

        Raises:
            ValueError: the key holds something that is not an integer.
            CacheUnavailable: the store is down (whatever ``errors`` says).
        """
        check_ttl(ttl)
        try:
            return self.store.incr(self.make_key(key, version), delta, ttl)
        except CacheUnavailable as exc:
            return self._failed(exc, _RAISE)  # type: ignore[no-any-return]

    async def aincr(self, key: str, delta: int = 1, ttl: float | None = None, *,
                    version: int | None = None) -> int:
        """Add ``delta`` to the integer under ``key`` (0 when absent) and return it."""
        check_ttl(ttl)
        try:
            return await self.store.aincr(self.make_key(key, version), delta, ttl)
        except CacheUnavailable as exc:
            return self._failed(exc, _RAISE)  # type: ignore[no-any-return]

    def decr(self, key: str, delta: int = 1, ttl: float | None = None, *,
             version: int | None = None) -> int:
        """Subtract ``delta`` from the integer under ``key`` (0 when absent) and return it."""
        return self.incr(key, -delta, ttl, version=version)

    async def adecr(self, key: str, delta: int = 1, ttl: float | None = None, *,
                    version: int | None = None) -> int:
        """Subtract ``delta`` from the integer under ``key`` (0 when absent) and return it."""
        return await self.aincr(key, -delta, ttl, version=version)

    # -- several steps -------------------------------------------------------------------------

    def get_or_set(self, key: str, loader: Any, ttl: Any = DEFAULT_TTL, *,
                   version: int | None = None) -> Any:
        """The value under ``key``; when there is none, ``loader()`` (or ``loader`` itself if
        it is not callable) is stored and returned.

        The loader runs once per key at a time in this process (other threads wait for
        its value) and, on a shared store (Redis), in all processes: the first takes a
        lock, the others wait up to ``lock_timeout`` for its value, then load it
        themselves rather than hang.
        """
        from heron.concurrency import is_async_callable

        if is_async_callable(loader):
            raise TypeError("get_or_set() needs a plain function; await aget_or_set() "
                            "for an async loader")
        full, seconds = self.make_key(key, version), self._ttl(ttl)
        value = self.get(key, _MISSING, version=version)
        if value is not _MISSING:
            return value
        with self._locks.hold(full):
            return _run_sync(self.store, self._fill(key, full, loader, seconds, version))

    async def aget_or_set(self, key: str, loader: Any, ttl: Any = DEFAULT_TTL, *,
                          version: int | None = None) -> Any:
        """:meth:`get_or_set` for async code.  An ``async def`` loader is awaited; a plain
        function runs in heron's thread pool, as sync views do."""
        full, seconds = self.make_key(key, version), self._ttl(ttl)
        value = await self.aget(key, _MISSING, version=version)
        if value is not _MISSING:
            return value
        async with self._locks.ahold(full):
            return await _run_async(self.store, self._fill(key, full, loader, seconds, version))

    def _tolerant(self, op: _Op, fallback: Any = None) -> _Steps:
        """One store operation whose failure is a miss (``fallback``) unless strict."""
        try:
            return (yield op)
        except CacheUnavailable as exc:
            return self._failed(exc, fallback)

    def _fill(self, key: str, full: str, loader: Any, ttl: float | None,
              version: int | None) -> _Steps:
        # Filled by another thread or process while this one waited for the lock?
        raw = yield from self._tolerant(_Op("get", (full,)))
        if raw is not None:
            return self._decoded(raw, None)
        token: bytes | None = None
        lock = f"{self.prefix}lock:{self.version if version is None else version}:{key}"
        if self.store.shared:
            token = secrets.token_bytes(16)
            deadline = time.monotonic() + self.lock_timeout
            # Down: taken, so that this process loads.
            while not (yield from self._tolerant(
                    _Op("set", (lock, token, self.lock_timeout, "absent")), True)):
                yield _Sleep(0.05)
                raw = yield from self._tolerant(_Op("get", (full,)))
                if raw is not None:
                    return self._decoded(raw, None)
                if time.monotonic() >= deadline:  # its filler is slow or gone: never hang
                    token = None
                    break
        try:
            value = (yield _Load(loader)) if callable(loader) else loader
            data = self.serializer.dumps(value)
            yield from self._tolerant(_Op("set", (full, data, ttl, None)))
        finally:
            if token is not None:
                yield from self._tolerant(_Op("unlock", (lock, token)))
        return value

    def incr_version(self, key: str, delta: int = 1, *, version: int | None = None) -> int:
        """Move the value under ``key`` to version ``version + delta``; returns the new version.

        Raises:
            ValueError: ``key`` holds nothing.
        """
        return _run_sync(self.store, self._move_version(key, delta, version))  # type: ignore[no-any-return]

    async def aincr_version(self, key: str, delta: int = 1, *,
                            version: int | None = None) -> int:
        """Move the value under ``key`` to version ``version + delta``; returns the new version."""
        return await _run_async(self.store, self._move_version(key, delta, version))  # type: ignore[no-any-return]

    def _move_version(self, key: str, delta: int, version: int | None) -> _Steps:
        old = self.version if version is None else version
        new = old + delta
        raw = yield _Op("get", (self.make_key(key, old),))
        if raw is None:
            raise ValueError(f"Cache key {key!r} (version {old}) holds nothing")
        yield _Op("set", (self.make_key(key, new), raw, self.default_ttl, None))
        yield _Op("delete", ([self.make_key(key, old)],))
        return new

    # -- closing -------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the store's connections (they reopen on next use)."""
        self.store.close()

    async def aclose(self) -> None:
        """Release the store's connections (they reopen on next use)."""
        await self.store.aclose()


def _serializer(value: str | Serializer) -> Serializer:
    return serializer(value) if isinstance(value, str) else value


def _run_sync(store: Store, steps: _Steps) -> Any:
    """Run ``steps`` with the store's sync operations."""
    sent: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = steps.send(sent) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value
        sent, error = None, None
        try:
            if isinstance(step, _Op):
                sent = getattr(store, step.name)(*step.args)
            elif isinstance(step, _Load):
                sent = step.loader()
            else:
                time.sleep(step.seconds)
        except Exception as exc:  # raised where the step was yielded (finally: unlocks)
            error = exc


async def _run_async(store: Store, steps: _Steps) -> Any:
    """Run ``steps`` with the store's async operations."""
    from heron.concurrency import is_async_callable, run_in_threadpool

    sent: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = steps.send(sent) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value
        sent, error = None, None
        try:
            if isinstance(step, _Op):
                sent = await getattr(store, "a" + step.name)(*step.args)
            elif isinstance(step, _Load):
                loader = step.loader
                sent = await (loader() if is_async_callable(loader)
                              else run_in_threadpool(loader))
            else:
                await asyncio.sleep(step.seconds)
        except Exception as exc:
            error = exc


class _KeyLocks:
    """A lock per key, for threads and for tasks, kept only while someone holds it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._threads: dict[str, list[Any]] = {}  # key -> [Lock, holders]
        self._tasks: dict[tuple[asyncio.AbstractEventLoop, str], list[Any]] = {}

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            entry = self._threads.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if not entry[1]:
                    del self._threads[key]

    @contextlib.asynccontextmanager
    async def ahold(self, key: str) -> AsyncIterator[None]:
        # An asyncio lock belongs to one event loop, and a process may run several (a
        # loop per thread): each loop has its own locks.
        slot = (asyncio.get_running_loop(), key)
        with self._guard:
            entry = self._tasks.setdefault(slot, [asyncio.Lock(), 0])
            entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if not entry[1]:
                    del self._tasks[slot]
