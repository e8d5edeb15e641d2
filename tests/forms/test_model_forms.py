"""Model forms: fields from columns, relations as choices, unique checks, create and
update with sync and async sessions, in views and alone."""

from __future__ import annotations

import enum
import re
from decimal import Decimal
from typing import Any

import pytest
from forms_helpers import bind
from sqlalchemy import (
    JSON,
    BigInteger,
    Double,
    ForeignKey,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from heron import App, ImproperlyConfigured, RedirectResponse, Request, render
from heron.db import Model, db
from heron.forms import ModelForm, field
from heron.testing import TestClient, extract_csrf_token


class MfStatus(enum.Enum):
    DRAFT = "draft"
    LIVE = "live"


class MfCategory(Model):
    __verbose_name__ = "category"
    name: Mapped[str] = mapped_column(String(40), unique=True)
    hidden: Mapped[bool] = mapped_column(default=False)

    def __str__(self) -> str:
        return self.name


class MfPost(Model):
    __verbose_name__ = "post"
    __table_args__ = (UniqueConstraint("category_id", "title"),)

    title: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    body: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[MfStatus] = mapped_column(default=MfStatus.DRAFT)
    views: Mapped[int] = mapped_column(default=0)
    rank: Mapped[int] = mapped_column(SmallInteger, default=1)
    big: Mapped[int | None] = mapped_column(BigInteger)
    price: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    pinned: Mapped[bool] = mapped_column(default=False)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("mf_category.id"))
    category: Mapped[MfCategory | None] = relationship()


class MfOdd(Model):
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)


class PostForm(ModelForm):
    class Meta:
        model = MfPost
        exclude = ["views"]

    body = field(label="Text", min_length=2)


class ShortPostForm(ModelForm):
    class Meta:
        model = MfPost
        fields = ["title", "slug", "body", "category"]

    title = field(label="Heading")


VALID = {"title": "Hello", "slug": "hello", "body": "Some text", "status": "live",
         "rank": "2", "category": ""}


def post_form(session: Session, instance: MfPost | None = None, **values: Any) -> PostForm:
    data = {**VALID, **values}
    form = bind(PostForm, **{k: v for k, v in data.items() if v is not None})
    form.session, form.instance = session, instance
    return form


@pytest.fixture
def categories(db_session: Session) -> list[MfCategory]:
    rows = [MfCategory(name="News"), MfCategory(name="<b>Howto</b>"),
            MfCategory(name="Secret", hidden=True)]
    db_session.add_all(rows)
    db_session.flush()
    return rows


def test_columns_become_fields(db_session: Session) -> None:
    specs = PostForm.field_specs()
    assert list(specs) == ["title", "slug", "body", "summary", "status", "rank", "big", "price",
                           "pinned", "category"]
    assert (specs["title"].kind, specs["title"].required, specs["title"].options.max_length) \
        == ("text", True, 100)
    assert specs["summary"].optional
    assert not specs["summary"].required
    assert specs["body"].options.widget == "textarea"
    assert specs["body"].label == "Text"
    assert specs["status"].kind == "choice"
    assert specs["status"].default is MfStatus.DRAFT
    assert (specs["rank"].options.ge, specs["rank"].options.le) == (-32768, 32767)
    assert specs["big"].options.le == 2**63 - 1
    assert (specs["price"].options.max_digits, specs["price"].options.decimal_places) == (6, 2)
    assert specs["pinned"].kind == "bool"
    assert not specs["pinned"].required
    assert specs["category"].kind == "choice"
    assert specs["category"].optional


def test_the_unbound_form_offers_related_rows_and_defaults(db_session: Session,
                                                            categories: list[MfCategory]) -> None:
    html = str(PostForm(session=db_session))
    options = re.findall(r'<option value="(\d*)"[^>]*>(.*?)</option>', html.split('"category"')[1])
    assert options == [("", "---------"), (str(categories[0].id), "News"),
                       (str(categories[1].id), "&lt;b&gt;Howto&lt;/b&gt;"),
                       (str(categories[2].id), "Secret")]
    assert '<option value="draft" selected>Draft</option>' in html
    assert 'name="rank" type="number" min="-32768" max="32767" value="1"' in html
    assert '<textarea id="id_body" name="body" required minlength="2">' in html


