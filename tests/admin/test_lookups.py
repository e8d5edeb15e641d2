"""heron.admin.lookups: field paths to columns, conditions, values, loading and sorting."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import pytest
from admin_filter_models import (
    AdmFltAuthor,
    AdmFltBook,
    AdmFltCountry,
    AdmFltNode,
    AdmFltPairRef,
    AdmFltReview,
    AdmFltStatus,
    AdmFltTag,
    count_queries,
    seed,
    titles,
)
from sqlalchemy import Engine, select, types
from sqlalchemy.orm import Session

from heron.admin.lookups import (
    FieldPathError,
    format_value,
    joined_column,
    loader_options,
    order_column,
    parse_value,
    resolve,
    utc_for,
)

pytest_plugins = ["admin_filter_models"]


# -- resolve ---------------------------------------------------------------------


def test_a_column_of_the_model() -> None:
    lookup = resolve(AdmFltBook, "title")
    assert lookup.model is AdmFltBook
    assert lookup.target is AdmFltBook
    assert lookup.column is AdmFltBook.__table__.c.title
    assert lookup.attribute is AdmFltBook.title
    assert lookup.relationships == ()
    assert lookup.hops == ()
    assert not lookup.many
    assert lookup.relationship is None
    assert lookup.related is None
    assert lookup.label == "Title"
    assert lookup.nullable is False
    assert resolve(AdmFltBook, "subtitle").nullable is True


def test_a_path_across_many_to_one_relationships() -> None:
    lookup = resolve(AdmFltBook, "author__country__name")
    assert lookup.path == "author__country__name"
    assert lookup.relationships == (AdmFltBook.author.property, AdmFltAuthor.country.property)
    assert lookup.target is AdmFltCountry
    assert lookup.column is AdmFltCountry.__table__.c.name
    assert lookup.attribute is AdmFltCountry.name
    assert not lookup.many
    assert lookup.label == "Name"
    assert resolve(AdmFltBook, "printed_at").label == "Printed at"


def test_a_path_ending_on_a_relationship() -> None:
    author = resolve(AdmFltBook, "author")
    assert author.column is None
    assert author.attribute is AdmFltBook.author
    assert author.target is AdmFltBook
    assert author.related is AdmFltAuthor
    assert author.relationship is AdmFltBook.author.property
    assert author.relationships == ()  # the final relationship is the attribute
    assert not author.many
    assert author.nullable
    tags = resolve(AdmFltBook, "tags")
    assert tags.many
    assert tags.nullable
    assert tags.related is AdmFltTag
    country = resolve(AdmFltBook, "author__country")
    assert country.target is AdmFltAuthor
    assert country.related is AdmFltCountry
    assert resolve(AdmFltReview, "book").nullable is False


def test_to_many_steps_make_the_path_many() -> None:
    assert resolve(AdmFltBook, "tags__name").many
    assert resolve(AdmFltBook, "reviews__stars").many
    assert resolve(AdmFltAuthor, "books__tags__name").many
    assert not resolve(AdmFltReview, "book__author__name").many


@pytest.mark.parametrize(("path", "says"), [
    ("", "empty field path"),
    ("nope", "AdmFltBook has no column or relationship 'nope'"),
    ("author__nope", "AdmFltAuthor has no column or relationship 'nope'"),
    ("title__length", "AdmFltBook.title is a column, so the path cannot go on past it"),
    ("author__name__x__y", "'x__y'"),
    ("author__", "empty step"),
    ("__title", "empty step"),
    ("author____name", "empty step"),
    ("_sa_instance_state", "no column or relationship"),
])
def test_bad_paths(path: str, says: str) -> None:
    with pytest.raises(FieldPathError) as caught:
        resolve(AdmFltBook, path)
    assert says in str(caught.value)
    assert "AdmFltBook" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_an_attribute_that_is_neither_column_nor_relationship() -> None:
    with pytest.raises(FieldPathError, match="neither a column nor a relationship"):
        resolve(AdmFltTag, "label")


def test_a_model_that_is_not_mapped() -> None:
    with pytest.raises(FieldPathError, match="not a mapped model"):
        resolve(dict, "x")


def test_a_column_property_expression(lib_session: Session) -> None:
    lookup = resolve(AdmFltBook, "tags__name_length")
    assert lookup.column is not None
    assert lookup.nullable
    seed(lib_session)
    assert titles(lib_session, lookup.condition(AdmFltTag.name_length == 4)) == ["Fig notes"]


# -- condition -------------------------------------------------------------------


def test_condition_is_exists_without_join(lib_session: Session) -> None:
    seed(lib_session)
    lookup = resolve(AdmFltBook, "author__country__name")
    condition = lookup.condition(AdmFltCountry.name == "France")
    sql = str(select(AdmFltBook).where(condition))
    assert "EXISTS" in sql
    assert "JOIN" not in sql
    assert titles(lib_session, condition) == ["Red apple pie"]
    assert resolve(AdmFltBook, "title").condition(AdmFltBook.pages == 80) is not None


def test_condition_through_to_many_never_repeats_a_row(lib_session: Session) -> None:
    seed(lib_session)
    tags = resolve(AdmFltBook, "tags__name")
    assert titles(lib_session, tags.condition(AdmFltTag.name.in_(["red", "green", "blue"]))) \
        == ["Fig notes", "Pear tart", "Red apple pie"]
    reviews = resolve(AdmFltBook, "reviews__body")
    assert titles(lib_session, reviews.condition(AdmFltReview.body.like("Great%"))) \
        == ["Red apple pie"]
    # to many, then to one: authors of a book tagged green
    path = resolve(AdmFltAuthor, "books__tags__name")
    names = lib_session.scalars(select(AdmFltAuthor.name).where(
        path.condition(AdmFltTag.name == "green"))).all()
    assert names == ["Ann Lee"]


def test_condition_on_a_relationship_path(lib_session: Session) -> None:
    data = seed(lib_session)
    lookup = resolve(AdmFltBook, "author__country")
    condition = lookup.condition(AdmFltAuthor.country_id == data["japan"].id)
    assert titles(lib_session, condition) == ["Pear tart"]


# -- value and loader_options ------------------------------------------------------


def test_value_follows_loaded_rows(lib_session: Session) -> None:
    data = seed(lib_session)
    apple, fig, plum = data["apple"], data["fig"], data["plum"]
    assert resolve(AdmFltBook, "title").value(apple) == "Red apple pie"
    assert resolve(AdmFltBook, "author__country__name").value(apple) == "France"
    assert resolve(AdmFltBook, "author__country__name").value(fig) is None  # no author
    assert resolve(AdmFltBook, "author__country__name").value(plum) is None  # no country
    assert resolve(AdmFltBook, "author").value(apple) is data["ann"]
    assert resolve(AdmFltBook, "author").value(fig) is None
    assert sorted(resolve(AdmFltBook, "tags__name").value(fig)) == ["blue", "green", "red"]
    assert resolve(AdmFltBook, "tags__name").value(plum) == []
    assert resolve(AdmFltBook, "tags").value(plum) == []
    assert sorted(t.name for t in resolve(AdmFltBook, "tags").value(apple)) == \
        ["green", "red"]
    assert sorted(resolve(AdmFltBook, "reviews__stars").value(apple)) == [4, 5]
    assert sorted(resolve(AdmFltAuthor, "books__tags__name").value(data["ann"])) == \
        ["green", "red"]
    assert resolve(AdmFltReview, "book__author").value(
        lib_session.scalars(select(AdmFltReview)).first()) is data["ann"]


def test_loader_options_load_a_page_in_fixed_queries(lib_engine: Engine) -> None:
    with Session(lib_engine) as session:
        seed(session)
    paths = ["title", "author__name", "author__country__name", "author", "tags__name",
             "reviews__body", "reviews__book__title"]
    lookups = [resolve(AdmFltBook, path) for path in paths]
    with Session(lib_engine) as session, count_queries(lib_engine) as queries:
        statement = select(AdmFltBook).options(*loader_options(AdmFltBook, paths))
        rows = session.scalars(statement.order_by(AdmFltBook.id)).unique().all()
        values = [[lookup.value(row) for lookup in lookups] for row in rows]
    # the page (authors and countries joined), the tags, the reviews
    assert len(queries) == 3, queries
    assert values[0][:3] == ["Red apple pie", "Ann Lee", "France"]
    assert values[3][1:4] == [None, None, None]
    # without the options, every row costs queries
    with Session(lib_engine) as session, count_queries(lib_engine) as queries:
        rows = session.scalars(select(AdmFltBook)).all()
        for row in rows:
            for lookup in lookups:
                lookup.value(row)
    assert len(queries) > 3


def test_loader_options_shapes() -> None:
    assert loader_options(AdmFltBook, []) == []
    assert loader_options(AdmFltBook, ["title", "pages"]) == []
    # a path that is the start of a longer one is loaded by it
    assert len(loader_options(AdmFltBook, ["author", "author__country__name"])) == 1
    assert len(loader_options(AdmFltBook, ["author__name", "tags"])) == 2
    with pytest.raises(FieldPathError):
        loader_options(AdmFltBook, ["author__nope"])


# -- order_column ---------------------------------------------------------------------


def _sorted_titles(session: Session, *paths: str) -> list[str]:
    statement = select(AdmFltBook)
    keys = []
    for path in paths:
        joins, column = order_column(resolve(AdmFltBook, path.lstrip("-")))
        for target, onclause in joins:
            statement = statement.outerjoin(target, onclause)
        keys.append(column.desc() if path.startswith("-") else column.asc())
    rows = session.scalars(statement.order_by(*keys, AdmFltBook.id)).all()
    return [row.title for row in rows]


def test_order_by_a_many_to_one_path(lib_session: Session) -> None:
    seed(lib_session)
    ordered = _sorted_titles(lib_session, "author__country__name")
    assert len(ordered) == 4  # outer joins keep the books without author or country
    named = [t for t in ordered if t in ("Red apple pie", "Pear tart")]
    assert named == ["Red apple pie", "Pear tart"]  # France, then Japan
    # two paths through the same relationship each get their own alias
    assert len(_sorted_titles(lib_session, "author__country__name", "-author__name")) == 4
    both = _sorted_titles(lib_session, "-author__name", "author__country__name")
    assert [t for t in both if t != "Fig notes"] == ["100% plum_jam", "Pear tart",
                                                     "Red apple pie"]
    assert _sorted_titles(lib_session, "pages", "-title") == [
        "Pear tart", "Red apple pie", "Fig notes", "100% plum_jam"]


def test_order_by_a_relationship_sorts_by_its_foreign_key(lib_session: Session) -> None:
    data = seed(lib_session)
    joins, column = order_column(resolve(AdmFltBook, "author"))
    assert joins == []
    assert column is AdmFltBook.author_id
    ordered = _sorted_titles(lib_session, "author")
    by_id = sorted(["Red apple pie", "Pear tart", "100% plum_jam"],
                   key=lambda t: {"Red apple pie": data["ann"].id, "Pear tart": data["bob"].id,
                                  "100% plum_jam": data["cy"].id}[t])
    assert [t for t in ordered if t != "Fig notes"] == by_id


def test_order_by_through_a_model_related_to_itself(lib_session: Session) -> None:
    root_b, root_a = AdmFltNode(name="b-root"), AdmFltNode(name="a-root")
    lib_session.add_all([
        AdmFltNode(name="x", parent=AdmFltNode(name="mid1", parent=root_b)),
        AdmFltNode(name="y", parent=AdmFltNode(name="mid2", parent=root_a)),
    ])
    lib_session.commit()
    joins, column = order_column(resolve(AdmFltNode, "parent__parent__name"))
    statement = select(AdmFltNode.name).where(AdmFltNode.name.in_(["x", "y"]))
    for target, onclause in joins:
        statement = statement.outerjoin(target, onclause)
    assert lib_session.scalars(statement.order_by(column)).all() == ["y", "x"]


def test_paths_that_cannot_be_sorted_by() -> None:
    with pytest.raises(FieldPathError, match="leads to many rows"):
        order_column(resolve(AdmFltBook, "tags__name"))
    with pytest.raises(FieldPathError, match="leads to many rows"):
        order_column(resolve(AdmFltBook, "reviews"))
    with pytest.raises(FieldPathError, match="not many-to-one on one column"):
        order_column(resolve(AdmFltPairRef, "pair"))


def test_joined_column_reads_values_across_to_many(lib_session: Session) -> None:
    seed(lib_session)
    joins, column = joined_column(resolve(AdmFltBook, "tags__name"))
    statement = select(column).select_from(AdmFltBook)
    for target, onclause in joins:
        statement = statement.join(target, onclause)
    assert sorted(lib_session.scalars(statement.distinct()).all()) == ["blue", "green", "red"]
    with pytest.raises(FieldPathError, match="ends on a relationship"):
        joined_column(resolve(AdmFltBook, "tags"))


# -- values from a URL ---------------------------------------------------------------


@pytest.mark.parametrize(("kind", "raw", "value"), [
    (types.Integer(), "42", 42),
    (types.Integer(), "-7", -7),
    (types.Integer(), "+7", 7),
    (types.Integer(), str(2**31 - 1), 2**31 - 1),
    (types.BigInteger(), str(2**63 - 1), 2**63 - 1),
    (types.BigInteger(), str(-(2**63)), -(2**63)),
    (types.SmallInteger(), "32767", 32767),
    (types.Numeric(10, 2), "12.50", decimal.Decimal("12.50")),
    (types.Numeric(10, 2), ".5", decimal.Decimal("0.5")),
    (types.Numeric(asdecimal=False), "1.5", 1.5),
    (types.Float(), "1e-05", 1e-05),
    (types.String(), "anything at all", "anything at all"),
    (types.Boolean(), "1", True),
    (types.Boolean(), "0", False),
    (types.Date(), "2024-02-29", dt.date(2024, 2, 29)),
    (types.Time(), "12:30", dt.time(12, 30)),
    (types.DateTime(), "2024-03-01T10:00:00", dt.datetime(2024, 3, 1, 10)),
    (types.DateTime(), "2024-03-01T12:00:00+02:00", dt.datetime(2024, 3, 1, 10)),
    (types.DateTime(timezone=True), "2024-03-01T10:00:00",
     dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)),
    (types.Enum(AdmFltStatus), "IN_REVIEW", AdmFltStatus.IN_REVIEW),
    (types.Enum("paper", "ebook"), "ebook", "ebook"),
    (types.Uuid(), "12345678123456781234567812345678",
     uuid.UUID("12345678-1234-5678-1234-567812345678")),
    (types.Uuid(as_uuid=False), "{12345678-1234-5678-1234-567812345678}",
     "12345678-1234-5678-1234-567812345678"),
])
def test_parse_value(kind: types.TypeEngine[Any], raw: str, value: Any) -> None:
    assert parse_value(kind, raw) == value
    assert parse_value(kind, format_value(value)) == value


@pytest.mark.parametrize(("kind", "raw"), [
    (types.Integer(), "abc"),
    (types.Integer(), ""),
    (types.Integer(), " 1"),
    (types.Integer(), "1_000"),
    (types.Integer(), "\uff11\uff12"),  # fullwidth digits: int() takes them, a database does not
    (types.Integer(), "1.0"),
    (types.Integer(), str(2**31)),
    (types.Integer(), str(10**30)),
    (types.BigInteger(), str(2**63)),
    (types.SmallInteger(), "40000"),
    (types.Numeric(), "NaN"),
    (types.Numeric(), "1e99999"),
    (types.Numeric(), "1" * 50),
    (types.Float(), "inf"),
    (types.Float(), "1e999"),
    (types.Boolean(), "true"),
    (types.Date(), "2023-13-45"),
    (types.Date(), "yesterday"),
    (types.DateTime(), "2024-02-30T00:00"),
    (types.Time(), "25:00"),
    (types.Enum(AdmFltStatus), "draft"),
    (types.Enum(AdmFltStatus), "__class__"),
    (types.Enum("paper", "ebook"), "pdf"),
    (types.Uuid(), "not-a-uuid"),
    (types.String(), "nul\x00here"),
    (types.String(), "lone \ud800 surrogate"),
    (types.Integer(), "1\x00"),
])
def test_parse_value_refuses(kind: types.TypeEngine[Any], raw: str) -> None:
    with pytest.raises(ValueError):
        parse_value(kind, raw)


def test_parse_value_of_a_type_that_takes_no_text() -> None:
    with pytest.raises(TypeError, match="takes no value from text"):
        parse_value(types.JSON(), "{}")
    with pytest.raises(TypeError):
        parse_value(types.LargeBinary(), "x")


def test_format_value() -> None:
    assert format_value(AdmFltStatus.DRAFT) == "DRAFT"
    assert format_value(True) == "1"
    assert format_value(dt.datetime(2024, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(
        hours=2)))) == "2024-03-01T10:00:00"
    assert format_value(dt.date(2024, 3, 1)) == "2024-03-01"
    assert format_value(decimal.Decimal("12.50")) == "12.50"
    assert format_value(7) == "7"


def test_utc_for() -> None:
    moment = dt.datetime(2024, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert utc_for(types.DateTime(), moment) == dt.datetime(2024, 3, 1, 10)
    assert utc_for(types.DateTime(timezone=True), moment) == \
        dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
