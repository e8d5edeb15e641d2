"""heron.admin.search: search_fields and a term as a condition, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from admin_filter_models import NOW, TABLES, TODAY, AdmFltBook, seed, titles
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from heron.admin.lookups import FieldPathError
from heron.admin.search import MAX_WORDS, search_condition, search_words
from heron.db import Model

pytest_plugins = ["admin_filter_models"]


def found(session: Session, fields: Sequence[str], term: str) -> list[str]:
    """The titles of the books that searching ``term`` in ``fields`` lists."""
    dialect = session.get_bind().dialect.name
    condition = search_condition(AdmFltBook, fields, term, dialect)
    statement = select(AdmFltBook)
    if condition is not None:
        statement = statement.where(condition)
    return titles(session, statement=statement)


ALL = ["100% plum_jam", "Fig notes", "Pear tart", "Red apple pie"]


# -- words -------------------------------------------------------------------------


@pytest.mark.parametrize(("term", "words"), [
    ('"red apple" pie', ["red apple", "pie"]),
    ("  red   apple  ", ["red", "apple"]),
    ("'red apple' pie", ["red apple", "pie"]),
    ("O'Hara's pie", ["O'Hara's", "pie"]),
    ('"unclosed phrase', ["unclosed", "phrase"]),
    ('"" pie ""', ["pie"]),
    ("Pie pie PIE", ["Pie"]),
    ("nul\x00byte", ["nulbyte"]),
    ("", []),
    ("   ", []),
])
def test_search_words(term: str, words: list[str]) -> None:
    assert search_words(term) == words


def test_search_words_are_capped() -> None:
    assert len(search_words(" ".join(f"w{i}" for i in range(500)))) == MAX_WORDS


# -- what is searched --------------------------------------------------------------


def test_no_term_no_condition() -> None:
    assert search_condition(AdmFltBook, ["title"], "", "sqlite") is None
    assert search_condition(AdmFltBook, ["title"], '  "" ', "postgresql") is None
    assert search_condition(AdmFltBook, [], "apple", "sqlite") is None


@pytest.mark.parametrize(("field", "says"), [
    ("nope", "no column or relationship 'nope'"),
    ("^author__nope", "AdmFltAuthor has no column or relationship 'nope'"),
    ("author", "ends on a relationship"),
    ("tags", "ends on a relationship"),
    ("^", "empty field path"),
    ("", "is not a field path"),
    ("title__x", "is a column"),
])
def test_bad_fields_raise_even_without_a_term(field: str, says: str) -> None:
    with pytest.raises(FieldPathError, match=says):
        search_condition(AdmFltBook, ["title", field], "", "sqlite")


def test_contains_case_insensitive_and_across_words(lib_session: Session) -> None:
    seed(lib_session)
    assert found(lib_session, ["title"], "APPLE") == ["Red apple pie"]
    assert found(lib_session, ["title"], "pie red") == ["Red apple pie"]  # AND of words
    assert found(lib_session, ["title"], "red tart") == []
    assert found(lib_session, ["title"], "") == ALL
    # a word may match any field (OR across fields)
    assert found(lib_session, ["title", "subtitle"], "baking apple") == ["Red apple pie"]
    assert found(lib_session, ["title", "subtitle"], "figs") == ["Fig notes"]


def test_phrases(lib_session: Session) -> None:
    seed(lib_session)
    assert found(lib_session, ["title"], '"apple pie"') == ["Red apple pie"]
    assert found(lib_session, ["title"], '"pie apple"') == []
    assert found(lib_session, ["title"], '"apple pie" red') == ["Red apple pie"]


def test_prefixes(lib_session: Session) -> None:
    seed(lib_session)
    assert found(lib_session, ["^title"], "red") == ["Red apple pie"]
    assert found(lib_session, ["^title"], "apple") == []
    assert found(lib_session, ["=title"], '"PEAR TART"') == ["Pear tart"]
    assert found(lib_session, ["=title"], "pear") == []
    assert found(lib_session, ["=title", "^subtitle"], "pear") == []
    assert found(lib_session, ["=title", "^subtitle"], "figs") == ["Fig notes"]


def test_like_wildcards_match_themselves(lib_session: Session) -> None:
    seed(lib_session)
    assert found(lib_session, ["title"], "%") == ["100% plum_jam"]
    assert found(lib_session, ["title"], "_") == ["100% plum_jam"]
    assert found(lib_session, ["title"], "100%") == ["100% plum_jam"]
    assert found(lib_session, ["title"], "m_j") == ["100% plum_jam"]
    assert found(lib_session, ["title"], "p%e") == []  # % is no wildcard: no "p%e"
    assert found(lib_session, ["blurb"], "\\") == ["100% plum_jam"]
    assert found(lib_session, ["blurb"], "k\\s") == ["100% plum_jam"]
    assert found(lib_session, ["^title"], "100%") == ["100% plum_jam"]
    assert found(lib_session, ["=title"], "100%_plum_jam") == []


def test_across_relationships_without_repeating_rows(lib_session: Session) -> None:
    seed(lib_session)
    assert found(lib_session, ["author__name"], "ann") == ["Red apple pie"]
    assert found(lib_session, ["author__country__name"], "fra") == ["Red apple pie"]
    # three books are tagged red; apple has two tags that contain "e"
    assert found(lib_session, ["tags__name"], "re") == ["Fig notes", "Pear tart",
                                                          "Red apple pie"]
    assert found(lib_session, ["tags__name"], "e") == ["Fig notes", "Pear tart",
                                                         "Red apple pie"]
    # two reviews of the apple pie say "great"
    assert found(lib_session, ["reviews__body"], "great") == ["Red apple pie"]
    # fields through the same relationship and through others
    assert found(lib_session, ["title", "author__name", "author__email", "tags__name"],
                 "example green") == ["Red apple pie"]
    assert found(lib_session, ["author__name", "author__email"], "o'hara") == ["Pear tart"]
    assert found(lib_session, ["author__name"], "100%") == ["100% plum_jam"]
    assert found(lib_session, ["author__name"], "pure_joy") == ["100% plum_jam"]


def test_integer_columns_match_integer_words_exactly(lib_session: Session) -> None:
    seed(lib_session)
    assert found(lib_session, ["pages"], "120") == ["Fig notes", "Red apple pie"]
    assert found(lib_session, ["title", "pages"], "12") == []  # no "12" in 120
    assert found(lib_session, ["title", "=pages", "^edition"], "80") == ["Pear tart"]
    assert found(lib_session, ["title", "pages"], "tart 80") == ["Pear tart"]
    assert found(lib_session, ["title", "pages"], "tart 120") == []
    assert found(lib_session, ["title", "pages"], "100") == ["100% plum_jam"]
    assert found(lib_session, ["reviews__stars"], "5") == ["Red apple pie"]


@pytest.mark.parametrize("word", [
    "abc", "1.5", "1e3", "99999999999999999999999", str(2**31), "-", "\uff11\uff12\uff10", "0x10",
    "1\x002",
])
def test_words_an_integer_column_cannot_hold_are_skipped(lib_session: Session,
                                                         word: str) -> None:
    seed(lib_session)
    assert found(lib_session, ["pages"], word) == []
    assert found(lib_session, ["=pages", "^edition", "@reviews__stars"], word) == []
    assert found(lib_session, ["pages", "title"], f"{word} tart") == []
    assert found(lib_session, ["edition"], "70000") == []  # past a SMALLINT


def test_other_typed_columns(lib_session: Session) -> None:
    seed(lib_session)
    assert found(lib_session, ["price"], "12.5") == ["Fig notes", "Red apple pie"]
    assert found(lib_session, ["price"], "12.50") == ["Fig notes", "Red apple pie"]
    assert found(lib_session, ["price"], "twelve") == []
    assert found(lib_session, ["rating"], "4.5") == ["Fig notes", "Red apple pie"]
    assert found(lib_session, ["rating"], "nan") == []
    assert found(lib_session, ["code"], "12345678123456781234567812345678") == \
        ["Red apple pie"]
    assert found(lib_session, ["code"], "1234") == []
    assert found(lib_session, ["released"], TODAY.isoformat()) == ["Red apple pie"]
    assert found(lib_session, ["released"], "2023-13-45") == []
    # a date word finds that (UTC) day of a datetime, aware or naive
    assert found(lib_session, ["created_at"], TODAY.isoformat()) == ["Red apple pie"]
    assert found(lib_session, ["printed_at"], TODAY.isoformat()) == ["Red apple pie"]
    assert found(lib_session, ["created_at"], "9999-12-31") == []
    assert found(lib_session, ["created_at"], "0001-01-01") == []
    # never searched: yes/no and JSON
    assert found(lib_session, ["published"], "1") == []
    assert found(lib_session, ["extra"], "{}") == []
    assert found(lib_session, ["extra", "title"], "pear") == ["Pear tart"]


def test_enum_columns_are_searched_as_text(lib_session: Session) -> None:
    seed(lib_session)
    # a Python enum is stored by member name
    assert found(lib_session, ["status"], "review") == ["100% plum_jam"]
    assert found(lib_session, ["=status"], "draft") == ["Fig notes", "Pear tart"]
    assert found(lib_session, ["^status"], "pub") == ["Red apple pie"]
    assert found(lib_session, ["kind"], "book") == ["Pear tart"]
    assert found(lib_session, ["@kind"], "ebook") == ["Pear tart"]


def test_full_text(lib_session: Session) -> None:
    seed(lib_session)
    postgres = lib_session.get_bind().dialect.name == "postgresql"
    assert found(lib_session, ["@blurb"], "crumbs") == ["Red apple pie"]
    assert found(lib_session, ["@blurb"], "CRUMBS sweet") == ["Red apple pie"]
    # PostgreSQL matches whole words; elsewhere it is a contains search
    assert found(lib_session, ["@blurb"], "crumb") == ([] if postgres else ["Red apple pie"])
    assert found(lib_session, ["@blurb", "title"], "leaves fig") == ["Fig notes"]
    assert found(lib_session, ["@blurb"], '"green leaves"') == ["Fig notes"]
    # a word with no lexeme matches nothing, without an error
    assert found(lib_session, ["@blurb"], "!!!") == []
    assert found(lib_session, ["@author__name"], "ann") == ["Red apple pie"]


def test_hostile_terms_never_reach_the_database_badly(lib_session: Session) -> None:
    seed(lib_session)
    for term in ["'", '"', "\\", "%%%", "___", "' OR 1=1 --", "a\x00b", "\ud800x",
                 "x" * 5000, " ".join(["pie"] * 1000), "( ) [ ] { } * + ? | ^ $"]:
        fields = ["title", "^subtitle", "=blurb", "@blurb", "pages", "price", "released",
                  "created_at", "code", "status", "kind", "author__name", "tags__name"]
        found(lib_session, fields, term)
    assert found(lib_session, ["title"], "pe\x00ar") == ["Pear tart"]


def test_unicode_case_on_postgresql(request: pytest.FixtureRequest) -> None:
    # heron's test cluster uses the C locale, whose ILIKE folds ASCII only; a database
    # in a UTF-8 locale, as deployed ones are, folds every letter.
    server = request.getfixturevalue("postgres_server")
    try:
        server.execute("CREATE DATABASE heron_admflt_unicode TEMPLATE template0 "
                       "ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'")
    except Exception as exc:  # a system without that locale
        pytest.skip(f"no C.UTF-8 locale for PostgreSQL here: {exc}")
    engine = create_engine(server.url_for("heron_admflt_unicode"))
    try:
        Model.metadata.create_all(engine, tables=TABLES)
        with Session(engine) as session:
            session.add(AdmFltBook(title="Éclair à la crème", created_at=NOW))
            session.commit()
            assert found(session, ["title"], "ÉCLAIR CRÈME") == ["Éclair à la crème"]
            assert found(session, ["^title"], "éCLAIR") == ["Éclair à la crème"]
    finally:
        engine.dispose()
