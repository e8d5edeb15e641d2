"""Run docs/tutorial/ from start to end, as a reader would, in a temporary folder.

The pages are read in order (``docs/tutorial/[0-9]*.md``) and their marked blocks run one
after the other; every other block is shown to the reader only.

```` ```console run ````
    Each ``$ COMMAND`` line runs in bash, in the current folder, with the venv's ``heron``
    and ``pytest`` first on ``PATH`` and none of the developer's ``HERON_*`` variables.
    It must succeed (or exit with ``N`` when the info string says ``run exit=N``).
    Lines ``>>> CODE`` (and ``... CODE`` after them) under a command are typed at its
    prompt (``heron shell``): they are its standard input.
    ``cd DIR`` and ``export NAME=VALUE`` change the folder and the environment of what
    follows, as in a shell.  ``heron run ...`` is not run in bash: it starts a real server
    on a free port (below), with the ``NAME=VALUE`` words before it in its environment.
    The other lines are what the command prints: each must match a line of its output,
    in that order, where ``...`` stands for any text (a revision id, a duration) and
    ``127.0.0.1:8000`` for the server's address.
```` ```python file=PATH ```` (any language)
    The block is the whole file PATH (relative to the current folder); it is written.
```` ```python excerpt=PATH ````
    The block is a part of the file PATH as it is at that step (heron wrote it): it must
    be in the file, as it is shown.
```` ```html GET /path ```` (``GET /path 404`` for another status; ``text`` as well)
    The page is fetched over HTTP from the server, with one client that keeps its cookies,
    like a browser.  Each line of the block, stripped, must be in the page, in order
    (``...`` stands for any text).
```` ```json GET /path ````
    The same, for JSON: the body must equal the block.
``<!-- test: login USER PASSWORD -->``
    What the reader does in the browser: logs in on the login page.
``<!-- test: submit PATH NAME=VALUE ... [status=N] -->``
    Fills the form of the page PATH (with its CSRF token) and posts it, following the
    redirect (or expecting status N and no redirect); an ``html`` block with the info
    string ``html result`` checks the page it lands on.

The server stands for ``heron run --reload``: it is (re)started before a page is fetched
whenever a file was written or a command was run since it started.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from app_server import AppServer

from heron.testing import extract_csrf_token

# The helpers of `heron new`'s tests. tests/cli/ has no __init__.py: pytest imports its
# modules by their own names, with the folder on sys.path, as done here.
sys.path.insert(0, str(Path(__file__).resolve().parent / "cli"))
try:
    from test_new import clean_env, log_in
finally:
    del sys.path[0]

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial"
VENV_BIN = str(Path(sys.executable).parent)
_FENCE = re.compile(r"^```(\S*)[ \t]*(.*?)\s*$")
_DIRECTIVE = re.compile(r"^<!-- test: (.*?) -->\s*$")
_PROMPTS = re.compile(r"^((>>>|\.\.\.)( |$))+")


@dataclass(frozen=True)
class Step:
    """A marked block or a directive of a page of the tutorial."""

    page: str
    line: int
    language: str
    info: str  # the info string after the language: "run", "file=PATH", "GET /path"...
    body: str

    @property
    def where(self) -> str:
        return f"docs/tutorial/{self.page}:{self.line}"


def read_steps(path: Path) -> list[Step]:
    """The marked blocks and directives of one page, in order."""
    steps: list[Step] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    fence: re.Match[str] | None = None
    start, body = 0, []
    for number, line in enumerate(lines, start=1):
        if fence is None:
            directive = _DIRECTIVE.match(line)
            if directive:
                steps.append(Step(path.name, number, "directive", directive.group(1), ""))
            fence = _FENCE.match(line) if line.startswith("```") else None
            start, body = number, []
        elif line.strip() == "```":
            language, info = fence.group(1), fence.group(2)
            if info:
                steps.append(Step(path.name, start, language, info, "\n".join(body) + "\n"))
            fence = None
        else:
            body.append(line)
    assert fence is None, f"{path.name}:{start}: a code fence is never closed"
    return steps


def pages() -> list[Path]:
    return sorted(TUTORIAL.glob("[0-9][0-9]-*.md"))


def matches_in_order(expected: list[str], actual: list[str]) -> str | None:
    """None when each expected line (``...`` matches anything) matches an actual line,
    in order; else the first line that matched nothing."""
    position = 0
    for want in expected:
        pattern = re.compile(".*".join(re.escape(part) for part in want.split("...")))
        # pytest's summary line is framed in "=": compare what is inside.
        while position < len(actual) and not pattern.fullmatch(actual[position].strip("= ")):
            position += 1
        if position == len(actual):
            return want
        position += 1
    return None


@dataclass
class Reader:
    """The reader's shell, server and browser."""

    cwd: Path
    env: dict[str, str]
    server: AppServer | None = None
    run_args: tuple[str, ...] = ()
    run_env: dict[str, str] = field(default_factory=dict)
    stale: bool = True
    browser: httpx.Client | None = None
    result: httpx.Response | None = None
    log: list[str] = field(default_factory=list)

    # -- the shell -------------------------------------------------------------------

    def console(self, step: Step) -> None:
        expected_status = int(step.info.partition("exit=")[2] or 0)
        commands: list[tuple[str, list[str], list[str]]] = []  # command, input, output
        for line in step.body.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:].strip(), [], []))
            elif line.startswith(">>> ") or (line.startswith("... ") and commands[-1][1]):
                commands[-1][1].append(line[4:])
            elif line.strip() and line.strip() != "...":
                assert commands, f"{step.where}: output before any command"
                commands[-1][2].append(line.strip())
        for command, typed, expected in commands:
            stdin = "".join(line + "\n" for line in typed) if typed else None
            output = self.command(step, command, expected_status, stdin)
            # What Python's prompt printed, without its prompts.
            lines = [_PROMPTS.sub("", line) for line in output.splitlines()]
            missing = matches_in_order(expected, lines)
            assert missing is None, (f"{step.where}: `{command}` did not print {missing!r}; "
                                     f"it printed:\n{output}")

    def command(self, step: Step, command: str, expected_status: int,
                stdin: str | None = None) -> str:
        words = shlex.split(command.split(" #")[0])
        self.log.append(f"$ {command}")
        if words[0] == "cd":
            self.cwd = (self.cwd / words[1]).resolve()
            return ""
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            self.env[name] = value
            self.stale = True
            return ""
        settings = {}  # NAME=VALUE before the command: for this command only
        while "=" in words[0]:
            name, _, value = words.pop(0).partition("=")
            settings[name] = value
        if words[:2] == ["heron", "run"]:
            self.run_args = tuple(words[2:])
            self.run_env = settings
            self.start_server()
            assert self.server is not None
            return self.server.output().replace(f"127.0.0.1:{self.server.port}",
                                                "127.0.0.1:8000")
        # stdout and stderr in one stream, unbuffered: in the order a terminal shows them.
        result = subprocess.run(["bash", "-c", command], cwd=self.cwd,
                                env={**self.env, "PYTHONUNBUFFERED": "1"}, input=stdin,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                timeout=120)
        self.stale = True
        output = result.stdout
        assert result.returncode == expected_status, (
            f"{step.where}: `{command}` exited with {result.returncode}:\n{output}")
        return output

    def excerpt(self, step: Step) -> None:
        path = self.cwd / step.info.removeprefix("excerpt=")
        assert step.body in path.read_text(encoding="utf-8"), (
            f"{step.where}: the excerpt is not in {path.name} (any more):\n{step.body}")

    def write(self, step: Step) -> None:
        path = self.cwd / step.info.removeprefix("file=")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(step.body, encoding="utf-8")
        self.log.append(f"wrote {path.relative_to(self.cwd)}")
        self.stale = True

    # -- the server and the browser ---------------------------------------------------

    def start_server(self) -> None:
        self.stop_server()
        # The project's app, as .env names it; the spec is given because AppServer
        # passes the host and the port.
        args = tuple(a for a in self.run_args if a != "--reload")
        self.server = AppServer("mysite.app", cwd=self.cwd, env={**self.env, **self.run_env},
                                args=args).start()
        self.stale = False

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def client(self) -> httpx.Client:
        if self.server is None or self.stale:
            self.start_server()
        assert self.server is not None
        if self.browser is None:
            self.browser = httpx.Client(timeout=10)
        self.browser.base_url = httpx.URL(self.server.url)
        return self.browser

    def fetch(self, step: Step) -> None:
        if step.info == "result":
            assert self.result is not None, f"{step.where}: no form was submitted"
            answer = self.result
        else:
            method, path, *status = step.info.split()
            answer = self.client().request(method, path)
            wanted = int(status[0]) if status else 200
            assert answer.status_code == wanted, (
                f"{step.where}: {method} {path} answered {answer.status_code}:\n{answer.text}")
        if step.language == "json":
            assert answer.json() == json.loads(step.body), f"{step.where}: {answer.text}"
            return
        lines = [line.strip() for line in step.body.splitlines() if line.strip()]
        position = 0
        for line in lines:
            pattern = re.compile(".*?".join(re.escape(part) for part in line.split("...")))
            found = pattern.search(answer.text, position)
            assert found, f"{step.where}: {line!r} is not in the page:\n{answer.text}"
            position = found.end()

    def directive(self, step: Step) -> None:
        action, *words = shlex.split(step.info)
        if action == "login":
            self.client()
            assert self.server is not None
            if self.browser is not None:
                self.browser.close()
            self.browser = log_in(self.server, words[0], words[1])
        elif action == "submit":
            client = self.client()
            form = client.get(words[0])
            data = dict(word.split("=", 1) for word in words[1:])
            status = int(data.pop("status", 0))
            data["csrf_token"] = extract_csrf_token(form.text)
            self.result = client.post(words[0], data=data, follow_redirects=True)
            if status:
                assert not self.result.history, f"{step.where}: the form was accepted"
                assert self.result.status_code == status, (
                    f"{step.where}: the form answered {self.result.status_code}:\n"
                    f"{self.result.text}")
            else:
                assert self.result.history, (
                    f"{step.where}: the form was not accepted ({self.result.status_code}):\n"
                    f"{self.result.text}")
        else:
            raise AssertionError(f"{step.where}: unknown directive {action!r}")

    def do(self, step: Step) -> None:
        if step.language == "directive":
            self.directive(step)
        elif step.info.startswith("file="):
            self.write(step)
        elif step.info.startswith("excerpt="):
            self.excerpt(step)
        elif step.language == "console" and step.info.startswith("run"):
            self.console(step)
        elif step.language in ("html", "json", "text"):
            self.fetch(step)
        else:
            raise AssertionError(f"{step.where}: unknown block ```{step.language} {step.info}")

    def close(self) -> None:
        if self.browser is not None:
            self.browser.close()
        self.stop_server()


