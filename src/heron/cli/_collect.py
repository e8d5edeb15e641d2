"""The machinery of ``heron collectstatic``: gather, hash, rewrite CSS, write, compress.

Every step is a plain function of files and names, so that the command
(:mod:`heron.cli.static`) only decides what to print.
"""

from __future__ import annotations

import filecmp
import gzip
import hashlib
import os
import posixpath
import re
import shutil
import tempfile
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote

from heron._static import MANIFEST_NAME, Manifest, source_files

__all__ = [
    "COMPRESSED_SUFFIXES",
    "DIGEST_LENGTH",
    "MIN_COMPRESS_SIZE",
    "Collected",
    "Plan",
    "Source",
    "clear",
    "css_references",
    "gather",
    "hashed_name",
    "load_brotli",
    "plan",
    "rewrite_css",
    "write",
]

#: Hex digits of the content's SHA-256 put in a hashed name (``site.3f2a9c1b0d4e.css``).
DIGEST_LENGTH = 12
#: Files smaller than this are not compressed: the saving would not pay for a request
#: header more.
MIN_COMPRESS_SIZE = 500
#: Kinds of files that are compressed already (images, fonts, archives, media).
COMPRESSED_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".heic", ".jxl", ".woff", ".woff2",
    ".zip", ".gz", ".tgz", ".br", ".bz2", ".xz", ".zst", ".7z", ".rar", ".mp3", ".mp4", ".m4a",
    ".m4v", ".webm", ".ogg", ".oga", ".ogv", ".opus", ".mov", ".avi", ".mkv", ".flac", ".pdf",
})
#: A compressed copy is kept only when it is at most this fraction of the file.
_WORTH_IT = 0.95
_VARIANTS = ((".gz", "gzip"), (".br", "brotli"))

_URL = re.compile(r"""url\(\s*(?P<quote>['"]?)(?P<url>.*?)(?P=quote)\s*\)""", re.I | re.S)
_IMPORT = re.compile(r"""@import\s+(?P<quote>['"])(?P<url>[^'"]*)(?P=quote)""", re.I)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


@dataclass(frozen=True)
class Source:
    """A file to collect: its name and where it was found."""

    name: str
    path: Path


def gather(folders: list[Path]) -> tuple[list[Source], list[Source]]:
    """The files of ``folders`` by name, the first folder's winning (as when serving),
    and the files an earlier folder's file of the same name hides."""
    chosen: dict[str, Source] = {}
    hidden: list[Source] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for name, path in source_files(folder):
            if name in chosen:
                hidden.append(Source(name, path))
            else:
                chosen[name] = Source(name, path)
    return [chosen[name] for name in sorted(chosen)], hidden


def hashed_name(name: str, digest: str) -> str:
    """``css/site.css`` with ``digest`` before its extension: ``css/site.<digest>.css``."""
    folder, _, base = name.rpartition("/")
    stem, extension = posixpath.splitext(base)
    hashed = f"{stem}.{digest}{extension}"
    return f"{folder}/{hashed}" if folder else hashed


# -- CSS -----------------------------------------------------------------------------


def _referenced(css_name: str, url: str, static_prefix: str) -> str | None:
    """The collected name ``url`` points at from ``css_name``, or None when it is not a
    local file (``data:``, ``https://...``, ``//cdn...``, ``#id``, a path outside the
    static URL).  A name leaving the static folders is returned as ``../...``."""
    if not url or url.startswith(("#", "//")) or _SCHEME.match(url):
        return None
    path = re.split(r"[?#]", url, maxsplit=1)[0]
    if not path:
        return None
    if path.startswith("/"):
        if not path.startswith(static_prefix):
            return None
        name = path[len(static_prefix):]
    else:
        name = posixpath.join(posixpath.dirname(css_name), path)
    return posixpath.normpath(unquote(name))


def _references(text: str) -> Iterator[re.Match[str]]:
    yield from _URL.finditer(text)
    yield from _IMPORT.finditer(text)


