"""heron._parsing: strict query/path decoding, lenient cookies, options headers."""

from __future__ import annotations

import pytest

from heron._parsing import (
    check_json_text,
    check_path,
    parse_cookie_header,
    parse_options_header,
    parse_query_string,
)
from heron.exceptions import HTTPException


def test_query_string_pairs_keep_order_and_blanks() -> None:
    assert parse_query_string(b"a=1&b=&a=2&c") == [("a", "1"), ("b", ""), ("a", "2"), ("c", "")]


def test_query_string_plus_is_a_space_and_percent_is_decoded() -> None:
    assert parse_query_string("q=a+b%2Bc") == [("q", "a b+c")]


def test_query_string_semicolons_separate_fields() -> None:
    assert parse_query_string(b"a=1;b=2") == [("a", "1"), ("b", "2")]


def test_empty_query_string() -> None:
    assert parse_query_string(b"") == []
    assert parse_query_string(b"&&") == []


@pytest.mark.parametrize("raw", [b"a=%", b"a=%4", b"a=%zz", b"%g1=x"])
def test_bad_percent_encoding_in_query_is_400(raw: bytes) -> None:
    with pytest.raises(HTTPException) as info:
        parse_query_string(raw)
    assert info.value.status_code == 400
    assert info.value.detail == "Malformed percent-encoding in the query string."


def test_invalid_utf8_in_query_is_400() -> None:
    with pytest.raises(HTTPException) as info:
        parse_query_string(b"a=%ff")
    assert info.value.status_code == 400
    assert info.value.detail == "The query string is not valid UTF-8."


def test_query_field_limit_is_413() -> None:
    with pytest.raises(HTTPException) as info:
        parse_query_string(b"a=1&b=2&c=3", max_fields=2)
    assert info.value.status_code == 413


def test_check_path_decodes_utf8() -> None:
    assert check_path(b"/caf%C3%A9") == "/café"


def test_check_path_keeps_plus_signs() -> None:
    assert check_path(b"/a+b") == "/a+b"


@pytest.mark.parametrize("raw", [b"/%", b"/%e", b"/%C3%28", b"/%ff"])
def test_check_path_rejects_bad_encoding(raw: bytes) -> None:
    with pytest.raises(HTTPException) as info:
        check_path(raw)
    assert info.value.status_code == 400


@pytest.mark.parametrize("raw", [b"q=%00", b"q=a%00b", b"%00=x", b"q=\x00", b"a=1&b=%00"])
def test_nul_in_the_query_string_is_400(raw: bytes) -> None:
    with pytest.raises(HTTPException) as info:
        parse_query_string(raw)
    assert info.value.status_code == 400
    assert info.value.detail == "The query string contains a NUL character (%00)."
    pairs = parse_query_string(raw, allow_nul=True)
    assert any("\x00" in name + value for name, value in pairs)


def test_nul_in_the_path_is_400() -> None:
    with pytest.raises(HTTPException) as info:
        check_path(b"/files/a%00.txt")
    assert info.value.status_code == 400
    assert info.value.detail == "The URL path contains a NUL character (%00)."
    assert check_path(b"/files/a%2500.txt") == "/files/a%00.txt"  # an escaped "%", no NUL


@pytest.mark.parametrize("body", [b'{"a": "\\u0000"}', b'["x\\u0000y"]', b'{"\\u0000": 1}',
                                  b'["\\\\\\u0000"]'])
def test_json_with_an_escaped_nul_is_400(body: bytes) -> None:
    with pytest.raises(HTTPException) as info:
        check_json_text(body)
    assert info.value.status_code == 400
    assert info.value.detail == "The JSON body contains a NUL character (\\u0000)."


@pytest.mark.parametrize("body", [b'{"a": "\\\\u0000"}', b'["\\u0001", "u0000"]', b"{}"])
def test_json_without_a_nul_passes(body: bytes) -> None:
    # "\\u0000" in JSON is a backslash followed by "u0000": text, not a NUL.
    check_json_text(body)


def test_cookie_header_is_parsed_leniently() -> None:
    header = 'a=1; b="two words"; broken; c=3=3; a=ignored'
    assert parse_cookie_header(header) == {"a": "1", "b": "two words", "": "broken", "c": "3=3"}


def test_cookie_header_with_only_separators() -> None:
    assert parse_cookie_header(" ; ;") == {}


def test_options_header_lowercases_the_main_value_and_keys() -> None:
    assert parse_options_header("Text/HTML; Charset=utf-8") == ("text/html", {"charset": "utf-8"})


def test_options_header_quoted_values_may_hold_semicolons_and_quotes() -> None:
    value = r'form-data; name="f"; filename="a;b \"c\".txt"'
    assert parse_options_header(value) == ("form-data", {"name": "f", "filename": 'a;b "c".txt'})


def test_options_header_keeps_windows_paths() -> None:
    assert parse_options_header('x; filename="C:\\dir\\f.txt"')[1] == {"filename": "C:\\dir\\f.txt"}


def test_options_header_ignores_junk_parameters() -> None:
    assert parse_options_header("text/plain;; junk ;a=1") == ("text/plain", {"a": "1"})
