"""The app's static files: the folders it serves, the folder ``heron collectstatic``
fills (``static_root``) with its manifest, and their checks.

The manifest (``staticfiles.json`` in ``static_root``) maps each collected file's
name to its content-hashed name.  An app uses it (serves ``static_root``, gives
hashed URLs) when the ``static_manifest`` setting says so: ``None`` (the default)
when debug is off and the manifest exists, ``True`` always, ``False`` never.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heron.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from heron.app import App
    from heron.types import ASGIApp

__all__ = [
    "IGNORED_PREFIXES",
    "MANIFEST_NAME",
    "MANIFEST_VERSION",
    "Manifest",
    "app_manifest",
    "collected_folder",
    "ignored",
    "root_problems",
    "source_files",
    "static_app",
    "static_checks",
    "static_folders",
]

MANIFEST_NAME = "staticfiles.json"
MANIFEST_VERSION = 1
#: Names collectstatic leaves out (and so the stale-manifest check ignores): hidden files
#: (``.gitkeep``, ``.DS_Store``) and editors' backups (``site.css~``).
IGNORED_PREFIXES = (".",)
_EXTENSION_KEY = "heron.static"


@dataclass(frozen=True)
class Manifest:
    """A loaded ``staticfiles.json``: ``paths`` maps each name (``css/site.css``) to its
    hashed name (``css/site.3f2a9c1b0d4e.css``), both relative to ``folder``."""

    folder: Path
    paths: dict[str, str]

    @property
    def hashed_names(self) -> frozenset[str]:
        """Every hashed name (served with an immutable ``Cache-Control``)."""
        return frozenset(self.paths.values())

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        """Read ``folder/staticfiles.json``.

        Raises:
            OSError: it cannot be read (FileNotFoundError when it does not exist).
            ValueError: it is not a manifest heron wrote.
        """
        data: Any = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            raise ValueError(f"not a version {MANIFEST_VERSION} manifest")
        paths = data.get("paths")
        if not isinstance(paths, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in paths.items()):
            raise ValueError("its 'paths' is not an object of names")
        return cls(folder, paths)

    def dump(self) -> str:
        """The manifest as JSON text (sorted, one name per line, so that diffs read well)."""
        return json.dumps({"version": MANIFEST_VERSION, "paths": dict(sorted(self.paths.items()))},
                          indent=1) + "\n"


def static_folders(app: App) -> list[Path]:
    """The folders the app serves in debug, in the order a name is looked up: the app's
    own (``static_dir``), then each component's ``static/``, then each plugin's
    ``static_dir``; each once, whether it exists or not."""
    folders = [app.root / app.settings.static_dir]
    folders += [c.static_dir for c in app.components.values() if c.static_dir]
    folders += [p.static_dir for p in app.plugins.values() if p.static_dir]
    unique: list[Path] = []
    for folder in folders:
        if folder not in unique:
            unique.append(folder)
    return unique


def collected_folder(app: App) -> Path:
    """``static_root``: where ``heron collectstatic`` writes (relative to the app's root)."""
    return app.root / app.settings.static_root


def ignored(relative: str) -> bool:
    """Whether collectstatic leaves the file out (a hidden file or folder, a backup)."""
    return any(part.startswith(IGNORED_PREFIXES) or part.endswith("~")
               for part in relative.split("/"))


def source_files(folder: Path) -> list[tuple[str, Path]]:
    """The files of ``folder`` that are served and collected, as (name, path) sorted by
    name: regular files inside it (a symbolic link pointing out is left out, as the
    static handler refuses it), hidden files and backups left out."""
    found: list[tuple[str, Path]] = []
    base = os.path.realpath(folder)
    seen = {base}  # a link to a folder above would make the walk go round forever
    for directory, subfolders, files in os.walk(folder, followlinks=True):
        kept = []
        for name in subfolders:
            real = os.path.realpath(os.path.join(directory, name))
            if not ignored(name) and _inside(base, real) and real not in seen:
                seen.add(real)
                kept.append(name)
        subfolders[:] = kept
        for filename in files:
            path = os.path.join(directory, filename)
            relative = os.path.relpath(path, folder).replace(os.sep, "/")
            if not ignored(relative) and _inside(base, path) and os.path.isfile(path):
                found.append((relative, Path(path)))
    return sorted(found)


def _inside(base: str, path: str) -> bool:
    real = os.path.realpath(path)
    return os.path.commonpath([base, real]) == base


# -- which files the app serves ------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    manifest: Manifest | None
    error: str | None  # why a manifest the settings want could not be used


def _load(app: App) -> _Loaded:
    cached: _Loaded | None = app.extensions.get(_EXTENSION_KEY)
    if cached is not None:
        return cached
    wanted = app.settings.static_manifest
    folder = collected_folder(app)
    loaded = _Loaded(None, None)
    if wanted or (wanted is None and not app.settings.debug
                  and (folder / MANIFEST_NAME).is_file()):
        try:
            loaded = _Loaded(Manifest.load(folder), None)
        except FileNotFoundError:
            loaded = _Loaded(None, f"{folder / MANIFEST_NAME} does not exist")
        except (OSError, ValueError) as exc:
            loaded = _Loaded(None, f"{folder / MANIFEST_NAME} cannot be used: {exc}")
    app.extensions[_EXTENSION_KEY] = loaded
    return loaded


def app_manifest(app: App) -> Manifest | None:
    """The manifest the app uses, or None: debug (by default), no manifest, or
    ``static_manifest=False``.  Read once per app."""
    return _load(app).manifest


def static_app(app: App) -> ASGIApp | None:
    """What the app mounts at ``static_url``: the collected folder, with hashed names
    cached for a year and precompressed files, when the app uses a manifest; else its
    static folders as they are.  None when there is nothing to serve."""
    from heron.staticfiles import StaticFiles

    max_age = 0 if app.settings.debug else 3600
    manifest = app_manifest(app)
    if manifest is not None:
        return StaticFiles([manifest.folder], max_age=max_age, precompressed=True,
                           immutable=manifest.hashed_names)
    existing = [f for f in static_folders(app) if f.is_dir()]
    return StaticFiles(existing, max_age=max_age) if existing else None


# -- checks --------------------------------------------------------------------------


def static_checks(app: App) -> list[ImproperlyConfigured]:
    """The static files' configuration problems (heron.static.E001-E003)."""
    problems = root_problems(app)
    loaded = _load(app)
    if loaded.error is not None:
        problems.append(ImproperlyConfigured(
            f"The app serves collected static files (static_manifest="
            f"{app.settings.static_manifest!r}, debug={app.settings.debug}) but {loaded.error}. "
            "Run `heron collectstatic` before starting it, or set static_manifest=None to "
            "serve the static folders as they are when there is no manifest",
            id="heron.static.E001"))
    if loaded.manifest is not None:
        problems += _stale_problems(app, loaded.manifest)
    return problems


def root_problems(app: App) -> list[ImproperlyConfigured]:
    """``static_root`` must be a folder of its own: not a static folder, not inside
    one, not holding one, not the app's root folder (``--clear`` empties it)."""
    root = Path(os.path.realpath(collected_folder(app)))
    app_root = Path(os.path.realpath(app.root))
    clashes = []
    if root == app_root or root in app_root.parents:
        clashes.append(f"the app's root folder {app.root}")
    for folder in static_folders(app):
        real = Path(os.path.realpath(folder))
        if real == root or root in real.parents or real in root.parents:
            clashes.append(f"the static folder {folder}")
    if not clashes:
        return []
    return [ImproperlyConfigured(
        f"static_root {str(collected_folder(app))!r} overlaps {' and '.join(clashes)}; "
        "heron collectstatic writes there (and --clear empties it): set static_root to a "
        "folder of its own, such as \"staticfiles\"", id="heron.static.E002")]


def _stale_problems(app: App, manifest: Manifest) -> list[ImproperlyConfigured]:
    """Files of the static folders that the manifest lacks: collected before they were
    added, so that the app would answer 404 for them."""
    missing = sorted({name for folder in static_folders(app) if folder.is_dir()
                      for name, _ in source_files(folder) if name not in manifest.paths})
    if not missing:
        return []
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return [ImproperlyConfigured(
        f"{len(missing)} static file(s) are not in the manifest {manifest.folder / MANIFEST_NAME}"
        f" (added after the last collectstatic): {shown}. Run `heron collectstatic` again",
        id="heron.static.E003")]