def css_references(css_name: str, text: str, static_prefix: str) -> set[str]:
    """The collected names ``text`` (the CSS file ``css_name``) refers to."""
    found = {_referenced(css_name, m.group("url").strip(), static_prefix)
             for m in _references(text)}
    return {name for name in found if name is not None}


def rewrite_css(css_name: str, text: str, digests: Mapping[str, str], existing: Container[str],
                static_prefix: str) -> tuple[str, int, list[str]]:
    """``text`` with each ``url(...)`` and ``@import "..."`` of a collected file pointing
    at its hashed name; the query and fragment, the quotes and the relative path as
    written are kept.

    Args:
        css_name: the CSS file's name (references are relative to its folder).
        digests: the digest of each collected file hashed so far.
        existing: every collected name: a reference to one without a digest yet (two
            CSS files that import each other) is left as written.
        static_prefix: ``static_url`` with a trailing slash, for absolute references.

    Returns:
        the new text, how many references were rewritten, and the references that
        name no collected file (left as written).
    """
    rewritten = 0
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        nonlocal rewritten
        url = match.group("url").strip()
        name = _referenced(css_name, url, static_prefix)
        if name is None:
            return match.group(0)
        digest = digests.get(name)
        if digest is None:
            if name not in existing:
                missing.append(url)
            return match.group(0)
        split = re.search(r"[?#]", url)
        path, tail = (url[:split.start()], url[split.start():]) if split else (url, "")
        rewritten += 1
        start, end = match.span("url")
        whole = match.group(0)
        offset = match.start()
        new_url = hashed_name(path, digest) + tail
        return whole[:start - offset] + new_url + whole[end - offset:]

    text = _URL.sub(replace, text)
    text = _IMPORT.sub(replace, text)
    return text, rewritten, missing


# -- the plan: what each file becomes --------------------------------------------------


@dataclass
class Plan:
    """What collecting makes of the sources: every name's hashed name and the CSS files'
    new content, with what is worth telling."""

    sources: list[Source]
    paths: dict[str, str] = field(default_factory=dict)
    css: dict[str, bytes] = field(default_factory=dict)  # hashed CSS content, by name
    rewritten: int = 0
    restyled: int = 0  # CSS files with a reference rewritten
    missing: list[tuple[str, str]] = field(default_factory=list)  # (css name, url)
    cycles: list[str] = field(default_factory=list)  # CSS files importing one another


def _file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:DIGEST_LENGTH]


def plan(sources: list[Source], static_prefix: str,
         progress: Callable[[Source], None] = lambda source: None) -> Plan:
    """Hash every file; CSS files after the files they refer to, with their references
    rewritten first, so that a changed image gives its stylesheet a new name too."""
    result = Plan(sources)
    digests: dict[str, str] = {}
    names = {s.name for s in sources}
    styles: dict[str, tuple[Source, str]] = {}
    for source in sources:
        if source.name.endswith(".css"):
            text = source.path.read_bytes().decode("utf-8", "surrogateescape")
            styles[source.name] = (source, text)
        else:
            digests[source.name] = _file_digest(source.path)
            progress(source)
    needs = {name: css_references(name, text, static_prefix) & (styles.keys() - {name})
             for name, (_, text) in styles.items()}
    pending = sorted(styles)
    while pending:
        ready = [name for name in pending if needs[name] <= digests.keys()]
        if not ready:  # a cycle: its files keep the plain names of one another
            ready = pending
            result.cycles = list(pending)
        for name in ready:
            source, text = styles[name]
            new, count, missing = rewrite_css(name, text, digests, names, static_prefix)
            content = new.encode("utf-8", "surrogateescape")
            digests[name] = hashlib.sha256(content).hexdigest()[:DIGEST_LENGTH]
            result.css[name] = content
            result.rewritten += count
            result.restyled += count > 0
            result.missing += [(name, url) for url in missing]
            progress(source)
        pending = [name for name in pending if name not in ready]
    result.paths = {s.name: hashed_name(s.name, digests[s.name]) for s in sources}
    return result


