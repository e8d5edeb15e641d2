"""Throwaway real servers for tests: Redis and PostgreSQL run from the machine's binaries.

Each server is a child process bound to ``127.0.0.1`` only, on a free port, with
its data in a temporary directory that :meth:`~RedisServer.stop` removes::

    from heron.testing.servers import PostgresServer, RedisServer

    with RedisServer() as redis:
        print(redis.url)        # redis://127.0.0.1:PORT/0
    with PostgresServer() as pg:
        print(pg.url)           # postgresql+psycopg://postgres@127.0.0.1:PORT/postgres
        pg.create_database("app_test")

Nothing here needs a client library: readiness checks and the few commands the
servers are sent (``PING``, ``FLUSHALL``, ``CREATE DATABASE``) speak the wire
protocols over a plain socket. A missing binary raises :class:`ServerUnavailable`;
in pytest, :func:`start_or_skip` turns that into a skip, or into a failure when
``CI=true`` so that CI cannot skip silently. The pytest plugin wraps all of this
in the fixtures ``redis_server``, ``redis_url`` and ``postgres_server``.

PostgreSQL refuses to run as root: as root, it is run as the ``postgres`` user
(or ``nobody``). POSIX only.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, Self, TypeVar
from urllib.parse import quote

__all__ = [
    "PostgresServer",
    "RedisServer",
    "ServerError",
    "ServerUnavailable",
    "require_server",
    "start_or_skip",
]

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
#: A readiness probe that gets no answer this fast is retried (until start_timeout).
PING_TIMEOUT = 0.5
POSTGRES_USER = "postgres"

#: Where ``redis-server`` is looked for when it is not on ``PATH``.
REDIS_FALLBACKS = ("/usr/bin/redis-server", "/usr/local/bin/redis-server")
#: Glob of Debian's per-version PostgreSQL binary folders; the newest wins.
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
#: Users PostgreSQL is run as when heron runs as root, in order of preference.
UNPRIVILEGED_USERS = ("postgres", "nobody")

_ServerT = TypeVar("_ServerT", bound="_Server")


class ServerError(RuntimeError):
    """A throwaway server failed to start, to answer or to run a command."""


class ServerUnavailable(ServerError):
    """The server cannot be run on this machine: its binary (or a user to run it as)
    is missing. ``reason`` says what is missing and how to get it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def require_server(reason: str) -> NoReturn:
    """End the current test for want of a server: ``pytest.skip(reason)``, or
    ``pytest.fail`` when the environment variable ``CI`` is ``true``, so that a CI
    machine missing a server fails loudly instead of skipping silently."""
    import pytest

    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: a missing server fails instead of skipping)",
                    pytrace=False)
    pytest.skip(reason)


def start_or_skip(server: _ServerT) -> _ServerT:
    """Start ``server`` and return it; when its binary is missing, end the test with
    :func:`require_server` (skip, or fail under ``CI=true``). For pytest fixtures."""
    try:
        return server.start()
    except ServerUnavailable as exc:
        require_server(exc.reason)


