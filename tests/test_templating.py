"""Templates: render/render_async, escaping, folders and components, globals,
auto-reload and template errors (issue 3)."""

from __future__ import annotations

import html
import logging
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import pytest

from heron import App, HTMLResponse, Request, Router, render, render_async
from heron.templating import Markup, TemplateNotFound, Templates
from heron.testing import TestClient, extract_csrf_token

AppFactory = Callable[..., App]
ComponentFactory = Callable[[str, dict[str, str]], str]

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
JSON = {"accept": "application/json"}
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


def write(folder: Path, name: str, text: str) -> Path:
    """Write a template file (making sub-folders) and return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def rewrite(path: Path, text: str) -> None:
    """Change a file and make sure its mtime changes too, whatever the filesystem's
    mtime granularity (a rewrite within the same tick would look unchanged)."""
    before = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 5_000_000_000))


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    """The app's templates folder (``root/templates``) of ``make_app`` apps."""
    folder = tmp_path / "templates"
    folder.mkdir()
    return folder


@pytest.fixture
def make_component(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ComponentFactory]:
    """Create an importable component package with the given templates; returns its
    (unique) import name."""
    packages = tmp_path / "packages"
    packages.mkdir()
    monkeypatch.syspath_prepend(str(packages))
    created: list[str] = []

    def factory(prefix: str, files: dict[str, str]) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        package = packages / name
        package.mkdir()
        (package / "__init__.py").write_text(f'"""Test component {name}."""\n', encoding="utf-8")
        (package / "templates").mkdir()
        for filename, text in files.items():
            write(package / "templates", filename, text)
        created.append(name)
        return name

    yield factory
    for name in created:
        sys.modules.pop(name, None)


def page_app(make_app: AppFactory, name: str, /, **settings: Any) -> App:
    """An app whose ``/`` renders template ``name`` with the query parameters."""
    app = make_app(**settings)

    @app.get("/", name="home")
    def page(request: Request) -> HTMLResponse:
        return render(request, name, dict(request.query_params))

    return app


# -- render and render_async -------------------------------------------------


def test_render_returns_an_html_response_with_status_and_headers(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "created.html", "<p>made {{ thing }}</p>")
    app = make_app()

    @app.post("/things")
    def create(request: Request) -> HTMLResponse:
        response = render(request, "created.html", status_code=201,
                          headers={"x-thing": "7"}, thing="a thing")
        assert isinstance(response, HTMLResponse)
        return response

    with TestClient(app) as client:
        response = client.post("/things", json={})
    assert response.status_code == 201
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-thing"] == "7"
    assert response.text == "<p>made a thing</p>"


def test_render_merges_the_context_dict_and_keyword_arguments(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "vars.html", "{{ a }} {{ b }} {{ c }}")
    app = make_app()

    @app.get("/")
    def page(request: Request) -> HTMLResponse:
        return render(request, "vars.html", {"a": "from-dict", "b": "from-dict"},
                      b="from-kwarg", c="also-kwarg")

    with TestClient(app) as client:
        # keyword arguments win over the context dict
        assert client.get("/").text == "from-dict from-kwarg also-kwarg"


def test_render_does_not_modify_the_given_context_dict(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "vars.html", "{{ a }}{{ b }}")
    app = make_app()
    context = {"a": 1}

    @app.get("/")
    def page(request: Request) -> HTMLResponse:
        return render(request, "vars.html", context, b=2)

    with TestClient(app) as client:
        assert client.get("/").text == "12"
    assert context == {"a": 1}


def test_context_processors_add_values_to_every_render(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "p.html", "{{ site }}|{{ user }}|{{ path }}|{{ shared }}")
    app = make_app()
    seen: list[Any] = []

    @app.context_processor
    def site(request: Request) -> dict[str, Any]:
        seen.append(request)
        return {"site": "Heron", "path": request.path, "shared": "first"}

    @app.context_processor
    def user(request: Request) -> dict[str, Any]:
        return {"user": "ada", "shared": "second"}  # a later processor wins

    @app.context_processor
    def nothing(request: Request) -> None:
        return None  # processors may return None

    @app.get("/a")
    def a(request: Request) -> HTMLResponse:
        return render(request, "p.html")

    @app.get("/b")
    def b(request: Request) -> HTMLResponse:
        return render(request, "p.html", user="grace")  # the view's own values win

    with TestClient(app) as client:
        assert client.get("/a").text == "Heron|ada|/a|second"
        assert client.get("/b").text == "Heron|grace|/b|second"
    assert len(seen) == 2
    assert all(isinstance(r, Request) for r in seen)


