"""A guestbook: heron's example app, served on SQLite.

Run it from the repository root with ``./scripts/demo`` (or
``heron run examples.guestbook.app:app --debug``) and open http://127.0.0.1:8000.

It shows routing with path parameters, HTML and JSON views, a form, a sync view
doing blocking database work in heron's thread pool, error handling and static
files.  The database is a SQLite file in ``instance/``, created on first use.

The database code uses SQLAlchemy directly for now; heron's own database layer
(``heron.db``, with migrations) will replace it.
"""

from __future__ import annotations

import html
import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from heron import App, RedirectResponse, Request, Router, abort

HERE = Path(__file__).parent
INSTANCE = Path(os.environ.get("GUESTBOOK_INSTANCE", HERE / "instance"))


class Base(DeclarativeBase):
    pass


class Entry(Base):
    __tablename__ = "entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    message: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=lambda: datetime.now(UTC))

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "message": self.message,
                "created_at": self.created_at}


app = App()
engine = create_engine(f"sqlite:///{INSTANCE / 'guestbook.sqlite3'}")


@app.on_startup
def create_tables() -> None:
    INSTANCE.mkdir(parents=True, exist_ok=True)
    Base.metadata.create_all(engine)


def page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title>"
        '<link rel="stylesheet" href="' + app.url_for("static", path="style.css") + '">'
        f"</head><body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )


@app.get("/")
def index() -> str:
    """The guestbook: every entry, newest first, and a form to sign it."""
    with Session(engine) as db:
        entries = db.scalars(select(Entry).order_by(Entry.id.desc()).limit(50)).all()
        count = db.scalar(select(func.count(Entry.id)))
    items = "".join(
        f'<li><a href="{app.url_for("entry", id=e.id)}">{html.escape(e.name)}</a>: '
        f"{html.escape(e.message)}</li>"
        for e in entries
    )
    form = (
        f'<form method="post" action="{app.url_for("sign")}">'
        '<label>Name <input name="name" required maxlength="80"></label>'
        '<label>Message <textarea name="message" required maxlength="500"></textarea></label>'
        "<button>Sign</button></form>"
    )
    return page("heron guestbook", f"<p>{count} signatures.</p>{form}<ul>{items}</ul>")


@app.post("/sign")
async def sign(request: Request) -> RedirectResponse:
    """Add an entry from the form, then go back to the list (POST/redirect/GET)."""
    form = await request.form()
    name = str(form.get("name", "")).strip()
    message = str(form.get("message", "")).strip()
    if not name or not message or len(name) > 80 or len(message) > 500:
        abort(422, "Name (up to 80 characters) and message (up to 500) are required.")
    with Session(engine) as db:
        db.add(Entry(name=name, message=message))
        db.commit()
    return RedirectResponse(app.url_for("index"), 303)


@app.get("/entries/{id:int}")
def entry(id: int) -> str:
    with Session(engine) as db:
        found = db.get(Entry, id)
        if found is None:
            abort(404, f"There is no entry {id}.")
        return page(f"Entry {id}", f"<p><b>{html.escape(found.name)}</b> wrote:</p>"
                    f"<blockquote>{html.escape(found.message)}</blockquote>"
                    f'<p><a href="{app.url_for("index")}">Back</a></p>')


api = Router("/api", name="api")


@api.get("/entries")
def list_entries(request: Request) -> list[dict[str, object]]:
    """Entries as JSON; ``?limit=`` caps how many (1-100, default 20)."""
    raw_limit = request.query_params.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        abort(400, "limit must be a whole number from 1 to 100.")
    with Session(engine) as db:
        rows = db.scalars(select(Entry).order_by(Entry.id.desc()).limit(int(raw_limit)))
        return [row.as_dict() for row in rows]


@api.get("/entries/{id:int}")
def get_entry(id: int) -> dict[str, object]:
    with Session(engine) as db:
        found = db.get(Entry, id)
        if found is None:
            abort(404, f"There is no entry {id}.")
        return found.as_dict()


app.include(api)
