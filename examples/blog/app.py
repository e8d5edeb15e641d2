"""A blog: heron's feeds, sitemaps and robots.txt example, on SQLite.

Run it from the repository root::

    heron db --app examples.blog.app:app migrate   # the tables (heron's too)
    heron --app examples.blog.app:app createsuperuser
    heron run examples.blog.app:app --debug

then open http://127.0.0.1:8000/ (write posts at /admin/).  Without ``--debug``,
set ``HERON_SECRET_KEY``.

The public pages list the published posts and show one.  ``feeds.py`` declares
the RSS and Atom feeds (``/feed.xml``, ``/atom.xml``), the sitemap (``/sitemap.xml``,
an index of ``/sitemap-pages.xml`` and ``/sitemap-posts.xml``) and ``/robots.txt``.
A post whose ``published_at`` is empty or still to come is a draft: it is in the
admin only.

Readers get the blog in English or German (heron.i18n): the text of the templates
and ``feeds.py`` is marked for translation, ``locales/de/LC_MESSAGES/messages.po``
translates it, and the language comes from ``Accept-Language`` or the switcher at
the foot of each page (a cookie set by ``POST /i18n/setlang``).  After changing the
text::

    heron --app examples.blog.app:app i18n extract
    heron --app examples.blog.app:app i18n update
    (translate the new messages in the .po file)
    heron --app examples.blog.app:app i18n compile
"""

from __future__ import annotations

from sqlalchemy import select

from heron import App, HTTPException, Request, Response, Settings, render
from heron.db import db
from heron.feeds import AtomFeed
from heron.i18n import gettext as _
from heron.sitemaps import Sitemaps

from .feeds import ROBOTS, SITEMAPS, LatestPosts, published
from .models import Post

settings = Settings()
if not settings.allowed_hosts:
    settings.allowed_hosts = ["127.0.0.1", "localhost", "[::1]"]
app = App(settings, components=["heron.auth", "heron.admin", "heron.feeds"],
          admin_site_title=_("Blog administration"), languages=["en", "de"])

from . import admin as admin  # noqa: E402  (registers the posts in the admin)

#: Posts on the front page.
PER_PAGE = 10


@app.get("/")
async def index(request: Request) -> Response:
    """The newest published posts."""
    statement = published(select(Post)).order_by(Post.published_at.desc()).limit(PER_PAGE)
    posts = (await db.async_session.scalars(statement)).all()
    return render(request, "index.html", posts=posts)


@app.get("/posts/{slug}")
async def post(request: Request, slug: str) -> Response:
    """One published post."""
    found = await db.async_session.scalar(published(select(Post)).where(Post.slug == slug))
    if found is None:
        raise HTTPException(404, _("There is no such post."))
    return render(request, "post.html", post=found)


app.add_route("/feed.xml", LatestPosts().view, name="feed")
app.add_route("/atom.xml", LatestPosts(AtomFeed).view, name="atom")
Sitemaps(SITEMAPS).add_routes(app)
app.add_route("/robots.txt", ROBOTS.view, name="robots")
