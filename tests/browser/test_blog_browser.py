"""The blog example in a real browser, served by ``heron run`` in production mode: the
front page and a post render with the stylesheet and no CSP complaint, and the page
head points feed readers at the RSS and Atom feeds.  Screenshots go to
build/test-artifacts/blog/."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from app_server import AppServer  # tests/app_server.py
    from playwright.sync_api import ConsoleMessage, Page

ROOT = Path(__file__).resolve().parents[2]
APP = "examples.blog.app:app"
ARTIFACTS = ROOT / "build" / "test-artifacts" / "blog"
POSTS = [
    ("Feeds, sitemaps and robots.txt", "feeds-sitemaps-robots", "Grace",
     "A blog is read in feed readers as much as in browsers. This one serves RSS 2.0 and "
     "Atom 1.0 from one class, with conditional GET so that readers polling every few "
     "minutes get a 304.\n\nSearch engines find every post through the sitemap, which "
     "pages itself past 50,000 URLs.", 1),
    ("Hello, heron", "hello-heron", "Ada",
     "The first post of the example blog. Posts are written in heron's admin and are "
     "public once their publication date has passed.\n\nDrafts stay in the admin.", 3),
]


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory,
         serve_app: Callable[..., AppServer]) -> AppServer:
    folder = tmp_path_factory.mktemp("blog-browser")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
    env.update({
        "HERON_SECRET_KEY": secrets.token_urlsafe(32),
        "HERON_DEBUG": "0",
        "HERON_ALLOWED_HOSTS": "127.0.0.1",
        "HERON_DATABASE_URL": f"sqlite:///{folder / 'blog.sqlite3'}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    })
    heron = Path(sys.executable).with_name("heron")
    migrate = subprocess.run([str(heron), "db", "--app", APP, "migrate"], cwd=folder, env=env,
                             capture_output=True, text=True, timeout=60, check=False)
    if migrate.returncode != 0:
        pytest.fail(f"`heron db migrate` failed:\n{migrate.stdout}{migrate.stderr}",
                    pytrace=False)
    now = datetime.now(UTC).replace(microsecond=0)
    with sqlite3.connect(folder / "blog.sqlite3") as connection:
        connection.executemany(
            "INSERT INTO blog_example_post (title, slug, author, body, published_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(title, slug, author, body, (now - timedelta(days=age)).isoformat(" "))
             for title, slug, author, body, age in POSTS])
    return serve_app(APP, env)


def test_the_pages_look_finished(page: Page, console: list[ConsoleMessage],
                                 blog: AppServer) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1000, "height": 760})
    response = page.goto(blog.url + "/")
    assert response is not None
    assert response.status == 200
    assert page.locator("h2").all_inner_texts() == [POSTS[0][0], POSTS[1][0]]
    # The stylesheet applied: the header bar has its colour.
    assert page.locator("header").evaluate(
        "e => getComputedStyle(e).backgroundColor") == "rgb(36, 65, 79)"
    feeds = page.locator('head link[rel="alternate"]')
    assert [feeds.nth(i).get_attribute("type") for i in range(feeds.count())] == [
        "application/rss+xml", "application/atom+xml"]
    page.screenshot(path=str(ARTIFACTS / "index.png"), full_page=True)

    page.get_by_role("link", name="Hello, heron").click()
    page.wait_for_url("**/posts/hello-heron")
    assert page.locator("h1").inner_text() == "Hello, heron"
    assert page.locator("article p").count() == 3  # the meta line and two paragraphs
    page.screenshot(path=str(ARTIFACTS / "post.png"), full_page=True)

    rss = page.request.get(blog.url + "/feed.xml")
    assert rss.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert [m.text for m in console if m.type == "error"] == []