def test_create_then_a_duplicate_slug_is_an_error_on_the_field(
        db_session: Session, categories: list[MfCategory]) -> None:
    form = post_form(db_session, category=str(categories[0].id), price="9.99", pinned="on")
    assert form.is_valid(), form.errors
    post = form.save()
    db_session.commit()
    assert post.id is not None
    stored = db_session.get(MfPost, post.id)
    assert stored is not None
    assert (stored.title, stored.category, stored.status, stored.price, stored.pinned,
            stored.views) == ("Hello", categories[0], MfStatus.LIVE, Decimal("9.99"), True, 0)

    again = post_form(db_session, title="Other")
    assert not again.is_valid()
    assert again.errors == {"slug": ["A post with this slug already exists."]}
    html = str(again)
    assert ('<ul class="errors" id="id_slug-error"><li>A post with this slug already exists.'
            "</li></ul>") in html
    assert 'value="hello"' in html  # the value as typed, to correct it
    assert db_session.scalar(select(func.count()).select_from(MfPost)) == 1


def test_fill_then_save_keeps_changes_made_between(
        db_session: Session, categories: list[MfCategory]) -> None:
    form = post_form(db_session, title="Typed")
    assert form.is_valid(), form.errors
    post = form.fill()
    assert post.title == "Typed"
    assert inspect(post).transient  # nothing stored yet
    post.title = "Changed before storing"  # as an admin's save_model may
    assert form.save(fill=False) is post
    db_session.expire_all()
    assert db_session.get(MfPost, post.id).title == "Changed before storing"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="not valid"):
        post_form(db_session, title="").fill()


def test_update_keeps_its_own_unique_values_but_not_another_rows(
        db_session: Session, categories: list[MfCategory]) -> None:
    first = post_form(db_session).save()
    second = post_form(db_session, title="Second", slug="second").save()
    db_session.commit()

    unbound = PostForm(instance=second, session=db_session)
    assert 'value="second"' in str(unbound["slug"])
    edit = post_form(db_session, instance=second, title="Second!", slug="second")
    assert edit.is_valid(), edit.errors
    assert edit.save() is second
    db_session.commit()
    assert db_session.get(MfPost, second.id).title == "Second!"  # type: ignore[union-attr]

    clash = post_form(db_session, instance=second, slug=first.slug)
    assert clash.errors == {"slug": ["A post with this slug already exists."]}
    assert db_session.get(MfPost, second.id).slug == "second"  # type: ignore[union-attr]


def test_unique_together_is_an_error_of_the_form(db_session: Session,
                                                 categories: list[MfCategory]) -> None:
    news = str(categories[0].id)
    post_form(db_session, category=news).save()
    clash = post_form(db_session, slug="other", category=news)
    assert clash.errors == {"__all__": ["A post with this category and title already exists."]}
    # Another category, or none (NULLs never collide), is fine.
    assert post_form(db_session, slug="b", category=str(categories[1].id)).is_valid()
    assert post_form(db_session, slug="c").is_valid()


@pytest.mark.parametrize("value", ["999", "-1", "abc", "1 OR 1=1", "1.0", "<script>"])
def test_a_related_row_that_is_not_offered_is_an_invalid_choice(
        db_session: Session, categories: list[MfCategory], value: str) -> None:
    assert post_form(db_session, category=value).errors == {
        "category": ["Select a valid choice."]}


def test_choices_query_can_filter_the_related_rows(db_session: Session,
                                                   categories: list[MfCategory]) -> None:
    class VisibleForm(ShortPostForm):
        def choices_query(self, name: str, model: type[Any]) -> Any:
            return select(MfCategory).where(~MfCategory.hidden).order_by(MfCategory.name)

    form = VisibleForm(session=db_session)
    assert [c.label for c in form["category"].choices] == ["<b>Howto</b>", "News"]
    secret = bind(VisibleForm, title="t", slug="s", body="b", category=str(categories[2].id))
    secret.session = db_session
    assert secret.errors == {"category": ["Select a valid choice."]}


