"""The matcher on its own: every outcome is a value, never an exception."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from heron import ImproperlyConfigured, Router
from heron._matcher import (
    Matcher,
    MethodNotAllowed,
    MountMatch,
    NotFound,
    Redirect,
    RouteMatch,
)
from heron.converters import DEFAULT_CONVERTERS, PathConverter
from heron.routing import Mount, Route


async def _asgi(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("never called by the matcher")


def build(
    *routes: str | tuple[str, list[str]],
    mounts: tuple[str, ...] = (),
    redirect_slashes: bool = True,
) -> Matcher:
    """A matcher for ``routes`` ("/path" for GET, or (path, methods)), named by path."""
    router = Router()
    for number, spec in enumerate(routes):
        path, methods = (spec, ["GET"]) if isinstance(spec, str) else spec
        router.add_route(path, _view, methods, name=f"route{number}")
    for prefix in mounts:
        router.mount(prefix, _asgi)
    found = list(router.flatten(DEFAULT_CONVERTERS))
    return Matcher(
        [r for r in found if isinstance(r, Route)],
        [m for m in found if isinstance(m, Mount)],
        redirect_slashes,
    )


def _view() -> None:
    return None


def matched(result: object) -> tuple[str, dict[str, Any]]:
    assert isinstance(result, RouteMatch), result
    return result.route.path, result.params


def test_static_route_matches_with_no_params() -> None:
    assert matched(build("/about").match("GET", "/about")) == ("/about", {})


def test_root_path_matches() -> None:
    assert matched(build("/").match("GET", "/")) == ("/", {})


def test_unknown_path_is_not_found() -> None:
    assert isinstance(build("/about").match("GET", "/nope"), NotFound)


def test_wrong_method_gives_method_not_allowed_with_allowed_set() -> None:
    result = build(("/items", ["GET", "POST"])).match("DELETE", "/items")
    assert isinstance(result, MethodNotAllowed)
    assert result.allowed == {"GET", "HEAD", "POST"}


def test_wrong_method_on_dynamic_route_lists_allowed() -> None:
    result = build(("/items/{id:int}", ["PUT"])).match("GET", "/items/3")
    assert isinstance(result, MethodNotAllowed)
    assert result.allowed == {"PUT"}


def test_head_is_answered_by_the_get_route() -> None:
    path, _ = matched(build("/page").match("HEAD", "/page"))
    assert path == "/page"


def test_explicit_head_route_wins_over_get() -> None:
    matcher = build(("/page", ["GET"]), ("/page", ["HEAD"]))
    result = matcher.match("HEAD", "/page")
    assert isinstance(result, RouteMatch)
    assert result.route.methods == frozenset({"HEAD"})


def test_int_param_is_converted() -> None:
    assert matched(build("/posts/{id:int}").match("GET", "/posts/42")) == (
        "/posts/{id:int}",
        {"id": 42},
    )


def test_int_param_rejects_text() -> None:
    assert isinstance(build("/posts/{id:int}").match("GET", "/posts/abc"), NotFound)


def test_int_param_with_more_digits_than_int_reads_is_not_found() -> None:
    # int() refuses more than sys.get_int_max_str_digits() (4300) digits: no match, no error.
    huge = "9" * 4301
    assert isinstance(build("/posts/{id:int}").match("GET", f"/posts/{huge}"), NotFound)
    matcher = build("/items/{id:int}", "/items/{name}", "/v{n:int}/x")
    assert matched(matcher.match("GET", f"/items/{huge}")) == ("/items/{name}", {"name": huge})
    assert isinstance(matcher.match("GET", f"/v{huge}/x"), NotFound)
    assert matched(build("/posts/{id:int}").match("GET", "/posts/" + "9" * 4300))[1]["id"] > 0


@pytest.mark.parametrize("text", ["9" * 400, "9" * 5000 + ".5"])
def test_float_param_too_large_for_a_float_is_not_found(text: str) -> None:
    # float() gives inf for these: not a number a view can use.
    assert isinstance(build("/scale/{x:float}").match("GET", f"/scale/{text}"), NotFound)


def test_str_param_takes_one_segment() -> None:
    matcher = build("/tags/{slug}")
    assert matched(matcher.match("GET", "/tags/py-thon")) == ("/tags/{slug}", {"slug": "py-thon"})
    assert isinstance(matcher.match("GET", "/tags/a/b"), NotFound)


def test_str_param_does_not_match_empty_segment() -> None:
    assert isinstance(build("/tags/{slug}", redirect_slashes=False).match("GET", "/tags/"),
                      NotFound)


def test_path_param_takes_the_rest() -> None:
    assert matched(build("/files/{rest:path}").match("GET", "/files/a/b/c.txt")) == (
        "/files/{rest:path}",
        {"rest": "a/b/c.txt"},
    )


def test_uuid_param_is_converted() -> None:
    key = uuid.uuid4()
    _, params = matched(build("/keys/{key:uuid}").match("GET", f"/keys/{key}"))
    assert params == {"key": key}


def test_float_param_is_converted() -> None:
    matcher = build("/scale/{x:float}")
    assert matched(matcher.match("GET", "/scale/2.5"))[1] == {"x": 2.5}
    assert matched(matcher.match("GET", "/scale/3"))[1] == {"x": 3.0}


def test_mixed_segment_splits_name_and_extension() -> None:
    _, params = matched(build("/files/{name}.{ext}").match("GET", "/files/report.pdf"))
    assert params == {"name": "report", "ext": "pdf"}


def test_mixed_segment_with_int_param() -> None:
    _, params = matched(build("/v{version:int}/status").match("GET", "/v2/status"))
    assert params == {"version": 2}


def test_static_wins_over_dynamic() -> None:
    matcher = build("/users/{name}", "/users/me")
    assert matched(matcher.match("GET", "/users/me")) == ("/users/me", {})
    assert matched(matcher.match("GET", "/users/bob")) == ("/users/{name}", {"name": "bob"})


def test_int_wins_over_str_whatever_the_order() -> None:
    matcher = build("/items/{name}", "/items/{id:int}")
    assert matched(matcher.match("GET", "/items/7")) == ("/items/{id:int}", {"id": 7})
    assert matched(matcher.match("GET", "/items/seven")) == ("/items/{name}", {"name": "seven"})


def test_str_wins_over_path() -> None:
    matcher = build("/docs/{rest:path}", "/docs/{page}")
    assert matched(matcher.match("GET", "/docs/intro"))[0] == "/docs/{page}"
    assert matched(matcher.match("GET", "/docs/a/b"))[0] == "/docs/{rest:path}"


def test_backtracks_when_a_deeper_static_part_fails() -> None:
    matcher = build("/a/static/x", "/a/{param}/y")
    assert matched(matcher.match("GET", "/a/static/y")) == ("/a/{param}/y", {"param": "static"})


def test_backtracking_drops_params_of_the_failed_branch() -> None:
    matcher = build("/{a:int}/x", "/{b}/y")
    assert matched(matcher.match("GET", "/5/y")) == ("/{b}/y", {"b": "5"})


def test_path_tail_after_failed_deeper_branch() -> None:
    matcher = build("/s/{x}/edit", "/s/{rest:path}")
    assert matched(matcher.match("GET", "/s/one/view")) == ("/s/{rest:path}", {"rest": "one/view"})


def test_405_collects_methods_from_every_matching_branch() -> None:
    matcher = build(("/n/{id:int}", ["PUT"]), ("/n/{name}", ["DELETE"]))
    result = matcher.match("GET", "/n/3")
    assert isinstance(result, MethodNotAllowed)
    assert result.allowed == {"PUT", "DELETE"}


def test_trailing_slash_redirects_to_the_existing_path() -> None:
    result = build("/about").match("GET", "/about/")
    assert isinstance(result, Redirect)
    assert result.path == "/about"


def test_missing_slash_redirects_to_the_slashed_path() -> None:
    result = build("/blog/").match("GET", "/blog")
    assert isinstance(result, Redirect)
    assert result.path == "/blog/"


def test_slash_redirect_for_dynamic_route() -> None:
    result = build("/posts/{id:int}").match("GET", "/posts/4/")
    assert isinstance(result, Redirect)
    assert result.path == "/posts/4"


def test_slash_redirect_can_be_turned_off() -> None:
    assert isinstance(build("/about", redirect_slashes=False).match("GET", "/about/"), NotFound)


def test_mount_matches_its_prefix_and_below() -> None:
    matcher = build("/", mounts=("/sub",))
    for path in ("/sub", "/sub/", "/sub/deep/path"):
        result = matcher.match("GET", path)
        assert isinstance(result, MountMatch), path
        assert result.mount.prefix == "/sub"


def test_mount_does_not_match_a_longer_sibling_name() -> None:
    assert isinstance(build(mounts=("/sub",)).match("GET", "/subway"), NotFound)


def test_routes_win_over_mounts() -> None:
    matcher = build("/sub/own", mounts=("/sub",))
    assert isinstance(matcher.match("GET", "/sub/own"), RouteMatch)
    assert isinstance(matcher.match("GET", "/sub/other"), MountMatch)


def test_longest_mount_prefix_wins() -> None:
    result = build(mounts=("/a", "/a/b")).match("GET", "/a/b/c")
    assert isinstance(result, MountMatch)
    assert result.mount.prefix == "/a/b"


def test_duplicate_path_and_method_is_an_error() -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        build("/x", "/x")
    assert info.value.id == "heron.routing.E001"


def test_duplicate_dynamic_path_and_method_is_an_error() -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        build("/x/{id:int}", "/x/{id:int}")
    assert info.value.id == "heron.routing.E001"


def test_same_path_different_methods_is_fine() -> None:
    matcher = build(("/x", ["GET"]), ("/x", ["POST"]))
    assert matched(matcher.match("POST", "/x"))[0] == "/x"


def test_a_thousand_routes_each_match_their_own_path() -> None:
    specs = [f"/r{i}/{{id:int}}" for i in range(500)] + [f"/s{i}" for i in range(500)]
    matcher = build(*specs)
    for i in (0, 1, 250, 499):
        assert matched(matcher.match("GET", f"/r{i}/{i}")) == (f"/r{i}/{{id:int}}", {"id": i})
        assert matched(matcher.match("GET", f"/s{i}")) == (f"/s{i}", {})
    assert isinstance(matcher.match("GET", "/r500/1"), NotFound)


def test_same_path_with_renamed_parameter_is_a_duplicate() -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        build("/x/{id:int}", "/x/{pk:int}")
    assert info.value.id == "heron.routing.E001"


def test_same_path_with_different_converters_is_fine() -> None:
    matcher = build("/x/{id:int}", "/x/{slug}")
    assert matched(matcher.match("GET", "/x/1"))[1] == {"id": 1}


def test_slash_redirect_never_gives_a_protocol_relative_path() -> None:
    router = Router()

    class NoTrailingSlash(PathConverter):
        regex = r".*[^/]"

    router.add_route("/{rest:nts}", _view)
    routes = list(router.flatten({**DEFAULT_CONVERTERS, "nts": NoTrailingSlash}))
    matcher = Matcher([r for r in routes if isinstance(r, Route)])
    assert isinstance(matcher.match("GET", "/a/"), Redirect)
    assert isinstance(matcher.match("GET", "//evil.example/"), NotFound)
