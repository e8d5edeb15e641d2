"""Run every ```python block of docs/*.md, so that the documentation stays true.

Each block is executed on its own, in a fresh namespace, inside a temporary
working directory, with the developer's ``HERON_*`` variables cleared.  A block
whose first line is the comment ``# not tested`` (optionally followed by the
reason) is skipped: shell-like snippets and file fragments.  A failure names
the Markdown file and the line of the block.

The pytest-plugin example of docs/testing.md is made of file fragments (a
``conftest.py`` and a test module, marked ``# file: NAME`` on their second
line); :func:`test_pytest_plugin_example` writes them out and runs pytest on them.
"""

from __future__ import annotations

import linecache
import logging
import os
import re
import subprocess
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
SKIP_MARK = "# not tested"
FILE_MARK = re.compile(r"# file: (\S+)")
_FENCE = re.compile(r"^```(\w*)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    doc: str
    index: int
    line: int  # line number of the first line of code (1-based)
    language: str
    code: str

    @property
    def first_line(self) -> str:
        return self.code.lstrip("\n").split("\n", 1)[0].strip()

    @property
    def skipped(self) -> bool:
        # "# not tested" alone, or followed by the reason: "# not tested (a shell session)".
        return self.first_line == SKIP_MARK or self.first_line.startswith(SKIP_MARK + " ")


def read_blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path`` with its language and starting line."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    language: str | None = None
    start = 0
    body: list[str] = []
    for number, line in enumerate(lines, start=1):
        fence = _FENCE.match(line)
        if language is None:
            if fence:
                language, start, body = fence.group(1), number + 1, []
        elif line.strip() == "```":
            blocks.append(Block(path.name, len(blocks), start, language, "\n".join(body) + "\n"))
            language = None
        else:
            body.append(line)
    if language is not None:
        raise ValueError(f"{path.name}:{start - 1}: a code fence is never closed")
    return blocks


def python_blocks() -> list[Block]:
    return [
        block
        for path in sorted(DOCS.glob("*.md"))
        for block in read_blocks(path)
        if block.language == "python"
    ]


def _block_id(block: Block) -> str:
    first = re.sub(r"[^\w.:()=\"' -]+", "", block.first_line)[:40]
    return f"{block.doc}-{block.index}-{first}"


BLOCKS = python_blocks()


@pytest.fixture
def doc_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A temporary working folder on sys.path, no HERON_* variables, no leaked modules."""
    for key in list(os.environ):
        if key.startswith("HERON_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    # Modules another test left from its own temporary folder (an ``app`` or ``shop``)
    # would shadow the ones this block writes under the same names.
    # (A folder without __init__.py imports as a namespace package: no __file__, a __path__.)
    others = str(tmp_path.parent)
    for name, module in list(sys.modules.items()):
        places = [getattr(module, "__file__", None) or "", *getattr(module, "__path__", ())]
        if any(str(place).startswith(others) for place in places):
            monkeypatch.delitem(sys.modules, name)
    modules = set(sys.modules)
    loggers = [logging.getLogger(name) for name in ("heron", "heron.access", "heron.error")]
    saved = [(logger, logger.level, list(logger.handlers)) for logger in loggers]
    yield tmp_path
    for key in list(os.environ):
        if key.startswith("HERON_"):
            del os.environ[key]  # set by the block itself
    for logger, level, handlers in saved:
        logger.setLevel(level)
        logger.handlers[:] = handlers
    for name in set(sys.modules) - modules:
        module_file = getattr(sys.modules[name], "__file__", None) or ""
        if module_file.startswith(str(tmp_path)):
            del sys.modules[name]


@pytest.mark.parametrize("block", [b for b in BLOCKS if not b.skipped], ids=_block_id)
def test_doc_block(block: Block, doc_sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    filename = f"docs/{block.doc}"
    # Pad with blank lines so that tracebacks show the line numbers of the .md file.
    source = "\n" * (block.line - 1) + block.code
    code = compile(source, filename, "exec")
    # Let tracebacks (and heron's debug page) show the block's source lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    # A real module, so that dataclasses and typing can find the block's globals.
    module = types.ModuleType("heron_docs_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    failure = None
    try:
        exec(code, module.__dict__)
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
        where = f"{filename}:{frames[-1].lineno}" if frames else filename
        failure = (
            f"The code block at {filename}:{block.line} failed at {where}:\n"
            + "".join(traceback.format_exception(exc))
        )
    if failure is not None:
        pytest.fail(failure, pytrace=False)


def test_docs_exist_and_have_examples() -> None:
    expected = {
        "index.md", "quickstart.md", "routing.md", "requests-responses.md", "errors.md",
        "middleware.md", "settings.md", "websockets.md", "static-files.md", "testing.md",
        "cli.md", "sync-and-async.md", "templates.md", "sessions.md", "security.md",
        "database.md", "migrations.md", "passwords.md", "mail.md", "auth.md", "forms.md", "api.md",
        "checks.md",
    }
    assert expected <= {p.name for p in DOCS.glob("*.md")}
    tested = {b.doc for b in BLOCKS if not b.skipped}
    assert expected - {"index.md", "cli.md"} <= tested


def test_fences_are_closed_and_blocks_parse() -> None:
    assert BLOCKS, "no python blocks found in docs/"
    for block in BLOCKS:
        compile(block.code, f"docs/{block.doc}:{block.line}", "exec")


def test_pytest_plugin_example(doc_sandbox: Path) -> None:
    """The conftest.py and test module shown in docs/testing.md pass under pytest."""
    files = {}
    for block in read_blocks(DOCS / "testing.md"):
        lines = block.code.lstrip("\n").split("\n")
        if block.language == "python" and len(lines) > 1:
            mark = FILE_MARK.fullmatch(lines[1].strip())
            if mark:
                files[mark.group(1)] = block.code
    assert {"shop.py", "conftest.py", "test_plugin_app.py", "mltests/conftest.py"} <= set(files)
    for name, code in files.items():
        target = doc_sandbox / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-o", "asyncio_mode=auto", str(doc_sandbox)],
        cwd=doc_sandbox, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


MARKERS = {"Body", "Cookie", "Depends", "Header", "Query"}
_PARAMS_IMPORT = re.compile(r"from heron\.params import \(?([\w\s,#.'-]*?)\)?$", re.M)


def test_markers_are_imported_from_heron_in_docs_and_examples() -> None:
    """One way to write it everywhere: ``from heron import Query`` (docs/api.md);
    ``heron.params`` only for ``Path``, which ``heron`` does not export."""
    sources = {f"docs/{b.doc}:{b.line}": b.code for b in BLOCKS}
    examples = DOCS.parent / "examples"
    sources.update({str(p.relative_to(DOCS.parent)): p.read_text(encoding="utf-8")
                    for p in sorted(examples.rglob("*.py"))})
    found = []
    for where, code in sources.items():
        for match in _PARAMS_IMPORT.finditer(code):
            names = {n.split("#")[0].split(" as ")[0].strip() for n in match.group(1).split(",")}
            if names & MARKERS:
                found.append(f"{where}: from heron.params import {sorted(names & MARKERS)}")
    assert not found, "import these from heron instead:\n" + "\n".join(found)
