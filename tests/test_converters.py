"""Path converters: the built-in ones, custom ones, and path templates that use them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from heron import App, Converter, ImproperlyConfigured
from heron.converters import (
    DEFAULT_CONVERTERS,
    FloatConverter,
    IntConverter,
    PathConverter,
    StringConverter,
    UUIDConverter,
)
from heron.routing import PathTemplate
from heron.testing import TestClient


class SlugConverter(Converter):
    regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"


class HexConverter(Converter):
    regex = r"[0-9a-f]+"

    def to_python(self, value: str) -> int:
        return int(value, 16)

    def to_url(self, value: Any) -> str:
        return format(value, "x")


class EvenConverter(IntConverter):
    def to_python(self, value: str) -> int:
        number = int(value)
        if number % 2:
            raise ValueError("odd")
        return number


def test_int_round_trip() -> None:
    assert IntConverter().to_python("12") == 12
    assert IntConverter().to_url(12) == "12"


def test_float_round_trip() -> None:
    assert FloatConverter().to_python("2.5") == 2.5
    assert FloatConverter().to_url(2.5) == "2.5"


def test_uuid_round_trip() -> None:
    key = uuid.uuid4()
    assert UUIDConverter().to_python(str(key).upper()) == key
    assert UUIDConverter().to_url(key) == str(key)


def test_string_to_url_quotes_slashes_and_spaces() -> None:
    assert StringConverter().to_url("a b/c") == "a%20b%2Fc"


def test_path_to_url_keeps_slashes() -> None:
    assert PathConverter().to_url("a b/c") == "a%20b/c"


def test_default_converter_names() -> None:
    assert set(DEFAULT_CONVERTERS) == {"str", "int", "float", "uuid", "path"}


def test_template_knows_its_parameters() -> None:
    template = PathTemplate.parse("/posts/{id:int}/{slug}", DEFAULT_CONVERTERS)
    assert list(template.converters) == ["id", "slug"]
    assert not template.is_static


def test_template_builds_a_path() -> None:
    template = PathTemplate.parse("/files/{name}.{ext}", DEFAULT_CONVERTERS)
    assert template.build({"name": "report", "ext": "pdf"}, "file") == "/files/report.pdf"


def test_unknown_converter_is_e003_naming_the_known_ones() -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        PathTemplate.parse("/x/{id:integer}", DEFAULT_CONVERTERS)
    assert info.value.id == "heron.routing.E003"
    assert "'integer'" in str(info.value)
    assert "int" in str(info.value)
    assert "add_converter" in str(info.value)


def test_path_parameter_must_be_last() -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        PathTemplate.parse("/x/{rest:path}/edit", DEFAULT_CONVERTERS)
    assert info.value.id == "heron.routing.E004"


def test_repeated_parameter_is_an_error() -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        PathTemplate.parse("/x/{id}/{id}", DEFAULT_CONVERTERS)
    assert info.value.id == "heron.routing.E011"


def test_bad_parameter_name_is_an_error() -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        PathTemplate.parse("/x/{1abc}", DEFAULT_CONVERTERS)
    assert info.value.id == "heron.routing.E006"


def test_unbalanced_brace_is_an_error() -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        PathTemplate.parse("/x/{id", DEFAULT_CONVERTERS)
    assert info.value.id == "heron.routing.E012"


def test_path_must_start_with_a_slash() -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        PathTemplate.parse("x", DEFAULT_CONVERTERS)
    assert info.value.id == "heron.routing.E005"


def test_custom_converter_matches_its_regex(app: App) -> None:
    app.add_converter("slug", SlugConverter)

    @app.get("/tags/{tag:slug}")
    async def tag(tag: str) -> str:
        return tag

    with TestClient(app) as client:
        assert client.get("/tags/web-frameworks").text == "web-frameworks"
        assert client.get("/tags/Not_A_Slug").status_code == 404


def test_custom_converter_converts_both_ways(app: App) -> None:
    app.add_converter("hex", HexConverter)

    @app.get("/colors/{value:hex}", name="color")
    async def color(value: int) -> dict[str, int]:
        return {"value": value}

    with TestClient(app) as client:
        assert client.get("/colors/ff").json() == {"value": 255}
    assert app.url_for("color", value=4095) == "/colors/fff"


def test_converter_raising_value_error_rejects_the_segment(app: App) -> None:
    app.add_converter("even", EvenConverter)

    @app.get("/even/{n:even}")
    async def even(n: int) -> str:
        return "even"

    @app.get("/even/{n:int}")
    async def odd(n: int) -> str:
        return "odd"

    with TestClient(app) as client:
        assert client.get("/even/4").text == "even"
        assert client.get("/even/5").text == "odd"


def test_unknown_converter_stops_startup(app: App) -> None:
    @app.get("/x/{id:nope}")
    async def view(id: str) -> str:
        return id

    with pytest.raises(RuntimeError, match=r"heron\.routing\.E003"), TestClient(app):
        pass