@pytest.mark.parametrize(("name", "value"), [("rank", "40000"), ("big", str(2**63)),
                                             ("rank", "-40000")])
def test_numbers_out_of_the_columns_range_are_field_errors(db_session: Session, name: str,
                                                           value: str) -> None:
    form = post_form(db_session, **{name: value})
    assert list(form.errors) == [name]
    assert form.errors[name][0].startswith("Ensure this value is")


def test_saving_an_invalid_form_is_a_programming_error(db_session: Session) -> None:
    with pytest.raises(ValueError, match="not valid"):
        post_form(db_session, slug="").save()


def test_fields_and_exclude_only_and_declared_fields(db_session: Session) -> None:
    assert list(ShortPostForm.field_specs()) == ["title", "slug", "body", "category"]
    assert ShortPostForm.field_specs()["title"].label == "Heading"

    class WithExtra(ShortPostForm):
        slug: str = field(pattern="^[a-z-]+$", max_length=50)  # replaces the column's
        notify: bool = False  # not a column: in data, not saved

    form = bind(WithExtra, title="T", slug="Bad Slug", body="b")
    form.session = db_session
    assert form.errors == {"slug": ["Enter a valid value."]}
    ok = bind(WithExtra, title="T", slug="good-slug", body="b", notify="on")
    ok.session = db_session
    assert ok.data["notify"] is True
    assert ok.save().slug == "good-slug"


def test_mistakes_in_a_model_form_are_clear() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"fields.*heron.forms.E003"):
        class NoFields(ModelForm):
            class Meta:
                model = MfPost

    class Unknown(ModelForm):
        class Meta:
            model = MfPost
            fields = ["title", "author"]

    with pytest.raises(ImproperlyConfigured, match=r"no column.*'author'.*heron.forms.E004"):
        Unknown.field_specs()

    class Odd(ModelForm):
        class Meta:
            model = MfOdd
            fields = ["settings"]

    with pytest.raises(ImproperlyConfigured, match=r"column 'settings'.*heron.forms.E005"):
        Odd.field_specs()

    class NoModel(ModelForm):
        pass

    with pytest.raises(ImproperlyConfigured, match=r"Meta with a model.*heron.forms.E006"):
        NoModel.field_specs()


class MfReading(Model):
    value: Mapped[float]  # Float: no Numeric subclass from SQLAlchemy 2.1 on
    exact: Mapped[float | None] = mapped_column(Double)


def test_float_columns_become_float_fields(db_session: Session) -> None:
    class ReadingForm(ModelForm):
        class Meta:
            model = MfReading
            fields = ["value", "exact"]

    specs = ReadingForm.field_specs()
    assert [(s.kind, s.required) for s in specs.values()] == [("float", True), ("float", False)]
    form = bind(ReadingForm, value="2.5", exact="nan")
    form.session = db_session
    assert form.errors == {"exact": ["Enter a number."]}
    form = bind(ReadingForm, value="2.5", exact="")
    form.session = db_session
    assert form.save().value == 2.5


# -- async sessions, and in views -----------------------------------------------------


async def test_async_session_prepare_validate_and_save(app: App, db_clean: None) -> None:
    async with db.async_context(app):
        session = db.async_session
        session.add(MfCategory(name="News"))
        await session.commit()
        form = bind(PostForm, **VALID)
        form.session = session
        with pytest.raises(RuntimeError, match=r"await form.aprepare\(\)"):
            form.is_valid()
        await form.aprepare()
        assert form.is_valid(), form.errors
        post = await form.asave()
        await session.commit()
        assert post.id is not None

        again = bind(PostForm, **VALID)
        again.session = session
        await again.aprepare()
        assert again.errors == {"slug": ["A post with this slug already exists."]}
        with pytest.raises(TypeError, match="needs an AsyncSession"):
            await again.asave(db.session)  # type: ignore[arg-type]

        update = PostForm(again.raw, instance=post, session=session)
        await update.aprepare()  # its own slug is no clash
        assert update.is_valid(), update.errors
        assert (await update.asave()).id == post.id