def test_context_processors_apply_to_render_async(make_app: AppFactory, templates: Path) -> None:
    write(templates, "p.html", "{{ site }}")
    app = make_app()
    app.context_processor(lambda request: {"site": "Heron"})

    @app.get("/")
    async def page(request: Request) -> HTMLResponse:
        return await render_async(request, "p.html")

    with TestClient(app) as client:
        assert client.get("/").text == "Heron"


def test_render_async_awaits_async_functions_and_iterates_async_generators(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "async.html",
          "{{ load_user(7) }}:{% for n in numbers() %}{{ n }},{% endfor %}:{{ title }}")
    app = make_app()

    async def load_user(id: int) -> str:
        return f"user {id}"

    async def numbers() -> AsyncIterator[int]:
        for n in range(3):
            yield n

    @app.get("/")
    async def page(request: Request) -> HTMLResponse:
        response = await render_async(request, "async.html", {"load_user": load_user},
                                      numbers=numbers, title="T", status_code=202,
                                      headers={"x-mode": "async"})
        assert isinstance(response, HTMLResponse)
        return response

    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 202
    assert response.headers["x-mode"] == "async"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "user 7:0,1,2,:T"


def test_render_async_escapes_awaited_values(make_app: AppFactory, templates: Path) -> None:
    write(templates, "async.html", "{{ fetch() }}")
    app = make_app()

    async def fetch() -> str:
        return SCRIPT

    @app.get("/")
    async def page(request: Request) -> HTMLResponse:
        return await render_async(request, "async.html", fetch=fetch)

    with TestClient(app) as client:
        assert client.get("/").text == ESCAPED_SCRIPT


def test_add_global_and_add_filter_reach_sync_and_async_templates(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "g.html", "{{ brand }} {{ 'x'|shout }}")
    app = make_app()
    app.templates.add_global("brand", "Heron")  # before the async environment exists

    @app.get("/sync")
    def sync_page(request: Request) -> HTMLResponse:
        return render(request, "g.html")

    @app.get("/async")
    async def async_page(request: Request) -> HTMLResponse:
        return await render_async(request, "g.html")

    with TestClient(app) as client:
        assert client.get("/async").status_code == 500  # no 'shout' filter yet
        app.templates.add_filter("shout", lambda s: s.upper() + "!")  # after it exists
        assert client.get("/sync").text == "Heron X!"
        assert client.get("/async").text == "Heron X!"


def test_template_helpers_outside_a_request_say_what_is_missing(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "plain.html", "hello {{ name }}")
    write(templates, "form.html", "{{ csrf_token() }}")
    app = make_app()
    assert app.templates.render_string(None, "plain.html", {"name": "<b>"}) == "hello &lt;b&gt;"
    with pytest.raises(RuntimeError, match=r"needs `request`.*render\(request"):
        app.templates.render_string(None, "form.html", {})


# -- autoescaping -------------------------------------------------------------


@pytest.mark.parametrize("name", ["page.html", "page.htm", "feed.xml", "page.jinja",
                                  "nested/deep/page.html", "SHOUTY.HTML"])
def test_values_are_escaped_in_html_like_templates(
    make_app: AppFactory, templates: Path, name: str
) -> None:
    write(templates, name, "<p>{{ value }}</p><a title=\"{{ quote }}\">x</a>")
    app = page_app(make_app, name)
    with TestClient(app) as client:
        response = client.get("/", params={"value": SCRIPT, "quote": "\" onclick='evil()'"})
    assert response.status_code == 200
    assert SCRIPT not in response.text
    assert f"<p>{ESCAPED_SCRIPT}</p>" in response.text
    # quotes are escaped too: a value cannot break out of an attribute
    assert '<a title="&#34; onclick=&#39;evil()&#39;">' in response.text


