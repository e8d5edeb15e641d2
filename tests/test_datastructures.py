"""Containers: URL, MultiDict/QueryParams, Headers/MutableHeaders, State, UploadFile, FormData."""

from __future__ import annotations

import pytest

from heron.datastructures import (
    URL,
    FormData,
    Headers,
    MultiDict,
    MutableHeaders,
    QueryParams,
    State,
    UploadFile,
)


def test_url_parts() -> None:
    url = URL("https://user@example.com:8443/a/b?x=1#frag")
    assert (url.scheme, url.hostname, url.port) == ("https", "example.com", 8443)
    assert (url.path, url.query, url.fragment) == ("/a/b", "x=1", "frag")
    assert url.is_secure


def test_url_from_scope_drops_default_ports() -> None:
    scope = {"scheme": "https", "server": ("example.com", 443), "path": "/p",
             "query_string": b"a=1", "root_path": "/mount"}
    assert str(URL.from_scope(scope)) == "https://example.com/mount/p?a=1"


def test_url_from_scope_keeps_other_ports_and_prefers_the_host_header() -> None:
    scope = {"scheme": "http", "server": ("10.0.0.1", 8000), "path": "/"}
    assert str(URL.from_scope(scope)) == "http://10.0.0.1:8000/"
    assert str(URL.from_scope(scope, "example.org")) == "http://example.org/"


def test_url_replace_and_include_query_params() -> None:
    url = URL("http://a.test/p?x=1&y=2")
    assert str(url.replace(scheme="https")) == "https://a.test/p?x=1&y=2"
    assert str(url.include_query_params(x=3)) == "http://a.test/p?y=2&x=3"


def test_url_equals_its_string() -> None:
    assert URL("http://a.test/") == "http://a.test/"
    assert hash(URL("http://a.test/")) == hash(URL("http://a.test/"))


def test_multidict_first_value_and_getlist() -> None:
    data = MultiDict([("a", "1"), ("b", "2"), ("a", "3")])
    assert data["a"] == "1"
    assert data.getlist("a") == ["1", "3"]
    assert data.getlist("missing") == []
    assert list(data) == ["a", "b"]
    assert len(data) == 2
    assert data.multi_items() == [("a", "1"), ("b", "2"), ("a", "3")]


def test_multidict_equality_ignores_order() -> None:
    assert MultiDict([("a", "1"), ("b", "2")]) == MultiDict([("b", "2"), ("a", "1")])
    assert MultiDict({"a": "1"}) == {"a": "1"}


def test_query_params_from_a_string_and_back() -> None:
    params = QueryParams("a=1&a=2&b=x+y")
    assert params.getlist("a") == ["1", "2"]
    assert params["b"] == "x y"
    assert str(params) == "a=1&a=2&b=x+y"


def test_headers_are_case_insensitive() -> None:
    headers = Headers(raw=[(b"content-type", b"text/plain"), (b"x-a", b"1"), (b"x-a", b"2")])
    assert headers["Content-Type"] == "text/plain"
    assert "CONTENT-TYPE" in headers
    assert headers.getlist("X-A") == ["1", "2"]
    assert list(headers) == ["content-type", "x-a"]
    assert len(headers) == 2
    assert headers.items()[-1] == ("x-a", "2")
    with pytest.raises(KeyError):
        headers["missing"]


def test_headers_from_a_mapping() -> None:
    assert Headers({"X-Thing": "v"}).raw == [(b"x-thing", b"v")]


def test_mutable_headers_set_replaces_every_value() -> None:
    headers = MutableHeaders(raw=[(b"x-a", b"1"), (b"x-a", b"2")])
    headers["X-A"] = "3"
    assert headers.raw == [(b"x-a", b"3")]


def test_mutable_headers_append_delete_and_setdefault() -> None:
    headers = MutableHeaders(raw=[])
    headers.append("Set-Cookie", "a=1")
    headers.append("Set-Cookie", "b=2")
    assert headers.getlist("set-cookie") == ["a=1", "b=2"]
    assert headers.setdefault("set-cookie", "c=3") == "a=1"
    del headers["set-cookie"]
    assert headers.raw == []


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb"])
def test_line_breaks_in_header_values_are_rejected(value: str) -> None:
    headers = MutableHeaders(raw=[])
    with pytest.raises(ValueError, match="header injection"):
        headers["x-a"] = value
    with pytest.raises(ValueError, match="header injection"):
        headers.append("x-a", value)


@pytest.mark.parametrize("name", ["x-a\r\nSet-Cookie", "x a", "x:a", "", "x\x00"])
def test_invalid_header_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="header name"):
        MutableHeaders(raw=[])[name] = "v"


def test_state_holds_attributes_and_names_the_missing_one() -> None:
    state = State(a=1)
    state.b = 2
    assert (state.a, state.b) == (1, 2)
    with pytest.raises(AttributeError, match="'c'"):
        state.c  # noqa: B018


async def test_upload_file_read_seek_and_close() -> None:
    upload = UploadFile("f.txt", "text/plain", max_memory=4)
    upload.write(b"hello world")
    await upload.seek(0)
    assert await upload.read(5) == b"hello"
    assert upload.size == 11
    upload.close()
    assert upload.file.closed


def test_form_data_lists_files_and_closes_them() -> None:
    upload = UploadFile("f.txt")
    form = FormData([("a", "1"), ("f", upload)])
    assert form.files() == [upload]
    form.close()
    assert upload.file.closed
