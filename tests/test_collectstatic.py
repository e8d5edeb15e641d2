"""``heron collectstatic``: gathering, hashed names, the manifest, CSS rewriting,
precompression, the options and what the command prints."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import brotli
import pytest
from click.testing import CliRunner, Result

from heron.cli import main

APP = """
from pathlib import Path

from heron import App
from heron.plugins import Plugin

HERE = Path(__file__).parent


class Badges(Plugin):
    name = "site.badges"
    static_dir = HERE / "badges"


app = App(secret_key="a-long-random-test-secret", components=["shop"], plugins=[Badges()],
          root=HERE{settings})
"""

SITE_CSS = """\
@import "base.css";
@import url('print.css') print;
body { background: url("../img/logo.svg?v=2#top"); }
.a { background-image: url(../img/logo.svg); }
.b { background: url( '/static/img/logo.svg' ); }
.c { background: url(data:image/png;base64,iVBORw0KGgo=); }
.d { background: url(https://cdn.example.com/x.png); }
.e { background: url(//cdn.example.com/y.png); }
.f { filter: url(#shadow); }
.g { background: url(/media/upload.png); }
.h { background: url(../img/missing.png); }
""" + "/* padding so that the file is worth compressing */\n" * 12

LOGO = "<svg xmlns='http://www.w3.org/2000/svg'>" + "<rect width='1' height='1'/>" * 60 + "</svg>"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An app with its static folder, a component's (``shop``) and a plugin's."""
    site = tmp_path / "site"
    files = {
        "app.py": APP.format(settings=""),
        "static/css/site.css": SITE_CSS,
        "static/css/base.css": "h1 { color: teal; }\n",
        "static/css/print.css": "body { color: black; }\n",
        "static/img/logo.svg": LOGO,
        "static/js/app.js": "console.log('hello');\n" * 40,
        "static/shop/shop.css": "/* the app's own, which wins */\n",
        "static/.gitkeep": "",
        "static/js/app.js~": "an editor's backup",
        "shop/__init__.py": "",
        "shop/static/shop/shop.css": "/* the component's */\n",
        "shop/static/shop/cart.js": "let cart = [];\n",
        "badges/badge.txt": "a plugin's file\n",
    }
    for name, text in files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "outside.txt").write_text("not a static file")
    (site / "static" / "escape.txt").symlink_to(tmp_path / "outside.txt")
    monkeypatch.chdir(site)
    monkeypatch.syspath_prepend(str(site))
    for module in ("app", "shop"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    yield site
    for module in ("app", "shop"):
        sys.modules.pop(module, None)


def collect(*args: str) -> Result:
    for module in ("app", "shop"):  # each run loads the app as the command would
        sys.modules.pop(module, None)
    return CliRunner().invoke(main, ["collectstatic", *args], catch_exceptions=False)


def manifest(site: Path) -> dict[str, str]:
    data = json.loads((site / "staticfiles" / "staticfiles.json").read_text())
    assert data["version"] == 1
    return data["paths"]  # type: ignore[no-any-return]


def test_gathers_the_app_component_and_plugin_files(project: Path) -> None:
    result = collect()
    assert result.exit_code == 0, result.output
    names = manifest(project)
    assert sorted(names) == [
        "badge.txt", "css/base.css", "css/print.css", "css/site.css", "img/logo.svg",
        "js/app.js", "shop/cart.js", "shop/shop.css",
    ]  # no hidden file, no backup, no link pointing out of the folder
    out = project / "staticfiles"
    # The app's file wins over the component's of the same name, as when serving.
    assert (out / "shop/shop.css").read_text() == "/* the app's own, which wins */\n"
    assert (out / "badge.txt").read_text() == "a plugin's file\n"
    assert "8 files in 3 folders" in result.output
    assert "1 file hidden by a file of the same name in an earlier folder" in result.output


def test_hashed_names_carry_the_content_digest(project: Path) -> None:
    collect()
    names = manifest(project)
    logo = (project / "static/img/logo.svg").read_bytes()
    assert names["img/logo.svg"] == f"img/logo.{digest(logo)}.svg"
    badge = (project / "badges/badge.txt").read_bytes()
    assert names["badge.txt"] == f"badge.{digest(badge)}.txt"
    out = project / "staticfiles"
    for name, hashed in names.items():
        assert re.fullmatch(r"(.+/)?[^/]+\.[0-9a-f]{12}(\.\w+)?", hashed), hashed
        assert (out / name).is_file()
        assert (out / hashed).is_file()
        if not name.endswith(".css"):
            assert (out / hashed).read_bytes() == (out / name).read_bytes()


def test_a_changed_file_gets_a_new_name_and_so_does_the_css_using_it(project: Path) -> None:
    collect()
    before = manifest(project)
    (project / "static/img/logo.svg").write_text(LOGO.replace("rect", "circle"))
    collect()
    after = manifest(project)
    assert after["img/logo.svg"] != before["img/logo.svg"]
    assert after["css/site.css"] != before["css/site.css"]  # it links to the new logo
    assert after["css/base.css"] == before["css/base.css"]
    # The previous hashed files stay: pages cached before the deploy still find them.
    assert (project / "staticfiles" / before["img/logo.svg"]).is_file()


def test_css_references_point_at_hashed_names(project: Path) -> None:
    result = collect()
    names = manifest(project)
    logo = names["img/logo.svg"].rsplit("/", 1)[1]
    css = (project / "staticfiles" / names["css/site.css"]).read_text()
    base, printed = (names[f"css/{n}.css"].rsplit("/", 1)[1] for n in ("base", "print"))
    assert f'@import "{base}";' in css
    assert f"@import url('{printed}') print;" in css
    assert f'url("../img/{logo}?v=2#top")' in css  # quotes, query and fragment kept
    assert f"url(../img/{logo})" in css
    assert f"url( '/static/img/{logo}' )" in css  # an absolute static URL
    for kept in ("url(data:image/png;base64,iVBORw0KGgo=)", "url(https://cdn.example.com/x.png)",
                 "url(//cdn.example.com/y.png)", "url(#shadow)", "url(/media/upload.png)",
                 "url(../img/missing.png)"):
        assert kept in css
    assert "5 references (url() and @import) rewritten to hashed names in 1 CSS file" \
        in result.output
    # A reference to no file is reported, and is not fatal.
    assert result.exit_code == 0
    assert ("warning: css/site.css refers to ../img/missing.png, which is no static file; "
            "left as it is") in result.output
    # The file under its own name is the original, as written.
    assert (project / "staticfiles/css/site.css").read_text() == SITE_CSS
    # The hashed CSS file's name is the digest of its rewritten content.
    assert names["css/site.css"] == f"css/site.{digest(css.encode())}.css"


def test_css_files_importing_each_other(project: Path) -> None:
    (project / "static/css/a.css").write_text('@import "b.css";\n')
    (project / "static/css/b.css").write_text('@import "a.css";\n')
    result = collect()
    assert result.exit_code == 0
    assert "refer to one another" in result.output
    names = manifest(project)
    assert (project / "staticfiles" / names["css/a.css"]).read_text() == '@import "b.css";\n'


def test_compressed_copies(project: Path) -> None:
    result = collect()
    names = manifest(project)
    out = project / "staticfiles"
    for name in ("js/app.js", names["js/app.js"], "img/logo.svg", names["css/site.css"]):
        data = (out / name).read_bytes()
        assert gzip.decompress((out / f"{name}.gz").read_bytes()) == data
        assert brotli.decompress((out / f"{name}.br").read_bytes()) == data
    # Under 500 bytes: not worth it.
    assert not (out / "css/base.css.gz").exists()
    assert not (out / names["shop/cart.js"]).with_name(
        names["shop/cart.js"].rsplit("/", 1)[1] + ".gz").exists()
    assert "compressed copies: 6 .gz, 6 .br" in result.output


def test_compressed_kinds_and_incompressible_files_get_no_copy(project: Path) -> None:
    (project / "static/img/photo.png").write_bytes(b"\x89PNG" + b"\0" * 4000)
    (project / "static/noise.bin").write_bytes(os.urandom(4000))
    collect()
    out = project / "staticfiles"
    assert not (out / "img/photo.png.gz").exists()  # a compressed kind, by its extension
    assert not (out / "noise.bin.gz").exists()  # gzip would not make it smaller
    assert not (out / "noise.bin.br").exists()


def test_gzip_copies_are_the_same_on_every_run(project: Path) -> None:
    collect("--clear")
    first = (project / "staticfiles/js/app.js.gz").read_bytes()
    collect("--clear")
    assert (project / "staticfiles/js/app.js.gz").read_bytes() == first  # no timestamp


def test_without_brotli_only_gzip_is_written_with_a_note(project: Path) -> None:
    # A run in its own process where `import brotli` fails, as without heron[brotli].
    script = ("import sys; sys.modules['brotli'] = None; from heron.cli import main; "
              "main(['collectstatic'])")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    done = subprocess.run([sys.executable, "-c", script], cwd=project, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert 'note: brotli is not installed, so only .gz copies are written; pip install ' \
        '"heron[brotli]" for .br copies too' in done.stdout
    out = project / "staticfiles"
    assert (out / "js/app.js.gz").is_file()
    assert not list(out.rglob("*.br"))
    assert "compressed copies: 6 .gz (files under" in done.stdout


def test_running_again_changes_nothing(project: Path) -> None:
    collect()
    out = project / "staticfiles"
    files = sorted(p for p in out.rglob("*") if p.is_file())
    stamps = {p: p.stat().st_mtime_ns for p in files if p.name != "staticfiles.json"}
    text = (out / "staticfiles.json").read_text()
    again = collect()
    assert again.exit_code == 0
    assert "0 files written, 16 unchanged" in again.output
    assert sorted(p for p in out.rglob("*") if p.is_file()) == files
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # ETags stay the same
    assert (out / "staticfiles.json").read_text() == text


def test_no_compress(project: Path) -> None:
    result = collect("--no-compress")
    assert result.exit_code == 0
    out = project / "staticfiles"
    assert not list(out.rglob("*.gz"))
    assert not list(out.rglob("*.br"))
    assert "compressed copies" not in result.output


def test_dry_run_writes_nothing(project: Path) -> None:
    result = collect("--dry-run")
    assert result.exit_code == 0
    assert not (project / "staticfiles").exists()
    assert "(dry run: nothing is written)" in result.output
    assert "16 files would be written, 0 unchanged" in result.output
    assert "Manifest would be written: staticfiles/staticfiles.json (8 names)" in result.output


def test_clear_removes_files_of_earlier_versions(project: Path) -> None:
    collect()
    old = manifest(project)["js/app.js"]
    (project / "static/js/app.js").write_text("console.log('new');\n")
    dry = collect("--clear", "--dry-run")
    assert "entries of staticfiles would be removed" in dry.output
    assert "16 files would be written, 0 unchanged" in dry.output
    assert (project / "staticfiles" / old).is_file()
    result = collect("--clear")
    assert result.exit_code == 0
    assert "entries of staticfiles removed" in result.output
    assert not (project / "staticfiles" / old).exists()
    assert (project / "staticfiles" / manifest(project)["js/app.js"]).is_file()


def test_clear_refuses_a_folder_collectstatic_did_not_make(project: Path) -> None:
    (project / "staticfiles").mkdir()
    (project / "staticfiles" / "precious.txt").write_text("keep me")
    result = collect("--clear")
    assert result.exit_code == 1
    assert "holds files but no staticfiles.json" in result.output
    assert (project / "staticfiles" / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize("static_root", ["static", "static/collected", ".", ".."])
def test_a_static_root_overlapping_a_static_folder_is_refused(project: Path,
                                                               static_root: str) -> None:
    (project / "app.py").write_text(APP.format(settings=f", static_root={static_root!r}"))
    result = collect()
    assert result.exit_code == 1
    assert result.output.startswith("heron.static.E002: static_root ")
    assert not (project / "static" / "staticfiles.json").exists()


def test_verbose_names_each_file_and_what_is_hidden(project: Path) -> None:
    result = collect("-v")
    assert "    js/app.js written" in result.output
    assert f"    {manifest(project)['js/app.js']} written" in result.output
    assert "    shop/shop.css: shop/static/shop/shop.css not used" in result.output


def test_many_files_show_a_progress_bar(project: Path) -> None:
    few = collect()
    assert "hashing and writing" not in few.output
    for number in range(120):
        (project / f"static/icons/{number}.txt").parent.mkdir(exist_ok=True)
        (project / f"static/icons/{number}.txt").write_text(f"icon {number}")
    many = collect()
    assert many.exit_code == 0
    assert "  hashing and writing" in many.output
    assert "128 files in 3 folders" in many.output


def test_the_whole_output(project: Path) -> None:
    result = collect()
    assert result.output == textwrap.dedent("""\
        Collecting the static files of app:app into staticfiles
          8 files in 3 folders
            static
            shop/static
            badges
          1 file hidden by a file of the same name in an earlier folder (the one served)
          16 files written, 0 unchanged (each of the 8 files under its name and its hashed name)
          5 references (url() and @import) rewritten to hashed names in 1 CSS file
          compressed copies: 6 .gz, 6 .br (files under 500 bytes and compressed kinds are left out)
        warning: css/site.css refers to ../img/missing.png, which is no static file; left as it is
        Manifest written: staticfiles/staticfiles.json (8 names)
        """)
