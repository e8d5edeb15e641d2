"""Model forms and many-to-many relationships: a multiple select (or checkboxes) of
the related rows, the instance's rows as initial value, forged keys refused, the
collection replaced on save, with sync and async sessions."""

from __future__ import annotations

import re
from typing import Any

import pytest
from forms_helpers import bind
from sqlalchemy import Column, ForeignKey, String, Table, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from heron import App, RedirectResponse, Request, render
from heron.auth.models import Group, Permission
from heron.db import Model, db
from heron.forms import ModelForm, field
from heron.testing import TestClient, extract_csrf_token

mm_article_tags = Table(
    "mm_article_tags", Model.metadata,
    Column("article_id", ForeignKey("mm_article.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("mm_tag.id", ondelete="CASCADE"), primary_key=True),
)
mm_article_labels = Table(
    "mm_article_labels", Model.metadata,
    Column("article_id", ForeignKey("mm_article.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("mm_tag.id", ondelete="CASCADE"), primary_key=True),
)


class MmTag(Model):
    name: Mapped[str] = mapped_column(String(40))
    hidden: Mapped[bool] = mapped_column(default=False)

    def __str__(self) -> str:
        return self.name


class MmArticle(Model):
    __verbose_name__ = "article"

    title: Mapped[str] = mapped_column(String(100))
    tags: Mapped[list[MmTag]] = relationship(secondary=mm_article_tags, order_by=MmTag.id)
    labels: Mapped[set[MmTag]] = relationship(secondary=mm_article_labels)
    # Read-only views of a collection are no form fields.
    visible_tags: Mapped[list[MmTag]] = relationship(
        secondary=mm_article_tags, viewonly=True,
        primaryjoin="MmArticle.id == mm_article_tags.c.article_id",
        secondaryjoin="and_(MmTag.id == mm_article_tags.c.tag_id, MmTag.hidden == False)")


class ArticleForm(ModelForm):
    class Meta:
        model = MmArticle
        fields = ["title", "tags"]


class AllForm(ModelForm):
    class Meta:
        model = MmArticle
        fields = "__all__"


def tag_options(html: str, name: str = "tags") -> list[tuple[str, str, bool]]:
    select_html = html.split(f'name="{name}"', 1)[1].split("</select>")[0]
    return [(value, label, bool(selected)) for value, selected, label in re.findall(
        r'<option value="([^"]*)"( selected)?>(.*?)</option>', select_html)]


@pytest.fixture
def tags(db_session: Session) -> list[MmTag]:
    rows = [MmTag(name="news"), MmTag(name="<b>howto</b>"), MmTag(name="secret", hidden=True)]
    db_session.add_all(rows)
    db_session.flush()
    return rows


def article_form(session: Session, *keys: Any, instance: MmArticle | None = None,
                 form_class: type[ModelForm] = ArticleForm, **values: Any) -> Any:
    form = bind(form_class, *[("tags", str(key)) for key in keys],
                **{"title": "Hello", **values})
    form.session, form.instance = session, instance
    return form


def test_many_to_many_fields_are_listed_when_named_or_with_all() -> None:
    assert list(ArticleForm.field_specs()) == ["title", "tags"]
    assert list(AllForm.field_specs()) == ["title", "tags", "labels"]  # not the view-only one
    spec = ArticleForm.field_specs()["tags"]
    assert (spec.kind, spec.many, spec.required) == ("choice", True, False)

    class WithoutTags(ModelForm):
        class Meta:
            model = MmArticle
            exclude = ["tags", "labels"]

    assert list(WithoutTags.field_specs()) == ["title"]


def test_the_unbound_form_is_a_multiple_select_of_the_related_rows(
        db_session: Session, tags: list[MmTag]) -> None:
    html = str(ArticleForm(session=db_session))
    assert '<select id="id_tags" name="tags" multiple>' in html
    assert tag_options(html) == [(str(tags[0].id), "news", False),
                                 (str(tags[1].id), "&lt;b&gt;howto&lt;/b&gt;", False),
                                 (str(tags[2].id), "secret", False)]
    assert "---------" not in html.split('name="tags"')[1]  # no empty choice in a multiple

    class CheckboxForm(ArticleForm):
        tags = field(widget="checkboxes", label="Topics")

    boxes = str(CheckboxForm(session=db_session))
    assert "<legend>Topics</legend>" in boxes
    assert (f'<label for="id_tags_0"><input type="checkbox" name="tags" id="id_tags_0" '
            f'value="{tags[0].id}"> news</label>') in boxes


def test_an_instance_shows_its_related_rows_selected(db_session: Session,
                                                    tags: list[MmTag]) -> None:
    article = MmArticle(title="Hello", tags=[tags[0], tags[2]])
    db_session.add(article)
    db_session.flush()
    db_session.expire(article)  # read from the database, as in a new request
    html = str(ArticleForm(instance=article, session=db_session)["tags"])
    assert [selected for _, _, selected in tag_options(html)] == [True, False, True]
    # initial= takes rows or keys.
    chosen = ArticleForm(session=db_session, initial={"tags": [tags[1], str(tags[2].id)]})
    assert [selected for _, _, selected in tag_options(str(chosen["tags"]))] == \
        [False, True, True]


def test_binding_gives_the_rows_once_each_in_the_order_sent(db_session: Session,
                                                           tags: list[MmTag]) -> None:
    form = article_form(db_session, tags[2].id, tags[0].id, tags[2].id)
    assert form.is_valid(), form.errors
    assert form.data["tags"] == [tags[2], tags[0]]
    assert article_form(db_session).data["tags"] == []  # none chosen: optional


@pytest.mark.parametrize("forged", ["999", "-1", "abc", "1 OR 1=1", "1.0", "", "<script>"])
def test_a_key_that_is_not_offered_is_an_error_on_the_field(
        db_session: Session, tags: list[MmTag], forged: str) -> None:
    form = article_form(db_session, tags[0].id, forged)
    if forged == "":
        assert form.is_valid()  # an empty value is no value
        return
    assert form.errors == {"tags": ["Select a valid choice."]}
    html = str(form)
    assert 'aria-invalid="true"' in html
    assert tag_options(html)[0][2] is True  # kept as sent


def test_choices_query_filters_the_rows_of_a_many_to_many_field_too(
        db_session: Session, tags: list[MmTag]) -> None:
    class VisibleForm(ArticleForm):
        def choices_query(self, name: str, model: type[Any]) -> Any:
            assert (name, model) == ("tags", MmTag)
            return select(MmTag).where(~MmTag.hidden).order_by(MmTag.name)

    assert [label for _, label, _ in tag_options(str(VisibleForm(session=db_session)))] == \
        ["&lt;b&gt;howto&lt;/b&gt;", "news"]
    secret = article_form(db_session, tags[2].id, form_class=VisibleForm)
    assert secret.errors == {"tags": ["Select a valid choice."]}


def test_at_least_one_row_with_min_length(db_session: Session, tags: list[MmTag]) -> None:
    class NeedsATag(ArticleForm):
        tags = field(min_length=1, max_length=2)

    empty = article_form(db_session, form_class=NeedsATag)
    assert empty.errors == {"tags": ["This field is required."]}
    assert "required" in str(empty["tags"].attrs)
    many = article_form(db_session, *[t.id for t in tags], form_class=NeedsATag)
    assert many.errors == {"tags": ["Select at most 2 items."]}


def test_save_sets_the_collection_of_a_new_row_and_replaces_an_existing_ones(
        db_session: Session, tags: list[MmTag]) -> None:
    created = article_form(db_session, tags[0].id, tags[1].id).save()
    assert created.id is not None
    db_session.expire_all()
    assert db_session.get(MmArticle, created.id).tags == [tags[0], tags[1]]  # type: ignore[union-attr]

    edit = article_form(db_session, tags[2].id, tags[1].id, instance=created, title="Edited")
    assert edit.save() is created
    db_session.expire_all()
    stored = db_session.get(MmArticle, created.id)
    assert stored is not None
    assert (stored.title, stored.tags) == ("Edited", [tags[1], tags[2]])
    links = db_session.execute(select(mm_article_tags.c.tag_id).where(
        mm_article_tags.c.article_id == created.id)).scalars().all()
    assert sorted(links) == [tags[1].id, tags[2].id]

    article_form(db_session, instance=stored).save()  # none chosen: emptied
    db_session.expire_all()
    assert db_session.get(MmArticle, created.id).tags == []  # type: ignore[union-attr]


def test_a_set_collection_is_saved_as_a_set(db_session: Session, tags: list[MmTag]) -> None:
    form = bind(AllForm, ("labels", str(tags[0].id)), ("labels", str(tags[1].id)),
                title="Labelled")
    form.session = db_session
    article = form.save()
    assert article.labels == {tags[0], tags[1]}
    assert article.tags == []


def test_auth_group_permissions(db_session: Session) -> None:
    perms = [Permission(component="blog", model="post", codename=f"{verb}_post",
                        name=f"Can {verb} post") for verb in ("add", "change", "delete")]
    db_session.add_all(perms)
    db_session.flush()

    class GroupForm(ModelForm):
        class Meta:
            model = Group
            fields = ["name", "permissions"]

    form = bind(GroupForm, ("permissions", str(perms[0].id)),
                ("permissions", str(perms[2].id)), name="Editors")
    form.session = db_session
    group = form.save()
    assert group.permissions == [perms[0], perms[2]]
    assert [label for _, label, _ in tag_options(str(GroupForm(instance=group,
                                                                session=db_session)),
                                                  "permissions")][:3] == \
        ["blog.add_post", "blog.change_post", "blog.delete_post"]


# -- in views: async (AsyncSession through run_sync) and sync -----------------------------


def articles_app(app: App) -> App:
    @app.route("/articles/new", methods=["GET", "POST"])
    async def new_article(request: Request) -> Any:
        form = await ArticleForm.from_request(request)
        if form.is_valid():
            article = await form.asave()
            await db.async_session.commit()
            return RedirectResponse(f"/articles/{article.id}", 303)
        return render(request, "form.html", form=form, status_code=422 if form.is_bound else 200)

    @app.route("/articles/{id:int}", methods=["GET", "POST"])
    async def edit_article(request: Request, id: int) -> Any:
        article = await db.aget_or_404(MmArticle, id)
        form = await ArticleForm.from_request(request, instance=article)
        if form.is_valid():
            await form.asave()
            await db.async_session.commit()
            return RedirectResponse(f"/articles/{id}", 303)
        return render(request, "form.html", form=form, status_code=422 if form.is_bound else 200)

    @app.route("/sync/articles/{id:int}", methods=["GET", "POST"])
    def edit_article_sync(request: Request, id: int) -> Any:
        article = db.get_or_404(MmArticle, id)
        form = ArticleForm.from_request_sync(request, instance=article)
        if form.is_valid():
            form.save()
            db.session.commit()
            return RedirectResponse(f"/sync/articles/{id}", 303)
        return render(request, "form.html", form=form, status_code=422 if form.is_bound else 200)

    return app


@pytest.fixture
def client(app: App, db_clean: None) -> Any:
    templates = app.root / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "form.html").write_text('<form method="post">{{ form }}</form>')
    with db.transaction() as session:
        session.add_all([MmTag(name="news"), MmTag(name="howto"), MmTag(name="ideas")])
    with TestClient(articles_app(app)) as test_client:
        yield test_client


def stored_tags(article_id: int) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(
            select(MmTag.name).join(mm_article_tags, mm_article_tags.c.tag_id == MmTag.id)
            .where(mm_article_tags.c.article_id == article_id).order_by(MmTag.id)))


def test_views_render_bind_and_save_through_async_and_sync_sessions(client: TestClient) -> None:
    page = client.get("/articles/new")
    assert '<select id="id_tags" name="tags" multiple>' in page.text
    token = extract_csrf_token(page.text)
    created = client.post("/articles/new", data={"title": "Hi", "tags": ["1", "3"],
                                                 "csrf_token": token})
    assert created.status_code == 303
    url = created.headers["location"]
    article_id = int(url.rsplit("/", 1)[1])
    assert stored_tags(article_id) == ["news", "ideas"]

    # The instance's rows, loaded in run_sync (no lazy load while drawing).
    edit = client.get(url).text
    assert [selected for _, _, selected in tag_options(edit)] == [True, False, True]

    forged = client.post(url, data={"title": "Hi", "tags": ["2", "99"], "csrf_token": token})
    assert forged.status_code == 422
    assert "Select a valid choice." in forged.text
    assert stored_tags(article_id) == ["news", "ideas"]  # nothing saved

    assert client.post(url, data={"title": "Hi", "tags": ["2"],
                                  "csrf_token": token}).status_code == 303
    assert stored_tags(article_id) == ["howto"]

    sync_url = f"/sync/articles/{article_id}"
    assert [s for _, _, s in tag_options(client.get(sync_url).text)] == [False, True, False]
    assert client.post(sync_url, data={"title": "Hi", "tags": ["1", "2"],
                                       "csrf_token": token}).status_code == 303
    assert stored_tags(article_id) == ["news", "howto"]
    assert client.post(sync_url, data={"title": "Hi", "csrf_token": token}).status_code == 303
    assert stored_tags(article_id) == []