# -- writing -------------------------------------------------------------------------


@dataclass
class Collected:
    """What :func:`write` did (or, in a dry run, would do)."""

    copied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    compressed: dict[str, int] = field(default_factory=lambda: {"gzip": 0, "brotli": 0})


def load_brotli() -> ModuleType | None:
    """The ``brotli`` module (``heron[brotli]``), or None when it is not installed."""
    try:
        import brotli
    except ImportError:
        return None
    module: ModuleType = brotli
    return module


def clear(root: Path, dry_run: bool) -> list[str]:
    """Empty ``root`` (``--clear``); the names removed."""
    if not root.is_dir():
        return []
    removed = sorted(p.name for p in root.iterdir())
    if not dry_run:
        for entry in root.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    return removed


def write(result: Plan, root: Path, *, dry_run: bool, compress: bool,
          brotli: ModuleType | None, fresh: bool = False,
          progress: Callable[[str], None] = lambda name: None) -> Collected:
    """Write each file under its name and its hashed name, their compressed copies, and
    the manifest last (a server reading it finds every file it names).  A file whose
    content is there already is left alone, so that its ``ETag`` stays the same;
    ``fresh`` counts none as there (a dry run of ``--clear``)."""
    done = Collected()
    collected = set(result.paths) | set(result.paths.values())
    for source in result.sources:
        hashed = result.paths[source.name]
        content = result.css.get(source.name)
        outputs = ((source.name, None), (hashed, content))
        for name, data in outputs:
            target = root / name
            if not fresh and _same(source.path, data, target):
                done.unchanged.append(name)
                changed = False
            else:
                done.copied.append(name)
                changed = True
                if not dry_run:
                    _put(target, source.path, data)
            if compress:
                _compress(target, source.path, data, changed, collected, name, brotli,
                          dry_run, done)
        progress(source.name)
    if not dry_run:
        manifest = Manifest(root, dict(result.paths))
        _atomic_write(root / MANIFEST_NAME, manifest.dump().encode("utf-8"))
    return done


def _same(source: Path, data: bytes | None, target: Path) -> bool:
    try:
        if data is None:
            return target.is_file() and filecmp.cmp(source, target, shallow=False)
        return target.is_file() and target.stat().st_size == len(data) \
            and target.read_bytes() == data
    except OSError:
        return False


def _put(target: Path, source: Path, data: bytes | None) -> None:
    if data is not None:
        _atomic_write(target, data)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".collect-")
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise


def _atomic_write(target: Path, data: bytes) -> None:
    """Replace ``target`` at once: a server never sends half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".collect-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _compress(target: Path, source: Path, data: bytes | None, changed: bool,
              collected: set[str], name: str, brotli: ModuleType | None, dry_run: bool,
              done: Collected) -> None:
    """Write ``target.gz`` (and ``.br``) when worth it; drop a left-over one when not."""
    size = len(data) if data is not None else source.stat().st_size
    worth = size >= MIN_COMPRESS_SIZE and Path(name).suffix.lower() not in COMPRESSED_SUFFIXES
    content: bytes | None = None
    for suffix, coding in _VARIANTS:
        if name + suffix in collected:
            continue  # a collected file of that name: never overwrite it
        variant = Path(str(target) + suffix)
        if coding == "brotli" and brotli is None:
            continue
        if not worth:
            if variant.exists() and not dry_run:
                variant.unlink()
            continue
        if not changed and variant.is_file():
            done.compressed[coding] += 1
            continue
        if content is None:
            content = data if data is not None else source.read_bytes()
        packed = (gzip.compress(content, 9, mtime=0) if coding == "gzip"
                  else brotli.compress(content, quality=11))  # type: ignore[union-attr]
        if len(packed) > size * _WORTH_IT:
            if variant.exists() and not dry_run:
                variant.unlink()
            continue
        done.compressed[coding] += 1
        if not dry_run:
            _atomic_write(variant, packed)
