"""Components: packages wired in with App(components=[...])."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

from heron import App, ImproperlyConfigured, Router
from heron._components import load_component
from heron.testing import TestClient

COMPONENTS = Path(__file__).parent / "components"


@pytest.fixture(autouse=True)
def _components_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(COMPONENTS))


def test_load_component_finds_router_folders_and_setup() -> None:
    component = load_component("shop")
    assert component.name == "shop"
    assert isinstance(component.router, Router)
    assert component.templates_dir == COMPONENTS / "shop" / "templates"
    assert component.static_dir == COMPONENTS / "shop" / "static"
    assert component.migrations_dir is None
    assert component.setup is not None


def test_router_in_routes_module_and_chosen_name() -> None:
    component = load_component("notes")
    assert component.name == "memo"
    assert component.router is importlib.import_module("notes.routes").router


def test_component_may_be_given_as_a_module() -> None:
    module = importlib.import_module("shop")
    assert load_component(module).module is module


def test_component_routes_are_served_and_namespaced(make_app: Any) -> None:
    app = make_app(components=["shop", "notes"])
    with TestClient(app) as client:
        assert client.get("/shop/products/3").json() == {"id": 3}
        assert client.get("/notes/7").text == "note 7"
        assert client.get("/shop/").text == "http://testserver/shop/products/1"
    assert app.url_for("shop:product", id=2) == "/shop/products/2"
    assert app.url_for("memo:show", id=2) == "/notes/2"


def test_setup_hook_runs_once_with_the_app(make_app: Any) -> None:
    shop = importlib.import_module("shop")
    shop.setup_calls.clear()
    app = make_app(components=["shop"])
    assert shop.setup_calls == [app]
    assert app.extensions["shop"] == {"currency": "EUR"}
    with TestClient(app):
        assert app.state.till_open is True
    assert shop.setup_calls == [app]


def test_component_static_files_are_served(make_app: Any) -> None:
    app = make_app(components=["shop", "notes"])
    with TestClient(app) as client:
        css = client.get("/static/shop/shop.css")
        note = client.get("/static/note.txt")
    assert css.status_code == 200
    assert "teal" in css.text
    assert note.text == "note.txt from notes\n"
    assert app.url_for("static", path="shop/shop.css") == "/static/shop/shop.css"


def test_app_static_folder_comes_first(make_app: Any, tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "note.txt").write_text("the app's own", encoding="utf-8")
    app = make_app(components=["notes"], root=tmp_path)
    with TestClient(app) as client:
        assert client.get("/static/note.txt").text == "the app's own"


def test_component_router_error_handler_applies_under_its_prefix(make_app: Any) -> None:
    app = make_app(components=["notes"])
    with TestClient(app) as client:
        assert client.get("/notes/not-a-number/x").text == "no such note"
        assert client.get("/elsewhere").status_code == 404
        assert "no such note" not in client.get("/elsewhere").text


def test_components_dict_lists_them_by_name(make_app: Any) -> None:
    app = make_app(components=["shop", "notes"])
    assert list(app.components) == ["shop", "memo"]


def test_unimportable_component_is_e001_saying_what_was_tried() -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        App(components=["no_such_component_pkg"])
    assert info.value.id == "heron.components.E001"
    assert "no_such_component_pkg" in str(info.value)


def test_missing_dependency_inside_a_component_is_not_hidden() -> None:
    sys.modules.pop("needsmissing", None)
    with pytest.raises(ModuleNotFoundError, match="heron_package_that_does_not_exist"):
        load_component("needsmissing")


def test_router_that_is_not_a_router_is_e002() -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        load_component("badrouter")
    assert info.value.id == "heron.components.E002"


def test_same_component_twice_is_e003(make_app: Any) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        make_app(components=["shop", "shop"])
    assert info.value.id == "heron.components.E003"


def test_add_component_after_creation(app: App) -> None:
    app.add_component("notes")
    with TestClient(app) as client:
        assert client.get("/notes/1").text == "note 1"
