"""A bookshop: heron's admin example, on SQLite.

Run it from the repository root::

    heron db --app examples.bookshop.app:app migrate   # the tables (heron's too)
    heron --app examples.bookshop.app:app createsuperuser
    heron run examples.bookshop.app:app --debug

then open http://127.0.0.1:8000/admin/ and log in.  Without ``--debug``, set
``HERON_SECRET_KEY``.

The public pages list the books in print and show one with its reviews.  Staff
manage everything at ``/admin/`` (``admin.py``): books with their reviews edited
on the same page, a search, filters (one of them our own), a date drill-down,
prices and stock edited in the list, two actions, CSV and JSON exports, and an
audit log of every change (``admin_audit_writes`` is on, so the changes made by
the actions are in it too).  ``templates/admin/app/book/change_form.html``
overrides one page of the admin for books only.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from heron import App, HTTPException, Request, Response, Settings, render
from heron.db import db

from .models import Book

settings = Settings()
if not settings.allowed_hosts:
    settings.allowed_hosts = ["127.0.0.1", "localhost", "[::1]"]
app = App(settings, components=["heron.auth", "heron.admin"], admin_audit_writes=True,
          admin_site_title="Bookshop administration")

from . import admin as admin  # noqa: E402  (registers the models in the admin)


@app.get("/")
def index(request: Request) -> Response:
    """The books in print, by title."""
    books = db.session.scalars(select(Book).where(Book.in_print)
                               .options(selectinload(Book.author)).order_by(Book.title)).all()
    return render(request, "index.html", books=books)


@app.get("/books/{slug}")
async def book(request: Request, slug: str) -> Response:
    """One book with its reviews."""
    found = await db.async_session.scalar(
        select(Book).where(Book.slug == slug)
        .options(selectinload(Book.author), selectinload(Book.reviews)))
    if found is None:
        raise HTTPException(404, "There is no such book.")
    return render(request, "book.html", book=found)
