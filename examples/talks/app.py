"""A call for talks: heron's forms example, on SQLite.

Run it from the repository root::

    heron db --app examples.talks.app:app migrate   # the tables, and the tracks
    heron run examples.talks.app:app --debug

and open http://127.0.0.1:8000.  Without ``--debug``, set ``HERON_SECRET_KEY``.

It shows a model form (``forms.py``) built from the ``Talk`` model, with fields
of its own (an upload, a consent box), drawn by ``{{ form }}`` and validated on
the server: a rejected form comes back (422) with the values as typed and each
message next to its field; a taken title is caught by the unique check.  The
proposal page is an ``async def`` view (``from_request``, ``asave``); the edit
page is a ``def`` view (``from_request_sync``, ``save``).  Slides go to the app's
storage under a random name, and are downloaded through a view.
"""

from __future__ import annotations

from sqlalchemy import select

from heron import (
    App,
    FileResponse,
    HTTPException,
    RedirectResponse,
    Request,
    Response,
    Settings,
    flash,
    render,
    run_async,
)
from heron.db import db
from heron.storage import FileSystemStorage, get_storage

from .forms import TalkForm
from .models import Talk

settings = Settings()
if not settings.allowed_hosts:
    settings.allowed_hosts = ["127.0.0.1", "localhost", "[::1]"]
app = App(settings)


@app.get("/")
def index(request: Request) -> Response:
    """Every talk proposed so far, newest first."""
    talks = db.session.scalars(select(Talk).order_by(Talk.id.desc())).all()
    return render(request, "index.html", talks=talks)


@app.route("/propose", methods=["GET", "POST"])
async def propose(request: Request) -> Response:
    """The form to propose a talk.  heron has checked the CSRF token of a POST."""
    form = await TalkForm.from_request(request)
    if not form.is_valid():
        status = 422 if form.is_bound else 200
        return render(request, "propose.html", form=form, status_code=status)
    talk = await form.asave()  # added to db.async_session and flushed
    upload = form.data["slides_file"]
    if upload is not None:
        talk.slides = await get_storage(app).save(upload, folder="slides")
    await db.async_session.commit()
    flash(request, f"Thank you! “{talk.title}” was proposed.", "success")
    return RedirectResponse(app.url_for("talk", id=talk.id), 303)


@app.get("/talks/{id:int}")
async def talk(request: Request, id: int) -> Response:
    found = await db.aget_or_404(Talk, id, f"There is no talk {id}.")
    return render(request, "talk.html", talk=found)


@app.route("/talks/{id:int}/edit", methods=["GET", "POST"])
def edit(request: Request, id: int) -> Response:
    """The same form for a talk that exists: a sync view, so ``db.session``."""
    found = db.get_or_404(Talk, id, f"There is no talk {id}.")
    form = TalkForm.from_request_sync(request, instance=found)
    if not form.is_valid():
        status = 422 if form.is_bound else 200
        return render(request, "propose.html", form=form, talk=found, status_code=status)
    saved = form.save()
    upload = form.data["slides_file"]
    if upload is not None:
        saved.slides = run_async(get_storage(app).save(upload, folder="slides"))
    db.session.commit()
    flash(request, "Your changes were saved.", "success")
    return RedirectResponse(app.url_for("talk", id=saved.id), 303)


@app.get("/talks/{id:int}/slides")
async def slides(id: int) -> Response:
    """The talk's slides, as a download (never shown inline: it is a user's file)."""
    found = await db.aget_or_404(Talk, id, f"There is no talk {id}.")
    storage = get_storage(app)
    if found.slides is None or not isinstance(storage, FileSystemStorage):
        raise HTTPException(404, "This talk has no slides.")
    return FileResponse(storage.path(found.slides), media_type="application/pdf",
                        filename=f"talk-{found.id}-slides.pdf")
