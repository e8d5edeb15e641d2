"""Typed settings read from keyword arguments, ``HERON_*`` variables and ``.env``.

Precedence, highest first: values passed to ``App(...)`` / ``Settings(...)``,
environment variables (``HERON_DEBUG=1``), then a ``.env`` file in the current
folder, then the defaults below.

heron does not use pydantic-settings here: importing it costs about 0.27 s and
34 MB, more than all of Flask, and the hello-world app must start faster than
Flask's.  The coercion below covers the types settings need.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from heron.exceptions import ImproperlyConfigured

__all__ = ["Settings", "settings_section"]

T = TypeVar("T")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclasses.dataclass(kw_only=True)
class Settings:
    """Every heron setting, in one documented place (see docs/settings.md).

    Subclass it (as a dataclass) to add your project's own settings; they are
    read from the environment the same way.
    """

    env_prefix: ClassVar[str] = "HERON_"
    env_file: ClassVar[str | None] = ".env"

    #: Show the rich error page, reload templates, relax production checks.
    debug: bool = False
    #: Signs session cookies and reset links. Required unless debug.
    secret_key: str | None = dataclasses.field(default=None, repr=False)
    #: Threads that run sync (``def``) views and hooks.
    thread_pool_size: int = 40
    #: Largest request body accepted, in bytes (413 above it).
    max_body_size: int = 10 * 1024 * 1024
    #: Most fields (text and files) a form may have (413 above it).
    max_form_fields: int = 1000
    #: Most files a multipart form may carry (413 above it).
    max_form_files: int = 100
    #: Largest non-file multipart field, in bytes (413 above it).
    max_form_part_size: int = 1024 * 1024
    #: Uploads larger than this are spooled to a temporary file on disk.
    upload_spool_size: int = 1024 * 1024
    #: Most request headers accepted (431 above it).
    max_header_count: int = 100
    #: Accept NUL characters in query strings, forms and JSON bodies (400 when off:
    #: PostgreSQL cannot store them in text).  The URL path never takes one.
    allow_nul_in_text: bool = False
    #: Redirect ``/path/`` <-> ``/path`` when only the other one exists.
    redirect_slashes: bool = True
    #: URL prefix of static files.
    static_url: str = "/static"
    #: Folder of the app's own static files, relative to the app's root folder.
    static_dir: str = "static"
    #: Folder ``heron collectstatic`` gathers every static file into (hashed names,
    #: compressed copies, a manifest), relative to the app's root folder.
    static_root: str = "staticfiles"
    #: Serve ``static_root`` and give hashed URLs: ``None`` when debug is off and the
    #: manifest exists, ``True`` always (a startup error without one), ``False`` never.
    static_manifest: bool | None = None
    #: Folder of the app's own templates, relative to the app's root folder.
    templates_dir: str = "templates"
    #: Older secret keys still accepted when verifying signatures (key rotation).
    secret_key_fallbacks: list[str] = dataclasses.field(default_factory=list, repr=False)
    #: Largest request head (request line and headers), in bytes: the servers ``heron run``
    #: starts answer 431 and close the connection above it (docs/cli.md).
    max_header_size: int = 64 * 1024

    # -- forms and uploads (docs/forms.md) ---------------------------------
    #: Largest single uploaded file, in bytes; a bigger one is refused with 413 while it
    #: streams in.  ``None``: only ``max_body_size`` limits it.
    max_upload_size: int | None = None

    if TYPE_CHECKING:  # set in __new__; not dataclass fields
        _explicit: frozenset[str]
        _types: dict[str, Any]
        _dotenv: dict[str, str]

        # The fields of plugins' settings sections, joined at run time: typed where
        # the section class is known (heron.Settings lists the default ones).
        def __getattr__(self, name: str) -> Any: ...

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            if field.name not in self._explicit:
                raw = self._lookup(field.name)
                if raw is not None:
                    setattr(self, field.name, _coerce(raw, self._types[field.name], field.name))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Subclasses are dataclasses too, decorated or not, so that their new
        # fields are read from the environment like heron's own.
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(kw_only=True)(cls)

    def __new__(cls, *args: Any, **kwargs: Any) -> Settings:
        _check_names(cls, kwargs)
        self = super().__new__(cls)
        self._explicit = frozenset(kwargs)
        self._types = typing.get_type_hints(cls)
        self._dotenv = _read_dotenv(cls.env_file) if cls.env_file else {}
        return self

    def _lookup(self, name: str) -> str | None:
        key = self.env_prefix + name.upper()
        if key in os.environ:
            return os.environ[key]
        return self._dotenv.get(key)

    @classmethod
    def with_sections(cls, *sections: type) -> type[Settings]:
        """This settings class with the fields of ``sections`` (plugins' settings
        sections, see :func:`settings_section`) added; the same class for the same
        sections."""
        missing = tuple(s for s in sections if not issubclass(cls, s))
        if not missing:
            return cls
        taken = {f.name: cls.__name__ for f in dataclasses.fields(cls)}
        for section in missing:
            for field in dataclasses.fields(section):
                if field.name in taken:
                    raise ImproperlyConfigured(
                        f"The setting {field.name!r} of {section.__qualname__} is a setting "
                        f"of {taken[field.name]} already; prefix a plugin's settings with "
                        "its name", id="heron.settings.E005")
                taken[field.name] = section.__qualname__
        key = (cls, missing)
        combined = _COMBINED.get(key)
        if combined is None:
            combined = type(cls.__name__, (cls, *missing), {"__module__": cls.__module__,
                                                             "__qualname__": cls.__qualname__})
            _COMBINED[key] = combined
        return combined

    def extend(self, *sections: type) -> None:
        """Add settings sections to this instance (a plugin added after the settings
        were made): their fields are read from ``HERON_*`` and ``.env`` like the others,
        else take their defaults.

        Raises:
            ImproperlyConfigured: a value in the environment is not valid (heron.settings.E002).
        """
        before = {f.name for f in dataclasses.fields(self)}
        combined = type(self).with_sections(*sections)
        if combined is type(self):
            return
        self.__class__ = combined  # the same object: code holding it sees the new fields
        self._types = typing.get_type_hints(combined)
        for field in dataclasses.fields(combined):
            if field.name in before:
                continue
            raw = self._lookup(field.name)
            if raw is not None:
                value = _coerce(raw, self._types[field.name], field.name)
            elif field.default_factory is not dataclasses.MISSING:
                value = field.default_factory()
            else:
                value = field.default
            setattr(self, field.name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        # A typo (settings.componentz = ...) or an App argument set here instead
        # (settings.components = ...) would otherwise pass silently.
        if not name.startswith("_") and name not in self.__dataclass_fields__:
            _check_names(type(self), [name])
        object.__setattr__(self, name, value)

    def update(self, **values: Any) -> None:
        """Set several settings at once (what ``App(settings, debug=True)`` does).

        Raises:
            ImproperlyConfigured: for a name that is not a setting (heron.settings.E004).
        """
        _check_names(type(self), values)
        for name, value in values.items():
            setattr(self, name, value)

    def public(self) -> dict[str, Any]:
        """Settings that are safe to show (templates, debug page): no secrets."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.repr and not _looks_secret(f.name)
        }


