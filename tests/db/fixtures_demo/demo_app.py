"""The app of a user's project, as its tests would import it."""

from __future__ import annotations

from typing import Any

from models_for_tests import ANALYTICS, TMetric, TNote
from sqlalchemy import func, select

from heron import App, Request
from heron.db import db


def create_app(database_url: str, analytics_url: str, root: Any) -> App:
    app = App(secret_key="demo-secret-key", allowed_hosts=["testserver"], access_log=False,
              csrf=False, root=root, database_url=database_url,
              database_binds={ANALYTICS: analytics_url})

    @app.get("/notes")
    def notes() -> list[str]:
        return list(db.session.scalars(select(TNote.text).order_by(TNote.id)))

    @app.post("/notes")
    def add_note(request: Request) -> dict[str, Any]:
        note = TNote(text=request.query_params["text"])
        db.session.add(note)
        db.session.commit()
        if request.query_params.get("then") == "fail":
            db.session.add(TNote(text="half done"))
            db.session.flush()
            raise RuntimeError("failed after a commit and a flush")
        return {"id": note.id}

    @app.get("/async/notes")
    async def async_notes() -> list[str]:
        return list(await db.async_session.scalars(select(TNote.text).order_by(TNote.id)))

    @app.post("/async/notes")
    async def async_add_note(request: Request) -> dict[str, Any]:
        note = TNote(text=request.query_params["text"])
        db.async_session.add(note)
        await db.async_session.commit()
        return {"id": note.id}

    @app.post("/metrics/{name}")
    def add_metric(name: str) -> dict[str, Any]:
        db.session.add(TMetric(name=name, value=1))
        db.session.flush()
        return {"metrics": db.session.scalar(select(func.count(TMetric.id)))}

    return app
