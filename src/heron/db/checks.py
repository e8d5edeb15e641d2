"""Startup checks of the database settings (ids in docs/checks.md).

They parse each URL and look for its driver module on the path; they create no
engine and connect to nothing, so a database that is down is not a
configuration problem (it gives a 503 per request, docs/database.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["check_database"]

_POSTGRES = '"heron[postgres]"'
#: SQLAlchemy's driver name -> (the module its dialect imports, what to pip install).
#: heron sends every postgresql:// URL through psycopg 3 (db/database.py), so no other
#: PostgreSQL driver is ever loaded.  A driver not listed is not checked: better to
#: miss a problem than to report one that is not there.
_DRIVERS: dict[str, tuple[str, str | None]] = {
    "psycopg": ("psycopg", _POSTGRES),
    "psycopg_async": ("psycopg", _POSTGRES),
    "pysqlite": ("sqlite3", None),  # the standard library's
    "aiosqlite": ("aiosqlite", "aiosqlite"),
    "mysqldb": ("MySQLdb", "mysqlclient"),
    "pymysql": ("pymysql", "PyMySQL"),
    "mysqlconnector": ("mysql.connector", "mysql-connector-python"),
    "mariadbconnector": ("mariadb", "mariadb"),
    "aiomysql": ("aiomysql", "aiomysql"),
    "asyncmy": ("asyncmy", "asyncmy"),
    "pyodbc": ("pyodbc", "pyodbc"),
    "aioodbc": ("aioodbc", "aioodbc"),
    "pymssql": ("pymssql", "pymssql"),
    "oracledb": ("oracledb", "oracledb"),
    "cx_oracle": ("cx_Oracle", "cx_Oracle"),
}


def check_database(app: App) -> list[ImproperlyConfigured]:
    """Problems with ``database_url`` and each of ``database_binds``.

    A URL that cannot be parsed (heron.db.E002), a driver that is not installed
    (heron.db.E003), a database SQLAlchemy has no dialect for (heron.db.E004).
    Both URLs heron derives from a setting are checked: the sync engine's and
    the async engine's (for SQLite, the standard ``sqlite3`` and ``aiosqlite``).
    """
    from heron.db.settings import DatabaseSettings

    if not isinstance(app.settings, DatabaseSettings):
        return []  # an app without heron.db's settings does not use it (yet)
    if app.settings.database_url is None and not app.settings.database_binds:
        return _check_default()
    from heron.db.database import DatabaseState

    problems: list[ImproperlyConfigured] = []
    # DatabaseState only reads the settings (engines are made on first use), so the
    # URLs checked are exactly the ones heron would connect to.
    for key, raw in DatabaseState(app).urls.items():
        setting = "database_url" if key is None else f"database_binds[{key!r}]"
        problems.extend(_check_url(setting, raw))
    return problems


def _check_default() -> list[ImproperlyConfigured]:
    # The default database, a SQLite file, checked without loading SQLAlchemy: an app
    # that never queries its database should not pay for it at startup.
    return [_missing_driver("database_url (the default SQLite database)", module, package)
            for module, package in (("sqlite3", None), ("aiosqlite", "aiosqlite"))
            if not _installed(module)]


def _missing_driver(described: str, module: str, package: str | None) -> ImproperlyConfigured:
    fix = f"install it with: pip install {package}" if package else "use a Python built with SQLite"
    return ImproperlyConfigured(
        f"{described} needs the database driver {module!r}, which is not installed; {fix}",
        id="heron.db.E003")


def _check_url(setting: str, raw: str) -> list[ImproperlyConfigured]:
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.engine import make_url

    from heron.db.database import async_url, sync_url

    try:
        shown = make_url(raw).render_as_string(hide_password=True)
        urls = [make_url(sync_url(raw)), make_url(async_url(raw))]
    except (sa_exc.ArgumentError, ValueError, TypeError) as exc:
        # The value itself is left out: it may hold a password.
        return [ImproperlyConfigured(
            f"{setting} is not a database URL ({exc}); write it as "
            "dialect[+driver]://user:password@host:port/database, e.g. "
            "postgresql://app@localhost/app or sqlite:///instance/db.sqlite3",
            id="heron.db.E002")]
    problems: list[ImproperlyConfigured] = []
    checked: set[str] = set()
    for url in urls:
        try:
            driver = url.get_dialect().driver
        except sa_exc.NoSuchModuleError:
            return [ImproperlyConfigured(
                f"{setting} {shown!r}: SQLAlchemy has no dialect (or driver) {url.drivername!r}; "
                "use postgresql://, sqlite:///, mysql:// (or another dialect SQLAlchemy "
                "has), or install the package that provides this dialect",
                id="heron.db.E004")]
        module, package = _DRIVERS.get(driver, (None, None))
        if module is None or module in checked:
            continue
        checked.add(module)
        if not _installed(module):
            problems.append(_missing_driver(f"{setting} {shown!r}", module, package))
    return problems


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module without spec
        return False
