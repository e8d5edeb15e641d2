"""Settings from keywords, HERON_* environment variables and a .env file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from heron import App, ImproperlyConfigured, Settings


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test in an empty folder, where heron looks for .env."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults(in_tmp: Path) -> None:
    settings = Settings()
    assert settings.debug is False
    assert settings.secret_key is None
    assert settings.redirect_slashes is True
    assert settings.trusted_proxies == []


def test_environment_variables_are_read_and_coerced(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERON_DEBUG", "yes")
    monkeypatch.setenv("HERON_THREAD_POOL_SIZE", "8")
    monkeypatch.setenv("HERON_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16")
    monkeypatch.setenv("HERON_SECRET_KEY", "from-env")
    settings = Settings()
    assert settings.debug is True
    assert settings.thread_pool_size == 8
    assert settings.trusted_proxies == ["10.0.0.1", "192.168.0.0/16"]
    assert settings.secret_key == "from-env"


def test_dotenv_file_is_read(in_tmp: Path) -> None:
    (in_tmp / ".env").write_text(
        "# local settings\n"
        "HERON_DEBUG=true\n"
        'export HERON_SECRET_KEY="quoted value"\n'
        "HERON_MAX_HEADER_COUNT = 50\n"
        "NOT_HERON=ignored\n",
        encoding="utf-8",
    )
    settings = Settings()
    assert settings.debug is True
    assert settings.secret_key == "quoted value"
    assert settings.max_header_count == 50


def test_precedence_keywords_then_env_then_dotenv(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (in_tmp / ".env").write_text(
        "HERON_THREAD_POOL_SIZE=1\nHERON_GZIP_MIN_SIZE=1\nHERON_MAX_FORM_FILES=1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HERON_THREAD_POOL_SIZE", "2")
    monkeypatch.setenv("HERON_GZIP_MIN_SIZE", "2")
    settings = Settings(thread_pool_size=3)
    assert settings.thread_pool_size == 3  # keyword beats env and .env
    assert settings.gzip_min_size == 2  # env beats .env
    assert settings.max_form_files == 1  # .env beats the default


def test_app_keywords_beat_the_environment(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_DEBUG", "false")
    app = App(debug=True, root=in_tmp)
    assert app.settings.debug is True


@pytest.mark.parametrize(
    ("variable", "value"),
    [("HERON_DEBUG", "maybe"), ("HERON_THREAD_POOL_SIZE", "many"), ("HERON_GZIP", "2")],
)
def test_bad_values_are_e002_naming_the_setting(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ImproperlyConfigured) as info:
        Settings()
    assert info.value.id == "heron.settings.E002"
    setting = variable.removeprefix("HERON_").lower()
    assert f"'{setting}'" in str(info.value)
    assert repr(value) in str(info.value)


def test_bad_value_fails_app_creation(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_MAX_BODY_SIZE", "10MB")
    with pytest.raises(ImproperlyConfigured, match=r"heron\.settings\.E002"):
        App(root=in_tmp)


def test_unknown_keyword_is_a_clear_error(in_tmp: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"'debgu'.*did you mean 'debug'") as info:
        App(debgu=True, root=in_tmp)
    assert info.value.id == "heron.settings.E004"


def test_unknown_override_of_a_settings_object_is_an_error(in_tmp: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"heron\.settings\.E004"):
        App(Settings(), secret_kye="x", root=in_tmp)


def test_empty_secret_key_counts_as_missing(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_SECRET_KEY", "")
    assert Settings().secret_key is None
    problems = App(root=in_tmp, allowed_hosts=["example.com"]).check()
    assert [p.id for p in problems] == ["heron.settings.E001"]


def test_public_settings_hide_secrets(in_tmp: Path) -> None:
    public = Settings(secret_key="s3cret", debug=True).public()
    assert "secret_key" not in public
    assert public["debug"] is True


@dataclasses.dataclass(kw_only=True)
class ProjectSettings(Settings):
    env_prefix = "SHOP_"
    shop_name: str = "heron shop"
    page_size: int = 20


def test_subclass_adds_settings_read_the_same_way(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_PAGE_SIZE", "50")
    monkeypatch.setenv("SHOP_DEBUG", "1")
    settings = ProjectSettings()
    assert settings.page_size == 50
    assert settings.shop_name == "heron shop"
    assert settings.debug is True


def test_app_takes_a_settings_object_and_overrides(in_tmp: Path) -> None:
    settings = ProjectSettings(page_size=5)
    app = App(settings, debug=True, root=in_tmp)
    assert app.settings is settings
    assert app.settings.debug is True
    assert app.settings.page_size == 5  # type: ignore[attr-defined]


def test_assigning_a_name_that_is_not_a_setting_is_refused() -> None:
    # Issue 23: construction checked names, assignment did not.
    from heron import Settings as HeronSettings

    settings = HeronSettings(debug=True)
    with pytest.raises(ImproperlyConfigured) as error:
        settings.debgu = False  # type: ignore[attr-defined]
    assert error.value.id == "heron.settings.E004"
    assert "did you mean 'debug'?" in str(error.value)
    with pytest.raises(ImproperlyConfigured) as error:
        settings.componentz = ["heron.auth"]  # type: ignore[attr-defined]
    assert "did you mean App(components=...)" in str(error.value)
    assert not hasattr(settings, "componentz")
    settings.debug = False  # a setting is assigned as before
    assert settings.debug is False


@pytest.mark.parametrize("name", ["components", "plugins", "middleware", "root"])
def test_an_app_argument_given_as_a_setting_says_where_it_belongs(name: str) -> None:
    from heron import Settings as HeronSettings

    settings = HeronSettings(debug=True)
    with pytest.raises(ImproperlyConfigured) as error:
        setattr(settings, name, [])
    assert f"App({name}=...)" in str(error.value)
    with pytest.raises(ImproperlyConfigured) as error:
        HeronSettings(debug=True, **{name: []})
    assert f"App({name}=...)" in str(error.value)
