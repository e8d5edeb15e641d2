"""heron.i18n's settings section (light: part of every app's settings)."""

from __future__ import annotations

import dataclasses

from heron.settings import settings_section

__all__ = ["I18nSettings"]


@settings_section
class I18nSettings:
    """heron.i18n's settings (docs/i18n.md)."""

    #: The language of requests that ask for none the app offers, and outside requests.
    language_code: str = "en"
    #: The languages the app offers (codes like ``"de"``, ``"pt-br"``).
    languages: list[str] = dataclasses.field(default_factory=lambda: ["en"])
    #: The cookie that keeps a visitor's choice (set by ``POST /i18n/setlang``).
    language_cookie_name: str = "heron_language"
    #: Serve ``/de/...`` URLs: the first path segment, when an offered language, chooses it.
    language_url_prefix: bool = False
    #: Read the logged-in user's ``language`` and ``timezone`` attributes (heron.auth).
    language_from_user: bool = True
    #: Where ``POST`` goes to change the language; None: no such view.
    language_setlang_url: str | None = "/i18n/setlang"
    #: The time zone of dates shown and read when the request chooses none.
    time_zone: str = "UTC"
    #: A cookie holding the visitor's time zone (``"Europe/Berlin"``); None: not read.
    time_zone_cookie_name: str | None = None
    #: More folders of catalogs (relative to the app's root), above the components'.
    locale_paths: list[str] = dataclasses.field(default_factory=list)
