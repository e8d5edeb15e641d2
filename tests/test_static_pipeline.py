"""Serving what ``heron collectstatic`` wrote: hashed names cached for a year,
precompressed files by ``Accept-Encoding``, 304 and Range, ``static()`` URLs in
production and in debug, and the checks of a manifest that lacks a file."""

from __future__ import annotations

import gzip
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from app_server import AppServer
from click.testing import CliRunner

from heron import App, Request, StaticFiles, render
from heron.checks import ConfigurationErrors
from heron.cli import main
from heron.plugins import Plugin
from heron.testing import TestClient

CSS = "body { background: url(../img/logo.svg); }\n" + "/* long enough to compress */\n" * 30
LOGO = "<svg xmlns='http://www.w3.org/2000/svg'>" + "<rect width='1' height='1'/>" * 60 + "</svg>"
PAGE = """<link rel="stylesheet" href="{{ static('css/site.css') }}">
<img src="{{ static('/img/logo.svg') }}">
<a href="{{ url_for('static', path='css/site.css') }}">plain</a>
"""
APP = """
from pathlib import Path

from heron import App, render

app = App(root=Path(__file__).parent)


@app.get("/")
def index(request):
    return render(request, "index.html")
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project folder with static files and a page, collected once."""
    root = tmp_path / "site"
    files = {
        "app.py": APP,
        "static/css/site.css": CSS,
        "static/img/logo.svg": LOGO,
        "static/small.txt": "tiny",
        "templates/index.html": PAGE,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    collect()
    yield root
    sys.modules.pop("app", None)


def collect() -> None:
    sys.modules.pop("app", None)
    result = CliRunner().invoke(main, ["collectstatic"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def hashed(root: Path, name: str) -> str:
    import json

    paths: dict[str, str] = json.loads((root / "staticfiles/staticfiles.json").read_text())[
        "paths"]
    return paths[name]


def make(root: Path, **settings: Any) -> App:
    settings.setdefault("secret_key", "a-long-random-test-secret")
    settings.setdefault("allowed_hosts", ["testserver"])
    return App(root=root, **settings)


@pytest.fixture
def client(site: Path) -> Iterator[TestClient]:
    with TestClient(make(site)) as client:
        yield client


def get(client: TestClient, path: str, **headers: str) -> httpx.Response:
    # Spell Accept-Encoding out: httpx would send its own default otherwise.
    sent = {"accept-encoding": "identity"}
    sent.update({name.replace("_", "-"): value for name, value in headers.items()})
    return client.get(path, headers=sent)


# -- caching and negotiation ------------------------------------------------------------


def test_hashed_files_are_immutable_and_plain_names_are_not(site: Path,
                                                            client: TestClient) -> None:
    css = hashed(site, "css/site.css")
    response = get(client, f"/static/{css}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert get(client, "/static/css/site.css").headers["cache-control"] == "public, max-age=3600"


@pytest.mark.parametrize(("accept", "encoding"), [
    ("gzip, deflate, br", "br"),
    ("gzip", "gzip"),
    ("br", "br"),
    ("gzip;q=1.0, br;q=0.5", "gzip"),
    ("br;q=0, gzip", "gzip"),
    ("*", "br"),
    ("*;q=0.5, br;q=0", "gzip"),
    ("gzip;q=0.4, identity;q=0.9", None),
    ("identity", None),
    ("deflate", None),
    ("gzip;q=0, br;q=0", None),
    ("GZIP;Q=0.8", "gzip"),
    ("gzip;q=nonsense, br;q=0.1", "br"),
])
def test_the_precompressed_file_is_picked_by_accept_encoding(
        site: Path, client: TestClient, accept: str, encoding: str | None) -> None:
    name = hashed(site, "css/site.css")
    response = get(client, f"/static/{name}", accept_encoding=accept)
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == encoding
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    original = (site / "staticfiles" / name).read_bytes()
    suffix = {"br": ".br", "gzip": ".gz", None: ""}[encoding]
    assert int(response.headers["content-length"]) == \
        (site / "staticfiles" / (name + suffix)).stat().st_size
    assert response.content == original  # httpx decodes what the server encoded


def test_a_file_without_compressed_copies_does_not_vary(client: TestClient) -> None:
    response = get(client, "/static/small.txt", accept_encoding="gzip, br")
    assert response.text == "tiny"
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers


def test_a_compressed_copy_older_than_its_file_is_not_sent(site: Path) -> None:
    name = site / "staticfiles" / "css/site.css"
    name.write_text(CSS + "/* edited in place */\n")
    later = time.time() + 10
    os.utime(name, (later, later))
    with TestClient(make(site)) as client:
        response = get(client, "/static/css/site.css", accept_encoding="gzip, br")
    assert "content-encoding" not in response.headers
    assert response.text.endswith("/* edited in place */\n")


def test_a_compressed_file_asked_by_its_own_name_is_not_mislabelled(client: TestClient) -> None:
    response = client.get("/static/css/site.css.gz", headers={"accept-encoding": "identity"})
    assert response.headers["content-type"] == "application/gzip"
    assert "content-encoding" not in response.headers
    assert gzip.decompress(response.content) == CSS.encode()


def test_304_on_a_hashed_compressed_file(site: Path, client: TestClient) -> None:
    name = hashed(site, "css/site.css")
    first = get(client, f"/static/{name}", accept_encoding="gzip")
    etag = first.headers["etag"]
    identity = get(client, f"/static/{name}")
    assert identity.headers["etag"] != etag  # another representation, another validator
    again = get(client, f"/static/{name}", accept_encoding="gzip", if_none_match=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert again.headers["vary"] == "Accept-Encoding"
    since = get(client, f"/static/{name}", accept_encoding="gzip",
                if_modified_since=first.headers["last-modified"])
    assert since.status_code == 304


def test_range_on_a_hashed_file_gets_the_bytes_of_the_file_itself(site: Path,
                                                                 client: TestClient) -> None:
    name = hashed(site, "img/logo.svg")
    response = get(client, f"/static/{name}", accept_encoding="gzip, br", range="bytes=0-9")
    assert response.status_code == 206
    assert "content-encoding" not in response.headers
    assert response.content == LOGO.encode()[:10]
    size = len(LOGO.encode())
    assert response.headers["content-range"] == f"bytes 0-9/{size}"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["vary"] == "Accept-Encoding"
    beyond = get(client, f"/static/{name}", accept_encoding="gzip", range=f"bytes={size}-")
    assert beyond.status_code == 416


def test_head_of_a_compressed_file(site: Path, client: TestClient) -> None:
    name = hashed(site, "img/logo.svg")
    response = client.head(f"/static/{name}", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) == \
        (site / "staticfiles" / f"{name}.gz").stat().st_size


def test_production_serves_the_collected_folder(site: Path) -> None:
    (site / "static/css/site.css").write_text("/* edited after collectstatic */")
    with TestClient(make(site)) as client:
        assert get(client, "/static/css/site.css").text == CSS  # collected, not the source
    with TestClient(make(site, debug=True)) as client:
        response = get(client, "/static/css/site.css")
        assert response.text == "/* edited after collectstatic */"
        assert response.headers["cache-control"] == "no-cache"
        assert get(client, "/static/" + hashed(site, "css/site.css")).status_code == 404


def test_static_files_with_precompressed_and_immutable_mounted_by_hand(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist/app.1a2b3c.js").write_text("x" * 1000)
    (tmp_path / "dist/app.1a2b3c.js.gz").write_bytes(gzip.compress(b"x" * 1000))
    app = App(debug=True)
    app.mount("/assets", StaticFiles([tmp_path / "dist"], precompressed=True,
                                     immutable=["app.1a2b3c.js"]), name="assets")
    response = TestClient(app).get("/assets/app.1a2b3c.js", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.text == "x" * 1000


# -- static() in templates ---------------------------------------------------------------


def render_page(app: App) -> str:
    with TestClient(app) as client:
        response = client.get("/")
        assert response.status_code == 200, response.text
        return response.text


def page_app(site: Path, **settings: Any) -> App:
    app = make(site, **settings)

    @app.get("/")
    def index(request: Request) -> Any:
        return render(request, "index.html")

    return app


def test_static_gives_hashed_urls_in_production(site: Path) -> None:
    page = render_page(page_app(site))
    assert f'href="/static/{hashed(site, "css/site.css")}"' in page
    assert f'src="/static/{hashed(site, "img/logo.svg")}"' in page
    assert 'href="/static/css/site.css">plain' in page  # url_for("static") is the plain URL


def test_static_gives_plain_urls_in_debug(site: Path) -> None:
    page = render_page(page_app(site, debug=True))
    assert 'href="/static/css/site.css"' in page
    assert 'src="/static/img/logo.svg"' in page


def test_the_static_manifest_setting_decides(site: Path) -> None:
    forced = render_page(page_app(site, debug=True, static_manifest=True))
    assert f'href="/static/{hashed(site, "css/site.css")}"' in forced
    off = render_page(page_app(site, static_manifest=False))
    assert 'href="/static/css/site.css"' in off


def test_without_a_manifest_production_serves_the_static_folder(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static/a.txt").write_text("a")
    with TestClient(make(tmp_path)) as client:
        response = get(client, "/static/a.txt")
        assert response.text == "a"
        assert response.headers["cache-control"] == "public, max-age=3600"


def test_a_template_naming_a_file_the_manifest_lacks_is_a_check_error(site: Path) -> None:
    (site / "templates/broken.html").write_text(
        "{{ static('css/missing.css') }} {{ static('css/site.css') }}")
    (site / "templates/other.html").write_text(
        "{% if x %}{{ static('css/missing.css') }}{% endif %}")
    (site / "templates/dynamic.html").write_text("{{ static(name) }}")  # not known before
    app = page_app(site)
    problems = app.check()
    assert [p.id for p in problems] == ["heron.templating.E001"]
    assert problems[0].message.startswith(
        "static('css/missing.css') in broken.html, other.html names a file that is not in the "
        "manifest ")
    with pytest.raises(RuntimeError, match=r"heron\.templating\.E001"), TestClient(app):
        pass
    # In debug the app serves the static folders: nothing to check.
    assert page_app(site, debug=True).check() == []


def test_at_run_time_a_name_missing_from_the_manifest_links_plainly_and_logs_once(
        site: Path, caplog: pytest.LogCaptureFixture) -> None:
    (site / "templates/dynamic.html").write_text("{{ static(name) }}")
    app = make(site)

    @app.get("/d")
    def dynamic(request: Request) -> Any:
        return render(request, "dynamic.html", name="img/late.png")

    with caplog.at_level(logging.WARNING, logger="heron"), TestClient(app) as client:
        assert client.get("/d").text == "/static/img/late.png"
        assert client.get("/d").text == "/static/img/late.png"
    warnings = [r for r in caplog.records if "img/late.png" in r.getMessage()]
    assert len(warnings) == 1
    assert "Run `heron collectstatic` again" in warnings[0].getMessage()


# -- the static checks ---------------------------------------------------------------------


def test_a_manifest_required_but_missing_stops_the_app(tmp_path: Path) -> None:
    app = make(tmp_path, static_manifest=True)
    problems = app.check()
    assert [p.id for p in problems] == ["heron.static.E001"]
    assert "staticfiles.json does not exist. Run `heron collectstatic`" in problems[0].message
    with pytest.raises(ConfigurationErrors, match=r"heron\.static\.E001"):
        app.setup()


def test_a_broken_manifest_is_reported(site: Path) -> None:
    (site / "staticfiles/staticfiles.json").write_text("{not json")
    problems = make(site).check()
    assert [p.id for p in problems] == ["heron.static.E001"]
    assert "cannot be used" in problems[0].message
    (site / "staticfiles/staticfiles.json").write_text('{"version": 99, "paths": {}}')
    assert [p.id for p in make(site).check()] == ["heron.static.E001"]


def test_a_static_root_overlapping_a_static_folder_is_a_check_error(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    problems = make(tmp_path, static_root="static").check()
    assert [p.id for p in problems] == ["heron.static.E002"]
    assert f"overlaps the static folder {tmp_path / 'static'}" in problems[0].message


def test_a_file_added_after_collectstatic_is_a_check_error(site: Path) -> None:
    (site / "static/late.js").write_text("late")
    (site / "static/.hidden").write_text("never collected, never reported")
    problems = make(site).check()
    assert [p.id for p in problems] == ["heron.static.E003"]
    assert "1 static file(s) are not in the manifest" in problems[0].message
    assert "late.js" in problems[0].message
    collect()
    assert make(site).check() == []


def test_a_plugins_static_folder_is_served(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets/widget.js").write_text("widget")

    class Widgets(Plugin):
        name = "test.widgets"
        static_dir = tmp_path / "assets"

    app = App(debug=True, root=tmp_path, plugins=[Widgets()])
    assert TestClient(app).get("/static/widget.js").text == "widget"


# -- a real server -----------------------------------------------------------------------


def test_a_real_server_sends_a_hashed_gzip_file(site: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env.update(HERON_SECRET_KEY="a-long-random-test-secret", HERON_ALLOWED_HOSTS="127.0.0.1")
    subprocess.run([str(Path(sys.executable).with_name("heron")), "collectstatic", "--clear"],
                   cwd=site, env=env, check=True, capture_output=True, timeout=60)
    server = AppServer("app:app", cwd=site, env=env).start()
    try:
        page = httpx.get(server.url + "/", timeout=10)
        css = hashed(site, "css/site.css")
        assert f'href="/static/{css}"' in page.text
        with httpx.Client(timeout=10) as client, client.stream(
                "GET", f"{server.url}/static/{css}",
                headers={"accept-encoding": "gzip"}) as response:
            raw = b"".join(response.iter_raw())
            assert response.status_code == 200
            assert response.headers["content-encoding"] == "gzip"
            assert response.headers["vary"] == "Accept-Encoding"
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert raw == (site / "staticfiles" / f"{css}.gz").read_bytes()  # the file, as written
        text = gzip.decompress(raw).decode()
        assert text == (site / "staticfiles" / css).read_text()
        assert hashed(site, "img/logo.svg").rsplit("/", 1)[1] in text
        etag = response.headers["etag"]
        again = httpx.get(f"{server.url}/static/{css}", timeout=10,
                          headers={"accept-encoding": "gzip", "if-none-match": etag})
        assert again.status_code == 304
    finally:
        server.stop()
