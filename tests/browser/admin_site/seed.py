"""``python -m admin_site.seed``: the tables (heron's migrations, then the
catalogue's models) and the rows the browser test starts from.

Users: ``admin`` (a superuser) and ``viewer`` (staff who may only view the
catalogue); both have the password in ``HERON_TEST_PASSWORD``.  Data: three
authors and 45 books, published from 2021 to 2023, the first two with chapters.
"""

from __future__ import annotations

import datetime as dt
import os

from sqlalchemy import select

from admin_site.app import app
from admin_site.models import AdmBrAuthor, AdmBrBook, AdmBrChapter, AdmBrStatus
from heron.auth.models import Permission
from heron.auth.permissions import sync_permissions
from heron.auth.users import create_user
from heron.db import db
from heron.testing.database import prepare_schema

AUTHORS = [("Ursula Quill", "ursula@example.com"), ("Octavia Reed", "octavia@example.com"),
           ("Italo Marsh", "italo@example.com")]
STATUSES = list(AdmBrStatus)


def seed() -> None:
    password = os.environ["HERON_TEST_PASSWORD"]
    prepare_schema(app)
    with db.context(app):
        session = db.session
        sync_permissions(app, session)
        create_user(session, app, "admin", password, is_staff=True, is_superuser=True)
        viewer = create_user(session, app, "viewer", password, is_staff=True)
        viewer.user_permissions = list(session.scalars(select(Permission).where(
            Permission.component == "catalogue", Permission.codename.startswith("view_"))))
        authors = [AdmBrAuthor(name=name, email=email) for name, email in AUTHORS]
        session.add_all(authors)
        for n in range(45):
            session.add(AdmBrBook(
                title=f"Volume {n + 1:02d}", slug=f"volume-{n + 1:02d}",
                status=STATUSES[n % 3], in_stock=n % 4 != 0, author=authors[n % 3],
                published=dt.date(2021 + n % 3, 1 + n % 12, 1 + n % 28)))
        for book in session.scalars(select(AdmBrBook).where(
                AdmBrBook.title.in_(["Volume 01", "Volume 02"]))):
            book.chapters = [AdmBrChapter(number=1, title="Beginnings"),
                             AdmBrChapter(number=2, title="Middles")]
        session.commit()


if __name__ == "__main__":
    seed()
