"""Flash messages: shown once on the next page, with categories, in templates,
with cookie and cache sessions (issue 3)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from heron import (
    App,
    HTMLResponse,
    RedirectResponse,
    Request,
    flash,
    get_flashed_messages,
    render,
    render_async,
)
from heron.flash import Message
from heron.templating import Markup
from heron.testing import TestClient, extract_csrf_token

AppFactory = Callable[..., App]

COOKIE = "heron_session"
BACKENDS = ["cookie", "cache"]

MESSAGES_TEMPLATE = (
    "{% if messages %}<ul>{% for m in messages %}"
    '<li class="{{ m.category }}">{{ m }}</li>'
    "{% endfor %}</ul>{% else %}none{% endif %}"
)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using it runs with cookie sessions and with cache sessions."""
    return str(request.param)


@pytest.fixture
def flash_app(make_app: AppFactory, tmp_path: Path, backend: str) -> App:
    """``/flash?msg=..&cat=..`` flashes and redirects to ``/show``, which returns the
    messages as JSON; ``/page`` renders them with the ``messages`` template global."""
    templates = tmp_path / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "messages.html").write_text(MESSAGES_TEMPLATE, encoding="utf-8")
    app = make_app(session_backend=backend)

    @app.get("/flash")
    def do_flash(request: Request) -> RedirectResponse:
        for message, category in zip(request.query_params.getlist("msg"),
                                     request.query_params.getlist("cat"), strict=True):
            flash(request, message, category)
        return RedirectResponse("/show", 303)

    @app.get("/show")
    async def show(request: Request) -> dict[str, Any]:
        return {"messages": get_flashed_messages(request, with_categories=True)}

    @app.get("/page")
    def page(request: Request) -> HTMLResponse:
        return render(request, "messages.html")

    return app


def flash_messages(client: TestClient, *pairs: tuple[str, str]) -> None:
    response = client.get("/flash", params={"msg": [m for m, _ in pairs],
                                            "cat": [c for _, c in pairs]})
    assert response.status_code == 303
    assert response.headers["location"] == "/show"


def shown(client: TestClient) -> list[list[str]]:
    response = client.get("/show")
    assert response.status_code == 200
    messages: list[list[str]] = response.json()["messages"]
    return messages


# -- once, and only once ------------------------------------------------------


def test_a_message_survives_exactly_one_redirect(flash_app: App) -> None:
    with TestClient(flash_app) as client:
        response = client.get("/flash", params={"msg": "Saved.", "cat": "success"},
                              follow_redirects=True)
        assert response.status_code == 200
        assert response.json() == {"messages": [["success", "Saved."]]}
        assert shown(client) == []  # gone on the page after
        assert shown(client) == []


def test_reading_the_messages_drops_an_otherwise_empty_session(flash_app: App) -> None:
    with TestClient(flash_app) as client:
        flash_messages(client, ("Saved.", "info"))
        assert client.cookies.get(COOKIE)
        response = client.get("/show")
        assert response.json() == {"messages": [["info", "Saved."]]}
        assert "set-cookie" in response.headers
        assert client.cookies.get(COOKIE) is None  # the cookie was deleted


def test_reading_the_messages_keeps_the_rest_of_the_session(
    make_app: AppFactory, backend: str
) -> None:
    app = make_app(session_backend=backend)

    @app.get("/login")
    def login(request: Request) -> RedirectResponse:
        request.session["user"] = "ada"
        flash(request, "Welcome, ada.")
        return RedirectResponse("/home", 303)

    @app.get("/home")
    def home(request: Request) -> dict[str, Any]:
        return {"messages": get_flashed_messages(request), "user": request.session.get("user")}

    with TestClient(app) as client:
        assert client.get("/login").status_code == 303
        assert client.get("/home").json() == {"messages": ["Welcome, ada."], "user": "ada"}
        assert client.get("/home").json() == {"messages": [], "user": "ada"}


