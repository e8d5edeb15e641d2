"""Model forms check a model's CHECK constraints of common shapes before saving:
bounds, lengths, lists of values and comparisons of two columns, as field (or form)
errors; what they cannot read is left to the database, whose refusal is a 409."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from forms_helpers import bind
from sqlalchemy import CheckConstraint, Numeric, String, column, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from heron import App, RedirectResponse, Request, render
from heron.db import Model, db
from heron.forms import ModelForm
from heron.forms._constraints import Comparison, Rule, parse
from heron.testing import TestClient, extract_csrf_token


class CkProduct(Model):
    __verbose_name__ = "product"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock",
                        info={"message": "Stock cannot be negative."}),
        CheckConstraint("price > 0 AND price <= 10000", name="price"),
        CheckConstraint("discount < 50.5", name="discount"),
        CheckConstraint("length(sku) >= 3", name="sku"),
        CheckConstraint("code <> ''", name="code"),
        CheckConstraint("size IN ('S', 'M', 'L')", name="size"),
        CheckConstraint(column("weight") >= 0, name="weight"),  # an expression object
        CheckConstraint(column("rating").between(1, 5), name="rating"),
        CheckConstraint("min_qty <= max_qty", name="qty"),
        CheckConstraint("starts < ends", name="dates",
                        info={"message": "The sale must end after it starts."}),
        CheckConstraint("stock < 1000000 OR price > 100", name="either"),  # not read
    )

    sku: Mapped[str] = mapped_column(String(20))
    code: Mapped[str | None] = mapped_column(String(10))
    stock: Mapped[int] = mapped_column(default=0)
    price: Mapped[float]
    discount: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    size: Mapped[str] = mapped_column(String(2), default="M")
    weight: Mapped[float | None]
    rating: Mapped[int | None]
    min_qty: Mapped[int | None]
    max_qty: Mapped[int | None]
    starts: Mapped[dt.date | None]
    ends: Mapped[dt.date | None]


class ProductForm(ModelForm):
    class Meta:
        model = CkProduct
        fields = "__all__"


VALID = {"sku": "abc", "code": "X1", "stock": "3", "price": "9.5", "discount": "",
         "size": "M", "weight": "", "rating": "", "min_qty": "", "max_qty": "",
         "starts": "", "ends": ""}


def product_form(session: Session | None, **values: Any) -> ProductForm:
    form = bind(ProductForm, **{**VALID, **values})
    form.session = session
    return form


# -- reading constraints -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "rules"), [
    ("stock >= 0", [Rule("stock", "bound", ">=", Decimal(0))]),
    ('("stock" > -1.5)', [Rule("stock", "bound", ">", Decimal("-1.5"))]),
    ("0 <= stock", [Rule("stock", "bound", ">=", Decimal(0))]),
    ("product.stock < 10", [Rule("stock", "bound", "<", Decimal(10))]),
    ("a >= 0 AND (b <= 5)", [Rule("a", "bound", ">=", Decimal(0)),
                             Rule("b", "bound", "<=", Decimal(5))]),
    ("n BETWEEN 1 AND 5", [Rule("n", "bound", ">=", Decimal(1)),
                           Rule("n", "bound", "<=", Decimal(5))]),
    ("name <> ''", [Rule("name", "length", ">", 0)]),
    ("LENGTH(name) != 0", [Rule("name", "length", ">", 0)]),
    ("char_length(name) <= 5", [Rule("name", "length", "<=", 5)]),
    ("size IN ('S', 'it''s')", [Rule("size", "one_of", "in", ("S", "it's"))]),
    ("n in (1, 2.5)", [Rule("n", "one_of", "in", (Decimal(1), Decimal("2.5")))]),
    ("a <= b", [Comparison("a", "<=", "b")]),
    # Whatever has another shape is the database's to check.
    ("a >= 0 OR b >= 0", []),
    ("a >= 0 AND b >= 0 OR c", []),
    ("NOT a >= 0", []),
    ("a NOT BETWEEN 1 AND 5", []),
    ("a NOT IN (1, 2)", []),
    ("a IN ('x', NULL)", []),
    ("a IN (SELECT id FROM b)", []),
    ("a >= b + 1", []),
    ("a >= 1e3", []),
    ("lower(a) = a", []),
    ("a <> b", []),
])
def test_shapes_of_check_constraints(text: str, rules: list[Any]) -> None:
    assert parse(text) == rules


def test_constraints_become_field_options() -> None:
    specs = ProductForm.field_specs()
    options = {name: spec.options for name, spec in specs.items()}
    assert (options["stock"].ge, options["stock"].le) == (0, 2**31 - 1)
    assert options["stock"].error_messages == {"greater_than_equal": "Stock cannot be negative."}
    assert (options["price"].gt, options["price"].le) == (0, 10000)
    assert options["discount"].lt == Decimal("50.5")
    assert (options["sku"].min_length, options["sku"].max_length) == (3, 20)
    assert options["code"].min_length == 1
    assert options["size"].choices == ["S", "M", "L"]
    assert options["weight"].ge == 0
    assert (options["rating"].ge, options["rating"].le) == (1, 5)
    assert ProductForm._comparisons == [
        Comparison("min_qty", "<=", "max_qty"),
        Comparison("starts", "<", "ends", "The sale must end after it starts.")]


def test_an_integer_columns_strict_bounds_are_whole_numbers() -> None:
    class CkCounter(Model):
        __table_args__ = (CheckConstraint("hits > 0 AND hits < 10", name="hits"),)
        hits: Mapped[int]

    class CounterForm(ModelForm):
        class Meta:
            model = CkCounter
            fields = ["hits"]

    options = CounterForm.field_specs()["hits"].options
    assert (options.ge, options.le, options.gt, options.lt) == (1, 9, None, None)
    assert 'min="1" max="9"' in str(CounterForm()["hits"])


def test_the_form_refuses_what_the_constraints_refuse(db_session: Session) -> None:
    assert product_form(db_session).is_valid()
    cases = {
        "stock": ("-1", "Stock cannot be negative."),
        "price": ("0", "Ensure this value is greater than 0."),
        "discount": ("50.5", "Ensure this value is less than 50.5."),
        "sku": ("ab", "Ensure this value has at least 3 characters."),
        "size": ("XL", "Select a valid choice."),
        "weight": ("-0.5", "Ensure this value is greater than or equal to 0."),
        "rating": ("6", "Ensure this value is less than or equal to 5."),
    }
    for name, (value, message) in cases.items():
        assert product_form(db_session, **{name: value}).errors == {name: [message]}, name
    html = str(product_form(db_session)["size"])
    assert html.startswith('<select id="id_size" name="size">')


def test_a_comparison_of_two_columns_is_an_error_of_the_form(db_session: Session) -> None:
    assert product_form(db_session, min_qty="5", max_qty="2").errors == {
        "__all__": ["Min qty must be less than or equal to max qty."]}
    assert product_form(db_session, min_qty="2", max_qty="2").is_valid()
    assert product_form(db_session, min_qty="5").is_valid()  # NULL passes a CHECK
    assert product_form(db_session, starts="2025-05-02", ends="2025-05-01").errors == {
        "__all__": ["The sale must end after it starts."]}

    class Worded(ProductForm):
        error_messages = {"less_than_equal_field": "{label} is more than {other}."}

    form = bind(Worded, **{**VALID, "min_qty": "5", "max_qty": "2"})
    form.session = db_session
    assert form.errors == {"__all__": ["Min qty is more than max qty."]}


def test_a_fields_own_options_win_over_the_constraints(db_session: Session) -> None:
    from heron.forms import field

    class Stricter(ProductForm):
        stock = field(ge=10, error_messages={"greater_than_equal": "At least {ge}."})

    form = bind(Stricter, **{**VALID, "stock": "5"})
    form.session = db_session
    assert form.errors == {"stock": ["At least 10."]}


def test_what_cannot_be_read_is_left_to_the_database(db_session: Session) -> None:
    form = product_form(db_session, stock="2000000", price="50")
    assert form.is_valid()  # "stock < 1000000 OR price > 100" is the database's
    with pytest.raises(IntegrityError):
        form.save()


# -- in a view ---------------------------------------------------------------------------


def products_app(app: App) -> App:
    @app.route("/products/new", methods=["GET", "POST"])
    async def new_product(request: Request) -> Any:
        form = await ProductForm.from_request(request)
        if form.is_valid():
            await form.asave()
            await db.async_session.commit()
            return RedirectResponse("/products/new", 303)
        return render(request, "form.html", form=form, status_code=422 if form.is_bound else 200)

    @app.post("/sync/products/new")
    def new_product_sync(request: Request) -> Any:
        form = ProductForm.from_request_sync(request)
        if form.is_valid():
            form.save()
            db.session.commit()
            return RedirectResponse("/products/new", 303)
        return render(request, "form.html", form=form, status_code=422)

    return app


def count_products() -> int:
    with db.transaction() as session:
        return len(session.scalars(select(CkProduct.id)).all())


@pytest.mark.parametrize("path", ["/products/new", "/sync/products/new"])
def test_a_post_that_breaks_a_check_is_a_422_page_and_nothing_is_saved(
        app: App, db_clean: None, path: str) -> None:
    templates = app.root / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "form.html").write_text('<form method="post">{{ form }}</form>')
    with TestClient(products_app(app)) as client:
        token = extract_csrf_token(client.get("/products/new").text)
        values = {**VALID, "csrf_token": token}
        refused = client.post(path, data={**values, "stock": "-1"})
        assert refused.status_code == 422
        assert ('<ul class="errors" id="id_stock-error"><li>Stock cannot be negative.</li>'
                "</ul>") in refused.text
        assert 'value="-1"' in refused.text
        assert 'min="0"' in refused.text
        assert count_products() == 0

        assert client.post(path, data=values).status_code == 303
        assert count_products() == 1
        # What the form cannot check, the database refuses: a 409, not a 500.
        conflict = client.post(path, data={**values, "stock": "2000000", "price": "50"})
        assert conflict.status_code == 409
        assert "The change conflicts with data already stored." in conflict.text
        assert count_products() == 1


# -- the same verdicts as PostgreSQL -----------------------------------------------------------

CASES = [
    ({}, True),
    ({"stock": "-1"}, False), ({"stock": "0"}, True),
    ({"price": "0"}, False), ({"price": "0.01"}, True), ({"price": "10000"}, True),
    ({"price": "10000.5"}, False),
    ({"discount": "50.49"}, True), ({"discount": "50.5"}, False),
    ({"sku": "ab"}, False), ({"sku": "abc"}, True),
    ({"size": "XL"}, False), ({"size": "L"}, True),
    ({"weight": "-0.5"}, False), ({"weight": "0"}, True),
    ({"rating": "0"}, False), ({"rating": "1"}, True), ({"rating": "5"}, True),
    ({"rating": "6"}, False),
    ({"min_qty": "5", "max_qty": "2"}, False), ({"min_qty": "2", "max_qty": "2"}, True),
    ({"starts": "2025-05-01", "ends": "2025-05-01"}, False),
    ({"starts": "2025-05-01", "ends": "2025-05-02"}, True),
]


def typed(values: dict[str, str]) -> dict[str, Any]:
    """The values as the model's types, to write them without the form."""
    converters: dict[str, Any] = {"stock": int, "price": float, "discount": Decimal,
                                  "weight": float, "rating": int, "min_qty": int,
                                  "max_qty": int, "starts": dt.date.fromisoformat,
                                  "ends": dt.date.fromisoformat}
    return {name: (converters.get(name, str)(value) if value != "" else None)
            for name, value in values.items()}