class _Server:
    """A child process on a free port of 127.0.0.1 with a temporary directory."""

    name = "server"
    #: Sent by stop(); SIGKILL follows after ``stop_timeout``.
    stop_signal = signal.SIGTERM
    #: Sent to the server by the kernel if the process that started it dies.
    death_signal = signal.SIGTERM

    def __init__(self, *, start_timeout: float = START_TIMEOUT,
                 stop_timeout: float = STOP_TIMEOUT) -> None:
        self.host = HOST
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._port: int | None = None
        self._tmpdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # -- public surface ---------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the server listens on (only while it runs)."""
        if self._port is None or not self.running:
            raise ServerError(f"{self.name} is not running: start() it first")
        return self._port

    @property
    def tmpdir(self) -> Path:
        """The temporary directory holding the server's data and log."""
        if self._tmpdir is None:
            raise ServerError(f"{self.name} is not running: start() it first")
        return self._tmpdir

    @property
    def pid(self) -> int | None:
        """The server process's id, or ``None`` before start() and after stop()."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the server and wait until it answers; returns ``self``.

        Raises :class:`ServerUnavailable` when the binary is missing and
        :class:`ServerError` when the server does not come up in ``start_timeout``.
        """
        if self.running:
            return self
        self.stop()  # the leftovers of a server that died
        self._find_binaries()
        atexit.register(self.stop)
        try:
            self._tmpdir = self._make_tmpdir()
            self._prepare()
            for attempt in range(3):
                self._port = _free_port()
                self._spawn()
                if self._wait_ready(retry_on_port_clash=attempt < 2):
                    return self
            raise ServerError(f"{self.name} found no free port")  # pragma: no cover
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (signal, then SIGKILL after ``stop_timeout``), wait for it
        and remove its temporary directory. Safe to call more than once."""
        self._kill()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        self._port = None
        atexit.unregister(self.stop)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"{self.host}:{self._port}" if self.running else "stopped"
        return f"<{type(self).__name__} {where}>"

    # -- for subclasses ---------------------------------------------------------------

    def _find_binaries(self) -> None:
        raise NotImplementedError

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _ping(self) -> bool:
        """True once the server answers; False while it is still starting."""
        raise NotImplementedError

    def _prepare(self) -> None:
        """Set up the data directory before the first spawn."""

    def _run_as(self) -> tuple[int, int] | None:
        """(uid, gid) to run the server's processes as, or None for the current user."""
        return None

    def _make_tmpdir(self) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"heron-{self.name}-"))

    # -- process handling -------------------------------------------------------------

    @property
    def _log_path(self) -> Path:
        return self.tmpdir / f"{self.name}.log"

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = self._log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def _popen_options(self) -> dict[str, Any]:
        """Keyword arguments for Popen/run: environment, user and parent-death signal."""
        options: dict[str, Any] = {
            "cwd": self.tmpdir,
            "env": {**os.environ, "LC_ALL": "C", "LANG": "C"},
            "stdin": subprocess.DEVNULL,
        }
        run_as = self._run_as()
        if run_as is not None:
            options.update(user=run_as[0], group=run_as[1], extra_groups=[])
        preexec = _parent_death_signal(self.death_signal)
        if preexec is not None:
            options["preexec_fn"] = preexec
        return options

    def _spawn(self) -> None:
        self._kill()
        with open(self._log_path, "wb") as log:
            self._process = subprocess.Popen(
                self._command(), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, **self._popen_options(),
            )

    def _wait_ready(self, *, retry_on_port_clash: bool) -> bool:
        """Wait until the server answers; False if it died for a port taken meanwhile."""
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        delay = 0.01
        while True:
            if self._process.poll() is not None:
                log = self._log_tail()
                if retry_on_port_clash and "already in use" in log:
                    return False
                raise ServerError(
                    f"{self.name} exited with status {self._process.returncode} "
                    f"while starting; its log ends:\n{log}"
                )
            if self._ping():
                return True
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{self.name} did not answer on {self.host}:{self._port} within "
                    f"{self.start_timeout:g} s; its log ends:\n{self._log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(self.stop_signal)
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                # Not reaped yet, so the group id still is ours: kill the server and
                # whatever else is in its group (PostgreSQL's backends, in their own
                # sessions, exit by themselves when the postmaster dies).
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# -- Redis ---------------------------------------------------------------------------


class RedisServer(_Server):
    """A throwaway ``redis-server``: no persistence, data in a temporary directory.

    ``executable`` is the path of ``redis-server``; by default it is looked up on
    ``PATH``, then in :data:`REDIS_FALLBACKS`.
    """

    name = "redis"

    def __init__(self, executable: str | os.PathLike[str] | None = None, *,
                 start_timeout: float = START_TIMEOUT,
                 stop_timeout: float = STOP_TIMEOUT) -> None:
        super().__init__(start_timeout=start_timeout, stop_timeout=stop_timeout)
        self.executable: str | None = os.fspath(executable) if executable is not None else None
        self._binary: str | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``, for redis-py's ``from_url`` and heron's settings."""
        return self.url_for(0)

    def url_for(self, db: int) -> str:
        """The URL of database index ``db`` (0 to 15)."""
        return f"redis://{self.host}:{self.port}/{db}"

    def command(self, *args: str | bytes) -> bytes:
        """Send one command and return the first line of the reply (``+OK``, ``:1``,
        ``$5``...); raises :class:`ServerError` on an error reply. Meant for simple
        commands; use a client library for anything that returns data."""
        reply = _redis_command(self.host, self.port, *args)
        if reply.startswith(b"-"):
            raise ServerError(f"redis: {reply[1:].decode(errors='replace')}")
        return reply

    def flushall(self) -> None:
        """Empty every database."""
        self.command("FLUSHALL")

    def _find_binaries(self) -> None:
        if self.executable is not None:
            candidates: Sequence[str | None] = [self.executable]
        else:
            candidates = [shutil.which("redis-server"), *REDIS_FALLBACKS]
        for candidate in candidates:
            if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                self._binary = candidate
                return
        where = self.executable or "on PATH or in " + ", ".join(REDIS_FALLBACKS)
        raise ServerUnavailable(
            f"redis-server not found ({where}); install Redis, e.g. "
            "`apt-get install redis-server` or `brew install redis`"
        )

    def _command(self) -> list[str]:
        assert self._binary is not None
        return [
            self._binary, "--port", str(self._port), "--bind", self.host,
            "--save", "", "--appendonly", "no", "--dir", str(self.tmpdir),
            "--daemonize", "no", "--logfile", "",
        ]

    def _ping(self) -> bool:
        assert self._port is not None
        try:
            return _redis_command(self.host, self._port, "PING", timeout=PING_TIMEOUT) == b"+PONG"
        except OSError:
            return False


def _redis_command(host: str, port: int, *args: str | bytes, timeout: float = 5.0) -> bytes:
    """Send a command as a RESP array; return the reply's first line without CRLF."""
    parts = [arg.encode() if isinstance(arg, str) else arg for arg in args]
    request = b"*%d\r\n" % len(parts) + b"".join(
        b"$%d\r\n%s\r\n" % (len(part), part) for part in parts
    )
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            reply += chunk
    return reply.split(b"\r\n", 1)[0]


