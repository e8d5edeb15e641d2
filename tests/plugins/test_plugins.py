"""The plug-in seam, used by a battery written outside heron (``acme_audit``)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from heron import App, render
from heron.checks import ConfigurationErrors
from heron.cli import main
from heron.exceptions import ImproperlyConfigured
from heron.testing import TestClient

sys.path.insert(0, str(Path(__file__).parent))
import acme_audit


def make_app(tmp_path: Path, **options: object) -> App:
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "page.html").write_text("<p>{{ audit_banner }}</p>")
    app = App(debug=True, root=tmp_path, plugins=[acme_audit.AuditPlugin()], **options)

    @app.get("/", audited=True)
    async def index(request):  # type: ignore[no-untyped-def]
        return render(request, "page.html")

    @app.get("/health")
    async def health():  # type: ignore[no-untyped-def]
        return "ok"

    return app


def test_a_third_party_plugin_wraps_routes_finalizes_responses_and_adds_globals(
        tmp_path: Path) -> None:
    acme_audit.EVENTS.clear()
    with TestClient(make_app(tmp_path)) as client:
        response = client.get("/")
        assert response.text == "<p>Audited by ACME</p>"  # the template global
        assert response.headers["x-audited"] == "index"  # the finalizer, with the route
        assert client.get("/health").headers["x-audited"] == "health"
        missing = client.get("/nothing")
        assert missing.status_code == 404
        assert missing.headers["x-audited"] == "-"  # error pages are finalized too
        refused = client.get("/forbidden")  # the gate raised: heron's error page
        assert refused.status_code == 403
        assert refused.headers["x-audited"] == "-"
    # the wrapper ran for the audited route only; startup and shutdown hooks ran
    assert acme_audit.EVENTS == ["startup", "view index", "shutdown"]


def test_a_gate_answers_before_routing(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path, audit_maintenance=True)) as client:
        response = client.get("/")
        assert (response.status_code, response.text) == (503, "Down for maintenance")
        assert response.headers["x-content-type-options"] == "nosniff"  # heron's own finalizer
        assert client.get("/health").text == "ok"


def test_a_plugins_check_is_reported_with_the_others(tmp_path: Path) -> None:
    app = make_app(tmp_path, audit_token="x")
    app.settings.session_max_age = 0
    ids = [problem.id for problem in app.check()]
    assert ids == ["heron.sessions.E003", "acme.audit.E001"]
    with pytest.raises(ConfigurationErrors) as info:
        app.setup()
    assert [p.id for p in info.value.problems] == ids
    assert "acme.audit.E001: acme.audit needs a token" in str(info.value)


def test_a_plugins_settings_section_joins_the_apps_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_AUDIT_TOKEN", "from-the-environment")
    monkeypatch.setenv("HERON_AUDIT_MAINTENANCE", "yes")
    app = make_app(tmp_path)
    assert app.settings.audit_token == "from-the-environment"  # read like heron's own
    assert app.settings.audit_maintenance is True
    assert make_app(tmp_path, audit_token="given").settings.audit_token == "given"
    # a typo is caught with a suggestion, as for heron's settings
    with pytest.raises(ImproperlyConfigured) as info:
        make_app(tmp_path, audit_tokn="x")
    assert info.value.id == "heron.settings.E004"
    assert "did you mean 'audit_token'?" in info.value.message
    # a bad value in the environment names the setting
    monkeypatch.setenv("HERON_AUDIT_MAINTENANCE", "maybe")
    with pytest.raises(ImproperlyConfigured) as info:
        make_app(tmp_path)
    assert info.value.id == "heron.settings.E002"
    assert "audit_maintenance" in info.value.message


def test_a_plugin_added_later_extends_the_same_settings_object(tmp_path: Path) -> None:
    from heron import Settings

    settings = Settings(debug=True)
    app = App(settings, root=tmp_path)
    app.add_plugin(acme_audit.AuditPlugin())
    assert app.settings is settings
    assert settings.audit_token == "t0ken"  # type: ignore[attr-defined]
    assert settings.debug is True


def test_two_plugins_of_one_name_are_refused(tmp_path: Path) -> None:
    class Other(acme_audit.AuditPlugin):
        pass

    app = make_app(tmp_path)
    with pytest.raises(ImproperlyConfigured) as info:
        app.add_plugin(Other())
    assert info.value.id == "heron.plugins.E003"
    with pytest.raises(ImproperlyConfigured) as info:
        App(plugins=["no_such_plugin_module"])
    assert info.value.id == "heron.plugins.E001"
    with pytest.raises(ImproperlyConfigured) as info:
        App(plugins=["json"])
    assert info.value.id == "heron.plugins.E002"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(textwrap.dedent("""
        import click
        from heron import App

        app = App(debug=True, plugins=["acme_audit"])

        @app.cli.command("init-db")
        @click.option("--drop", is_flag=True, help="Drop the tables first.")
        def init_db(drop):
            \"\"\"Create the tables.\"\"\"
            click.echo(f"initialised (drop={drop})")
    """))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("HERON_APP", raising=False)
    monkeypatch.delitem(sys.modules, "app", raising=False)
    return tmp_path


def test_app_and_plugin_commands_are_listed_and_run(project: Path) -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    assert "init-db" in result.output
    assert "Create the tables." in result.output
    assert "audit-report" in result.output
    assert result.output.index("shell") < result.output.index("init-db")  # heron's first
    result = CliRunner().invoke(main, ["init-db", "--drop"])
    assert (result.exit_code, result.output) == (0, "initialised (drop=True)\n")
    result = CliRunner().invoke(main, ["audit-report", "--since", "monday"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("audit report since monday for ")


def test_app_commands_are_found_with_the_app_option(project: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "app.py").rename(project / "plugins_site.py")
    monkeypatch.delitem(sys.modules, "plugins_site", raising=False)
    assert "init-db" not in CliRunner().invoke(main, ["--help"]).output
    result = CliRunner().invoke(main, ["--app", "plugins_site", "init-db"])
    assert (result.exit_code, result.output) == (0, "initialised (drop=False)\n")
    result = CliRunner().invoke(main, ["init-db"])
    assert result.exit_code == 2
    assert "No such command 'init-db'" in result.output


def test_a_section_may_not_take_a_settings_name_or_lack_a_default(tmp_path: Path) -> None:
    from heron.plugins import Plugin
    from heron.settings import settings_section

    @settings_section
    class Clashing:
        debug: bool = False

    class Clash(Plugin):
        name = "acme.clash"
        settings = Clashing

    with pytest.raises(ImproperlyConfigured) as info:
        App(root=tmp_path, plugins=[Clash()])
    assert info.value.id == "heron.settings.E005"
    with pytest.raises(ImproperlyConfigured) as info:
        @settings_section
        class NoDefault:
            audit_url: str

    assert info.value.id == "heron.settings.E006"


def test_an_explicit_instance_of_a_default_plugin_is_refused_with_the_fix(
        tmp_path: Path) -> None:
    from heron.csrf import CSRFPlugin

    with pytest.raises(ImproperlyConfigured) as info:
        App(root=tmp_path, plugins=[CSRFPlugin()])
    assert info.value.id == "heron.plugins.E003"
    assert "default_plugins" in info.value.message


def test_response_hooks_run_only_after_request_hooks(tmp_path: Path) -> None:
    from heron.plugins import Plugin

    seen: list[str] = []

    class Paired(Plugin):
        name = "acme.paired"

        def gates(self, app):  # type: ignore[no-untyped-def]
            def refuse(scope):  # type: ignore[no-untyped-def]
                if scope["path"] == "/refused":
                    from heron import HTTPException

                    raise HTTPException(403, "no")
                return

            return [refuse]

        def request_hooks(self, app):  # type: ignore[no-untyped-def]
            async def opened(conn):  # type: ignore[no-untyped-def]
                conn.scope["acme.opened"] = True

            return [opened]

        def response_hooks(self, app):  # type: ignore[no-untyped-def]
            async def closed(request, response, routers):  # type: ignore[no-untyped-def]
                seen.append(request.scope["acme.opened"] and request.url.path)
                return response

            return [closed]

    app = App(debug=True, root=tmp_path, plugins=[Paired()])

    @app.get("/page")
    async def page(request):  # type: ignore[no-untyped-def]
        return "page"

    with TestClient(app) as client:
        assert client.get("/refused").status_code == 403
        assert client.get("/page").text == "page"
        assert client.get("/missing").status_code == 404
    assert seen == ["/page", "/missing"]


def test_a_child_app_without_host_checks_can_be_mounted(tmp_path: Path) -> None:
    from heron.app import App as CoreApp

    child = CoreApp(debug=True, root=tmp_path)

    @child.get("/")
    async def child_home():  # type: ignore[no-untyped-def]
        return "child"

    parent = App(debug=True, root=tmp_path)
    parent.mount("/child", child)
    with TestClient(parent) as client:
        assert client.get("/child/").text == "child"
