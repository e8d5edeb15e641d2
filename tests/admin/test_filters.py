"""heron.admin.filters: every kind of list filter on real rows, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from admin_filter_models import (
    NOW,
    TODAY,
    AdmFltAuthor,
    AdmFltBook,
    AdmFltPairRef,
    AdmFltTag,
    seed,
    titles,
)
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from heron.admin.filters import (
    AllValuesFieldListFilter,
    BooleanFieldListFilter,
    Choice,
    ChoicesFieldListFilter,
    DateFieldListFilter,
    EmptyFieldListFilter,
    FieldListFilter,
    IncorrectLookupParameters,
    ListFilter,
    RelatedFieldListFilter,
    SimpleListFilter,
    build_filter,
)
from heron.admin.lookups import FieldPathError

pytest_plugins = ["admin_filter_models"]

ALL = ["100% plum_jam", "Fig notes", "Pear tart", "Red apple pie"]


def make(spec: Any, params: Mapping[str, str] | None = None, *, model: type[Any] = AdmFltBook,
         admin: Any = None, request: Any = None) -> ListFilter:
    return build_filter(spec, model, dict(params or {}), admin, request)


def shown(session: Session, spec: Any, params: Mapping[str, str], **options: Any) -> list[str]:
    """The titles of the books the filter lets through."""
    flt = make(spec, params, **options)
    return titles(session, statement=flt.apply(select(AdmFltBook)))


def labels(choices: list[Choice]) -> list[str]:
    return [choice.label for choice in choices]


def selected(choices: list[Choice]) -> list[str]:
    return [choice.label for choice in choices if choice.selected]


def refused(session: Session, spec: Any, params: Mapping[str, str]) -> str:
    """The message of the IncorrectLookupParameters the filter raises for ``params``."""
    flt = make(spec, params)
    with pytest.raises(IncorrectLookupParameters) as caught:
        session.execute(flt.apply(select(AdmFltBook))).all()
    assert isinstance(caught.value, ValueError)
    return str(caught.value)


# -- build_filter ---------------------------------------------------------------------


class ShortFilter(SimpleListFilter):
    title = "length"
    parameter_name = "length"

    def lookups(self, request: Any, model_admin: Any) -> Sequence[tuple[Any, str]]:
        return [("short", "Under 100 pages"), ("long", "100 pages or more"), (3, "Three")]

    def queryset(self, request: Any, statement: Select[Any]) -> Select[Any] | None:
        if self.value() == "short":
            return statement.where(AdmFltBook.pages < 100)
        if self.value() == "long":
            return statement.where(AdmFltBook.pages >= 100)
        return None


@pytest.mark.parametrize(("spec", "kind"), [
    ("published", BooleanFieldListFilter),
    ("reviewed", BooleanFieldListFilter),
    ("author__active", BooleanFieldListFilter),
    ("status", ChoicesFieldListFilter),
    ("kind", ChoicesFieldListFilter),
    ("released", DateFieldListFilter),
    ("created_at", DateFieldListFilter),
    ("printed_at", DateFieldListFilter),
    ("author", RelatedFieldListFilter),
    ("author__country", RelatedFieldListFilter),
    ("tags", RelatedFieldListFilter),
    ("reviews", RelatedFieldListFilter),
    ("title", AllValuesFieldListFilter),
    ("pages", AllValuesFieldListFilter),
    ("price", AllValuesFieldListFilter),
    ("code", AllValuesFieldListFilter),
    ("author__name", AllValuesFieldListFilter),
    ("author_id", AllValuesFieldListFilter),
    (("subtitle", EmptyFieldListFilter), EmptyFieldListFilter),
    (("pages", AllValuesFieldListFilter), AllValuesFieldListFilter),
    (("published", AllValuesFieldListFilter), AllValuesFieldListFilter),
    (ShortFilter, ShortFilter),
])
def test_build_filter_picks_the_kind(spec: Any, kind: type[ListFilter]) -> None:
    # as the startup checks build them: no parameters, no request
    flt = make(spec)
    assert type(flt) is kind
    assert not flt.is_active()
    assert flt.expected_parameters()
    assert flt.title


@pytest.mark.parametrize(("spec", "error", "says"), [
    ("nope", FieldPathError, "no column or relationship 'nope'"),
    ("author__nope", FieldPathError, "AdmFltAuthor"),
    ("extra", TypeError, "no filter suits"),
    (("title", BooleanFieldListFilter), TypeError, "BooleanFieldListFilter cannot filter"),
    (("pages", EmptyFieldListFilter), TypeError, "EmptyFieldListFilter cannot filter"),
    (("author", DateFieldListFilter), TypeError, "a relationship to AdmFltAuthor"),
    (("title", ChoicesFieldListFilter), TypeError, "cannot filter 'title'"),
    (("pages", ListFilter), TypeError, "pair"),
    (("pages", int), TypeError, "pair"),
    (("pages",), TypeError, "pair"),
    ((1, BooleanFieldListFilter), TypeError, "pair"),
    (42, TypeError, "no field path"),
    (ShortFilter({}, AdmFltBook, None, None), TypeError, "no field path"),
    (BooleanFieldListFilter, TypeError, "no field path"),
])
def test_bad_specs(spec: Any, error: type[Exception], says: str) -> None:
    with pytest.raises(error, match=says):
        make(spec)


def test_a_related_filter_needs_a_one_column_key() -> None:
    with pytest.raises(TypeError, match="primary key of 2 columns"):
        make("pair", model=AdmFltPairRef)


def test_bad_simple_filters() -> None:
    class NoTitle(ShortFilter):
        title = ""

    class NoParameter(ShortFilter):
        parameter_name = ""

    class NoLookups(SimpleListFilter):
        title = "x"
        parameter_name = "x"

        def queryset(self, request: Any, statement: Select[Any]) -> Select[Any] | None:
            return None

    class NoQueryset(SimpleListFilter):
        title = "x"
        parameter_name = "x"

        def lookups(self, request: Any, model_admin: Any) -> Sequence[tuple[Any, str]]:
            return []

    for cls, says in [(NoTitle, "no title"), (NoParameter, "no parameter_name"),
                      (NoLookups, r"must define lookups\(\)"),
                      (NoQueryset, r"must define queryset\(\)")]:
        with pytest.raises(TypeError, match=says):
            make(cls)


# -- Boolean --------------------------------------------------------------------------


def test_boolean_filter(lib_session: Session) -> None:
    seed(lib_session)
    assert shown(lib_session, "published", {}) == ALL
    assert shown(lib_session, "published", {"published": "1"}) == ["100% plum_jam",
                                                                   "Red apple pie"]
    assert shown(lib_session, "published", {"published": "0"}) == ["Fig notes", "Pear tart"]
    assert shown(lib_session, "reviewed", {"reviewed": "1"}) == ["Red apple pie"]
    assert shown(lib_session, "reviewed", {"reviewed__isnull": "1"}) == ["100% plum_jam",
                                                                         "Fig notes"]
    assert shown(lib_session, "reviewed", {"reviewed__isnull": "0"}) == ["Pear tart",
                                                                         "Red apple pie"]
    # across a relationship: a book without author has no known value either
    assert shown(lib_session, "author__active", {"author__active": "1"}) == ["Red apple pie"]
    assert shown(lib_session, "author__active", {"author__active": "0"}) == ["Pear tart"]
    assert shown(lib_session, "author__active", {"author__active__isnull": "1"}) == \
        ["100% plum_jam", "Fig notes"]
    assert shown(lib_session, "published", {"other": "1", "title": "x"}) == ALL


def test_boolean_choices() -> None:
    flt = make("reviewed", {"reviewed": "0"})
    assert flt.is_active()
    assert flt.has_output()
    choices = flt.choices()
    assert labels(choices) == ["All", "Yes", "No", "Unknown"]
    assert selected(choices) == ["No"]
    assert choices[0].params == {"reviewed": None, "reviewed__isnull": None}
    assert choices[1].params == {"reviewed": "1", "reviewed__isnull": None}
    assert choices[3].params == {"reviewed": None, "reviewed__isnull": "1"}
    assert selected(make("reviewed", {"reviewed__isnull": "1"}).choices()) == ["Unknown"]
    assert selected(make("reviewed").choices()) == ["All"]
    assert labels(make("published").choices()) == ["All", "Yes", "No"]  # NOT NULL
    assert make("published").title == "Published"
    assert make("author__active").parameter_name == "author__active"


@pytest.mark.parametrize("params", [
    {"published": "2"}, {"published": "true"}, {"published": ""}, {"published": "1\x00"},
    {"published": " 1"}, {"published__isnull": "yes"}, {"published__isnull": ""},
])
def test_boolean_bad_values(lib_session: Session, params: dict[str, str]) -> None:
    assert "published" in refused(lib_session, "published", params)


# -- Choices --------------------------------------------------------------------------


def test_choices_filter(lib_session: Session) -> None:
    seed(lib_session)
    assert shown(lib_session, "status", {"status": "DRAFT"}) == ["Fig notes", "Pear tart"]
    assert shown(lib_session, "status", {"status": "IN_REVIEW"}) == ["100% plum_jam"]
    assert shown(lib_session, "kind", {"kind": "ebook"}) == ["Pear tart"]
    assert shown(lib_session, "kind", {"kind": "paper"}) == ["Fig notes", "Red apple pie"]
    assert shown(lib_session, "kind", {"kind__isnull": "1"}) == ["100% plum_jam"]


def test_choices_choices() -> None:
    flt = make("status", {"status": "PUBLISHED"})
    choices = flt.choices()
    # labelled as the forms label members: the name, in words
    assert labels(choices) == ["All", "Draft", "In review", "Published"]
    assert selected(choices) == ["Published"]
    assert choices[2].params == {"status": "IN_REVIEW", "status__isnull": None}
    kinds = make("kind").choices()
    assert labels(kinds) == ["All", "paper", "ebook", "(None)"]
    assert kinds[3].params == {"kind": None, "kind__isnull": "1"}
    assert selected(kinds) == ["All"]


@pytest.mark.parametrize(("spec", "value"), [
    ("status", "draft"), ("status", "NOPE"), ("status", ""), ("status", "__members__"),
    ("status", "DRAFT\x00"), ("kind", "pdf"), ("kind", "Paper"),
])
def test_choices_bad_values(lib_session: Session, spec: str, value: str) -> None:
    refused(lib_session, spec, {spec: value})


# -- Dates ----------------------------------------------------------------------------


def _expected(session: Session, column: str, start: dt.date, end: dt.date) -> list[str]:
    """Titles whose ``column`` falls in [start, end), worked out in Python."""
    found = []
    for book in session.scalars(select(AdmFltBook)):
        value = getattr(book, column)
        if value is None:
            continue
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC)
            value = value.date()
        if start <= value < end:
            found.append(book.title)
    return sorted(found)


def test_date_filter_periods(lib_session: Session) -> None:
    seed(lib_session)
    month = TODAY.replace(day=1)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    year, next_year = TODAY.replace(month=1, day=1), TODAY.replace(TODAY.year + 1, 1, 1)
    tomorrow = TODAY + dt.timedelta(days=1)
    for column in ("released", "created_at", "printed_at"):
        assert shown(lib_session, column, {column: "today"}) == \
            _expected(lib_session, column, TODAY, tomorrow)
        assert shown(lib_session, column, {column: "past7"}) == \
            _expected(lib_session, column, TODAY - dt.timedelta(days=6), tomorrow)
        assert shown(lib_session, column, {column: "month"}) == \
            _expected(lib_session, column, month, next_month)
        assert shown(lib_session, column, {column: "year"}) == \
            _expected(lib_session, column, year, next_year)
    # the seed's rows, whatever the calendar says
    assert shown(lib_session, "released", {"released": "today"}) == ["Red apple pie"]
    assert shown(lib_session, "created_at", {"created_at": "past7"}) == ["Pear tart",
                                                                         "Red apple pie"]
    assert shown(lib_session, "released", {"released__isnull": "1"}) == ["100% plum_jam"]
    assert shown(lib_session, "released", {"released__isnull": "0"}) == [
        "Fig notes", "Pear tart", "Red apple pie"]
    assert shown(lib_session, "printed_at", {"printed_at__isnull": "0"}) == ["Red apple pie"]


class March1st(DateFieldListFilter):
    """Today is 2024-03-01 (UTC) for this filter."""

    def today(self) -> dt.date:
        return dt.date(2024, 3, 1)


def test_date_ranges_are_half_open_utc_days(lib_session: Session) -> None:
    plus2 = dt.timezone(dt.timedelta(hours=2))
    moments = {
        "seven days before, last second": dt.datetime(2024, 2, 23, 23, 59, 59, tzinfo=dt.UTC),
        "six days before, midnight": dt.datetime(2024, 2, 24, tzinfo=dt.UTC),
        "leap day, last second": dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=dt.UTC),
        "01:30 at +02:00": dt.datetime(2024, 3, 1, 1, 30, tzinfo=plus2),  # Feb 29, UTC
        "midnight": dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
        "23:30 at +02:00": dt.datetime(2024, 3, 1, 23, 30, tzinfo=plus2),  # Mar 1, UTC
        "last microsecond": dt.datetime(2024, 3, 1, 23, 59, 59, 999999, tzinfo=dt.UTC),
        "next midnight": dt.datetime(2024, 3, 2, tzinfo=dt.UTC),
        "new year": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        "last year": dt.datetime(2023, 12, 31, 23, 59, tzinfo=dt.UTC),
    }
    # SQLite keeps no offset (SQLAlchemy writes the wall time): store UTC there.
    sqlite = lib_session.get_bind().dialect.name == "sqlite"
    for title, moment in moments.items():
        in_utc = moment.astimezone(dt.UTC)
        lib_session.add(AdmFltBook(title=title, created_at=in_utc if sqlite else moment,
                                   released=in_utc.date(),
                                   printed_at=in_utc.replace(tzinfo=None)))
    lib_session.commit()
    today = ["23:30 at +02:00", "last microsecond", "midnight"]
    past7 = sorted([*today, "01:30 at +02:00", "leap day, last second",
                    "six days before, midnight"])
    month = sorted([*today, "next midnight"])
    year = sorted(set(moments) - {"last year"})
    for column in ("created_at", "released", "printed_at"):
        spec = (column, March1st)
        assert shown(lib_session, spec, {column: "today"}) == today, column
        assert shown(lib_session, spec, {column: "past7"}) == past7, column
        assert shown(lib_session, spec, {column: "month"}) == month, column
        assert shown(lib_session, spec, {column: "year"}) == year, column


def test_date_choices() -> None:
    flt = make("released", {"released": "past7"})
    choices = flt.choices()
    assert labels(choices) == ["Any date", "Today", "Past 7 days", "This month", "This year",
                               "No date", "Has date"]
    assert selected(choices) == ["Past 7 days"]
    assert choices[1].params == {"released": "today", "released__isnull": None}
    assert choices[5].params == {"released": None, "released__isnull": "1"}
    assert choices[6].params == {"released": None, "released__isnull": "0"}
    assert selected(make("released", {"released__isnull": "0"}).choices()) == ["Has date"]
    assert labels(make("created_at").choices()) == ["Any date", "Today", "Past 7 days",
                                                    "This month", "This year"]


@pytest.mark.parametrize("params", [
    {"released": "tomorrow"}, {"released": "2023-13-45"}, {"released": "2024-01-01"},
    {"released": ""}, {"released": "Today"}, {"released__isnull": "true"},
    {"released": "today\x00"},
])
def test_date_bad_values(lib_session: Session, params: dict[str, str]) -> None:
    refused(lib_session, "released", params)


# -- Related ---------------------------------------------------------------------------


def test_related_filter(lib_session: Session) -> None:
    data = seed(lib_session)
    ann, france, red = data["ann"].id, data["france"].id, data["red"].id
    assert shown(lib_session, "author", {"author": str(ann)}) == ["Red apple pie"]
    assert shown(lib_session, "author", {"author__isnull": "1"}) == ["Fig notes"]
    assert shown(lib_session, "author", {"author__isnull": "0"}) == [
        "100% plum_jam", "Pear tart", "Red apple pie"]
    assert shown(lib_session, "author", {"author": "999999"}) == []
    # many-to-many: each book once
    assert shown(lib_session, "tags", {"tags": str(red)}) == ["Fig notes", "Pear tart",
                                                              "Red apple pie"]
    assert shown(lib_session, "tags", {"tags__isnull": "1"}) == ["100% plum_jam"]
    # across a relationship
    assert shown(lib_session, "author__country", {"author__country": str(france)}) == \
        ["Red apple pie"]
    assert shown(lib_session, "author__country", {"author__country__isnull": "1"}) == \
        ["100% plum_jam", "Fig notes"]
    # one-to-many, from the other side
    reviewed = make("reviews", {"reviews": str(data["apple"].reviews[0].id)})
    assert titles(lib_session, statement=reviewed.apply(select(AdmFltBook))) == \
        ["Red apple pie"]
    books = make("books", {"books__isnull": "1"}, model=AdmFltAuthor)
    assert lib_session.scalars(books.apply(select(AdmFltAuthor.name))).all() == []
    books = make("books", {"books": str(data["pear"].id)}, model=AdmFltAuthor)
    assert lib_session.scalars(books.apply(select(AdmFltAuthor.name))).all() == ["Bob O'Hara"]


def test_related_choices(lib_session: Session) -> None:
    data = seed(lib_session)
    flt = make("author", {"author": f"+{data['bob'].id}"})
    assert labels(flt.choices()) == ["All", "(None)"]  # nothing loaded yet
    flt.load(lib_session)
    assert flt.has_output()
    choices = flt.choices()
    assert labels(choices) == ["All", "Ann Lee", "Bob O'Hara", "Cy 100% Pure_Joy", "(None)"]
    assert selected(choices) == ["Bob O'Hara"]  # "+7" is 7
    assert choices[1].params == {"author": str(data["ann"].id), "author__isnull": None}
    assert choices[4].params == {"author": None, "author__isnull": "1"}
    tags = make("tags")
    tags.load(lib_session)
    assert labels(tags.choices()) == ["All", "blue", "green", "red", "(None)"]
    assert selected(tags.choices()) == ["All"]
    assert make("author").title == "Author"
    assert make("author__country").title == "Country"


def test_related_choices_are_capped_but_keep_the_selected_one(lib_session: Session) -> None:
    lib_session.add_all(AdmFltTag(name=f"tag {i:02}") for i in range(10))
    lib_session.commit()
    last = max(lib_session.scalars(select(AdmFltTag.id)))

    class FewTags(RelatedFieldListFilter):
        max_choices = 3

    flt = make(("tags", FewTags), {"tags": str(last)})
    flt.load(lib_session)
    assert labels(flt.choices()) == ["All", "tag 00", "tag 01", "tag 02", "tag 09", "(None)"]
    assert selected(flt.choices()) == ["tag 09"]


def test_related_filter_without_rows_has_no_output(lib_session: Session) -> None:
    flt = make("author")
    flt.load(lib_session)
    assert not flt.has_output()
    lib_session.add(AdmFltAuthor(name="Solo"))
    lib_session.commit()
    flt.load(lib_session)
    assert flt.has_output()  # Solo and (None)


@pytest.mark.parametrize("value", ["abc", "", "1.5", str(10**30), "1e3", "\uff11", "1\x00",
                                   "0x1", " 1", str(2**63)])
def test_related_bad_values(lib_session: Session, value: str) -> None:
    assert "author=" in refused(lib_session, "author", {"author": value})
    refused(lib_session, "tags", {"tags": value})
    refused(lib_session, "author", {"author__isnull": value})
    flt = make("author", {"author": value})
    flt.load(lib_session)  # the choices need no valid value
    assert selected(flt.choices()) == []


# -- All values ------------------------------------------------------------------------


def test_all_values_filter(lib_session: Session) -> None:
    seed(lib_session)
    assert shown(lib_session, "pages", {"pages": "120"}) == ["Fig notes", "Red apple pie"]
    assert shown(lib_session, "title", {"title": "Pear tart"}) == ["Pear tart"]
    assert shown(lib_session, "subtitle", {"subtitle": ""}) == ["100% plum_jam"]
    assert shown(lib_session, "subtitle", {"subtitle__isnull": "1"}) == ["Pear tart"]
    assert shown(lib_session, "price", {"price": "12.5"}) == ["Fig notes", "Red apple pie"]
    assert shown(lib_session, "rating", {"rating": "4.5"}) == ["Fig notes", "Red apple pie"]
    assert shown(lib_session, "author__name", {"author__name": "Ann Lee"}) == ["Red apple pie"]
    assert shown(lib_session, "tags__name", {"tags__name": "red"}) == [
        "Fig notes", "Pear tart", "Red apple pie"]
    assert shown(lib_session, "code", {"code": "12345678-1234-5678-1234-567812345678"}) == \
        ["Red apple pie"]


def test_all_values_choices(lib_session: Session) -> None:
    seed(lib_session)
    pages = make("pages", {"pages": "120"})
    pages.load(lib_session)
    choices = pages.choices()
    assert labels(choices) == ["All", "80", "120", "300"]  # NOT NULL: no (None)
    assert selected(choices) == ["120"]
    assert choices[1].params == {"pages": "80", "pages__isnull": None}
    subtitle = make("subtitle")
    subtitle.load(lib_session)
    assert labels(subtitle.choices()) == ["All", "", "A baking story", "Figs and more figs",
                                          "(None)"]
    tags = make("tags__name")
    tags.load(lib_session)
    assert labels(tags.choices()) == ["All", "blue", "green", "red"]
    authors = make("author__name")
    authors.load(lib_session)
    assert labels(authors.choices()) == ["All", "Ann Lee", "Bob O'Hara", "Cy 100% Pure_Joy"]


@pytest.mark.parametrize("path", ["price", "rating", "created_at", "released", "code",
                                  "status", "published", "printed_at"])
def test_all_values_choices_filter_back_to_their_rows(lib_session: Session,
                                                      path: str) -> None:
    seed(lib_session)
    flt = make((path, AllValuesFieldListFilter))
    flt.load(lib_session)
    assert len(flt.choices()) > 1
    for choice in flt.choices()[1:]:
        params = {k: v for k, v in choice.params.items() if v is not None}
        chosen = make((path, AllValuesFieldListFilter), params)
        assert selected(chosen.choices()) == [] or chosen.is_active()
        chosen.load(lib_session)
        assert selected(chosen.choices()) == [choice.label]
        assert shown(lib_session, (path, AllValuesFieldListFilter), params), choice


def test_all_values_are_capped(lib_session: Session) -> None:
    lib_session.add_all(AdmFltBook(title=f"book {i:03}", pages=i, created_at=NOW)
                        for i in range(5))
    lib_session.commit()

    class FewValues(AllValuesFieldListFilter):
        max_values = 3

    flt = make(("pages", FewValues))
    flt.load(lib_session)
    assert labels(flt.choices()) == ["All", "0", "1", "2"]
    assert flt.truncated
    flt = make("pages")
    flt.load(lib_session)
    assert len(flt.choices()) == 6
    assert not flt.truncated


class PublishedOnlyAdmin:
    """An admin showing only published books."""

    def get_queryset(self, request: Any) -> Select[Any]:
        return select(AdmFltBook).where(AdmFltBook.published.is_(True))


def test_all_values_come_from_the_rows_the_admin_shows(lib_session: Session) -> None:
    seed(lib_session)
    flt = make("pages", admin=PublishedOnlyAdmin(), request=object())
    flt.load(lib_session)
    assert labels(flt.choices()) == ["All", "120", "300"]
    flt = make("tags__name", admin=PublishedOnlyAdmin(), request=object())
    flt.load(lib_session)
    assert labels(flt.choices()) == ["All", "green", "red"]


@pytest.mark.parametrize(("path", "value"), [
    ("pages", "abc"), ("pages", str(10**30)), ("pages", ""), ("pages", "1.0"),
    ("edition", "70000"), ("price", "twelve"), ("price", "NaN"), ("rating", "inf"),
    ("created_at", "2023-13-45"), ("released", "2023-02-30"), ("code", "xyz"),
    ("title", "nul\x00"), ("title", "\ud800"), ("author__name", "a\x00"),
])
def test_all_values_bad_values(lib_session: Session, path: str, value: str) -> None:
    assert path in refused(lib_session, path, {path: value})


# -- Empty ---------------------------------------------------------------------------


def test_empty_filter(lib_session: Session) -> None:
    seed(lib_session)

    def empty(path: str, value: str) -> list[str]:
        return shown(lib_session, (path, EmptyFieldListFilter), {f"{path}__empty": value})

    assert empty("subtitle", "1") == ["100% plum_jam", "Pear tart"]  # NULL and ""
    assert empty("subtitle", "0") == ["Fig notes", "Red apple pie"]
    assert empty("blurb", "1") == ["Pear tart"]  # NOT NULL text: ""
    assert empty("released", "1") == ["100% plum_jam"]
    assert empty("author__email", "1") == ["100% plum_jam", "Fig notes", "Pear tart"]
    assert empty("author__email", "0") == ["Red apple pie"]
    assert empty("tags", "1") == ["100% plum_jam"]
    assert empty("tags", "0") == ["Fig notes", "Pear tart", "Red apple pie"]
    assert empty("author", "1") == ["Fig notes"]
    assert empty("reviews", "0") == ["Pear tart", "Red apple pie"]
    assert empty("kind", "1") == ["100% plum_jam"]


def test_empty_choices(lib_session: Session) -> None:
    flt = make(("subtitle", EmptyFieldListFilter), {"subtitle__empty": "0"})
    assert flt.expected_parameters() == ["subtitle__empty"]
    choices = flt.choices()
    assert labels(choices) == ["All", "Empty", "Not empty"]
    assert selected(choices) == ["Not empty"]
    assert choices[1].params == {"subtitle__empty": "1"}
    assert choices[0].params == {"subtitle__empty": None}
    for value in ["2", "", "yes", "1\x00"]:
        refused(lib_session, ("subtitle", EmptyFieldListFilter), {"subtitle__empty": value})
    # the Empty filter reads no other parameter
    assert not make(("subtitle", EmptyFieldListFilter), {"subtitle": "x"}).is_active()


# -- SimpleListFilter ------------------------------------------------------------------


def test_simple_filter(lib_session: Session) -> None:
    seed(lib_session)
    assert shown(lib_session, ShortFilter, {}) == ALL
    assert shown(lib_session, ShortFilter, {"length": "short"}) == ["Pear tart"]
    assert shown(lib_session, ShortFilter, {"length": "long"}) == [
        "100% plum_jam", "Fig notes", "Red apple pie"]
    # a lookup value that is no string is compared as text; queryset() gave None
    assert shown(lib_session, ShortFilter, {"length": "3"}) == ALL
    for bad in ["medium", "", "SHORT", "short\x00"]:
        assert "not one of the filter's choices" in refused(lib_session, ShortFilter,
                                                            {"length": bad})


def test_simple_filter_choices() -> None:
    flt = make(ShortFilter, {"length": "long"})
    assert flt.is_active()
    assert flt.has_output()
    assert isinstance(flt, SimpleListFilter)
    assert flt.value() == "long"
    choices = flt.choices()
    assert labels(choices) == ["All", "Under 100 pages", "100 pages or more", "Three"]
    assert selected(choices) == ["100 pages or more"]
    assert choices[0].params == {"length": None}
    assert choices[3].params == {"length": "3"}
    assert make(ShortFilter).value() is None


class TagFilter(SimpleListFilter):
    """Lookups from the database, through the session load() gives."""

    title = "tag"
    parameter_name = "tag"
    calls = 0

    def lookups(self, request: Any, model_admin: Any) -> Sequence[tuple[Any, str]]:
        type(self).calls += 1
        if self.session is None:
            return []
        return [(tag.name, tag.name.title())
                for tag in self.session.scalars(select(AdmFltTag).order_by(AdmFltTag.name))]

    def queryset(self, request: Any, statement: Select[Any]) -> Select[Any] | None:
        return statement.where(AdmFltBook.tags.any(AdmFltTag.name == self.value()))


def test_simple_filter_lookups_from_the_database(lib_session: Session) -> None:
    seed(lib_session)
    TagFilter.calls = 0
    flt = make(TagFilter, {"tag": "blue"})
    assert TagFilter.calls == 0  # the constructor needs no lookups (nor a request)
    flt.load(lib_session)
    assert labels(flt.choices()) == ["All", "Blue", "Green", "Red"]
    assert selected(flt.choices()) == ["Blue"]
    assert titles(lib_session, statement=flt.apply(select(AdmFltBook))) == ["Fig notes"]
    assert TagFilter.calls == 1
    # without a session no lookups, so no value is valid
    with pytest.raises(IncorrectLookupParameters):
        make(TagFilter, {"tag": "blue"}).apply(select(AdmFltBook))
    assert not make(TagFilter).has_output()


# -- Across filters ----------------------------------------------------------------------


def test_filters_combine(lib_session: Session) -> None:
    data = seed(lib_session)
    params = {"published": "1", "tags": str(data["green"].id), "pages": "120",
              "length": "long", "q": "ignored"}
    statement = select(AdmFltBook)
    for spec in ["published", "tags", "pages", ShortFilter, ("subtitle", EmptyFieldListFilter)]:
        statement = make(spec, params).apply(statement)
    assert titles(lib_session, statement=statement) == ["Red apple pie"]


def test_a_field_filter_subclass_of_ones_own(lib_session: Session) -> None:
    seed(lib_session)

    class AtLeastFilter(FieldListFilter):
        """Books with at least so many pages."""

        @classmethod
        def suits(cls, lookup: Any) -> bool:
            return lookup.path == "pages"

        def expected_parameters(self) -> list[str]:
            return [f"{self.path}__gte"]

        def choices(self) -> list[Choice]:
            return [self._all_choice(), self._choice("100+", False, pages__gte="100")]

        def apply(self, statement: Select[Any]) -> Select[Any]:
            if not self.used:
                return statement
            value = self._parse("pages__gte", AdmFltBook.__table__.c.pages.type)
            return statement.where(AdmFltBook.pages >= value)

    assert shown(lib_session, ("pages", AtLeastFilter), {"pages__gte": "120"}) == [
        "100% plum_jam", "Fig notes", "Red apple pie"]
    refused(lib_session, ("pages", AtLeastFilter), {"pages__gte": "many"})
    with pytest.raises(TypeError):
        make(("title", AtLeastFilter))
