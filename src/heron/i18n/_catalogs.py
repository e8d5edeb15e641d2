"""Message catalogs: compiled ``.mo`` files found in locale folders, merged per language.

One gettext domain, ``messages``, laid out as ``<folder>/<lang>/LC_MESSAGES/messages.mo``.
The folders of an app, in precedence order: the app's ``locales/`` (next to its
``templates/``), the ``locale_paths`` setting, each component's ``locales/`` in the
order the components were given, then heron's own (``heron/locales/``).  A language
is loaded once, on first use, with the standard library's :mod:`gettext` (Babel is
needed only to format values and by ``heron i18n``).
"""

from __future__ import annotations

import gettext as _gettext
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["DOMAIN", "HERON_LOCALES", "Catalogs", "Translation", "normalize", "to_locale"]

DOMAIN = "messages"
#: heron's own catalog (the text of every battery).
HERON_LOCALES = Path(__file__).resolve().parents[1] / "locales"


def normalize(code: str) -> str:
    """A language code as heron compares it: lower case, ``-`` between parts
    (``pt_BR`` -> ``pt-br``)."""
    return code.strip().replace("_", "-").lower()


def to_locale(code: str) -> str:
    """A language code as a gettext/Babel locale name (``pt-br`` -> ``pt_BR``,
    ``zh-hans`` -> ``zh_Hans``)."""
    language, _, country = normalize(code).partition("-")
    if not country:
        return language
    first, _, rest = country.partition("-")
    first = first.title() if len(first) > 2 else first.upper()
    return f"{language}_{first}" + (f"_{rest.upper()}" if rest else "")


def _english_plural(n: int) -> int:
    return int(n != 1)


class Translation:
    """The merged catalog of one language: lookups with fallback to the message itself."""

    __slots__ = ("_catalog", "_plural", "language")

    def __init__(self, language: str, catalog: dict[Any, str],
                 plural: Callable[[int], int] = _english_plural) -> None:
        self.language = language
        self._catalog = catalog
        self._plural = plural

    def gettext(self, message: str) -> str:
        """``message`` translated, or itself."""
        return self._catalog.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form of ``singular``/``plural`` for ``n``."""
        try:
            return self._catalog[(singular, self._plural(n))]
        except KeyError:
            return singular if n == 1 else plural

    def pgettext(self, context: str, message: str) -> str:
        """``message`` in ``context`` translated, or itself."""
        return self._catalog.get(f"{context}\x04{message}", message)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        """The form for ``n`` of ``singular``/``plural`` in ``context``."""
        try:
            return self._catalog[(f"{context}\x04{singular}", self._plural(n))]
        except KeyError:
            return singular if n == 1 else plural

    def __repr__(self) -> str:
        return f"<Translation {self.language} ({len(self._catalog)} messages)>"


class Catalogs:
    """The translations of one app: its locale folders and the languages loaded from them."""

    def __init__(self, folders: Sequence[Path], default_language: str = "en") -> None:
        self.folders = list(folders)
        self.default_language = normalize(default_language)
        self._loaded: dict[str, Translation] = {}
        self._lock = threading.Lock()

    def translation(self, language: str) -> Translation:
        """The merged translation of ``language`` (loaded once, then cached)."""
        found = self._loaded.get(language)
        if found is None:
            with self._lock:
                found = self._loaded.get(language)
                if found is None:
                    found = self._loaded[language] = self._load(language)
        return found

    def clear(self) -> None:
        """Forget loaded languages (after ``heron i18n compile`` in a running process)."""
        self._loaded.clear()

    def _load(self, language: str) -> Translation:
        # "de-at" falls back to "de": the general language first, the regional on top;
        # each from the lowest folder up, so that a higher folder's message wins.
        names = [to_locale(language)]
        base = normalize(language).partition("-")[0]
        if base != normalize(language):
            names.insert(0, base)
        catalog: dict[Any, str] = {}
        plural: Callable[[int], int] | None = None
        for name in names:
            for folder in reversed(self.folders):
                loaded = _read_mo(folder / name / "LC_MESSAGES" / f"{DOMAIN}.mo")
                if loaded is not None:
                    catalog.update(loaded._catalog)  # type: ignore[attr-defined]
                    plural = loaded.plural  # type: ignore[attr-defined]
        catalog.pop("", None)  # the header
        return Translation(normalize(language), catalog, plural or _english_plural)


def _read_mo(path: Path) -> _gettext.GNUTranslations | None:
    try:
        with path.open("rb") as file:
            return _gettext.GNUTranslations(file)
    except FileNotFoundError:
        return None


def folders_of(app: Any, extra: Iterable[str | Path] = ()) -> list[Path]:
    """The locale folders of ``app`` in precedence order (see the module's docstring)."""
    folders = [app.root / "locales"]
    folders += [app.root / Path(path) for path in extra]
    for component in app.components.values():
        module_file = getattr(component.module, "__file__", None)
        if module_file:
            folders.append(Path(module_file).parent / "locales")
    folders.append(HERON_LOCALES)
    unique: list[Path] = []
    for folder in folders:
        if folder not in unique:
            unique.append(folder)
    return unique
