"""Startup checks of admin registrations: each heron.admin.E0xx a bad registration
raises, all reported together, and none for good ones.  Bad registrations go to a
private AdminSite, never to the process-wide ``site``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from admin_shop import (
    AdmShopAuthor,
    AdmShopBook,
    AdmShopChapter,
    AdmShopNote,
    AdmShopPublisher,
    AdmShopStatus,
)

from heron import App
from heron.admin import ModelAdmin, SimpleListFilter, TabularInline, site
from heron.admin.checks import check_site
from heron.admin.sites import AdminSite
from heron.exceptions import ImproperlyConfigured
from heron.testing import TestClient


@pytest.fixture
def checked(make_app: Callable[..., App]) -> Callable[..., list[str]]:
    """``checked(model, admin_class=None, **options)``: the ids of the problems of that
    one registration (plus any ``extra`` registrations, ``{model: admin_class}``)."""
    app = make_app(components=["heron.auth", "heron.admin"])

    def check(model: type[Any], admin_class: type[ModelAdmin] | None = None,
              extra: dict[type[Any], Any] | None = None, **options: Any) -> list[str]:
        private = AdminSite()
        private.register(model, admin_class, **options)
        for other, other_admin in (extra or {}).items():
            private.register(other, other_admin)
        return [problem.id for problem in check_site(private.bind(app))]

    return check


class NoTitle(SimpleListFilter):
    parameter_name = "x"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return []

    def queryset(self, request: Any, statement: Any) -> Any:
        return statement


class NoteInline(TabularInline):
    model = AdmShopNote


class ChapterInline(TabularInline):
    model = AdmShopChapter
    fields = ["title", "nothing"]


class PublishAdmin(ModelAdmin):
    actions = ["publish", "missing"]

    def publish(self, request: Any, session: Any, rows: list[Any]) -> None:
        pass


@pytest.mark.parametrize(("model", "options", "expected"), [
    (AdmShopBook, {"list_display": 5}, "heron.admin.E003"),
    (AdmShopBook, {"list_display": ["title", "colour"]}, "heron.admin.E010"),
    (AdmShopBook, {"list_display": ["title", "author__nothing"]}, "heron.admin.E010"),
    (AdmShopBook, {"list_display": ["title", "price"], "list_display_links": ["slug"]},
     "heron.admin.E011"),
    (AdmShopBook, {"list_display": ["title", "price"], "list_display_links": ["title"],
                   "list_editable": ["title"]}, "heron.admin.E012"),  # the link column
    (AdmShopBook, {"list_display": ["title"], "list_editable": ["price"]},
     "heron.admin.E012"),  # not shown
    (AdmShopBook, {"list_display": ["title", "author__name"],
                   "list_editable": ["author__name"]}, "heron.admin.E012"),  # not editable
    (AdmShopBook, {"search_fields": ["^nmae"]}, "heron.admin.E013"),
    (AdmShopBook, {"search_fields": ["author__nothing"]}, "heron.admin.E013"),
    (AdmShopBook, {"ordering": ["-created"]}, "heron.admin.E014"),
    (AdmShopBook, {"list_per_page": 0}, "heron.admin.E015"),
    (AdmShopBook, {"list_per_page": "20"}, "heron.admin.E015"),
    (AdmShopBook, {"form": dict}, "heron.admin.E016"),
    (AdmShopBook, {"readonly_fields": ["nothing"]}, "heron.admin.E017"),
    (AdmShopBook, {"fields": ["title", "body"]}, "heron.admin.E018"),
    (AdmShopBook, {"exclude": ["body"]}, "heron.admin.E018"),
    (AdmShopBook, {"fieldsets": [(None, {"fields": [("title", "body")]})]},
     "heron.admin.E018"),
    (AdmShopBook, {"prepopulated_fields": {"slug": ["headline"]}}, "heron.admin.E019"),
    (AdmShopBook, {"prepopulated_fields": {"nothing": ["title"]}}, "heron.admin.E019"),
    (AdmShopBook, {"list_filter": ["nothing"]}, "heron.admin.E020"),
    (AdmShopBook, {"list_filter": [NoTitle]}, "heron.admin.E020"),
    (AdmShopBook, {"list_filter": [("title", dict)]}, "heron.admin.E020"),
    (AdmShopBook, {"list_filter": [42]}, "heron.admin.E020"),
    (AdmShopBook, {"actions": ["no_such_method"]}, "heron.admin.E021"),
    (AdmShopBook, {"actions": [42]}, "heron.admin.E021"),
    (AdmShopBook, {"date_hierarchy": "nothing"}, "heron.admin.E022"),
    (AdmShopBook, {"date_hierarchy": "title"}, "heron.admin.E027"),
    (AdmShopBook, {"date_hierarchy": "author__name"}, "heron.admin.E027"),
    (AdmShopBook, {"raw_id_fields": ["title"]}, "heron.admin.E023"),
    (AdmShopAuthor, {"autocomplete_fields": ["books"]}, "heron.admin.E023"),  # one-to-many
    (AdmShopBook, {"autocomplete_fields": ["author"]}, "heron.admin.E024"),  # not registered
    (AdmShopBook, {"inlines": [ModelAdmin]}, "heron.admin.E025"),
    (AdmShopBook, {"inlines": [TabularInline]}, "heron.admin.E025"),  # no model
    (AdmShopBook, {"inlines": [NoteInline]}, "heron.admin.E026"),
    (AdmShopBook, {"inlines": [ChapterInline]}, "heron.admin.E018"),  # the inline's own
])
def test_each_bad_option_has_its_id(checked: Callable[..., list[str]], model: type[Any],
                                    options: dict[str, Any], expected: str) -> None:
    assert checked(model, **options) == [expected]


def test_autocomplete_needs_search_fields_on_the_target(
        checked: Callable[..., list[str]]) -> None:
    bare = type("BareAuthorAdmin", (ModelAdmin,), {})
    searched = type("SearchedAuthorAdmin", (ModelAdmin,), {"search_fields": ["name"]})
    assert checked(AdmShopBook, autocomplete_fields=["author"],
                   extra={AdmShopAuthor: bare}) == ["heron.admin.E024"]
    assert checked(AdmShopBook, autocomplete_fields=["author"],
                   extra={AdmShopAuthor: searched}) == []


def test_every_problem_is_reported_at_once(checked: Callable[..., list[str]]) -> None:
    found = checked(AdmShopBook, PublishAdmin, list_display=["title", "colour"],
                    search_fields=["nope"], ordering=["nope"], list_per_page=-1,
                    date_hierarchy="status")
    assert sorted(found) == ["heron.admin.E010", "heron.admin.E013", "heron.admin.E014",
                             "heron.admin.E015", "heron.admin.E021", "heron.admin.E027"]


def test_good_registrations_have_no_problem(checked: Callable[..., list[str]]) -> None:
    assert checked(AdmShopPublisher) == []
    assert checked(AdmShopBook, list_display=["__str__", "author__name", "status"],
                   list_filter=["status", "author__publisher", "published"],
                   search_fields=["=title", "^author__name", "@subtitle"],
                   ordering=["-published", "author__name"], date_hierarchy="published",
                   raw_id_fields=["author"]) == []
    assert AdmShopStatus.live.value == "live"


def test_the_shop_of_these_tests_is_clean(make_app: Callable[..., App]) -> None:
    app = make_app(components=["heron.auth", "heron.admin"])
    assert check_site(site.bind(app)) == []
    assert [p.id for p in app.check() if p.id.startswith("heron.admin")] == []


def test_the_admin_needs_heron_auth(make_app: Callable[..., App]) -> None:
    app = make_app(components=["heron.admin"])
    assert "heron.admin.E001" in [p.id for p in app.check()]


@pytest.mark.parametrize("url", ["admin", "admin/", "/{x}/", ""])
def test_admin_url_must_be_a_path(make_app: Callable[..., App], url: str) -> None:
    app = make_app(components=["heron.auth", "heron.admin"], admin_url=url)
    try:
        ids = [p.id for p in app.check()]
    except ImproperlyConfigured as exc:
        ids = [exc.id]
    assert "heron.admin.E002" in ids


def test_bad_registrations_stop_the_app_at_startup(make_app: Callable[..., App]) -> None:
    from heron.admin._plugin import AdminPlugin

    private = AdminSite()
    private.register(AdmShopBook, list_display=["colour"])
    app = make_app(components=["heron.auth", "heron.admin"])
    plugin = app.plugin("heron.admin")
    assert isinstance(plugin, AdminPlugin)
    plugin._bound = private.bind(app)  # as if the project had registered it
    assert [p.id for p in app.check() if p.id.startswith("heron.admin")] == [
        "heron.admin.E010"]
    with pytest.raises(RuntimeError, match=r"heron could not start.*heron\.admin\.E010"), \
            TestClient(app):
        pass
