"""Checks run by tests/test_install.py inside a virtualenv that holds a base install.

``python install_probe.py REPO WORKDIR`` with the venv's python: REPO is the
repository root (for its examples and to compare package data), WORKDIR an empty
scratch folder.  The venv has ``pip install REPO`` and nothing else (no extras, no
test packages), so each check here proves that a dependency heron uses is one a
plain ``pip install heron`` brings.  Importing is not enough: SQLAlchemy,
aiosqlite, argon2, Jinja2 and python-multipart are imported lazily, and greenlet
is needed only when an async session runs a query, so the checks use them.

Prints one ``ok:`` line per check; the first failure raises (exit status 1).
Not a test module: it runs only in that venv, never under pytest.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
from pathlib import Path

#: Modules of heron that need more than a base install, and the package each needs.
NEEDS_MORE = {
    "heron.testing.plugin": "pytest",  # heron's pytest plugin, loaded by pytest only
    "heron.auth.jwt": "PyJWT",  # the heron[jwt] extra: MissingDependency names the command
}
#: What the design calls heron's batteries and tools: each must be among the modules found,
#: so a module that moves without its check is noticed.
BATTERIES = [
    "heron", "heron.auth", "heron.cache", "heron.cli", "heron.csrf", "heron.db", "heron.flash",
    "heron.forms", "heron.mail", "heron.middleware", "heron.openapi", "heron.security",
    "heron.sessions", "heron.storage", "heron.templating", "heron.testing",
]
#: The packages a base install brings for heron's lazy imports and its server.
LAZY_PACKAGES = [
    "sqlalchemy", "greenlet", "aiosqlite", "alembic", "jinja2", "markupsafe", "argon2",
    "python_multipart", "email_validator", "itsdangerous", "orjson", "pydantic", "httpx",
    "click", "uvicorn", "uvloop", "httptools", "websockets", "watchfiles",
]


def ok(what: str) -> None:
    print(f"ok: {what}", flush=True)


def heron_modules(package: Path) -> list[str]:
    """Every importable module of the installed heron (migrations and alembic's
    ``env.py`` live in folders without ``__init__.py``: alembic loads those as scripts)."""
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        folders = (package.parent.joinpath(*parts[:i]) for i in range(1, len(parts)))
        if parts[-1] == "__main__" or not all((f / "__init__.py").is_file() for f in folders):
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def check_base_only() -> None:
    """The venv really is a base install: no extra and no test package is there."""
    for name in ("pytest", "psycopg", "redis", "granian", "aiosmtpd", "starlette"):
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        raise AssertionError(f"{name} is installed: this is not a base install")
    ok("no extra and no test package installed")


def check_imports(repo: Path) -> None:
    import heron

    package = Path(heron.__file__).parent
    if (repo / "src" / "heron").resolve() == package.resolve():
        raise AssertionError(f"heron is imported from the work tree ({package}), not the venv")
    names = heron_modules(package)
    missing = sorted(set(BATTERIES) - set(names))
    if missing:
        raise AssertionError(f"modules not found in the installed heron: {missing}")
    # One process, stopping at the first failure: a module that failed halfway can
    # leave a broken import behind that a later import would not notice.
    for name in names:
        needs = NEEDS_MORE.get(name)
        try:
            importlib.import_module(name)
        except ImportError as exc:  # ModuleNotFoundError, or heron's MissingDependency
            if needs is None or (exc.name != needs and f"'{needs}'" not in str(exc)):
                raise
        else:
            if needs is not None:
                raise AssertionError(f"{name} imported without {needs}: update NEEDS_MORE")
    ok(f"imported {len(names)} modules of heron from {package}")
    for name in LAZY_PACKAGES:
        importlib.import_module(name)
    ok("imported " + ", ".join(LAZY_PACKAGES))


def check_package_data(repo: Path) -> None:
    """Templates, static files, migrations and alembic's files made it into the wheel."""
    import heron

    installed = Path(heron.__file__).parent
    source = repo / "src" / "heron"
    wanted = [p.relative_to(source) for p in source.rglob("*")
              if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    absent = sorted(str(p) for p in wanted if not (installed / p).is_file())
    if absent:
        raise AssertionError(f"files of src/heron missing from the installed package: {absent}")
    ok(f"the installed package holds all {len(wanted)} files of src/heron")


async def check_async_sqlite(workdir: Path) -> None:
    """An async engine on SQLite runs a query (this is where greenlet is needed)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from heron.db.database import async_url

    engine = create_async_engine(async_url(f"sqlite:///{workdir / 'probe.sqlite3'}"))
    try:
        async with AsyncSession(engine) as session:
            value = await session.scalar(text("select 40 + 2"))
    finally:
        await engine.dispose()
    if value != 42:
        raise AssertionError(f"select 40 + 2 gave {value!r}")
    ok("an async SQLAlchemy session on aiosqlite ran a query")


def check_batteries(workdir: Path) -> None:
    from pydantic import EmailStr, TypeAdapter

    from heron import Settings
    from heron.auth.hashing import check_password, make_password
    from heron.cache import cache_from_url
    from heron.storage import FileSystemStorage

    settings = Settings(secret_key="probe")
    encoded = make_password("correct horse", settings)
    if not check_password("correct horse", encoded, settings):
        raise AssertionError("argon2: a password does not match its own hash")
    ok("argon2 hashed and checked a password")
    TypeAdapter(EmailStr).validate_python("someone@example.com")
    ok("email-validator checked an address")

    async def cache_and_storage() -> None:
        cache = cache_from_url("memory://")
        await cache.aset("k", {"v": 1})
        if await cache.aget("k") != {"v": 1}:
            raise AssertionError("the memory cache lost a value")
        storage = FileSystemStorage(workdir / "media")
        name = await storage.save(b"hello", filename="hello.txt")
        if not await storage.exists(name):
            raise AssertionError("the file storage lost a file")

    asyncio.run(cache_and_storage())
    ok("the memory cache and the file storage")


def heron_command(*args: str, repo: Path, env: dict[str, str]) -> None:
    """Run the venv's ``heron`` command from the repository root (for ``examples``)."""
    command = [str(Path(sys.executable).parent / "heron"), *args]
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command[1:])} exited {done.returncode}:\n"
                             f"{done.stdout}{done.stderr}")


