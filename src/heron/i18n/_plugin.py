"""heron.i18n as a plug-in (on by default): its settings, the per-request language
and time zone, template tags and filters, ``/i18n/setlang``, ``heron i18n`` and checks.

With the default settings (``languages = ["en"]``, no time zone cookie) it adds
nothing to the request path and Babel stays unimported; offering a second
language (or a time zone cookie) adds one small middleware.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from heron.exceptions import ImproperlyConfigured
from heron.i18n._catalogs import Catalogs, folders_of, normalize
from heron.i18n._state import configure, get_language, get_timezone, zone
from heron.i18n.settings import I18nSettings
from heron.plugins import LANGUAGE_KEY, Plugin, RequestHook, ResponseHook

if TYPE_CHECKING:
    from heron.app import App, Middleware
    from heron.i18n._middleware import LanguageChooser
    from heron.requests import HTTPConnection, Request
    from heron.responses import Response
    from heron.routing import Router

__all__ = ["I18nPlugin", "plugin"]

#: The route name of the view that sets the language (``url_for("heron_setlang")``).
SETLANG_ROUTE = "heron_setlang"


def catalogs(app: App) -> Catalogs:
    """The app's :class:`Catalogs` (made when the plugin is set up)."""
    found: Catalogs = app.__dict__["_heron_i18n_catalogs"]
    return found


def chooser(app: App) -> LanguageChooser:
    """The app's language chooser, made once."""
    found: LanguageChooser | None = app.__dict__.get("_heron_i18n_chooser")
    if found is None:
        from heron.i18n._middleware import LanguageChooser

        found = app.__dict__["_heron_i18n_chooser"] = LanguageChooser(
            app.settings, catalogs(app))
    return found


def _multilingual(app: App) -> bool:
    return len({normalize(code) for code in app.settings.languages}) > 1


def _per_request(app: App) -> bool:
    # One language that is not English needs it too: the core's error pages are
    # translated through what the middleware puts in the scope.
    return _multilingual(app) or bool(app.settings.time_zone_cookie_name) \
        or normalize(app.settings.language_code).partition("-")[0] != "en"


class I18nPlugin(Plugin):
    """Translations, the request's language and time zone, localized formats."""

    name = "heron.i18n"
    settings = I18nSettings

    def setup(self, app: App) -> None:
        settings = app.settings
        found = Catalogs(folders_of(app, settings.locale_paths), settings.language_code)
        app.__dict__["_heron_i18n_catalogs"] = found
        configure(found, zone(settings.time_zone) or get_timezone())
        app.context_processors.append(_template_context)

    def routes(self, app: App) -> None:
        # Again at startup: components added after the plugin have catalogs too.
        found = catalogs(app)
        found.folders = folders_of(app, app.settings.locale_paths)
        found.clear()
        url = app.settings.language_setlang_url
        if url and _multilingual(app):
            from heron.i18n.views import setlang

            # Not part of an API document (an option only heron.openapi knows).
            options = {"include_in_schema": False} if "heron.openapi" in app.plugins else {}
            app.router.add_route(url, setlang, ["POST"], SETLANG_ROUTE, **options)

    def middleware(self, app: App) -> Iterable[Middleware]:
        if not _per_request(app):
            return ()
        from heron.app import Middleware
        from heron.i18n._middleware import I18nMiddleware

        return [Middleware(I18nMiddleware, {"chooser": chooser(app)}, inner=True)]

    def request_hooks(self, app: App) -> Iterable[RequestHook]:
        if not _per_request(app) or not app.settings.language_from_user:
            return ()
        from heron.i18n._middleware import user_preferences

        found = chooser(app)
        state: dict[str, bool] = {}

        async def from_user(conn: HTTPConnection) -> None:
            await user_preferences(conn, found, state)

        return [from_user]

    def response_hooks(self, app: App) -> Iterable[ResponseHook]:
        if not _multilingual(app):
            return ()
        from heron.i18n._middleware import mark_response

        async def mark(request: Request, response: Response,
                       routers: Sequence[Router]) -> Response:
            mark_response(request.scope, response)
            return response

        return [mark]

    def request_attributes(self, app: App) -> dict[str, Callable[[HTTPConnection], Any]]:
        def language(conn: HTTPConnection) -> str:
            code: str | None = conn.scope.get(LANGUAGE_KEY)
            return code or get_language()

        return {"language": language}

    def template_extensions(self, app: App) -> Iterable[Any]:
        return ["heron.i18n._jinja.I18nExtension"]

    def template_filters(self, app: App) -> dict[str, Callable[..., Any]]:
        from heron.i18n._jinja import FILTERS

        return dict(FILTERS)

    def commands(self, app: App) -> Iterable[Any]:
        from heron.i18n.commands import i18n_group

        return [i18n_group]

    def checks(self, app: App) -> Iterable[ImproperlyConfigured]:
        return check_settings(app.settings)


def check_settings(settings: Any) -> list[ImproperlyConfigured]:
    """heron.i18n's configuration problems (docs/checks.md)."""
    from heron.i18n._middleware import _TAG

    problems = []
    offered = [normalize(code) for code in settings.languages]
    bad = [code for code in settings.languages
           if not isinstance(code, str) or not _TAG.fullmatch(code.strip()) or code == "*"]
    if bad or not offered:
        found = f"{bad} are not codes" if bad else "it is empty"
        problems.append(ImproperlyConfigured(
            f"languages must list language codes like 'en' or 'pt-br'; {found}",
            id="heron.i18n.E001"))
    if normalize(settings.language_code) not in offered:
        problems.append(ImproperlyConfigured(
            f"language_code {settings.language_code!r} is not one of languages {offered}: "
            "add it to languages, or set language_code to one of them", id="heron.i18n.E002"))
    if zone(settings.time_zone) is None:
        problems.append(ImproperlyConfigured(
            f"time_zone {settings.time_zone!r} is no known time zone; use an IANA name like "
            "'Europe/Berlin' or 'UTC' (on a system without zone data: pip install tzdata)",
            id="heron.i18n.E003"))
    return problems


def _template_context(conn: Any) -> dict[str, Any]:
    from heron.i18n.formatting import text_direction

    language = get_language()
    return {"language": language, "LANGUAGE_CODE": language,
            "language_dir": text_direction(language)}


plugin = I18nPlugin
