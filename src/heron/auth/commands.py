"""``heron createsuperuser`` and ``heron changepassword``: heron.auth's commands.

heron.auth's plugin offers them (``AuthPlugin.commands``), so ``heron --help``
lists them for apps that use heron.auth.  They act on the app the ``heron``
command loaded (``--app``, ``HERON_APP`` or ``app.py``), in ``db.context(app)``
on its default database, once its user table is known to exist.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from heron.app import App
    from heron.auth.models import AbstractBaseUser

__all__ = ["changepassword_command", "createsuperuser_command"]

#: ``heron createsuperuser --noinput`` reads ``HERON_SUPERUSER_<FIELD>``.
ENV_PREFIX = "HERON_SUPERUSER_"
#: Wrong passwords ``heron changepassword`` allows before giving up.
PASSWORD_ATTEMPTS = 3



class _Abort(Exception):
    """A clear error for the user: printed as ``Error: ...``, exit status 1."""


def _fail(message: str) -> NoReturn:
    raise _Abort(message)


#: Where the ``heron`` command keeps the app it loaded (click's shared ``ctx.meta``).
APP_META_KEY = "heron.app"

app_option = click.option(
    "--app", "app_spec", metavar="APP", expose_value=False,
    help="The app, module:attr (default: HERON_APP, or app.py in this folder).")


def _loaded_app() -> App:
    application: App | None = click.get_current_context().meta.get(APP_META_KEY)
    if application is None:
        raise click.UsageError("No app is loaded: run this through the heron command "
                               "(heron --app APP ...).")
    return application


@contextmanager
def _user_model() -> Iterator[tuple[App, type[AbstractBaseUser]]]:
    """The app and its user model, inside ``db.context(app)``, once the user table
    is known to exist; every error a user can fix is printed without a traceback."""
    from heron.db import db
    from heron.exceptions import ImproperlyConfigured

    application = _loaded_app()
    try:
        if application.plugin("heron.auth") is None:
            _fail("The app does not use heron.auth; add the component: "
                  "App(components=['heron.auth', ...]).")
        from heron.auth.users import get_user_model

        try:
            model = get_user_model(application)
        except ImproperlyConfigured as exc:
            _fail(f"{exc.id}: {exc.message}")
        with db.context(application):
            _require_table(application, model)
            yield application, model
    except _Abort as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    finally:
        db.state(application).engine().dispose()


def _require_table(app: App, model: type[AbstractBaseUser]) -> None:
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError

    from heron.db import db

    engine = db.state(app).engine()
    table = model.__tablename__
    try:
        with engine.connect() as connection:
            exists = inspect(connection).has_table(table)
    except DBAPIError as exc:
        url = engine.url.render_as_string(hide_password=True)
        _fail(f"Cannot connect to the database {url}: {exc.orig}")
    if not exists:
        _fail(f"The user table {table!r} does not exist yet; run `heron db migrate` first.")


def _email_problem(value: str) -> str | None:
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain.strip(".") or any(c.isspace() for c in value):
        return "Enter a valid email address."
    return None


def _login_problem(model: type[AbstractBaseUser], value: str) -> str | None:
    """What is wrong with ``value`` as a new login, or ``None`` (duplicates included)."""
    from heron.auth.users import find_user, validate_username
    from heron.db import db

    field = model.USERNAME_FIELD
    length = getattr(model.__table__.c[field].type, "length", None) or 150  # type: ignore[attr-defined]
    if field == model.EMAIL_FIELD:
        problem = _email_problem(value) if value else f"Enter the {field}."
        if problem is None and len(value) > length:
            problem = f"Ensure the {field} has at most {length} characters."
    else:
        problem = validate_username(value, length)
    if problem is not None:
        return problem
    if db.session.execute(find_user(model, value)).first() is not None:
        return f"That {field} is already taken."
    return None


def _field_problem(model: type[AbstractBaseUser], field: str, value: str) -> str | None:
    if not value:
        return f"Enter the {field}."
    return _email_problem(value) if field == model.EMAIL_FIELD else None


def _password_problems(app: App, password: str, attributes: dict[str, str]) -> list[str]:
    from heron.auth.validators import PasswordValidationError, validate_password

    try:
        validate_password(password, app.settings, attributes)
    except PasswordValidationError as exc:
        return exc.messages
    return []


def _ask_password(app: App, attributes: dict[str, str], *, bypass: bool) -> str | None:
    """One round of asking for a new password twice; ``None`` if it was refused.

    With ``bypass``, a password the validators refuse may be kept anyway (as
    Django's createsuperuser allows, at the keyboard only).
    """
    password = click.prompt("Password", hide_input=True, default="", show_default=False)
    again = click.prompt("Password (again)", hide_input=True, default="", show_default=False)
    if password != again:
        click.echo("Error: the two passwords do not match.", err=True)
        return None
    if not password.strip():
        click.echo("Error: a blank password is not allowed.", err=True)
        return None
    problems = _password_problems(app, password, attributes)
    if not problems:
        return password
    for problem in problems:
        click.echo(f"Error: {problem}", err=True)
    if bypass and click.confirm("Bypass password validation and create user anyway?",
                                default=False):
        return password
    return None


def _create(app: App, model: type[AbstractBaseUser], login: str, password: str | None,
            fields: dict[str, str]) -> None:
    from sqlalchemy.exc import IntegrityError

    from heron.auth.users import create_user
    from heron.db import db

    extra: dict[str, Any] = {"is_superuser": True} if hasattr(model, "is_superuser") else {}
    if hasattr(model, "is_staff"):
        extra["is_staff"] = True
    try:
        create_user(db.session, app, login, password, **fields, **extra)
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        _fail(f"The user could not be saved: {exc.orig}")
    if password is None:
        click.echo(f"Superuser {login!r} created, without a usable password (no "
                   f"{ENV_PREFIX}PASSWORD): set one with `heron changepassword`.")
    else:
        click.echo(f"Superuser {login!r} created.")


def _noinput_values(model: type[AbstractBaseUser], options: dict[str, str | None],
                    ) -> tuple[str, dict[str, str], str | None]:
    """The login, the other required fields and the password, from options and
    ``HERON_SUPERUSER_*`` variables; every problem is an error."""
    from heron.auth.users import normalize_username

    def value(field: str) -> str:
        given = options.get(field)
        return (given if given is not None else os.environ.get(ENV_PREFIX + field.upper(), "")
                ).strip()

    field = model.USERNAME_FIELD
    login = normalize_username(value(field) or value("username"))
    if not login:
        _fail(f"--noinput needs the {field}: pass --username or set "
              f"{ENV_PREFIX}{field.upper()}.")
    problem = _login_problem(model, login)
    if problem:
        _fail(f"{field} {login!r}: {problem}")
    fields: dict[str, str] = {}
    for name in model.REQUIRED_FIELDS:
        if name == field:
            continue
        fields[name] = value(name)
        if not fields[name]:
            option = f"pass --{name} or " if name in options else ""
            _fail(f"--noinput needs the {name}: {option}set {ENV_PREFIX}{name.upper()}.")
        problem = _field_problem(model, name, fields[name])
        if problem:
            _fail(f"{name} {fields[name]!r}: {problem}")
    return login, fields, os.environ.get(ENV_PREFIX + "PASSWORD") or None


def _prompt_values(app: App, model: type[AbstractBaseUser], options: dict[str, str | None],
                   ) -> tuple[str, dict[str, str], str]:
    """The login, the other required fields and the password, asked for (an
    option given on the command line is checked instead of asked)."""
    from heron.auth.users import normalize_username

    def ask(field: str, check: Callable[[str], str | None]) -> str:
        given = options.get(field)
        while True:
            if given is None:
                given = click.prompt(field.replace("_", " ").capitalize(), default="",
                                     show_default=False)
            given = normalize_username(given) if field == model.USERNAME_FIELD else given.strip()
            problem = check(given)
            if problem is None:
                return given
            click.echo(f"Error: {problem}", err=True)
            given = None

    login = ask(model.USERNAME_FIELD, lambda v: _login_problem(model, v))
    fields = {name: ask(name, functools.partial(_field_problem, model, name))
              for name in model.REQUIRED_FIELDS if name != model.USERNAME_FIELD}
    attributes = {model.USERNAME_FIELD: login, **fields}
    while (password := _ask_password(app, attributes, bypass=True)) is None:
        pass
    return login, fields, password


@click.command("createsuperuser")
@app_option
@click.option("--username", default=None, help="The login (the user model's USERNAME_FIELD).")
@click.option("--email", default=None, help="The email address.")
@click.option("--noinput", "--no-input", "noinput", is_flag=True,
              help="Ask nothing: read HERON_SUPERUSER_USERNAME, HERON_SUPERUSER_EMAIL and "
                   "HERON_SUPERUSER_PASSWORD (no password: one that never matches).")
def createsuperuser_command(username: str | None, email: str | None, noinput: bool) -> None:
    """Create a user with every permission (staff and superuser).

    Asks for the login, the model's REQUIRED_FIELDS and the password (twice);
    the password validators run, and at the keyboard may be bypassed.
    """
    with _user_model() as (application, model):
        # --username is the login whatever the field is called; a model that logs
        # in by email takes --email too.
        options: dict[str, str | None] = {"email": email}
        if username is not None:
            options[model.USERNAME_FIELD] = username
        if noinput:
            login, fields, password = _noinput_values(model, options)
            if password is not None:
                problems = _password_problems(
                    application, password, {model.USERNAME_FIELD: login, **fields})
                if problems:
                    _fail(f"{ENV_PREFIX}PASSWORD: " + " ".join(problems))
        else:
            login, fields, password = _prompt_values(application, model, options)
        _create(application, model, login, password, fields)


@click.command("changepassword")
@app_option
@click.argument("username", required=False)
def changepassword_command(username: str | None) -> None:
    """Set the password of USERNAME (default: your operating-system user name).

    Asks for it twice; the password validators run; gives up after three tries.
    """
    from heron.auth.users import find_user
    from heron.db import db

    if username is None:
        import getpass

        try:
            username = getpass.getuser()
        except (KeyError, OSError):  # no name for this process's user (a container, say)
            raise click.UsageError("Name the user: heron changepassword USERNAME") from None
    with _user_model() as (application, model):
        user = db.session.execute(find_user(model, username)).scalar_one_or_none()
        if user is None:
            _fail(f"No user has the {model.USERNAME_FIELD} {username!r}.")
        login = user.get_username()
        click.echo(f"Changing the password of {login!r}")
        attributes = {model.USERNAME_FIELD: login, model.EMAIL_FIELD: user.get_email()}
        for _ in range(PASSWORD_ATTEMPTS):
            password = _ask_password(application, attributes, bypass=False)
            if password is not None:
                break
        else:
            _fail(f"Too many attempts ({PASSWORD_ATTEMPTS}); the password was not changed.")
        user.set_password(password, application.settings)
        db.session.commit()
        click.echo(f"The password of {login!r} was changed.")


@click.command("cleartokens")
@app_option
def cleartokens_command() -> None:
    """Delete expired and revoked API tokens and JWT logins (run it from cron)."""
    from heron.auth.tokens import expired_tokens
    from heron.db import db

    with _user_model() as (application, _):
        result: Any = db.session.execute(expired_tokens(application))
        db.session.commit()
        click.echo(f"Deleted {result.rowcount or 0} expired or revoked token(s).")