def test_messages_accumulate_in_order_until_read(flash_app: App) -> None:
    with TestClient(flash_app) as client:
        flash_messages(client, ("one", "info"), ("two", "error"))
        flash_messages(client, ("three", "info"))
        assert shown(client) == [["info", "one"], ["error", "two"], ["info", "three"]]
        assert shown(client) == []


def test_messages_are_per_client(flash_app: App) -> None:
    with TestClient(flash_app) as alice, TestClient(flash_app) as bob:
        flash_messages(alice, ("for alice", "info"))
        assert shown(bob) == []
        assert shown(alice) == [["info", "for alice"]]


def test_flash_then_read_in_the_same_request_shows_the_message_once(
    make_app: AppFactory, backend: str
) -> None:
    app = make_app(session_backend=backend)

    @app.get("/")
    def form_error(request: Request) -> dict[str, Any]:
        flash(request, "Please fix the errors.", "error")
        return {"messages": get_flashed_messages(request)}

    @app.get("/next")
    def next_page(request: Request) -> dict[str, Any]:
        return {"messages": get_flashed_messages(request)}

    with TestClient(app) as client:
        assert client.get("/").json() == {"messages": ["Please fix the errors."]}
        assert client.get("/next").json() == {"messages": []}


def test_a_message_flashed_after_reading_waits_for_the_next_request(
    make_app: AppFactory, backend: str
) -> None:
    app = make_app(session_backend=backend)

    @app.get("/")
    def page(request: Request) -> dict[str, Any]:
        before = get_flashed_messages(request)
        flash(request, f"seen {len(before)}")
        return {"before": before, "again": get_flashed_messages(request)}

    with TestClient(app) as client:
        assert client.get("/").json() == {"before": [], "again": []}
        assert client.get("/").json() == {"before": ["seen 0"], "again": ["seen 0"]}
        assert client.get("/").json() == {"before": ["seen 1"], "again": ["seen 1"]}


def test_flash_through_a_csrf_protected_form_post(
    make_app: AppFactory, tmp_path: Path, backend: str
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "form.html").write_text(
        "{% for m in messages %}<p>{{ m }}</p>{% endfor %}<form method=post>{{ csrf_input() }}"
        "<input name=title></form>", encoding="utf-8")
    app = make_app(session_backend=backend)

    @app.get("/edit")
    def form(request: Request) -> HTMLResponse:
        return render(request, "form.html")

    @app.post("/edit")
    async def save(request: Request) -> RedirectResponse:
        data = await request.form()
        flash(request, f"Saved {data['title']}.", "success")
        return RedirectResponse("/edit", 303)

    with TestClient(app) as client:
        token = extract_csrf_token(client.get("/edit").text)
        posted = client.post("/edit", data={"csrf_token": token, "title": "<i>draft</i>"})
        assert posted.status_code == 303
        page = client.get("/edit")
        assert "<p>Saved &lt;i&gt;draft&lt;/i&gt;.</p>" in page.text
        assert "<p>" not in client.get("/edit").text
        # a forged post (no token) flashes nothing
        forged = client.post("/edit", data={"title": "forged"})
        assert forged.status_code == 403
        assert "forged" not in client.get("/edit").text


# -- categories ----------------------------------------------------------------


def test_categories_and_category_filter(make_app: AppFactory, backend: str) -> None:
    app = make_app(session_backend=backend)

    @app.get("/flash")
    def do_flash(request: Request) -> str:
        flash(request, "plain")  # category "info" by default
        flash(request, "bad", "error")
        flash(request, "careful", "warning")
        flash(request, "worse", "error")
        return "ok"

    @app.get("/all")
    def all_messages(request: Request) -> dict[str, Any]:
        return {"plain": get_flashed_messages(request),
                "pairs": get_flashed_messages(request, with_categories=True)}

    @app.get("/errors")
    def errors(request: Request) -> dict[str, Any]:
        return {"errors": get_flashed_messages(request, category_filter=["error"]),
                "problems": get_flashed_messages(request, with_categories=True,
                                                 category_filter=("error", "warning")),
                "unknown": get_flashed_messages(request, category_filter={"nope"})}

    with TestClient(app) as client:
        client.get("/flash")
        assert client.get("/all").json() == {
            "plain": ["plain", "bad", "careful", "worse"],
            "pairs": [["info", "plain"], ["error", "bad"], ["warning", "careful"],
                      ["error", "worse"]],
        }
        client.get("/flash")
        assert client.get("/errors").json() == {
            "errors": ["bad", "worse"],
            "problems": [["error", "bad"], ["warning", "careful"], ["error", "worse"]],
            "unknown": [],
        }
        # reading with a filter takes all of the request's messages (as Flask does)
        assert client.get("/all").json() == {"plain": [], "pairs": []}


