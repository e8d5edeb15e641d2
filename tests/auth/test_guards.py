"""``login_required``, ``staff_required`` and ``permission_required`` on sync and async
views and on routers; who gets a redirect, a 401 or a 403; and ``safe_next``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from auth_helpers import AuthAppFactory, log_in, make_user
from sqlalchemy import select

from heron import App, Request, Router
from heron.auth import (
    Permission,
    login_required,
    new_token,
    permission_required,
    safe_next,
    staff_required,
)
from heron.auth.user import User
from heron.db import db
from heron.testing import TestClient

JSON = {"accept": "application/json"}


def add_guarded_views(app: App) -> App:
    """The same guarded pages as ``def`` and ``async def`` views, and guarded routers."""

    @app.get("/sync/account")
    @login_required
    def sync_account(request: Request) -> str:
        return f"account of {request.user.username}"

    @app.get("/async/account")
    @login_required
    async def async_account(request: Request) -> str:
        return f"account of {request.user.username}"  # loaded by the guard

    @app.get("/sync/staff")
    @staff_required
    def sync_staff(request: Request) -> str:
        return "staff page"

    @app.get("/async/staff")
    @staff_required
    async def async_staff(request: Request) -> str:
        return "staff page"

    @app.get("/sync/groups")
    @permission_required("auth.change_group")
    def sync_groups(request: Request) -> str:
        return "groups page"

    @app.get("/async/groups")
    @permission_required("auth.change_group")
    async def async_groups(request: Request) -> str:
        assert request.user.has_perm("auth.change_group")  # loaded: no query on the loop
        return "groups page"

    @app.get("/sync/both")
    @staff_required
    @permission_required("auth.change_group", "auth.view_group")
    def staff_first(request: Request) -> str:
        return "both"

    @app.get("/async/both")
    @permission_required("auth.change_group", "auth.view_group")
    @staff_required
    async def perm_first(request: Request) -> str:
        return "both"

    members = login_required(Router("/members", name="members"))

    @members.get("/sync")
    def members_sync(request: Request) -> str:
        return f"members: {request.user.username}"

    @members.get("/async")
    async def members_async(request: Request) -> str:
        return f"members: {(await request.auser()).username}"

    @members.get("/groups")
    @permission_required("auth.change_group")
    async def members_groups(request: Request) -> str:
        return "members' groups"

    admin = staff_required(Router("/admin", name="admin"))

    @admin.get("/")
    def admin_index(request: Request) -> str:
        return "admin"

    app.include(members)
    app.include(admin)
    return app


@pytest.fixture
def app(auth_site: AuthAppFactory) -> App:
    app = add_guarded_views(auth_site(login_url="/login"))
    make_user(app, "alice")
    make_user(app, "staffer", is_staff=True)
    make_user(app, "root", is_superuser=True)
    editor = make_user(app, "editor")
    make_user(app, "staffeditor", is_staff=True)
    with db.context(app):
        change, view = (db.session.scalars(select(Permission).filter_by(
            component="auth", codename=c)).one() for c in ("change_group", "view_group"))
        for user in db.session.scalars(select(User).where(User.id >= editor)):
            user.user_permissions.extend([change, view])
        db.session.commit()
    return app


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def as_user(client: httpx.Client, username: str) -> httpx.Client:
    assert log_in(client, username).status_code == 200
    return client


SYNC_AND_ASYNC = pytest.mark.parametrize("kind", ["sync", "async"])


@SYNC_AND_ASYNC
def test_anonymous_browsers_go_to_the_login_page(client: httpx.Client, kind: str) -> None:
    for page in ("account", "staff", "groups", "both"):
        response = client.get(f"/{kind}/{page}?tab=a b&x=%2F&y=1")
        assert response.status_code == 302, page
        location = urlsplit(response.headers["location"])
        assert location.path == "/login"
        # the page, with its query, to come back to
        assert parse_qs(location.query) == {"next": [f"/{kind}/{page}?tab=a%20b&x=%2F&y=1"]}


@SYNC_AND_ASYNC
def test_api_clients_get_401_json(app: App, client: httpx.Client, kind: str) -> None:
    for headers in (JSON, {"authorization": "Basic YTpi"},
                    {"content-type": "application/json"}):
        response = client.get(f"/{kind}/account", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    # a browser that also sends Authorization is still told 401, on a page
    response = client.get(f"/{kind}/account",
                          headers={"authorization": "Basic YTpi", "accept": "text/html"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")


@SYNC_AND_ASYNC
def test_logged_in_users_get_through(client: httpx.Client, kind: str) -> None:
    as_user(client, "alice")
    assert client.get(f"/{kind}/account").text == "account of alice"


@SYNC_AND_ASYNC
def test_staff_required(client: httpx.Client, kind: str) -> None:
    as_user(client, "alice")
    response = client.get(f"/{kind}/staff")
    assert response.status_code == 403
    assert client.get(f"/{kind}/staff", headers=JSON).json()["detail"] == \
        "This page is for staff only."
    as_user(client, "staffer")
    assert client.get(f"/{kind}/staff").text == "staff page"


@SYNC_AND_ASYNC
def test_permission_required(client: httpx.Client, kind: str) -> None:
    as_user(client, "staffer")  # staff, without the permission
    response = client.get(f"/{kind}/groups", headers=JSON)
    assert response.status_code == 403
    assert "auth.change_group" in response.json()["detail"]
    as_user(client, "editor")
    assert client.get(f"/{kind}/groups").text == "groups page"
    as_user(client, "root")  # superusers have every permission
    assert client.get(f"/{kind}/groups").text == "groups page"


def test_guards_run_top_down(client: httpx.Client) -> None:
    as_user(client, "alice")  # neither staff nor permitted: the first guard says why
    assert client.get("/sync/both", headers=JSON).json()["detail"] == \
        "This page is for staff only."
    assert "permission" in client.get("/async/both", headers=JSON).json()["detail"]
    as_user(client, "editor")  # permitted, not staff
    assert client.get("/sync/both").status_code == 403
    assert client.get("/async/both").status_code == 403
    as_user(client, "staffeditor")
    assert client.get("/sync/both").text == client.get("/async/both").text == "both"


def test_a_guarded_router(client: httpx.Client) -> None:
    for path in ("/members/sync", "/members/async", "/members/groups"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["location"] == f"/login?next={path}"
        assert client.get(path, headers=JSON).status_code == 401
    as_user(client, "alice")
    assert client.get("/members/sync").text == "members: alice"
    assert client.get("/members/async").text == "members: alice"
    assert client.get("/members/groups").status_code == 403  # the router's guard, then the view's
    assert client.get("/admin/").status_code == 403
    as_user(client, "staffeditor")
    assert client.get("/members/groups").text == "members' groups"
    assert client.get("/admin/").text == "admin"


def test_a_bearer_token_passes_the_guards(app: App, client: httpx.Client) -> None:
    with db.context(app):
        user = db.session.scalars(select(User).filter_by(username="editor")).one()
        token, secret = new_token(app, user, "ci")
        db.session.add(token)
        db.session.commit()
    bearer = {"authorization": f"Bearer {secret}"}
    assert client.get("/async/groups", headers=bearer).text == "groups page"
    response = client.get("/sync/staff", headers=bearer)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_login_url_may_be_a_route_name(auth_site: AuthAppFactory) -> None:
    app = add_guarded_views(auth_site(login_url="sign_in"))

    @app.get("/sign-in", name="sign_in")
    def sign_in(request: Request) -> str:
        return "the login page"

    with TestClient(app, follow_redirects=True) as client:
        response = client.get("/sync/account?x=1")
        assert response.url.path == "/sign-in"
        assert response.url.params["next"] == "/sync/account?x=1"
        assert response.text == "the login page"


def test_next_of_a_mounted_app_has_the_mount_prefix_once(app: App,
                                                        make_app: Callable[..., App]) -> None:
    site = make_app()
    site.mount("/portal", app)
    with TestClient(site) as client:
        response = client.get("/portal/sync/account?x=1")
        assert response.status_code == 302
        assert response.headers["location"] == "/login?next=/portal/sync/account%3Fx%3D1"


def test_permission_required_takes_component_dot_codename() -> None:
    with pytest.raises(ValueError, match=r"component\.codename"):
        permission_required()
    with pytest.raises(ValueError, match=r"component\.codename"):
        permission_required("change_group")


# -- safe_next ----------------------------------------------------------------------


@pytest.fixture
def next_client(make_app: Callable[..., App]) -> Iterator[TestClient]:
    # NUL allowed, so that a "next" holding one reaches safe_next (by default, a 400).
    app = make_app(allowed_hosts=["testserver", "example.org"], allow_nul_in_text=True)

    @app.get("/next")
    def check(request: Request) -> dict[str, str | None]:
        return {"next": safe_next(request, request.query_params.get("next"))}

    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("value", [
    "/", "/account", "/account?tab=1&x=%2F#top", "/a/b;c", "/caf%C3%A9",
    "http://testserver/account", "http://TestServer/x?y=1",
])
def test_safe_next_keeps_this_sites_paths(next_client: httpx.Client, value: str) -> None:
    assert next_client.get("/next", params={"next": value}).json() == {"next": value}


@pytest.mark.parametrize("value", [
    "", "account", "//evil.com", "///evil.com", "//evil.com/account", "/\\evil.com",
    "\\\\evil.com", "/\\/evil.com", "https://evil.com", "http://evil.com/account",
    "https://testserver@evil.com/", "http://evil.com#@testserver", "javascript:alert(1)",
    "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>", "http:evil.com",
    "https:/evil.com", "/\t/evil.com", "/\n/evil.com", "\t//evil.com", "/\x00", "/a\x7f",
    " //evil.com", "ftp://testserver/file", "http://testserver:8080/", "/" + "a" * 2048,
])
def test_safe_next_refuses_other_places(next_client: httpx.Client, value: str) -> None:
    assert next_client.get("/next", params={"next": value}).json() == {"next": None}


def test_safe_next_refuses_a_downgrade_to_http(next_client: httpx.Client) -> None:
    secure = "https://example.org"
    answer = next_client.get(f"{secure}/next", params={"next": "http://example.org/a"})
    assert answer.json() == {"next": None}
    answer = next_client.get(f"{secure}/next", params={"next": "https://example.org/a"})
    assert answer.json() == {"next": "https://example.org/a"}
    # over plain HTTP, either scheme on this host is fine
    answer = next_client.get("http://example.org/next", params={"next": "https://example.org/a"})
    assert answer.json() == {"next": "https://example.org/a"}
    assert safe_next(None, None) is None  # type: ignore[arg-type]


def test_sync_permission_check_of_a_user_an_async_hook_loaded(auth_site: AuthAppFactory,
                                                              ) -> None:
    # The user then belongs to an AsyncSession, which cannot query from the worker
    # thread of a sync view: the permission read was a 500 (MissingGreenlet).
    app = auth_site(login_url="/login")
    pages = Router("/pages", name="pages")

    @pages.before_request
    async def load_user(request: Request) -> None:
        await request.auser()

    @pages.get("/guarded")
    @permission_required("auth.change_group")
    def guarded(request: Request) -> str:
        return "guarded"

    @pages.get("/asks")
    def asks(request: Request) -> str:
        return str(request.user.has_perm("auth.change_group"))

    app.include(pages)
    make_user(app, "alice")
    with TestClient(app) as client:
        as_user(client, "alice")
        assert client.get("/pages/guarded").status_code == 403
        assert client.get("/pages/asks").text == "False"


@pytest.mark.parametrize("guard", [login_required, staff_required,
                                   permission_required("auth.view_user")])
def test_an_app_mounted_below_a_guarded_router_is_refused(
        auth_app: AuthAppFactory, make_app: Callable[..., App], guard: Callable[..., Router],
) -> None:
    # The guards run before the router's views; a mounted app was served to anyone.
    from heron.exceptions import ImproperlyConfigured

    mounted = make_app()

    @mounted.get("/secret")
    def secret(request: Request) -> str:
        return "secret"

    app = auth_app()
    outer = Router("/private", name="private")
    inner = Router("/inner", name="inner")
    inner.mount("/files", mounted)
    outer.include(inner)
    guard(outer)
    app.include(outer)
    with pytest.raises(ImproperlyConfigured) as raised:
        app.setup()
    assert raised.value.id == "heron.auth.E005"
    assert "/files" in str(raised.value)

    fine = auth_app()  # a mount beside the guarded router is the app's own business
    guarded = login_required(Router("/private", name="private"))
    fine.include(guarded)
    fine.mount("/files", make_app())
    fine.setup()


def test_permission_required_takes_no_object_argument() -> None:
    # It used to accept obj=... and ignore it; objects are checked in the view.
    with pytest.raises(TypeError):
        permission_required("auth.change_user", obj=lambda request: None)  # type: ignore[call-arg]


def add_api_views(app: App) -> App:
    """Guarded views in API mode: a router with ``api=True``, guarded as a whole or by view."""
    api = Router("/api", name="api", api=True)

    @api.get("/me")
    @login_required
    def me(request: Request) -> dict[str, str]:
        return {"username": request.user.username}

    @api.get("/staff")
    @staff_required
    async def staff(request: Request) -> dict[str, bool]:
        return {"staff": True}

    @api.get("/groups")
    @permission_required("auth.change_group")
    async def groups(request: Request) -> dict[str, bool]:
        return {"groups": True}

    members = login_required(Router("/api/members", name="api_members", api=True))

    @members.get("/")
    async def members_index(request: Request) -> dict[str, str]:
        return {"member": (await request.auser()).username}

    app.include(api)
    app.include(members)
    return app


@pytest.fixture
def api_client(auth_site: AuthAppFactory) -> Iterator[TestClient]:
    app = add_api_views(add_guarded_views(auth_site(login_url="/login")))
    make_user(app, "alice")
    make_user(app, "staffer", is_staff=True)
    with TestClient(app) as client:
        yield client


BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.mark.parametrize("path", ["/api/me", "/api/staff", "/api/groups", "/api/members/"])
@pytest.mark.parametrize("headers", [BROWSER, {"accept": "*/*"}, {}])
def test_api_mode_guards_answer_401_not_a_redirect(
        api_client: TestClient, path: str, headers: dict[str, str]) -> None:
    response = api_client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["detail"] == "Authentication is required."
    # outside API mode the same browser is sent to the login page
    assert api_client.get("/async/account", headers=headers).status_code == 302


def test_api_mode_guards_answer_403_in_json_to_browsers(api_client: TestClient) -> None:
    as_user(api_client, "alice")
    assert api_client.get("/api/me", headers=BROWSER).json() == {"username": "alice"}
    for path in ("/api/staff", "/api/groups"):
        refused = api_client.get(path, headers=BROWSER)
        assert refused.status_code == 403, path
        assert refused.headers["content-type"] == "application/problem+json"
    assert "auth.change_group" in api_client.get("/api/groups").json()["detail"]
    as_user(api_client, "staffer")
    assert api_client.get("/api/staff", headers=BROWSER).json() == {"staff": True}


def test_a_bad_token_in_api_mode_is_a_401_in_json(api_client: TestClient) -> None:
    response = api_client.get("/api/me", headers={**BROWSER, "authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_an_app_in_api_mode_guards_every_route_with_401(auth_site: AuthAppFactory) -> None:
    app = add_guarded_views(auth_site(login_url="/login", api=True))
    with TestClient(app) as client:
        for path in ("/sync/account", "/async/staff", "/members/sync", "/admin/"):
            response = client.get(path, headers=BROWSER)
            assert response.status_code == 401, path
            assert response.headers["content-type"] == "application/problem+json"
