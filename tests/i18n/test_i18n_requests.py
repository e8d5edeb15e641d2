"""Choosing the language and time zone per request: Accept-Language, cookies, URL
prefixes, the setlang view; bad input is ignored or a 4xx, never a 500."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from heron import App, render
from heron.forms import Form
from heron.i18n import get_language, get_timezone
from heron.i18n._middleware import parse_accept_language
from heron.plugins import Plugin
from heron.requests import HTTPConnection
from heron.testing import TestClient, extract_csrf_token


def make_app(root: Path, **settings: object) -> App:
    options: dict[str, object] = {"secret_key": "i18n request tests",
                                  "languages": ["en", "de", "fr", "ar"],
                                  "time_zone_cookie_name": "tz"}
    options.update(settings)
    app = App(root=root, **options)  # type: ignore[arg-type]
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "when.html").write_text(
        '<html lang="{{ language }}" dir="{{ language_dir }}">'
        '{{ when|localtime }}|{{ when|datetime("short") }}</html>')
    (root / "templates" / "lang.html").write_text(
        '<form method="post" action="{{ url_for(\'heron_setlang\') }}">'
        '<input type="hidden" name="csrf_token" value="{{ csrf_token() }}"></form>')

    @app.get("/lang")
    async def lang(request):  # type: ignore[no-untyped-def]
        return f"{request.language}|{get_language()}|{get_timezone()}"

    @app.get("/sync")
    def sync_lang():  # type: ignore[no-untyped-def]
        return f"{get_language()}|{get_timezone()}"

    @app.get("/when")
    async def when(request):  # type: ignore[no-untyped-def]
        return render(request, "when.html", when=dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC))

    @app.get("/form")
    async def form_page(request):  # type: ignore[no-untyped-def]
        return render(request, "lang.html")

    class Meeting(Form):
        starts: dt.datetime

    @app.post("/meeting")
    async def meeting(request):  # type: ignore[no-untyped-def]
        form = await Meeting.from_request(request)
        assert form.is_valid(), form.errors
        return {"starts": form.data["starts"].isoformat(), "shown": form["starts"].value}

    return app


@pytest.mark.parametrize(("header", "expected"), [
    ("de", ["de"]),
    ("fr;q=0.5, de;q=0.9, en;q=0.1", ["de", "fr", "en"]),
    ("de-AT, en;q=0.5", ["de-at", "en"]),
    ("*;q=0.1, fr", ["fr", "*"]),
    ("en;q=0, de", ["de"]),
    (";;;,,, q=1", []),
    ("de;q=abc, fr;q=2, it;q=-1, es;q=0.3", ["es"]),
    ("de;level=1, fr", ["fr"]),
    ("x" * 100 + ", de", ["de"]),
    ("de;q=nan", []),
    ("é, de", ["de"]),
    ("de," * 5000, ["de"] * 50),
])
def test_accept_language_is_parsed_robustly(header: str, expected: list[str]) -> None:
    assert parse_accept_language(header) == expected


def test_the_header_picks_an_offered_language(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        def lang(header: str) -> str:
            return client.get("/lang", headers={"accept-language": header}).text.split("|")[0]

        assert lang("de-AT,de;q=0.9") == "de"
        assert lang("fr-CA") == "fr"
        assert lang("it, fr;q=0.2") == "fr"
        assert lang("it, es") == "en"
        assert lang("garbage;;q==") == "en"
        assert lang("\x7f\x00") == "en"
        assert client.get("/lang").text.startswith("en|en|")
        # A sync view runs in the thread pool and sees the same language.
        assert client.get("/sync", headers={"accept-language": "fr"}).text == "fr|UTC"


def test_the_cookie_wins_over_the_header_and_unknown_codes_are_ignored(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        client.cookies.set("heron_language", "fr")
        assert client.get("/lang", headers={"accept-language": "de"}).text.startswith("fr|")
        client.cookies.set("heron_language", "klingon")
        assert client.get("/lang", headers={"accept-language": "de"}).text.startswith("de|")
        client.cookies.set("heron_language", "../../etc")
        assert client.get("/lang").status_code == 200


def test_right_to_left_languages_mark_the_page(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        page = client.get("/when", headers={"accept-language": "ar"})
        assert page.text.startswith('<html lang="ar" dir="rtl">')
        assert client.get("/when").text.startswith('<html lang="en" dir="ltr">')


def test_the_language_url_prefix(tmp_path: Path) -> None:
    app = make_app(tmp_path, language_url_prefix=True)
    with TestClient(app) as client:
        assert client.get("/de/lang").text.startswith("de|de|")
        assert client.get("/fr/sync").text.startswith("fr|")
        assert client.get("/lang", headers={"accept-language": "de"}).text.startswith("de|")
        assert client.get("/es/lang").status_code == 404  # not offered: no such page
        assert client.get("/de").status_code in (200, 404)  # the prefix alone: the root
        assert client.get("/de/nothing").status_code == 404


def test_static_urls_keep_one_url_in_every_language(tmp_path: Path) -> None:
    app = make_app(tmp_path, language_url_prefix=True)
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "site.css").write_text("body { color: teal }")
    (tmp_path / "templates" / "links.html").write_text(
        "{{ static('site.css') }}|{{ url_for('lang') }}")

    @app.get("/links")
    async def links(request):  # type: ignore[no-untyped-def]
        return render(request, "links.html")

    with TestClient(app) as client:
        assert client.get("/de/links").text == "/static/site.css|/de/lang"
        assert client.get("/links").text == "/static/site.css|/lang"
        assert client.get("/static/site.css").text == "body { color: teal }"


def test_time_zone_from_the_cookie_and_invalid_zones_ignored(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        client.cookies.set("tz", "Europe/Berlin")
        page = client.get("/when")
        assert "2026-07-01 12:00:00+02:00|" in page.text  # stored in UTC, shown in Berlin
        assert "7/1/26, 12:00\u202fPM" in page.text
        assert client.get("/lang").text.endswith("|Europe/Berlin")
        for bad in ("Mars/Olympus", "../../etc/passwd", "", "x" * 500, "/etc/localtime"):
            client.cookies.set("tz", bad)
            answer = client.get("/when")
            assert answer.status_code == 200
            assert "2026-07-01 10:00:00+00:00" in answer.text


def test_a_naive_form_datetime_is_read_in_the_visitors_zone(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        client.cookies.set("tz", "America/New_York")
        token = extract_csrf_token(client.get("/form").text)
        answer = client.post("/meeting", data={"starts": "2026-01-15T09:30",
                                                "csrf_token": token})
        assert answer.status_code == 200, answer.text
        # 09:30 in New York (EST, UTC-5) is 14:30 UTC; shown again as typed.
        assert answer.json() == {"starts": "2026-01-15T14:30:00+00:00",
                                 "shown": "2026-01-15T09:30"}


def test_setlang_sets_the_cookie_and_redirects_only_to_this_site(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        token = extract_csrf_token(client.get("/form").text)

        def post(**data: str) -> object:
            return client.post("/i18n/setlang", data={"csrf_token": token, **data},
                               follow_redirects=False)

        answer = post(language="de", next="/lang?x=1")
        assert answer.status_code == 303  # type: ignore[attr-defined]
        assert answer.headers["location"] == "/lang?x=1"  # type: ignore[attr-defined]
        assert "heron_language=de" in answer.headers["set-cookie"]  # type: ignore[attr-defined]
        assert client.get("/lang").text.startswith("de|")
        for unsafe in ("https://evil.example/", "//evil.example", "/\\evil.example",
                       "javascript:alert(1)", "http://testserver@evil.example/"):
            assert post(language="fr", next=unsafe).headers["location"] == "/"  # type: ignore[attr-defined]
        assert post(language="klingon").status_code == 400  # type: ignore[attr-defined]
        regional = post(language="de-AT", next="/lang")  # the offered "de"
        assert "heron_language=de;" in regional.headers["set-cookie"]  # type: ignore[attr-defined]
        assert post().status_code == 400  # type: ignore[attr-defined]
        # Without the CSRF token: refused.
        refused = client.post("/i18n/setlang", data={"language": "fr"}, follow_redirects=False)
        assert refused.status_code == 403


def test_setlang_keeps_the_page_in_the_new_languages_prefix(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path, language_url_prefix=True)) as client:
        token = extract_csrf_token(client.get("/de/form").text)
        answer = client.post("/de/i18n/setlang", follow_redirects=False, data={
            "csrf_token": token, "language": "fr", "next": "/de/lang"})
        assert answer.headers["location"] == "/fr/lang"
        answer = client.post("/de/i18n/setlang", follow_redirects=False, data={
            "csrf_token": token, "language": "fr", "next": "/de?x=1"})
        assert answer.headers["location"] == "/fr/?x=1"  # the query string kept


def test_one_language_adds_nothing_per_request(tmp_path: Path) -> None:
    app = App(root=tmp_path, secret_key="x")

    @app.get("/")
    async def index():  # type: ignore[no-untyped-def]
        return get_language()

    with TestClient(app) as client:
        answer = client.get("/", headers={"accept-language": "de"})
        assert answer.text == "en"
        assert "content-language" not in answer.headers
        assert "vary" not in answer.headers
        assert client.post("/i18n/setlang", data={"language": "en"}).status_code in (403, 404)


class _Member:
    is_authenticated = True
    language = "fr"
    timezone = "Asia/Tokyo"


class _MembersPlugin(Plugin):
    """Stands in for heron.auth's loader of ``request.user``: a real plugin giving the
    ``auser`` request attribute, which is all heron.i18n reads."""

    name = "tests.members"

    def request_attributes(self, app: App) -> dict[str, Any]:
        async def auser(conn: HTTPConnection) -> Any:
            user = _Member() if conn.cookies.get("member") else None
            conn.scope["heron.user"] = user
            return user

        return {"auser": auser}


def test_the_users_language_and_zone_win_over_cookie_and_header(tmp_path: Path) -> None:
    app = make_app(tmp_path, plugins=[_MembersPlugin()])
    with TestClient(app) as client:
        client.cookies.set("heron_language", "de")
        assert client.get("/lang").text == "de|de|UTC"
        client.cookies.set("member", "1")
        assert client.get("/lang", headers={"accept-language": "ar"}).text == \
            "fr|fr|Asia/Tokyo"
        assert client.get("/sync").text == "fr|Asia/Tokyo"
    prefixed = make_app(tmp_path, plugins=[_MembersPlugin()], language_url_prefix=True)
    with TestClient(prefixed) as client:
        client.cookies.set("member", "1")
        assert client.get("/de/lang").text == "de|de|Asia/Tokyo"  # the URL wins


def test_error_pages_are_translated(tmp_path: Path) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    folder = tmp_path / "locales" / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale="de")
    catalog.add("Not Found", "Nicht gefunden")
    with (folder / "messages.mo").open("wb") as file:
        write_mo(file, catalog)
    with TestClient(make_app(tmp_path)) as client:
        page = client.get("/nowhere", headers={"accept-language": "de"})
        assert page.status_code == 404
        assert "<title>404 Nicht gefunden</title>" in page.text
        assert '<html lang="de">' in page.text
        assert "<title>404 Not Found</title>" in client.get("/nowhere").text


def test_the_page_cache_keeps_a_copy_per_language(tmp_path: Path) -> None:
    from heron.cache import cache_page

    app = make_app(tmp_path)
    served: list[str] = []

    @app.get("/cached")
    @cache_page(60)
    async def cached(request):  # type: ignore[no-untyped-def]
        served.append(request.language)
        return f"<p>{request.language}</p>"

    with TestClient(app) as client:
        for header in ("de", "fr", "de", "fr", "en"):
            answer = client.get("/cached", headers={"accept-language": header})
            assert answer.text == f"<p>{header}</p>"
            assert "Accept-Language" in answer.headers["vary"]
        assert served == ["de", "fr", "en"]


def test_a_site_in_german_only_has_german_error_pages(tmp_path: Path) -> None:
    app = App(root=tmp_path, secret_key="one language", languages=["de"], language_code="de")
    with TestClient(app) as client:
        missing = client.get("/nothing-here", headers={"accept": "text/html"})
    assert missing.status_code == 404
    assert '<html lang="de">' in missing.text
    assert "Not Found" not in missing.text


def test_the_time_zone_setting_reads_and_shows_form_datetimes_alike(tmp_path: Path) -> None:
    # One language, no cookie: the time_zone setting is the zone both ways, so a value
    # shown in a form and posted back unchanged is stored unchanged.
    app = App(root=tmp_path, secret_key="zone both ways", time_zone="Europe/Berlin")

    class Meeting(Form):
        starts: dt.datetime

    @app.post("/meeting")
    async def meeting(request):  # type: ignore[no-untyped-def]
        form = await Meeting.from_request(request)
        assert form.is_valid(), form.errors
        stored = form.data["starts"]
        shown = Meeting(initial={"starts": stored})["starts"].value
        return {"stored": stored.isoformat(), "shown": shown}

    @app.get("/token")
    async def token_page(request):  # type: ignore[no-untyped-def]
        return render(request, "lang.html")

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "lang.html").write_text(
        '<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">')
    with TestClient(app) as client:
        token = extract_csrf_token(client.get("/token").text)
        answer = client.post("/meeting", data={"starts": "2026-07-01T12:00",
                                                "csrf_token": token})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"stored": "2026-07-01T10:00:00+00:00", "shown": "2026-07-01T12:00"}