def test_text_templates_are_not_escaped(make_app: AppFactory, templates: Path) -> None:
    write(templates, "mail.txt", "Hello {{ value }} & bye")
    app = page_app(make_app, "mail.txt")
    with TestClient(app) as client:
        response = client.get("/", params={"value": SCRIPT})
    assert response.text == f"Hello {SCRIPT} & bye"


@pytest.mark.parametrize("markup", [Markup, markupsafe.Markup])
def test_markup_is_rendered_raw_only_when_marked(
    make_app: AppFactory, templates: Path, markup: type[markupsafe.Markup]
) -> None:
    write(templates, "m.html",
          "{{ trusted }}|{{ untrusted }}|{{ untrusted|safe }}|{{ built }}|{{ untrusted|e }}")
    app = make_app()

    @app.get("/")
    def page(request: Request) -> HTMLResponse:
        return render(request, "m.html", trusted=markup("<em>ok</em>"), untrusted="<em>no</em>",
                      built=markup("<b>{}</b>").format(SCRIPT))

    with TestClient(app) as client:
        text = client.get("/").text
    trusted, untrusted, marked_safe, built, escaped_twice = text.split("|")
    assert trusted == "<em>ok</em>"
    assert untrusted == "&lt;em&gt;no&lt;/em&gt;"
    assert marked_safe == "<em>no</em>"
    # Markup.format escapes its arguments: only the literal part is trusted
    assert built == f"<b>{ESCAPED_SCRIPT}</b>"
    assert escaped_twice == "&lt;em&gt;no&lt;/em&gt;"  # |e on a plain str escapes once
    assert Markup is markupsafe.Markup


def test_request_values_in_templates_are_escaped(make_app: AppFactory, templates: Path) -> None:
    write(templates, "echo.html", "{{ request.query_params.q }}|{{ request.url }}")
    app = make_app()

    @app.get("/search")
    def search(request: Request) -> HTMLResponse:
        return render(request, "echo.html")

    with TestClient(app) as client:
        response = client.get("/search", params={"q": SCRIPT})
    assert response.status_code == 200
    assert "<script>" not in response.text
    assert response.text.startswith(ESCAPED_SCRIPT + "|http://testserver/search?q=")


def test_templates_from_strings_are_escaped(app: App) -> None:
    template = app.templates.env.from_string("{{ value }}")
    assert template.render(value=SCRIPT) == ESCAPED_SCRIPT
    assert template.render(value=Markup("<i>ok</i>")) == "<i>ok</i>"


# -- folders and components --------------------------------------------------


def test_templates_are_found_in_sub_folders_and_can_extend_and_include(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "base.html", "<main>{% block body %}{% endblock %}</main>")
    write(templates, "parts/nav.html", "<nav>{{ title }}</nav>")
    write(templates, "pages/home.html",
          "{% extends 'base.html' %}{% block body %}{% include 'parts/nav.html' %}!"
          "{% endblock %}")
    app = page_app(make_app, "pages/home.html")
    with TestClient(app) as client:
        assert client.get("/", params={"title": "<Home>"}).text == (
            "<main><nav>&lt;Home&gt;</nav>!</main>"
        )


def test_template_names_cannot_leave_the_template_folders(
    make_app: AppFactory, tmp_path: Path, templates: Path
) -> None:
    (tmp_path / "secret.txt").write_text("top secret", encoding="utf-8")
    app = make_app()
    for name in ("../secret.txt", "nested/../../secret.txt"):
        with pytest.raises(jinja2.TemplateNotFound):
            app.templates.get_template(name)


def test_app_templates_override_component_templates(
    make_app: AppFactory, tmp_path: Path, templates: Path, make_component: ComponentFactory
) -> None:
    shop = make_component("shop", {
        "shop/product.html": "{% extends 'base.html' %}{% block body %}shop product"
                             "{% endblock %}",
        "base.html": "<shop-base>{% block body %}{% endblock %}</shop-base>",
        "shared.html": "shop's shared",
    })
    write(templates, "shared.html", "the app's shared")
    write(templates, "base.html", "<app-base>{% block body %}{% endblock %}</app-base>")
    app = make_app(components=[shop])
    assert app.templates.folders == [templates, tmp_path / "packages" / shop / "templates"]

    @app.get("/{name:path}")
    def page(request: Request, name: str) -> HTMLResponse:
        return render(request, name)

    assert set(app.templates.env.list_templates()) == {
        "base.html", "shared.html", "shop/product.html"}
    with TestClient(app) as client:
        assert client.get("/shared.html").text == "the app's shared"
        # a component page that extends base.html gets the app's base: the app restyles it
        assert client.get("/shop/product.html").text == "<app-base>shop product</app-base>"