def test_every_page_has_steps_and_is_linked() -> None:
    names = [page.name for page in pages()]
    assert len(names) >= 7, names
    index = (TUTORIAL / "index.md").read_text(encoding="utf-8")
    for page in pages():
        assert f"({page.name})" in index, f"index.md does not link {page.name}"
        assert read_steps(page), f"{page.name} has no step the test runs"


def test_the_tutorial_runs_from_start_to_end(tmp_path: Path) -> None:
    env = clean_env(PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    env.pop("VIRTUAL_ENV", None)
    reader = Reader(cwd=tmp_path, env=env)
    try:
        for page in pages():
            for step in read_steps(page):
                started = time.monotonic()
                try:
                    reader.do(step)
                    print(f"{time.monotonic() - started:5.1f}s {step.where}")
                except AssertionError:
                    print("\n".join(reader.log[-8:]))
                    if reader.server is not None:
                        print(reader.server.output()[-4000:])
                    raise
    finally:
        reader.close()


@pytest.mark.parametrize(("expected", "actual", "missing"), [
    (["a", "c"], ["a", "b", "c"], None),
    (["c", "a"], ["a", "b", "c"], "a"),
    (["5 passed in ..."], ["tests/x.py .....", "5 passed in 0.31s"], None),
    (["5 passed"], ["15 passed"], "5 passed"),
    (["2 passed in ..."], ["=== 2 passed in 1.48s ==="], None),
])
def test_output_lines_match_in_order(expected: list[str], actual: list[str],
                                     missing: str | None) -> None:
    assert matches_in_order(expected, actual) == missing
