"""A guestbook: heron's example app, served on SQLite.

Run it from the repository root with ``./scripts/demo`` (or
``heron run examples.guestbook.app:app --debug``) and open http://127.0.0.1:8000.
Without ``--debug`` it runs as in production: set ``HERON_SECRET_KEY`` first.

It shows routing with path parameters, Jinja2 templates (``templates/``) with a
layout, flashed messages, a form protected against CSRF that is validated on the
server (POST/redirect/GET), a JSON API, a sync view doing blocking database work
in heron's thread pool, error pages and static files.  The database is a SQLite
file in ``instance/`` (``GUESTBOOK_INSTANCE`` moves it), created on first use.

The database code uses SQLAlchemy directly for now; heron's own database layer
(``heron.db``, with migrations) will replace it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from heron import (
    App,
    HTTPException,
    JSONResponse,
    RedirectResponse,
    Request,
    Response,
    Router,
    Settings,
    abort,
    flash,
    render,
    run_in_threadpool,
)

HERE = Path(__file__).parent
INSTANCE = Path(os.environ.get("GUESTBOOK_INSTANCE", HERE / "instance"))
NAME_MAX = 80
MESSAGE_MAX = 500


class Base(DeclarativeBase):
    pass


class Entry(Base):
    __tablename__ = "entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    message: Mapped[str] = mapped_column(String(MESSAGE_MAX))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=lambda: datetime.now(UTC))

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "message": self.message,
                "created_at": self.created_at}


# Settings come from HERON_* variables (and .env).  When HERON_ALLOWED_HOSTS is
# not set, serve this machine's own names, so that the example also runs with
# debug off; a deployment sets HERON_ALLOWED_HOSTS=guestbook.example.com.
settings = Settings()
if not settings.allowed_hosts:
    settings.allowed_hosts = ["127.0.0.1", "localhost", "[::1]"]
app = App(settings)
engine = create_engine(f"sqlite:///{INSTANCE / 'guestbook.sqlite3'}")


@app.on_startup
def create_tables() -> None:
    INSTANCE.mkdir(parents=True, exist_ok=True)
    Base.metadata.create_all(engine)


@app.context_processor
def limits(request: Request) -> dict[str, Any]:
    return {"name_max": NAME_MAX, "message_max": MESSAGE_MAX}


def index_page(request: Request, *, status_code: int = 200, form: dict[str, str] | None = None,
               errors: dict[str, str] | None = None) -> Response:
    """The list of entries with the form to sign (filled in again after an error)."""
    with Session(engine) as db:
        entries = db.scalars(select(Entry).order_by(Entry.id.desc()).limit(50)).all()
        count = db.scalar(select(func.count(Entry.id))) or 0
    return render(request, "index.html", status_code=status_code, entries=entries, count=count,
                  form=form or {"name": "", "message": ""}, errors=errors or {})


@app.get("/")
def index(request: Request) -> Response:
    """The guestbook: the latest entries, newest first, and a form to sign it."""
    return index_page(request)


def validate(name: str, message: str) -> dict[str, str]:
    """Field name -> what is wrong with it (nothing: the entry is fine)."""
    errors = {}
    if not name:
        errors["name"] = "Please give your name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"Your name can be at most {NAME_MAX} characters long."
    if not message:
        errors["message"] = "Please write a message."
    elif len(message) > MESSAGE_MAX:
        errors["message"] = f"Your message can be at most {MESSAGE_MAX} characters long."
    return errors


def add_entry(name: str, message: str) -> None:
    with Session(engine) as db:
        db.add(Entry(name=name, message=message))
        db.commit()


@app.post("/sign")
async def sign(request: Request) -> Response:
    """Add an entry from the form, then go back to the list (POST/redirect/GET).

    heron has checked the CSRF token before this runs.  Invalid input shows the
    form again (422) with what was typed and what is wrong with it.  The
    blocking database work runs in the thread pool, off the event loop.
    """
    data = await request.form()
    submitted = {field: text if isinstance(text := data.get(field), str) else ""
                 for field in ("name", "message")}  # an uploaded file is no text
    name, message = submitted["name"].strip(), submitted["message"].strip()
    errors = validate(name, message)
    if errors:
        return await run_in_threadpool(index_page, request, status_code=422, form=submitted,
                                       errors=errors)
    await run_in_threadpool(add_entry, name, message)
    flash(request, f"Thanks for signing, {name}!", "success")
    return RedirectResponse(app.url_for("index"), 303)


@app.get("/entries/{id:int}")
def entry(request: Request, id: int) -> Response:
    with Session(engine) as db:
        found = db.get(Entry, id)
        if found is None:
            abort(404, f"There is no entry {id}.")
        return render(request, "entry.html", entry=found)


@app.on_error(404)
def not_found(request: Request, exc: HTTPException) -> Response:
    return render(request, "404.html", status_code=404, detail=exc.detail)


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


@api.on_error(404)
def api_not_found(request: Request, exc: HTTPException) -> Response:
    """The API answers 404s with problem JSON (RFC 9457), not the site's HTML page."""
    body = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": exc.detail}
    return JSONResponse(body, 404, {"content-type": "application/problem+json"})


app.include(api)