def test_an_earlier_component_overrides_a_later_one(
    make_app: AppFactory, tmp_path: Path, make_component: ComponentFactory
) -> None:
    first = make_component("first", {"shared.html": "first's", "only_first.html": "1"})
    second = make_component("second", {"shared.html": "second's", "only_second.html": "2"})
    app = make_app(components=[first, second])
    packages = tmp_path / "packages"
    # the app's own folder comes first even though it does not exist
    assert app.templates.folders == [tmp_path / "templates", packages / first / "templates",
                                     packages / second / "templates"]
    render_ = app.templates.render_string
    assert render_(None, "shared.html", {}) == "first's"
    assert render_(None, "only_first.html", {}) == "1"
    assert render_(None, "only_second.html", {}) == "2"

    reversed_app = make_app(components=[second, first])
    assert reversed_app.templates.render_string(None, "shared.html", {}) == "second's"


def test_a_component_setup_using_templates_does_not_hide_later_components(
    make_app: AppFactory, tmp_path: Path, make_component: ComponentFactory
) -> None:
    # A component's setup hook registering a filter makes app.templates before the
    # later components are added: their folders must still be searched.
    first = make_component("filters", {"first.html": "{{ 'x'|shout }}"})
    (tmp_path / "packages" / first / "__init__.py").write_text(
        "def setup(app):\n    app.templates.add_filter('shout', lambda s: s.upper() + '!')\n",
        encoding="utf-8")
    second = make_component("later", {"second.html": "{{ 'y'|shout }}"})
    app = make_app(components=[first, second])
    assert app.templates.folders[-1] == tmp_path / "packages" / second / "templates"
    assert app.templates.render_string(None, "first.html", {}) == "X!"
    assert app.templates.render_string(None, "second.html", {}) == "Y!"


def test_a_component_added_after_templates_were_used_is_searched(
    make_app: AppFactory, make_component: ComponentFactory
) -> None:
    app = make_app()
    with pytest.raises(TemplateNotFound):
        app.templates.get_template("late.html")
    app.add_component(make_component("late", {"late.html": "late"}))
    assert app.templates.render_string(None, "late.html", {}) == "late"
    assert app.templates.async_env.get_template("late.html").filename is not None


def test_templates_dir_setting_changes_the_app_folder(
    make_app: AppFactory, tmp_path: Path
) -> None:
    write(tmp_path / "views", "page.html", "from views")
    app = make_app(templates_dir="views")
    assert app.templates.folders == [tmp_path / "views"]
    assert app.templates.render_string(None, "page.html", {}) == "from views"


