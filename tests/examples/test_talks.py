"""The call-for-talks example (forms), end to end on a throwaway SQLite file.

As for the guestbook, ``db_clean`` applies the example's committed migrations (which
also add the three tracks) and empties the talks after each test.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from heron.db import db
from heron.testing import TestClient, extract_csrf_token

ROOT = Path(__file__).resolve().parents[2]
MODULE = "examples.talks.app"
ABSTRACT = "How heron's forms validate, render and save, in fifty characters or more."
PDF = b"%PDF-1.4\n" + b"0" * 100


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('talks') / 'talks.sqlite3'}"


@pytest.fixture
def module(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("HERON_DATABASE_URL", database_url)
    monkeypatch.setenv("HERON_SECRET_KEY", "talks-test-secret")
    monkeypatch.setenv("HERON_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    loaded = importlib.import_module(MODULE)
    yield loaded
    asyncio.run(db.state(loaded.app).dispose())
    sys.modules.pop(MODULE, None)


@pytest.fixture
def app(module: Any) -> Any:
    return module.app


@pytest.fixture
def talks(app: Any, db_clean: None) -> Iterator[TestClient]:
    from examples.talks.models import Track

    # The migration made the tracks; db_clean empties every table after a test.
    with db.transaction() as session:
        if not session.scalars(select(Track)).first():
            session.add_all([Track(id=n, name=name)
                             for n, name in enumerate(("Web", "Data", "Tooling"), start=1)])
    with TestClient(app) as client:
        yield client


def tracks(app: Any) -> dict[str, int]:
    from examples.talks.models import Track

    with db.context(app):
        rows = db.session.scalars(select(Track))
        return {row.name: row.id for row in rows}


def proposal(client: TestClient, path: str = "/propose", files: Any = None,
             **values: str) -> Any:
    token = extract_csrf_token(client.get(path).text)
    data = {"title": "Forms in heron", "speaker": "Ann", "email": "ann@example.com",
            "track": "1", "level": "intermediate", "minutes": "30", "abstract": ABSTRACT,
            "code_of_conduct": "on", "csrf_token": token, **values}
    return client.post(path, data={k: v for k, v in data.items() if v is not None},
                       files=files)


def error_of(page: str, field: str) -> list[str]:
    match = re.search(rf'<ul class="errors" id="id_{field}-error">(.*?)</ul>', page)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


def test_the_form_page_lists_tracks_and_is_multipart(app: Any, talks: TestClient) -> None:
    page = talks.get("/propose")
    assert page.status_code == 200
    assert '<form method="post" enctype="multipart/form-data">' in page.text
    ids = tracks(app)
    for name in ("Web", "Data", "Tooling"):
        assert f'<option value="{ids[name]}">{name}</option>' in page.text
    assert '<option value="beginner" selected>Beginner</option>' in page.text
    assert ('name="minutes" type="number" aria-describedby="id_minutes-help" min="15" '
            'max="60" step="15" value="30"') in page.text
    assert 'accept=".pdf,application/pdf"' in page.text
    assert ('<input id="id_code_of_conduct" name="code_of_conduct" type="checkbox" required '
            'value="on">') in page.text


def test_propose_then_show_and_list(talks: TestClient) -> None:
    response = proposal(talks, title="<b>Forms</b> & you")
    assert response.status_code == 303
    page = talks.get(response.headers["location"])
    assert "<h1>&lt;b&gt;Forms&lt;/b&gt; &amp; you</h1>" in page.text
    assert "Thank you!" in page.text
    assert "by Ann, Web track, intermediate" in page.text
    assert "&lt;b&gt;Forms&lt;/b&gt; &amp; you</a> by Ann" in talks.get("/").text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "ann"}, "email", "Enter a valid email address."),
        ({"speaker": "  "}, "speaker", "Please fill in this field."),
        ({"minutes": "20"}, "minutes", "Ensure this value is a multiple of 15."),
        ({"minutes": "90"}, "minutes", "Ensure this value is less than or equal to 60."),
        ({"minutes": "9" * 200}, "minutes", "Enter a whole number."),
        ({"abstract": "Too short."}, "abstract", "Ensure this value has at least 50 characters."),
        ({"track": "999"}, "track", "Select a valid choice."),
        ({"level": "expert"}, "level", "Select a valid choice."),
        ({"website": "javascript:alert(1)"}, "website", "Enter a valid URL."),
        ({"code_of_conduct": None}, "code_of_conduct", "Please fill in this field."),
        ({"title": "SHOUTING"}, "title", "Please do not shout: write the title in lower case."),
        ({"title": "x" * 121}, "title", "Ensure this value has at most 120 characters."),
    ],
)
def test_mistakes_are_shown_next_to_their_field(talks: TestClient, changes: dict[str, Any],
                                                field: str, message: str) -> None:
    response = proposal(talks, **changes)
    assert response.status_code == 422
    assert "Your proposal was not saved" in response.text
    assert error_of(response.text, field) == [message]
    assert f'aria-describedby="id_{field}' in response.text
    assert talks.get("/").text.count("<li>") == 0


def test_a_taken_title_is_caught_by_the_unique_check(talks: TestClient) -> None:
    assert proposal(talks).status_code == 303
    again = proposal(talks, speaker="Bob")
    assert again.status_code == 422
    assert error_of(again.text, "title") == ["A talk with this title already exists."]
    assert 'value="Bob"' in again.text  # the other values are kept


def test_slides_are_stored_under_a_safe_name_and_downloaded(module: Any,
                                                            talks: TestClient) -> None:
    response = proposal(talks, files={"slides_file": ("../../etc/passwd.pdf", PDF,
                                                      "application/pdf")})
    assert response.status_code == 303
    talk_id = int(response.headers["location"].rsplit("/", 1)[1])
    from examples.talks.models import Talk

    with db.context(module.app):
        stored = db.session.get(Talk, talk_id)
        assert stored is not None
        name = stored.slides
    assert name is not None
    assert re.fullmatch(r"slides/[A-Za-z0-9_-]{24}\.pdf", name)
    media = Path(module.app.settings.media_dir)
    assert (media / name).read_bytes() == PDF
    download = talks.get(f"/talks/{talk_id}/slides")
    assert download.content == PDF
    assert download.headers["content-disposition"] == (
        f'attachment; filename="talk-{talk_id}-slides.pdf"')
    assert talks.get(f"/talks/{talk_id}").text.count("Slides (PDF)") == 1


@pytest.mark.parametrize(
    ("filename", "data", "ctype", "message"),
    [
        ("slides.html", b"<script>", "text/html",
         "Files of this type are not allowed; use .pdf, application/pdf."),
        ("slides.pdf", b"x" * (2 * 1024 * 1024 + 1), "application/pdf",
         "Ensure this file is at most 2.0 MB (it is 2.0 MB)."),
    ],
)
def test_bad_slides_are_a_field_error(talks: TestClient, filename: str, data: bytes,
                                      ctype: str, message: str) -> None:
    response = proposal(talks, files={"slides_file": (filename, data, ctype)})
    assert response.status_code == 422
    assert error_of(response.text, "slides_file") == [message]


def test_edit_in_a_sync_view(talks: TestClient) -> None:
    first = proposal(talks).headers["location"]
    proposal(talks, title="Another talk")
    edit = f"{first}/edit"
    page = talks.get(edit)
    assert 'value="Forms in heron"' in page.text
    assert ABSTRACT.replace("'", "&#39;") + "</textarea>" in page.text
    saved = proposal(talks, path=edit, title="Forms in heron, revised", minutes="45")
    assert saved.status_code == 303
    assert "45 minutes" in talks.get(first).text
    clash = proposal(talks, path=edit, title="Another talk")
    assert clash.status_code == 422
    assert error_of(clash.text, "title") == ["A talk with this title already exists."]
    assert talks.get("/talks/999/edit").status_code == 404


def test_bad_requests_are_4xx(talks: TestClient) -> None:
    talks.get("/propose")
    token = extract_csrf_token(talks.get("/propose").text)
    assert talks.post("/propose", data={"title": "x"}).status_code == 403  # no token
    assert talks.post("/propose", content=b"{}", headers={
        "content-type": "application/json", "x-csrf-token": token}).status_code == 415
    assert talks.get("/talks/999").status_code == 404
    assert talks.get("/talks/999/slides").status_code == 404


def test_migrations_match_the_models(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env["HERON_DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    heron = Path(sys.executable).with_name("heron")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(heron), "db", "--app", f"{MODULE}:app", *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=60, check=False)

    assert run("migrate").returncode == 0
    checked = run("check")
    assert checked.returncode == 0, checked.stderr
    assert "Models and migrations agree" in checked.stdout
