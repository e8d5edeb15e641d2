"""``heron check`` on an app with several configuration mistakes reports each one,
with its own id, and exits non-zero; startup refuses the app listing them all."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from heron import App
from heron.checks import ConfigurationErrors

BROKEN_APP = """
from heron import App

app = App(
    secret_key=None,                      # heron.settings.E001 (debug is off)
    allowed_hosts=[],                     # heron.security.E001
    session_cookie_samesite="sideways",   # heron.sessions.E002
    cache_url="memcached://127.0.0.1",    # heron.cache.E001
    csrf_trusted_origins=["example.com"], # heron.security.E002 (no scheme)
)

@app.get("/books", tag="library")         # heron.routing.E015 (tags=, misspelt)
async def books():
    return []
"""

IDS = ["heron.settings.E001", "heron.security.E001", "heron.sessions.E002",
       "heron.cache.E001", "heron.security.E002", "heron.routing.E015"]


def test_heron_check_reports_every_mistake_with_its_own_id(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(BROKEN_APP))
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}
    result = subprocess.run([str(Path(sys.executable).with_name("heron")), "check"],
                            cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 1, result.stderr
    reported = [line.split(":", 1)[0] for line in result.stderr.splitlines()
                if line.startswith("heron.")]
    assert sorted(reported) == sorted(IDS)
    assert f"{len(IDS)} problem(s) found in app:app." in result.stderr
    assert "did you mean 'tags'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_startup_raises_them_all_at_once(tmp_path: Path) -> None:
    app = App(debug=False, secret_key=None, allowed_hosts=[], cache_url="nope://",
              session_max_age=0, root=tmp_path)
    with pytest.raises(ConfigurationErrors) as info:
        app.setup()
    ids = [problem.id for problem in info.value.problems]
    assert ids == ["heron.settings.E001", "heron.security.E001", "heron.sessions.E003",
                   "heron.cache.E001"]
    for problem_id in ids:
        assert problem_id in str(info.value)


def test_every_route_problem_is_reported_not_only_the_first(tmp_path: Path) -> None:
    from heron import Router

    app = App(debug=True, root=tmp_path)

    @app.get("/a")
    async def first(unknown):  # type: ignore[no-untyped-def]  # heron.params.E001
        return "a"

    @app.get("/b")
    async def second(other):  # type: ignore[no-untyped-def]  # heron.params.E001 again
        return "b"

    shelf = Router("/shelf")

    @shelf.get("/x", name="first")  # heron.routing.E002: the name "first" is taken
    async def clash():  # type: ignore[no-untyped-def]
        return "x"

    app.include(shelf)
    problems = app.check()
    assert [p.id for p in problems] == ["heron.params.E001", "heron.params.E001",
                                        "heron.routing.E002"]
    assert "first" in problems[0].message
    assert "second" in problems[1].message
    with pytest.raises(ConfigurationErrors) as info:
        app.setup()
    assert len(info.value.problems) == 3