def posts_app(app: App) -> App:
    @app.route("/posts/new", methods=["GET", "POST"])
    async def new_post(request: Request) -> Any:
        form = await ShortPostForm.from_request(request)
        if form.is_valid():
            post = await form.asave()
            await db.async_session.commit()
            return RedirectResponse(f"/posts/{post.id}/edit", 303)
        return render(request, "post.html", form=form, status_code=422 if form.is_bound else 200)

    @app.route("/posts/{id:int}/edit", methods=["GET", "POST"])
    def edit_post(request: Request, id: int) -> Any:
        post = db.get_or_404(MfPost, id)
        form = ShortPostForm.from_request_sync(request, instance=post)
        if form.is_valid():
            form.save()
            db.session.commit()
            return RedirectResponse(f"/posts/{id}/edit", 303)
        return render(request, "post.html", form=form, status_code=422 if form.is_bound else 200)

    return app


@pytest.fixture
def posts(app: App, db_clean: None) -> Any:
    templates = app.root / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "post.html").write_text('<form method="post">{{ form }}</form>')
    with db.transaction() as session:
        session.add(MfCategory(name="News"))
    with TestClient(posts_app(app)) as client:
        yield client


def test_views_create_and_update_with_unique_errors_on_the_field(posts: TestClient) -> None:
    page = posts.get("/posts/new")
    assert page.status_code == 200
    assert "<option" in page.text
    assert ">News</option>" in page.text
    token = extract_csrf_token(page.text)
    values = {"title": "First", "slug": "first", "body": "b", "csrf_token": token}
    created = posts.post("/posts/new", data=values)
    assert created.status_code == 303
    edit_url = created.headers["location"]

    duplicate = posts.post("/posts/new", data={**values, "title": "Other"})
    assert duplicate.status_code == 422
    assert ('<ul class="errors" id="id_slug-error"><li>A post with this slug already exists.'
            "</li></ul>") in duplicate.text
    assert 'aria-invalid="true" aria-describedby="id_slug-error"' in duplicate.text

    second = posts.post("/posts/new", data={**values, "title": "Second", "slug": "second"})
    assert second.status_code == 303
    edit_page = posts.get(edit_url)
    assert 'value="first"' in edit_page.text
    updated = posts.post(edit_url, data={**values, "title": "First, edited"})
    assert updated.status_code == 303
    clash = posts.post(edit_url, data={**values, "slug": "second"})
    assert clash.status_code == 422
    assert "A post with this slug already exists." in clash.text
    with db.transaction() as session:
        titles = session.scalars(select(MfPost.title).order_by(MfPost.id)).all()
    assert titles == ["First, edited", "Second"]
    assert posts.get("/posts/999/edit").status_code == 404


def test_on_postgresql_unique_checks_and_column_ranges(make_app: Any,
                                                       postgres_server: Any) -> None:
    """PostgreSQL is strict where SQLite is not (a 2**31 in an INTEGER fails there): the
    form's range checks and unique checks keep such input a field error."""
    app = make_app(database_url=postgres_server.create_database("heron_forms_model_forms"))
    db.create_all(app)
    try:
        with db.context(app):
            session = db.session
            form = post_form(session, rank="32767", big=str(2**63 - 1))
            assert form.is_valid(), form.errors
            form.save()
            session.commit()
            assert post_form(session, rank="32768", slug="new").errors == {
                "rank": ["Ensure this value is less than or equal to 32767."]}
            assert post_form(session, title="Other").errors == {
                "slug": ["A post with this slug already exists."]}
            assert post_form(session, slug="x\x00y").errors == {
                "slug": ["Null characters are not allowed."]}
    finally:
        import asyncio

        asyncio.run(db.state(app).dispose())