def test_repeated_calls_in_one_request_return_the_same_messages(
    make_app: AppFactory, tmp_path: Path, backend: str
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text(
        "{{ get_flashed_messages()|join(',') }}|{{ get_flashed_messages()|join(',') }}|"
        "{% for m in messages %}{{ m.category }}:{{ m.message }},{% endfor %}|"
        "{{ messages|length }}|{{ get_flashed_messages(category_filter=['b'])|join(',') }}",
        encoding="utf-8")
    app = make_app(session_backend=backend)

    @app.get("/flash")
    def do_flash(request: Request) -> str:
        flash(request, "x", "a")
        flash(request, "y", "b")
        return "ok"

    @app.get("/view")
    def view(request: Request) -> dict[str, Any]:
        first = get_flashed_messages(request)
        second = get_flashed_messages(request)
        pairs = get_flashed_messages(request, with_categories=True)
        return {"first": first, "second": second, "pairs": pairs}

    @app.get("/page")
    def page(request: Request) -> HTMLResponse:
        return render(request, "page.html")

    with TestClient(app) as client:
        client.get("/flash")
        assert client.get("/view").json() == {
            "first": ["x", "y"], "second": ["x", "y"], "pairs": [["a", "x"], ["b", "y"]],
        }
        client.get("/flash")
        assert client.get("/page").text == "x,y|x,y|a:x,b:y,|2|y"
        assert client.get("/page").text == "|||0|"


def test_returned_lists_are_copies(make_app: AppFactory) -> None:
    app = make_app()

    @app.get("/")
    def view(request: Request) -> dict[str, Any]:
        flash(request, "kept")
        first = get_flashed_messages(request, with_categories=True)
        first.clear()  # a caller changing its list does not change the next call's
        return {"again": get_flashed_messages(request)}

    with TestClient(app) as client:
        assert client.get("/").json() == {"again": ["kept"]}


# -- in templates -----------------------------------------------------------------


def test_messages_global_renders_messages_with_their_categories(flash_app: App) -> None:
    with TestClient(flash_app) as client:
        assert client.get("/page").text == "none"
        flash_messages(client, ("Saved.", "success"), ("Low disk.", "warning"))
        assert client.get("/page").text == (
            '<ul><li class="success">Saved.</li><li class="warning">Low disk.</li></ul>'
        )
        assert client.get("/page").text == "none"


@pytest.mark.parametrize("message", [
    "<script>alert(1)</script>",
    Markup("<script>alert(1)</script>"),  # even Markup: a message is plain text
])
def test_html_in_a_message_is_escaped(
    make_app: AppFactory, tmp_path: Path, backend: str, message: str
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text(
        "{% for m in messages %}[{{ m }}][{{ m.message }}]{% endfor %}"
        "{% for m in get_flashed_messages() %}[{{ m }}]{% endfor %}"
        "{% for c, m in get_flashed_messages(with_categories=true) %}[{{ c }}:{{ m }}]"
        "{% endfor %}", encoding="utf-8")
    app = make_app(session_backend=backend)

    @app.get("/flash")
    def do_flash(request: Request) -> str:
        flash(request, message, "<b>cat</b>")
        return "ok"

    @app.get("/page")
    def page(request: Request) -> HTMLResponse:
        return render(request, "page.html")

    @app.get("/same-request")
    async def same_request(request: Request) -> HTMLResponse:
        flash(request, message, "<b>cat</b>")
        return await render_async(request, "page.html")

    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    category = "&lt;b&gt;cat&lt;/b&gt;"
    expected = f"[{escaped}][{escaped}][{escaped}][{category}:{escaped}]"
    with TestClient(app) as client:
        client.get("/flash")
        assert client.get("/page").text == expected
        assert client.get("/same-request").text == expected


def test_message_objects_render_as_their_text() -> None:
    message = Message("error", "Oops.")
    assert str(message) == "Oops."
    assert (message.category, message.message) == ("error", "Oops.")
    assert repr(message) == "Message('error', 'Oops.')"


def test_messages_are_stored_as_plain_strings(make_app: AppFactory) -> None:
    app = make_app()

    @app.get("/")
    def view(request: Request) -> dict[str, Any]:
        flash(request, 42, 7)  # type: ignore[arg-type]
        return {"stored": request.session["_flashes"]}

    with TestClient(app) as client:
        assert client.get("/").json() == {"stored": [["7", "42"]]}


# -- sessions ------------------------------------------------------------------


def test_reading_without_a_session_cookie_creates_no_session(flash_app: App) -> None:
    with TestClient(flash_app) as client:
        for path in ("/show", "/page"):
            response = client.get(path)
            assert response.status_code == 200
            assert "set-cookie" not in response.headers
            assert "cookie" not in response.headers.get("vary", "").lower()
        assert not client.cookies


def test_flashing_on_one_client_creates_no_session_for_a_client_without_cookies(
    flash_app: App,
) -> None:
    with TestClient(flash_app) as flasher, TestClient(flash_app) as reader:
        response = flasher.get("/flash", params={"msg": "hi", "cat": "info"})
        assert COOKIE in response.cookies  # flashing makes a session
        assert "cookie" in response.headers["vary"].lower()
        page = reader.get("/page")
        assert page.text == "none"
        assert "set-cookie" not in page.headers
        assert not reader.cookies
        assert shown(flasher) == [["info", "hi"]]


def test_a_tampered_session_cookie_is_no_error(flash_app: App) -> None:
    with TestClient(flash_app) as client:
        flash_messages(client, ("real", "info"))
        real = client.cookies[COOKIE]
        forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
        client.cookies.clear()
        client.cookies.set(COOKIE, forged)
        for path in ("/show", "/page"):
            response = client.get(path)
            assert response.status_code == 200
            assert "real" not in response.text


@pytest.mark.parametrize("cookie", ["", "x", "<script>", "a" * 4000, "%00%ff", "..;=="])
def test_garbage_session_cookies_read_as_no_messages(
    flash_app: App, cookie: str
) -> None:
    with TestClient(flash_app) as client:
        response = client.get("/show", headers={"cookie": f"{COOKIE}={cookie}"})
        assert response.status_code == 200
        assert response.json() == {"messages": []}


@pytest.mark.parametrize("stored", [
    "not a list",
    [["info", "ok"], 5, None, "xy", ["too", "many", "items"], {"a": 1, "b": 2}, [["x"], "y"]],
])
def test_malformed_stored_messages_are_skipped(
    make_app: AppFactory, backend: str, stored: Any
) -> None:
    app = make_app(session_backend=backend)

    @app.get("/store")
    def store(request: Request) -> str:
        request.session["_flashes"] = stored
        request.session["keep"] = 1
        return "ok"

    @app.get("/show")
    def show(request: Request) -> dict[str, Any]:
        return {"messages": get_flashed_messages(request, with_categories=True),
                "keep": request.session.get("keep")}

    with TestClient(app) as client:
        client.get("/store")
        response = client.get("/show")
    assert response.status_code == 200
    expected = [["info", "ok"], ["['x']", "y"]] if isinstance(stored, list) else []
    assert response.json() == {"messages": expected, "keep": 1}