def check_guestbook(repo: Path, workdir: Path) -> None:
    """``heron db migrate`` (the command that failed without greenlet), then a visitor
    signs the guestbook: templates, CSRF, sessions, a form, async database writes."""
    database_url = f"sqlite:///{workdir / 'guestbook.sqlite3'}"
    env = {**os.environ, "HERON_DATABASE_URL": database_url, "HERON_SECRET_KEY": "probe"}
    heron_command("db", "--app", "examples.guestbook.app:app", "migrate", repo=repo, env=env)
    ok("heron db migrate (guestbook)")

    os.environ.update(HERON_DATABASE_URL=database_url, HERON_SECRET_KEY="probe")
    sys.path.insert(0, str(repo))
    from heron.testing import TestClient, extract_csrf_token

    app = importlib.import_module("examples.guestbook.app").app
    with TestClient(app) as client:
        page = client.get("/")
        if page.status_code != 200:
            raise AssertionError(f"GET / answered {page.status_code}")
        signed = client.post("/sign", data={"name": "Probe", "message": "Installed",
                                             "csrf_token": extract_csrf_token(page.text)},
                             follow_redirects=True)
        if signed.status_code != 200 or "Installed" not in signed.text:
            raise AssertionError(f"signing answered {signed.status_code}: {signed.text[:500]}")
        entries = client.get("/api/entries").json()
        if [e["message"] for e in entries] != ["Installed"]:
            raise AssertionError(f"/api/entries gave {entries!r}")
    ok("signed the guestbook and read the entry back from its JSON API")


def main() -> None:
    repo, workdir = Path(sys.argv[1]), Path(sys.argv[2])
    for key in [k for k in os.environ if k.startswith("HERON_")]:
        del os.environ[key]
    check_base_only()
    check_imports(repo)
    check_package_data(repo)
    asyncio.run(check_async_sqlite(workdir))
    check_batteries(workdir)
    check_guestbook(repo, workdir)
    print("install probe: all checks passed", flush=True)


if __name__ == "__main__":
    main()