def test_on_postgresql_the_form_and_the_database_agree(make_app: Any,
                                                       postgres_server: Any) -> None:
    app = make_app(database_url=postgres_server.create_database("heron_forms_checks"))
    CkProduct.__table__.create(db.state(app).engine())  # type: ignore[attr-defined]
    try:
        with db.context(app):
            session = db.session
            for values, valid in CASES:
                form = product_form(session, **values)
                assert form.is_valid() is valid, (values, form.errors)
                with session.begin_nested() as savepoint:
                    session.add(CkProduct(**typed({**VALID, **values})))
                    try:
                        session.flush()
                    except IntegrityError:
                        stored = False
                    else:
                        stored = True
                    savepoint.rollback()
                assert stored is valid, values
            session.rollback()
    finally:
        import asyncio

        asyncio.run(db.state(app).dispose())


def test_sqlite_agrees_too(db_session: Session) -> None:
    for values, valid in CASES:
        assert product_form(db_session, **values).is_valid() is valid, values
        with db_session.begin_nested() as savepoint:
            db_session.add(CkProduct(**typed({**VALID, **values})))
            try:
                db_session.flush()
            except IntegrityError:
                stored = False
            else:
                stored = True
            savepoint.rollback()
        assert stored is valid, values


def test_an_expression_object_is_read_from_its_compiled_sql() -> None:
    rules = parse(str(CheckConstraint(func.length(column("sku")) > 2).sqltext.compile(
        compile_kwargs={"literal_binds": True})))
    assert rules == [Rule("sku", "length", ">", 2)]