# -- PostgreSQL ----------------------------------------------------------------------


class PostgresServer(_Server):
    """A throwaway PostgreSQL cluster: ``initdb`` in a temporary directory, then
    ``postgres`` with fsync off, trust authentication and superuser ``postgres``.

    ``bin_dir`` is the folder holding ``initdb`` and ``postgres``; by default the
    folder of those on ``PATH``, then the newest of :data:`POSTGRES_BIN_GLOB`.
    As root, the cluster runs as the ``postgres`` user, or ``nobody``.
    """

    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: does not wait for clients
    death_signal = signal.SIGQUIT  # "immediate" shutdown

    def __init__(self, bin_dir: str | os.PathLike[str] | None = None, *,
                 start_timeout: float = START_TIMEOUT,
                 stop_timeout: float = STOP_TIMEOUT) -> None:
        super().__init__(start_timeout=start_timeout, stop_timeout=stop_timeout)
        self.bin_dir: str | None = os.fspath(bin_dir) if bin_dir is not None else None
        self._bin: Path | None = None
        self._user: tuple[int, int] | None = None

    @property
    def url(self) -> str:
        """``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``, a SQLAlchemy URL."""
        return self.url_for("postgres")

    @property
    def dsn(self) -> str:
        """``postgresql://postgres@127.0.0.1:PORT/postgres``, for psycopg or libpq."""
        return self.url_for("postgres", driver=None)

    def url_for(self, database: str, *, driver: str | None = "psycopg") -> str:
        """The URL of ``database``; ``driver=None`` gives a plain libpq URL."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{POSTGRES_USER}@{self.host}:{self.port}/{quote(database, safe='')}"

    def execute(self, sql: str, *, database: str = "postgres") -> None:
        """Run SQL (no results) over the simple query protocol, outside any
        transaction block; raises :class:`ServerError` on an error."""
        try:
            _pg_session(self.host, self.port, database, sql)
        except _PgError as exc:
            raise ServerError(f"postgres: {exc}") from None

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its URL (like :attr:`url`)."""
        self.execute(f"CREATE DATABASE {_pg_identifier(name)}")
        return self.url_for(name)

    def _find_binaries(self) -> None:
        if self.bin_dir is not None:
            candidates = [self.bin_dir]
        else:
            candidates = [
                os.path.dirname(os.path.realpath(found))
                for found in (shutil.which("postgres"), shutil.which("initdb")) if found
            ]
            candidates += sorted(glob.glob(POSTGRES_BIN_GLOB), key=_version_key, reverse=True)
        for folder in candidates:
            if all(_is_executable(os.path.join(folder, tool)) for tool in ("initdb", "postgres")):
                self._bin = Path(folder)
                break
        else:
            where = self.bin_dir or f"on PATH or in {POSTGRES_BIN_GLOB}"
            raise ServerUnavailable(
                f"PostgreSQL's initdb and postgres not found ({where}); install PostgreSQL, "
                "e.g. `apt-get install postgresql` or `brew install postgresql`"
            )
        self._user = _unprivileged_user()

    def _run_as(self) -> tuple[int, int] | None:
        return self._user

    def _make_tmpdir(self) -> Path:
        if self._user is None:
            return super()._make_tmpdir()
        # The unprivileged user must reach the directory: under a world-traversable
        # temp folder, owned by that user.
        base = tempfile.gettempdir()
        if not _world_traversable(base):
            base = "/tmp"
        path = Path(tempfile.mkdtemp(prefix=f"heron-{self.name}-", dir=base))
        os.chown(path, *self._user)
        return path

    def _prepare(self) -> None:
        assert self._bin is not None
        result = subprocess.run(
            [str(self._bin / "initdb"), "-D", str(self.tmpdir / "data"), "-U", POSTGRES_USER,
             "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
            timeout=self.start_timeout, **self._popen_options(),
        )
        if result.returncode != 0:
            output = result.stdout.decode(errors="replace").strip()
            raise ServerError(f"initdb failed with status {result.returncode}:\n{output}")

    def _command(self) -> list[str]:
        assert self._bin is not None
        return [
            str(self._bin / "postgres"), "-D", str(self.tmpdir / "data"),
            "-k", str(self.tmpdir), "-h", self.host, "-p", str(self._port), "-F",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        ]

    def _ping(self) -> bool:
        assert self._port is not None
        try:
            _pg_session(self.host, self._port, "postgres", None, timeout=PING_TIMEOUT)
        except OSError:
            return False
        except _PgError as exc:
            if exc.sqlstate == "57P03":  # cannot_connect_now: still starting up
                return False
            raise ServerError(f"postgres refused a connection: {exc}") from None
        return True


class _PgError(Exception):
    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(f"{message} (SQLSTATE {sqlstate})")
        self.sqlstate = sqlstate


def _pg_session(host: str, port: int, database: str, sql: str | None,
                timeout: float = 30.0) -> None:
    """Connect (trust auth) as ``postgres``, run ``sql`` if given, and disconnect.

    PostgreSQL's wire protocol v3: a startup message, then type-tagged messages
    until ReadyForQuery (``Z``); an ErrorResponse (``E``) raises :class:`_PgError`.
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        params = b"".join(
            key + b"\0" + value.encode() + b"\0"
            for key, value in ((b"user", POSTGRES_USER), (b"database", database))
        ) + b"\0"
        sock.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
        _pg_until_ready(sock)
        if sql is not None:
            body = sql.encode() + b"\0"
            sock.sendall(b"Q" + struct.pack("!i", 4 + len(body)) + body)
            _pg_until_ready(sock)
        sock.sendall(b"X" + struct.pack("!i", 4))


def _pg_until_ready(sock: socket.socket) -> None:
    error: _PgError | None = None
    while True:
        try:
            header = _recv_exact(sock, 5)
        except ConnectionError:
            if error is not None:  # startup errors close the connection
                raise error from None
            raise
        kind, length = header[:1], struct.unpack("!i", header[1:])[0]
        payload = _recv_exact(sock, length - 4)
        if kind == b"R" and struct.unpack("!i", payload[:4])[0] != 0:
            raise _PgError("28000", "the server asked for a password; trust auth expected")
        if kind == b"E":
            fields = {
                field[:1]: field[1:].decode(errors="replace")
                for field in payload.split(b"\0") if field
            }
            error = _PgError(fields.get(b"C", "?????"), fields.get(b"M", "unknown error"))
        elif kind == b"Z":
            if error is not None:
                raise error
            return


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return bytes(data)


def _pg_identifier(name: str) -> str:
    if not name or "\0" in name:
        raise ValueError(f"not a valid database name: {name!r}")
    return '"' + name.replace('"', '""') + '"'


# -- helpers -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _version_key(folder: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", folder))


def _unprivileged_user() -> tuple[int, int] | None:
    """(uid, gid) of a user to run PostgreSQL as when we are root, else None."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in UNPRIVILEGED_USERS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise ServerUnavailable(
        "PostgreSQL refuses to run as root, and there is no user to run it as "
        f"(looked for {', '.join(UNPRIVILEGED_USERS)})"
    )


def _world_traversable(folder: str) -> bool:
    path = Path(folder).resolve()
    return all(os.stat(part).st_mode & 0o001 for part in (path, *path.parents))


def _parent_death_signal(sig: signal.Signals) -> Callable[[], None] | None:
    """A preexec_fn asking Linux to send ``sig`` to the child when its parent dies,
    so that a test run killed with SIGKILL leaves no server behind.

    Linux sends it when the *thread* that forked dies, so this is used only from
    the main thread (whose end is the process's end)."""
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover
        return None
    pr_set_pdeathsig = 1
    signum = int(sig)

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signum, 0, 0, 0)

    return preexec
