"""heron.generic: list, detail, create, update and delete views over heron.db models,
with pagination, model forms, templates, guards, object permissions and their bad paths."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from heron import App, ImproperlyConfigured, Request
from heron.auth import alogin, create_user
from heron.db import Model, db
from heron.forms import ModelForm
from heron.generic import CreateView, DeleteView, DetailView, ListView, UpdateView
from heron.testing import TestClient, extract_csrf_token


class GvPost(Model):
    title: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))

    def has_object_permission(self, user: Any, perm: str) -> bool:
        return perm == "app.change_gv_post" and self.owner_id == user.id

    def get_absolute_url(self) -> str:
        return f"/posts/{self.id}"


class GvPostForm(ModelForm):
    class Meta:
        model = GvPost
        fields = ["title", "slug", "body"]


class PostList(ListView):
    model = GvPost
    paginate_by = 2

    def get_query(self) -> Any:
        return select(GvPost).order_by(GvPost.id)

    def get_context(self, context: dict[str, Any]) -> dict[str, Any]:
        # A def hook: it runs in the thread pool and may use db.session.
        context["total"] = db.session.scalar(select(GvPost.id).order_by(GvPost.id.desc()))
        return context


class MyPostCreate(CreateView):
    model = GvPost
    form_class = GvPostForm
    success_url = "/posts/{id}"

    async def form_valid(self, form: ModelForm) -> Any:
        user = await self.request.auser()
        response = await super().form_valid(form)
        if user.is_authenticated:
            form.instance.owner_id = user.id
            await db.async_session.commit()
        return response


TEMPLATES = {
    "gv_post_list.html": "{% for post in gv_post_list %}[{{ post.title }}]{% endfor %}"
                         " page {{ page.page }} of {{ page.pages }} last={{ total }}",
    "all_posts.html": "{% for post in items %}<{{ post.title }}>{% endfor %} {{ page }}",
    "gv_post_detail.html": "{{ object.title }}|{{ gv_post.slug }}|{{ extra }}",
    "gv_post_form.html": '<form method="post">{{ form }}</form>'
                         "{% if object %}{{ object.title }}{% endif %}",
    "gv_post_confirm_delete.html": '<form method="post">{{ csrf_input() }}Delete '
                                   "{{ object.title }}?</form>",
}


def build(app: App) -> App:
    app.add_route("/posts", PostList)
    app.add_route("/all", ListView.as_view(model=GvPost, paginate_by=None,
                                           template_name="all_posts.html", name="all"))
    app.add_route("/clamped", PostList.as_view(clamp=True, name="clamped"))
    app.add_route("/posts/{id:int}", DetailView.as_view(model=GvPost))
    app.add_route("/by-slug/{slug}", DetailView.as_view(model=GvPost, lookup_field="slug",
                                                        name="by_slug"))
    app.add_route("/loose/{id}", DetailView.as_view(model=GvPost, name="loose"))
    app.add_route("/posts/new", MyPostCreate)
    app.add_route("/quick/new", CreateView.as_view(
        model=GvPost, fields=["title", "slug"], success_url="gv_post_detail", name="quick"))
    app.add_route("/posts/{id:int}/edit", UpdateView.as_view(
        model=GvPost, fields=["title", "slug", "body"], success_url="gv_post_detail"))
    app.add_route("/posts/{id:int}/delete", DeleteView.as_view(model=GvPost,
                                                               success_url="/posts"))
    # Guarded: a model permission for the list, an object permission for the update.
    app.add_route("/staff/posts", PostList.as_view(permission_required="app.view_gv_post",
                                                   name="staff_posts"))
    app.add_route("/owned/{id:int}/edit", UpdateView.as_view(
        model=GvPost, fields=["title", "slug"], success_url="/posts/{id}",
        permission_required="app.change_gv_post", name="owned_edit"))
    app.add_route("/secret/{id:int}", DetailView.as_view(model=GvPost, login_required=True,
                                                         name="secret"))

    class Extra(DetailView):
        model = GvPost

        async def get_context(self, context: dict[str, Any]) -> dict[str, Any]:
            return {**context, "extra": "async"}

    app.add_route("/extra/{id:int}", Extra, name="extra")

    @app.get("/test-login/{id:int}")
    async def test_login(request: Request, id: int) -> str:
        from heron.auth.user import User

        user = await db.async_session.get(User, id)
        await alogin(request, user)  # type: ignore[arg-type]
        return "in"

    return app


@pytest.fixture(scope="module")
def pg_url(postgres_server: Any) -> str:
    """One PostgreSQL database for this module (emptied after each test)."""
    return str(postgres_server.create_database("heron_generic_views"))


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, make_app: Any,
         tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, int]]]:
    """The views of ``build`` on each database (PostgreSQL is strict about types where
    SQLite is not: ``/loose/abc`` on an integer key must stay a 404 there)."""
    settings: dict[str, Any] = {}
    if request.param == "postgresql":
        settings["database_url"] = request.getfixturevalue("pg_url")
    app: App = make_app(components=["heron.auth"], password_time_cost=1,
                        password_memory_cost=8 * 1024, password_parallelism=1, **settings)
    templates = tmp_path / "templates"
    templates.mkdir(exist_ok=True)
    for name, text in TEMPLATES.items():
        (templates / name).write_text(text)
    from heron.testing.database import clean_tables, prepare_schema

    prepare_schema(app)
    try:
        with db.context(app):
            users = {
                "owner": create_user(db.session, app, "owner", "a long passphrase 1"),
                "other": create_user(db.session, app, "other", "a long passphrase 2"),
                "boss": create_user(db.session, app, "boss", "a long passphrase 3",
                                    is_superuser=True),
            }
            db.session.flush()
            for n in range(1, 4):
                db.session.add(GvPost(title=f"Post {n}", slug=f"post-{n}",
                                      owner_id=users["owner"].id))
            db.session.commit()
            ids = {name: int(user.id) for name, user in users.items()}
        with TestClient(build(app)) as client:
            yield client, ids
    finally:
        clean_tables(app)
        asyncio.run(db.state(app).dispose())


def titles() -> list[str]:
    return list(db.session.scalars(select(GvPost.title).order_by(GvPost.id)))


def test_list_pages_and_their_bad_numbers(site: Any) -> None:
    client, _ = site
    first = client.get("/posts")
    assert first.status_code == 200
    assert first.text.startswith("[Post 1][Post 2] page 1 of 2")
    assert "last=3" in first.text  # the def hook's query
    assert client.get("/posts?page=2").text.startswith("[Post 3] page 2 of 2")
    for bad in ("9", "0", "-1", "abc", "99999999999999999999999"):
        assert client.get(f"/posts?page={bad}").status_code == 404, bad
    assert client.get("/clamped?page=9").text.startswith("[Post 3] page 2 of 2")
    assert client.get("/clamped?page=abc").text.startswith("[Post 1][Post 2] page 1")
    everything = client.get("/all")
    assert everything.text == "<Post 1><Post 2><Post 3> None"


def test_detail_and_missing_objects(site: Any) -> None:
    client, _ = site
    assert client.get("/posts/1").text == "Post 1|post-1|"
    assert client.get("/by-slug/post-2").text.startswith("Post 2|")
    assert client.get("/extra/3").text == "Post 3|post-3|async"
    assert client.get("/loose/2").text.startswith("Post 2|")  # {id} as text, converted
    for path in ("/posts/99", "/by-slug/nope", "/loose/abc", "/loose/99999999999999999999999",
                 "/posts/99/edit", "/posts/99/delete"):
        answer = client.get(path)
        assert answer.status_code == 404, path
    assert client.post("/posts/99/delete", data={
        "csrf_token": extract_csrf_token(client.get("/posts/new").text)}).status_code == 404


def test_create_with_its_invalid_form_and_csrf(site: Any) -> None:
    client, _ = site
    page = client.get("/posts/new")
    assert page.status_code == 200
    assert 'name="title"' in page.text
    token = extract_csrf_token(page.text)
    values = {"title": "New", "slug": "new", "body": "text", "csrf_token": token}
    assert client.post("/posts/new", data={**values, "csrf_token": "forged"}).status_code == 403
    assert client.post("/posts/new", data={k: v for k, v in values.items()
                                           if k != "csrf_token"}).status_code == 403
    invalid = client.post("/posts/new", data={**values, "title": ""})
    assert invalid.status_code == 422
    assert 'aria-invalid="true" aria-describedby="id_title-error"' in invalid.text
    assert ">\ntext</textarea>" in invalid.text  # what was sent is drawn again
    duplicate = client.post("/posts/new", data={**values, "slug": "post-1"})
    assert duplicate.status_code == 422
    assert "with this slug already exists." in duplicate.text
    created = client.post("/posts/new", data=values)
    assert created.status_code == 303
    assert created.headers["location"] == "/posts/4"
    assert client.get("/posts/4").text.startswith("New|new")
    not_a_form = client.post("/posts/new", json={"title": "x"},
                             headers={"x-csrf-token": token})
    assert not_a_form.status_code == 415
    quick = client.post("/quick/new", data={"title": "Q", "slug": "q", "csrf_token": token})
    assert quick.status_code == 303
    assert quick.headers["location"] == "/posts/5"  # a route name, filled from the row


def test_update_and_delete(site: Any) -> None:
    client, _ = site
    page = client.get("/posts/2/edit")
    assert page.status_code == 200
    assert 'value="Post 2"' in page.text
    assert page.text.endswith("Post 2")
    token = extract_csrf_token(page.text)
    invalid = client.post("/posts/2/edit", data={"title": "x" * 101, "slug": "post-2",
                                                 "csrf_token": token})
    assert invalid.status_code == 422
    clash = client.post("/posts/2/edit", data={"title": "T", "slug": "post-1",
                                               "csrf_token": token})
    assert clash.status_code == 422
    done = client.post("/posts/2/edit", data={"title": "Second", "slug": "post-2",
                                              "csrf_token": token})
    assert done.status_code == 303
    assert done.headers["location"] == "/posts/2"
    assert client.get("/posts/3/delete").text.startswith('<form method="post"><input')
    assert client.post("/posts/3/delete").status_code == 403  # no CSRF token
    gone = client.post("/posts/3/delete", data={"csrf_token": token})
    assert gone.status_code == 303
    assert gone.headers["location"] == "/posts"
    assert client.get("/posts/3").status_code == 404
    assert client.get("/all").text.startswith("<Post 1><Second> ")


def test_guards_and_object_permissions(site: Any) -> None:
    client, ids = site
    login = client.get("/staff/posts", headers={"accept": "text/html"})
    assert login.status_code == 302
    assert "next=/staff/posts" in login.headers["location"]
    assert client.get("/secret/1", headers={"accept": "text/html"}).status_code == 302
    assert client.get("/owned/1/edit", headers={"accept": "text/html"}).status_code == 302

    client.get(f"/test-login/{ids['other']}")
    assert client.get("/staff/posts").status_code == 403  # no model permission
    assert client.get("/secret/1").status_code == 200
    assert client.get("/owned/1/edit").status_code == 403  # not the owner
    token = extract_csrf_token(client.get("/posts/new").text)
    refused = client.post("/owned/1/edit", data={"title": "Mine", "slug": "post-1",
                                                 "csrf_token": token})
    assert refused.status_code == 403
    assert client.get("/owned/99/edit").status_code == 404  # 404 before 403

    client.get(f"/test-login/{ids['owner']}")
    assert client.get("/owned/1/edit").status_code == 200  # has_object_permission
    token = extract_csrf_token(client.get("/posts/new").text)
    changed = client.post("/owned/1/edit", data={"title": "Mine", "slug": "post-1",
                                                 "csrf_token": token})
    assert changed.status_code == 303
    assert changed.headers["location"] == "/posts/1"
    created = client.post("/posts/new", data={"title": "Owned", "slug": "owned",
                                              "body": "b", "csrf_token": token})
    assert created.status_code == 303

    client.get(f"/test-login/{ids['boss']}")
    assert client.get("/staff/posts").status_code == 200  # a superuser
    assert client.get("/owned/2/edit").status_code == 200
    with db.context(client.app):
        row = db.session.scalars(select(GvPost).where(GvPost.slug == "owned")).one()
        assert row.owner_id == ids["owner"]
        assert titles()[0] == "Mine"


def test_api_clients_get_401_not_a_redirect(site: Any) -> None:
    client, _ = site
    answer = client.get("/staff/posts", headers={"accept": "application/json"})
    assert answer.status_code == 401


def test_default_route_and_template_names(make_app: Any) -> None:
    assert ListView.as_view(model=GvPost).name == "gv_post_list"
    assert DetailView.as_view(model=GvPost).name == "gv_post_detail"
    assert UpdateView.as_view(model=GvPost, fields=["title"], success_url="/").name == \
        "gv_post_update"
    assert DeleteView.as_view(model=GvPost, success_url="/").name == "gv_post_delete"
    assert CreateView.as_view(model=GvPost, fields=["title"]).methods == {"GET", "POST"}


def test_configuration_mistakes_are_clear_and_early() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"needs a model.*heron.generic.E001"):
        ListView.as_view()
    with pytest.raises(ImproperlyConfigured, match=r"'title_x'.*heron.generic.E002"):
        DetailView.as_view(model=GvPost, lookup_field="title_x")

    class NoUrl(Model):
        name: Mapped[str]

    with pytest.raises(ImproperlyConfigured, match=r"success_url.*heron.generic.E004"):
        CreateView.as_view(model=NoUrl, fields=["name"])
    with pytest.raises(ImproperlyConfigured, match=r"success_url.*heron.generic.E004"):
        DeleteView.as_view(model=GvPost)  # get_absolute_url is no use after a delete
    with pytest.raises(ImproperlyConfigured, match=r"needs a form.*heron.generic.E005"):
        UpdateView.as_view(model=GvPost)
    with pytest.raises(ValueError, match=r"component\.codename"):
        ListView.as_view(model=GvPost, permission_required="view_post")


def test_a_path_without_the_lookup_parameter(make_app: Any,
                                            caplog: pytest.LogCaptureFixture) -> None:
    app: App = make_app()
    app.add_route("/wrong/{pk:int}", DetailView.as_view(model=GvPost))
    with TestClient(app) as client:
        assert client.get("/wrong/1").status_code == 500  # the developer's mistake
    assert "path parameter 'id', which /wrong/{pk:int} lacks" in caplog.text
    assert "heron.generic.E003" in caplog.text
