"""The ``heron`` command: version, app discovery, routes, check."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from heron import __version__
from heron.cli import main

APP_SOURCE = """
from heron import App, Router

app = App(debug=True)

@app.get("/")
async def index():
    return "home"

@app.post("/items/{id:int}", name="update_item")
def update(id: int):
    return {"id": id}

blog = Router("/blog", name="blog")

@blog.get("/{slug}")
async def post(slug: str):
    return slug

app.include(blog)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with an app.py, made the current folder."""
    (tmp_path / "app.py").write_text(textwrap.dedent(APP_SOURCE))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("HERON_APP", raising=False)
    for module in ("app", "other"):
        monkeypatch.delitem(__import__("sys").modules, module, raising=False)
    return tmp_path


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"heron {__version__}"


def test_routes_lists_every_route_from_app_py(project: Path) -> None:
    result = CliRunner().invoke(main, ["routes"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["METHODS", "PATH", "NAME", "HANDLER"]
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert rows["/"] == ["GET", "/", "index", "app.index"]
    assert rows["/items/{id:int}"] == ["POST", "/items/{id:int}", "update_item", "app.update"]
    assert rows["/blog/{slug}"] == ["GET", "/blog/{slug}", "blog:post", "app.post"]


def test_app_found_by_module_attr_and_env(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "other.py").write_text("from app import app as site\n")
    result = CliRunner().invoke(main, ["routes", "other:site"])
    assert result.exit_code == 0, result.output
    assert "blog:post" in result.output
    monkeypatch.setenv("HERON_APP", "other:site")
    result = CliRunner().invoke(main, ["routes"])
    assert result.exit_code == 0, result.output


def test_no_app_says_what_was_tried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HERON_APP", raising=False)
    result = CliRunner().invoke(main, ["routes"])
    assert result.exit_code == 2
    assert "HERON_APP" in result.output
    assert "app.py" in result.output


def test_unimportable_module_is_a_usage_error(project: Path) -> None:
    result = CliRunner().invoke(main, ["routes", "no_such_module"])
    assert result.exit_code == 2
    assert "Could not import module 'no_such_module'" in result.output


def test_missing_attribute_names_it(project: Path) -> None:
    result = CliRunner().invoke(main, ["routes", "app:nothing"])
    assert result.exit_code == 2
    assert "'nothing'" in result.output


def test_check_passes_for_a_good_app(project: Path) -> None:
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert "No problems found" in result.output


def test_check_reports_missing_secret_key_with_its_id(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (project / "app.py").read_text().replace("App(debug=True)", "App()")
    (project / "app.py").write_text(source)
    monkeypatch.delenv("HERON_DEBUG", raising=False)
    monkeypatch.delenv("HERON_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert "heron.settings.E001" in result.output


def test_check_reports_duplicate_routes(project: Path) -> None:
    with (project / "app.py").open("a") as source:
        source.write("\n@app.get('/')\nasync def again():\n    return 'x'\n")
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert "heron.routing.E001" in result.output
    assert "GET /" in result.output


def test_run_rejects_unknown_app_before_starting_a_server(project: Path) -> None:
    result = CliRunner().invoke(main, ["run", "missing_module:app"])
    assert result.exit_code == 2
    assert "Could not import module 'missing_module'" in result.output


def test_run_help_lists_server_options() -> None:
    result = CliRunner().invoke(main, ["run", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--reload", "--workers", "--server", "--debug"):
        assert option in result.output


def test_bad_environment_value_is_reported_with_its_id(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERON_THREAD_POOL_SIZE", "lots")
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert "heron.settings.E002" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["routes", "check", "shell"])
def test_every_command_takes_the_app_as_argument_or_option(project: Path,
                                                           command: str) -> None:
    (project / "other.py").write_text("from app import app as site\n")
    extra = ["-c", "print(app.router)"] if command == "shell" else []
    for naming in (["other:site"], ["--app", "other:site"]):
        result = CliRunner().invoke(main, [command, *naming, *extra])
        assert result.exit_code == 0, (naming, result.output)
    # naming two different apps is a usage error, not a guess
    result = CliRunner().invoke(main, [command, "other:site", "--app", "app:app", *extra])
    assert result.exit_code == 2
    assert "Two apps named" in result.output


def test_commands_with_their_own_arguments_take_app_as_an_option() -> None:
    for command in (["db", "migrate"], ["db", "current"], ["run"]):
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0
        assert "--app APP" in result.output, command


COMPONENT_SOURCE = """
import click
from heron.plugins import Plugin


@click.command("report")
def report():
    click.echo("reported")


class ReportsPlugin(Plugin):
    name = "acme_reports"

    def commands(self, app):
        return [report]


plugin = ReportsPlugin
"""


def test_a_missing_command_names_the_installed_component_that_offers_it(
        project: Path) -> None:
    # A component installed with a heron.components entry point, which the app does not use.
    (project / "acme_reports.py").write_text(textwrap.dedent(COMPONENT_SOURCE))
    info = project / "acme_reports-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-reports\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[heron.components]\nacme_reports = acme_reports\n")
    result = CliRunner().invoke(main, ["report"])
    assert result.exit_code == 2
    assert ("`heron report` is a command of the acme_reports component, which the app does "
            "not use; add it: App(components=['acme_reports', ...])") in result.output
    nothing = CliRunner().invoke(main, ["nosuch"])
    assert nothing.exit_code == 2
    assert "No such command 'nosuch'" in nothing.output
    # Used by the app, the component's command runs.
    source = (project / "app.py").read_text().replace(
        "app = App(debug=True)", "app = App(debug=True, components=['acme_reports'])")
    (project / "app.py").write_text(source)
    del sys.modules["app"]
    ran = CliRunner().invoke(main, ["report"])
    assert ran.exit_code == 0
    assert ran.output == "reported\n"