def test_templates_folders_can_be_given_explicitly(app: App, tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    write(folder, "x.html", "{{ 1 + 1 }}")
    templates = Templates(app, folders=[folder])
    assert templates.folders == [folder]
    assert templates.render_string(None, "x.html", {}) == "2"


# -- globals -------------------------------------------------------------------


def test_request_is_available_in_templates(make_app: AppFactory, templates: Path) -> None:
    write(templates, "r.html", "{{ request.method }} {{ request.url }} {{ request.state.user }}")
    app = make_app()

    @app.get("/page")
    def page(request: Request) -> HTMLResponse:
        request.state.user = "ada"  # the very request the view got
        return render(request, "r.html")

    with TestClient(app) as client:
        assert client.get("/page?a=1").text == "GET http://testserver/page?a=1 ada"


def test_url_for_builds_paths_relative_names_and_absolute_urls(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "links.html",
          "{{ url_for('home') }}|{{ url_for('blog:post', id=3) }}|{{ url_for('.edit', id=3) }}"
          "|{{ url_for('.edit', id=4, _external=True) }}|{{ url_for('home', q='a b') }}")
    write(templates, "top.html", "{{ url_for('.home') }}|{{ url_for('home', _external=True) }}")
    app = make_app()
    blog = Router(prefix="/blog", name="blog")

    @app.get("/", name="home")
    def home(request: Request) -> HTMLResponse:
        return render(request, "top.html")

    @blog.get("/{id:int}", name="post")
    def post(request: Request, id: int) -> HTMLResponse:
        return render(request, "links.html")

    @blog.get("/{id:int}/edit", name="edit")
    def edit(id: int) -> str:
        return f"edit {id}"

    app.include(blog)
    with TestClient(app) as client:
        links = client.get("/blog/3").text.split("|")
        top = client.get("/").text
    assert links[:4] == ["/", "/blog/3", "/blog/3/edit", "http://testserver/blog/4/edit"]
    assert links[4] in ("/?q=a+b", "/?q=a%20b")
    # ".name" in a route without a namespace is a top-level name
    assert top == "/|http://testserver/"


def test_url_for_and_static_include_the_mount_prefix(
    make_app: AppFactory, tmp_path: Path
) -> None:
    child_root = tmp_path / "child"
    write(child_root / "templates", "child.html",
          "{{ url_for('page') }}|{{ url_for('.page', _external=True) }}|"
          "{{ static('css/site.css') }}|{{ request.path }}")
    parent = make_app()
    child = make_app(root=child_root)

    @child.get("/page", name="page")
    def page(request: Request) -> HTMLResponse:
        return render(request, "child.html")

    parent.mount("/sub", child)
    with TestClient(parent) as client:
        response = client.get("/sub/page")
    assert response.status_code == 200
    assert response.text == (
        "/sub/page|http://testserver/sub/page|/sub/static/css/site.css|/sub/page"
    )


def test_error_handlers_can_render_templates(make_app: AppFactory, templates: Path) -> None:
    write(templates, "404.html", "<h1>Not here: {{ request.path }}</h1>{{ url_for('home') }}")
    app = make_app()

    @app.get("/", name="home")
    def home() -> str:
        return "home"

    @app.on_error(404)
    def not_found(request: Request, exc: Exception) -> HTMLResponse:
        return render(request, "404.html", status_code=404)

    with TestClient(app) as client:
        response = client.get("/<script>")
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<h1>Not here: /&lt;script&gt;</h1>/"


def test_url_for_with_an_unknown_name_is_a_500_not_a_broken_page(
    make_app: AppFactory, templates: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(templates, "bad.html", "{{ url_for('nowhere') }}")
    app = page_app(make_app, "bad.html")
    with caplog.at_level(logging.ERROR, logger="heron"), TestClient(app) as client:
        response = client.get("/", headers=HTML)
    assert response.status_code == 500
    assert "nowhere" not in response.text
    assert "URLBuildError" in caplog.text


@pytest.mark.parametrize(("static_url", "expected"), [
    ("/static", "/static/css/site.css|/static/img/logo.png"),
    ("/assets/", "/assets/css/site.css|/assets/img/logo.png"),
])
def test_static_builds_static_file_urls(
    make_app: AppFactory, templates: Path, static_url: str, expected: str
) -> None:
    write(templates, "s.html", "{{ static('css/site.css') }}|{{ static('/img/logo.png') }}")
    app = page_app(make_app, "s.html", static_url=static_url)
    with TestClient(app) as client:
        assert client.get("/").text == expected


def test_csrf_input_and_csrf_token_work_for_the_next_post(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "form.html",
          '<meta name="csrf-token" content="{{ csrf_token() }}">'
          '<form method="post">{{ csrf_input() }}<input name="title"></form>')
    app = make_app()

    @app.get("/edit")
    def form(request: Request) -> HTMLResponse:
        return render(request, "form.html")

    @app.post("/edit")
    async def save(request: Request) -> str:
        form = await request.form()
        return f"saved {form['title']}"

    with TestClient(app) as client:
        page = client.get("/edit")
        assert page.status_code == 200
        assert '<input type="hidden" name="csrf_token" value="' in page.text  # not escaped
        field_token = extract_csrf_token(page.text)
        meta = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
        assert meta is not None
        header_token = meta.group(1)
        assert field_token != header_token  # masked per call (BREACH)

        ok = client.post("/edit", data={"csrf_token": field_token, "title": "one"})
        assert (ok.status_code, ok.text) == (200, "saved one")
        ok = client.post("/edit", data={"title": "two"}, headers={"X-CSRF-Token": header_token})
        assert (ok.status_code, ok.text) == (200, "saved two")

        refusals = [
            client.post("/edit", data={"title": "missing"}, headers=JSON),
            client.post("/edit", data={"csrf_token": "x" * len(field_token), "title": "wrong"},
                        headers=JSON),
            client.post("/edit", data={"csrf_token": SCRIPT, "title": "garbage"}, headers=JSON),
        ]
        for refused in refusals:
            assert refused.status_code == 403
            assert "CSRF" in refused.json()["detail"]


def test_csrf_token_from_one_client_fails_for_another(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "form.html", "{{ csrf_input() }}")
    app = make_app()

    @app.get("/form")
    def form(request: Request) -> HTMLResponse:
        return render(request, "form.html")

    @app.post("/form")
    def save() -> str:
        return "saved"

    with TestClient(app) as alice, TestClient(app) as mallory:
        token = extract_csrf_token(alice.get("/form").text)
        mallory.get("/form")  # mallory has a session of her own
        assert mallory.post("/form", data={"csrf_token": token}).status_code == 403
        assert alice.post("/form", data={"csrf_token": token}).status_code == 200


def test_csp_nonce_is_in_the_csp_header_with_the_same_value(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "script.html",
          '<script nonce="{{ csp_nonce() }}">go()</script><style nonce="{{ csp_nonce() }}">')
    app = page_app(make_app, "script.html")
    with TestClient(app) as client:
        first = client.get("/")
        second = client.get("/")
    nonces = re.findall(r'nonce="([^"]+)"', first.text)
    assert len(nonces) == 2
    assert nonces[0] == nonces[1]  # one nonce per request
    policy = first.headers["content-security-policy"]
    assert f"script-src 'self' 'nonce-{nonces[0]}';" in policy
    assert policy.count("nonce-") == 1
    second_nonce = re.findall(r'nonce="([^"]+)"', second.text)[0]
    assert second_nonce != nonces[0]  # a new nonce per request
    assert f"'nonce-{second_nonce}'" in second.headers["content-security-policy"]


def test_csp_nonce_works_with_render_async(make_app: AppFactory, templates: Path) -> None:
    write(templates, "script.html", '<script nonce="{{ csp_nonce() }}"></script>')
    app = make_app()

    @app.get("/")
    async def page(request: Request) -> HTMLResponse:
        return await render_async(request, "script.html")

    with TestClient(app) as client:
        response = client.get("/")
    nonce = re.findall(r'nonce="([^"]+)"', response.text)[0]
    assert f"'nonce-{nonce}'" in response.headers["content-security-policy"]


def test_csp_header_has_no_nonce_when_the_template_did_not_ask(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "plain.html", "<p>no scripts</p>")
    app = page_app(make_app, "plain.html")
    with TestClient(app) as client:
        policy = client.get("/").headers["content-security-policy"]
    assert "nonce" not in policy
    assert "{" not in policy
    assert "script-src 'self';" in policy


def test_config_shows_public_settings_but_no_secrets(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "c.html", "debug={{ config.debug }} name={{ config.csrf_field_name }}"
                               "|{{ config }}|{{ config.secret_key }}")
    for debug in (False, True):
        app = page_app(make_app, "c.html", debug=debug, secret_key="s3cret-value-1234",
                       secret_key_fallbacks=["old-s3cret-5678"],
                       cache_url="redis://:hunter2@127.0.0.1:1/0")
        with TestClient(app) as client:
            text = client.get("/").text
        assert text.startswith(f"debug={debug} name=csrf_token|")
        assert "s3cret-value-1234" not in text
        assert "old-s3cret-5678" not in text
        assert "hunter2" not in text
        assert "secret_key" not in text
        assert text.endswith("|")  # config.secret_key is undefined, rendered empty


# -- auto-reload ---------------------------------------------------------------


def test_debug_reloads_a_changed_template(make_app: AppFactory, templates: Path) -> None:
    path = write(templates, "page.html", "version 1")
    app = page_app(make_app, "page.html", debug=True)
    with TestClient(app) as client:
        assert client.get("/").text == "version 1"
        rewrite(path, "version 2")
        assert client.get("/").text == "version 2"


def test_debug_reloads_a_changed_base_template(make_app: AppFactory, templates: Path) -> None:
    base = write(templates, "base.html", "<old>{% block b %}{% endblock %}</old>")
    write(templates, "page.html", "{% extends 'base.html' %}{% block b %}x{% endblock %}")
    app = page_app(make_app, "page.html", debug=True)
    with TestClient(app) as client:
        assert client.get("/").text == "<old>x</old>"
        rewrite(base, "<new>{% block b %}{% endblock %}</new>")
        assert client.get("/").text == "<new>x</new>"


def test_debug_reloads_a_changed_template_for_render_async(
    make_app: AppFactory, templates: Path
) -> None:
    path = write(templates, "page.html", "version 1")
    app = make_app(debug=True)

    @app.get("/")
    async def page(request: Request) -> HTMLResponse:
        return await render_async(request, "page.html")

    with TestClient(app) as client:
        assert client.get("/").text == "version 1"
        rewrite(path, "version 2")
        assert client.get("/").text == "version 2"


def test_production_keeps_the_compiled_template(make_app: AppFactory, templates: Path) -> None:
    path = write(templates, "page.html", "version 1")
    app = page_app(make_app, "page.html")
    with TestClient(app) as client:
        assert client.get("/").text == "version 1"
        rewrite(path, "version 2")
        assert client.get("/").text == "version 1"
    assert app.templates.auto_reload is False


@pytest.mark.parametrize(("debug", "auto_reload", "expected"), [
    (False, True, "version 2"),
    (True, False, "version 1"),
])
def test_template_auto_reload_setting_overrides_debug(
    make_app: AppFactory, templates: Path, debug: bool, auto_reload: bool, expected: str
) -> None:
    path = write(templates, "page.html", "version 1")
    app = page_app(make_app, "page.html", debug=debug, template_auto_reload=auto_reload)
    with TestClient(app) as client:
        assert client.get("/").text == "version 1"
        rewrite(path, "version 2")
        assert client.get("/").text == expected


# -- missing templates and template errors -----------------------------------


def test_missing_template_error_names_the_template_and_every_folder(
    make_app: AppFactory, tmp_path: Path, make_component: ComponentFactory
) -> None:
    component = make_component("widgets", {"widget.html": "w"})
    app = make_app(components=[component])
    component_folder = tmp_path / "packages" / component / "templates"
    for env in (None, app.templates.async_env):
        with pytest.raises(TemplateNotFound) as info:
            app.templates.get_template("nope.html", env)
        message = str(info.value)
        assert isinstance(info.value, jinja2.TemplateNotFound)
        assert info.value.name == "nope.html"
        assert info.value.folders == [tmp_path / "templates", component_folder]
        assert "'nope.html' was not found" in message
        # every folder, in order, and the app's (absent) folder is marked as missing
        assert f"  {tmp_path / 'templates'}  (no such folder)\n  {component_folder}" in message
        assert message.index(str(tmp_path / "templates")) < message.index(str(component_folder))
        assert f"{component_folder}  (no such folder)" not in message


def test_missing_template_with_no_folders_says_none(app: App, tmp_path: Path) -> None:
    templates = Templates(app, folders=[])
    with pytest.raises(TemplateNotFound, match=r"(?s)'x\.html' was not found.*\(none\)"):
        templates.get_template("x.html")


def test_missing_included_template_names_the_included_one(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "page.html", "{% include 'parts/gone.html' %}")
    app = make_app()
    with pytest.raises(jinja2.TemplateNotFound) as info:
        app.templates.render_string(None, "page.html", {})
    assert info.value.name == "parts/gone.html"


def test_missing_template_in_production_is_a_plain_500(
    make_app: AppFactory, templates: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = page_app(make_app, "nope.html")
    with caplog.at_level(logging.ERROR, logger="heron"), TestClient(app) as client:
        response = client.get("/", headers=HTML)
        api = client.get("/", headers=JSON)
    assert response.status_code == 500
    assert api.status_code == 500
    for text in (response.text, api.text):
        assert str(templates) not in text
        assert "nope.html" not in text
        assert "Folders searched" not in text
    # the developer still finds the full message in the log
    assert "Folders searched" in caplog.text
    assert str(templates) in caplog.text


def test_missing_template_in_debug_is_shown_on_the_debug_page(
    make_app: AppFactory, tmp_path: Path, templates: Path, make_component: ComponentFactory
) -> None:
    component = make_component("widgets", {})
    app = page_app(make_app, "nope.html", debug=True, components=[component])
    with TestClient(app) as client:
        page = client.get("/", headers=HTML)
        api = client.get("/", headers=JSON)
    assert page.status_code == 500
    assert "TemplateNotFound" in page.text
    assert html.escape("'nope.html' was not found") in page.text
    assert str(templates) in page.text
    assert str(tmp_path / "packages" / component / "templates") in page.text
    assert api.status_code == 500
    detail = api.json()["detail"]
    assert "nope.html" in detail
    assert str(templates) in detail


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_template_syntax_error_in_debug_shows_the_file_and_line(
    make_app: AppFactory, templates: Path, mode: str
) -> None:
    path = write(templates, "bad.html", "<h1>ok</h1>\n<p>still ok</p>\n{% if %}\n<p>after</p>\n")
    app = make_app(debug=True)

    @app.get("/sync")
    def sync_page(request: Request) -> HTMLResponse:
        return render(request, "bad.html")

    @app.get("/async")
    async def async_page(request: Request) -> HTMLResponse:
        return await render_async(request, "bad.html")

    with TestClient(app) as client:
        response = client.get(f"/{mode}", headers=HTML)
    assert response.status_code == 500
    assert "TemplateSyntaxError" in response.text
    assert html.escape(f"{path}, line 3") in response.text
    assert html.escape("{% if %}") in response.text  # the offending source line


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_template_runtime_error_in_debug_shows_the_file_and_line(
    make_app: AppFactory, templates: Path, mode: str
) -> None:
    path = write(templates, "boom.html", "a\nb\nc\n{{ 1 // zero }}\n")
    app = make_app(debug=True)

    @app.get("/sync")
    def sync_page(request: Request) -> HTMLResponse:
        return render(request, "boom.html", zero=0)

    @app.get("/async")
    async def async_page(request: Request) -> HTMLResponse:
        return await render_async(request, "boom.html", zero=0)

    with TestClient(app) as client:
        response = client.get(f"/{mode}", headers=HTML)
    assert response.status_code == 500
    assert "ZeroDivisionError" in response.text
    assert html.escape(f"{path}, line 4") in response.text
    assert html.escape("{{ 1 // zero }}") in response.text


def test_error_in_an_included_template_in_debug_shows_that_file_and_line(
    make_app: AppFactory, templates: Path
) -> None:
    write(templates, "page.html", "top\n{% include 'partial.html' %}\n")
    partial = write(templates, "partial.html", "one\ntwo\n{{ missing.attribute }}\n")
    app = page_app(make_app, "page.html", debug=True)
    with TestClient(app) as client:
        response = client.get("/", headers=HTML)
    assert response.status_code == 500
    assert "UndefinedError" in response.text
    assert html.escape(f"{partial}, line 3") in response.text


def test_template_errors_in_production_are_a_plain_500(
    make_app: AppFactory, templates: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(templates, "bad.html", "{% for %}")
    write(templates, "boom.html", "{{ 1 // 0 }}")
    app = make_app()

    @app.get("/{name}")
    def page(request: Request, name: str) -> HTMLResponse:
        return render(request, name)

    with caplog.at_level(logging.ERROR, logger="heron"), TestClient(app) as client:
        for name in ("bad.html", "boom.html"):
            response = client.get(f"/{name}", headers=HTML)
            assert response.status_code == 500
            assert str(templates) not in response.text
            assert name not in response.text
            assert "Traceback" not in response.text
    assert "TemplateSyntaxError" in caplog.text
    assert "ZeroDivisionError" in caplog.text