_COMBINED: dict[tuple[type[Settings], tuple[type, ...]], type[Settings]] = {}


def settings_section(cls: type[T]) -> type[T]:
    """Declare a plugin's settings section: a class of annotated fields with
    defaults (made a keyword-only dataclass).  Its fields join the app's settings
    under their own names (prefix them with the plugin's: ``audit_token``) and are
    read from ``HERON_AUDIT_TOKEN``, ``.env`` or ``App(audit_token=...)``::

        @settings_section
        class AuditSettings:
            #: Where audit records go.
            audit_url: str = "memory://"
    """
    section = dataclasses.dataclass(kw_only=True)(cls)
    for field in dataclasses.fields(section):  # type: ignore[arg-type]
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ImproperlyConfigured(
                f"The setting {field.name!r} of {cls.__qualname__} has no default; every "
                "setting needs one", id="heron.settings.E006")
    return section


#: Arguments of App that people set on the settings by mistake.
_APP_ARGUMENTS = ("components", "plugins", "middleware", "root", "settings", "api")


def _check_names(cls: type[Settings], names: typing.Iterable[str]) -> None:
    known = [f.name for f in dataclasses.fields(cls)]
    for name in names:
        if name in known:
            continue
        if name in _APP_ARGUMENTS:
            problem = (f"{name!r} is not a setting but an argument of App: App({name}=...), "
                       "given where the app is made")
        else:
            import difflib

            close = difflib.get_close_matches(name, [*known, *_APP_ARGUMENTS], n=1)
            hint = ""
            if close and close[0] in known:
                hint = f"; did you mean {close[0]!r}?"
            elif close:
                hint = f"; did you mean App({close[0]}=...), an argument of App?"
            problem = f"{name!r} is not a setting of {cls.__name__}{hint}"
        raise ImproperlyConfigured(problem, id="heron.settings.E004")


def _looks_secret(name: str) -> bool:
    words = ("secret", "password", "token", "key", "dsn", "database_url", "database_binds",
             "redis_url", "cache_url")
    return any(word in name for word in words)


def _read_dotenv(path: str) -> dict[str, str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _coerce(raw: str, kind: Any, name: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if raw.strip().lower() in ("", "none", "null"):
            return None
        return _coerce(raw, options[0], name)
    try:
        if kind is bool:
            value = raw.strip().lower()
            if value in _TRUE:
                return True
            if value in _FALSE:
                return False
            raise ValueError(raw)
        if kind in (int, float, str, Path):
            return kind(raw.strip() if kind is not str else raw)
        if origin is list:
            (item,) = typing.get_args(kind) or (str,)
            return [_coerce(part.strip(), item, name) for part in raw.split(",") if part.strip()]
        if origin is dict:
            import json

            value = json.loads(raw) if raw.strip() else {}
            if not isinstance(value, dict):
                raise ValueError(raw)
            return {str(k): str(v) for k, v in value.items()}
    except ValueError:
        raise ImproperlyConfigured(
            f"Setting {name!r} got {raw!r}, which is not a valid {getattr(kind, '__name__', kind)}",
            id="heron.settings.E002",
        ) from None
    raise ImproperlyConfigured(
        f"Setting {name!r} has a type heron cannot read from the environment: {kind}",
        id="heron.settings.E003",
    )
