"""A guestbook: heron's example app, served on SQLite.

Run it from the repository root with ``./scripts/demo``, or by hand::

    heron db --app examples.guestbook.app:app migrate   # create or update the tables
    heron run examples.guestbook.app:app --debug

and open http://127.0.0.1:8000.  Without ``--debug`` it runs as in production:
set ``HERON_SECRET_KEY`` first.

It shows routing with path parameters, Jinja2 templates (``templates/``) with a
layout, flashed messages, a form protected against CSRF that is validated on the
server (POST/redirect/GET), a JSON API, error pages and static files, and
heron's database layer: a model (``models.py``), migrations (``migrations/``,
written by ``heron db makemigrations``), ``db.session`` in sync views (which run
in heron's thread pool), ``db.async_session`` in async ones, ``db.get_or_404``
and ``db.paginate``.

The database is heron's default, a SQLite file in the app's instance folder
(``instance/db.sqlite3``); ``HERON_DATABASE_URL`` points it elsewhere.  The app
never creates tables itself: ``heron db migrate`` does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

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
)
from heron.db import Page, db

from .models import MESSAGE_MAX, NAME_MAX, Entry

#: Entries on each page of the guestbook.
PER_PAGE = 20
#: Newest first.
NEWEST = select(Entry).order_by(Entry.id.desc())

# Settings come from HERON_* variables (and .env).  When HERON_ALLOWED_HOSTS is
# not set, serve this machine's own names, so that the example also runs with
# debug off; a deployment sets HERON_ALLOWED_HOSTS=guestbook.example.com.
settings = Settings()
if not settings.allowed_hosts:
    settings.allowed_hosts = ["127.0.0.1", "localhost", "[::1]"]
app = App(settings)


@app.context_processor
def limits(request: Request) -> dict[str, Any]:
    return {"name_max": NAME_MAX, "message_max": MESSAGE_MAX}


def index_page(request: Request, page: Page[Entry], *, status_code: int = 200,
               form: dict[str, str] | None = None,
               errors: dict[str, str] | None = None) -> Response:
    """A page of entries with the form to sign (filled in again after an error)."""
    return render(request, "index.html", status_code=status_code, page=page,
                  form=form or {"name": "", "message": ""}, errors=errors or {})


@app.get("/")
def index(request: Request) -> Response:
    """The guestbook: entries newest first, 20 a page (``?page=2``), and a form to sign it.

    A sync view: it runs in the thread pool, so it uses the blocking ``db.session``.
    A page number that is not one (``?page=0``, ``?page=x``, past the last page) is a 404.
    """
    page = db.paginate(NEWEST, page=request.query_params.get("page", "1"), per_page=PER_PAGE)
    return index_page(request, page)


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


@app.post("/sign")
async def sign(request: Request) -> Response:
    """Add an entry from the form, then go back to the list (POST/redirect/GET).

    heron has checked the CSRF token before this runs.  Invalid input shows the
    form again (422) with what was typed and what is wrong with it.  An async
    view: it uses ``db.async_session``, which does not block the event loop.
    """
    data = await request.form()
    submitted = {field: text if isinstance(text := data.get(field), str) else ""
                 for field in ("name", "message")}  # an uploaded file is no text
    name, message = submitted["name"].strip(), submitted["message"].strip()
    errors = validate(name, message)
    if errors:
        page = await db.apaginate(NEWEST, page=1, per_page=PER_PAGE)
        return index_page(request, page, status_code=422, form=submitted, errors=errors)
    async with db.atransaction() as session:  # commits at the end of the block
        session.add(Entry(name=name, message=message))
    flash(request, f"Thanks for signing, {name}!", "success")
    return RedirectResponse(app.url_for("index"), 303)


@app.get("/entries/{id:int}")
def entry(request: Request, id: int) -> Response:
    found = db.get_or_404(Entry, id, f"There is no entry {id}.")
    return render(request, "entry.html", entry=found)


@app.on_error(404)
def not_found(request: Request, exc: HTTPException) -> Response:
    return render(request, "404.html", status_code=404, detail=exc.detail)


api = Router("/api", name="api")


@api.get("/entries")
async def list_entries(request: Request) -> list[dict[str, object]]:
    """Entries as JSON, newest first; ``?limit=`` caps how many (1-100, default 20)."""
    raw_limit = request.query_params.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        abort(400, "limit must be a whole number from 1 to 100.")
    rows = await db.async_session.scalars(NEWEST.limit(int(raw_limit)))
    return [row.as_dict() for row in rows]


@api.get("/entries/{id:int}")
async def get_entry(id: int) -> dict[str, object]:
    found = await db.aget_or_404(Entry, id, f"There is no entry {id}.")
    return found.as_dict()


@api.on_error(404)
def api_not_found(request: Request, exc: HTTPException) -> Response:
    """The API answers 404s with problem JSON (RFC 9457), not the site's HTML page."""
    body = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": exc.detail}
    return JSONResponse(body, 404, {"content-type": "application/problem+json"})


app.include(api)
