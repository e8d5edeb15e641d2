"""A typed JSON API for a to-do list: heron's example API app, served on SQLite.

Run it from the repository root::

    heron db --app examples.api.app:app migrate   # create or update the tables
    heron run examples.api.app:app --debug

then read the API's documentation at http://127.0.0.1:8000/docs (the OpenAPI
document is at ``/openapi.json``), or call it.  Anyone may read the tasks;
adding, changing and deleting one takes an API token, which signing up or
logging in gives (docs/auth.md, "Sign-up and login for API clients")::

    curl 'localhost:8000/api/tasks?done=false&per_page=5'
    curl -X POST localhost:8000/api/auth/register -H 'content-type: application/json' \\
         -d '{"username": "ada", "password": "correct horse battery",
              "email": "ada@example.com"}'
    curl -X POST localhost:8000/api/auth/token -H 'content-type: application/json' \\
         -d '{"username": "ada", "password": "correct horse battery"}'
    TOKEN=heron_...   # the "token" of either answer
    curl -X POST localhost:8000/api/tasks -H "authorization: Bearer $TOKEN" \\
         -H 'content-type: application/json' \\
         -d '{"title": "Water the plants", "priority": "high"}'
    curl -X POST localhost:8000/api/auth/token/revoke -H "authorization: Bearer $TOKEN"

What it shows: views whose signatures are their contract.  Query parameters
with constraints (``Annotated[int, Field(ge=1)]``), a path parameter, JSON
bodies from pydantic models (``schemas.py``), dependencies (pagination, the
database session committed after the view, a task loaded by id or 404),
response models, 201 for a create, 204 for a delete, a partial update with
PATCH, and tags and error responses for the OpenAPI document.

The API's router is in API mode (``Router(..., api=True)``): every error under
/api (404, 405, 400 for malformed JSON, 415 for a body that is not JSON, 422 with
the list of problems, a 500's reference) is problem JSON, whatever the client
accepts, so a plain ``curl`` reads JSON too; the home page stays HTML.

Authentication is heron.auth's, with tokens rather than cookies: the component
brings the users and their tokens, ``token_router()`` the endpoints that give
them out (``/api/auth/register``, ``/api/auth/token``, ``/api/auth/token/revoke``),
and ``login_required`` guards the writes.  A write without a valid token gets
401 problem JSON with ``WWW-Authenticate``, as every guarded route in API mode
does, and the OpenAPI document says which operations need a token.  Scripts
that post JSON or send a token, without cookies, pass heron's CSRF check, so the
API needs no CSRF token.  heron.auth's HTML pages (login form, password reset)
are left out: API clients have no use for them.

The database is heron's default, a SQLite file in the app's instance folder;
``HERON_DATABASE_URL`` points it elsewhere.  ``heron db migrate`` makes the
tables: the tasks' (``migrations/``) and heron.auth's, whose migrations heron
ships; the app never creates them itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from heron import App, Depends, Query, Router, Settings
from heron.auth import login_required
from heron.auth.api import token_router
from heron.db import db
from heron.params import Path  # not in heron, where it would shadow pathlib's

from .models import Task
from .schemas import Health, Order, Priority, TaskIn, TaskOut, TaskPage, TaskPatch

#: The largest id and page number asked for (beyond them SQLite's integers overflow).
MAX_ID = 2**63 - 1
MAX_PAGE = 1_000_000
#: Tags group the operations in the API's documentation.
TASKS = ["tasks"]
# heron documents its own errors (422; 400 and 415 for bodies); the 404 is the view's.
NOT_FOUND: dict[int, Any] = {404: {"description": "There is no task with this id."}}

# Settings come from HERON_* variables (and .env).  Without HERON_ALLOWED_HOSTS,
# serve this machine's own names, so that the example also runs with debug off.
settings = Settings(openapi_title="Tasks API", openapi_version="1.0.0")
if not settings.allowed_hosts:
    settings.allowed_hosts = ["127.0.0.1", "localhost", "[::1]"]
# heron.auth brings the users and their tokens; its HTML pages (auth_pages) are left out,
# as clients log in through token_router() below.  login_url is where a guard sends a
# browser, but under /api (API mode) guards answer 401 instead: it names the home page,
# which says how to get a token.
app = App(settings, components=["heron.auth"], auth_pages=[], login_url="/")
# API mode: errors under /api are problem JSON whatever the client accepts (docs/errors.md).
api = Router("/api", name="api", api=True)
# /api/auth/register, /api/auth/token and /api/auth/token/revoke, in API mode too.
api.include(token_router())


# -- dependencies ----------------------------------------------------------------------


async def transaction() -> AsyncIterator[AsyncSession]:
    """The request's database session: committed once the view has answered, rolled
    back if it raised (a dependency with teardown)."""
    async with db.atransaction() as session:
        yield session


DBSession = Annotated[AsyncSession, Depends(transaction)]


@dataclass(frozen=True)
class Pagination:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


async def pagination(
    page: Annotated[int, Query(description="The page, from 1."), Field(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(description="Tasks on a page."), Field(ge=1, le=100)] = 20,
) -> Pagination:
    """``?page=`` and ``?per_page=``, for any list (a dependency with parameters)."""
    return Pagination(page, per_page)


TaskId = Annotated[int, Path(description="The task's id."), Field(ge=1, le=MAX_ID)]


async def task_or_404(id: TaskId, session: DBSession) -> Task:
    """The task the path names, or a 404."""
    return await db.aget_or_404(Task, id, f"There is no task {id}.")


FoundTask = Annotated[Task, Depends(task_or_404)]


# -- the API -----------------------------------------------------------------------


@api.get("/tasks", tags=TASKS)
async def list_tasks(
    session: DBSession,
    pages: Annotated[Pagination, Depends(pagination)],
    done: Annotated[bool | None, Query(description="Only done (or open) tasks.")] = None,
    priority: Annotated[list[Priority], Query(description="Only these priorities.")] = [],  # noqa: B006
    q: Annotated[str | None, Query(description="Words in the title (any case)."),
                 Field(max_length=100)] = None,
    order: Order = Order.newest,
) -> TaskPage:
    """List tasks, a page at a time, filtered and sorted.

    A page past the last one is empty (not an error).
    """
    query = select(Task)
    if done is not None:
        query = query.where(Task.done == done)
    if priority:
        query = query.where(Task.priority.in_([p.value for p in priority]))
    if q:
        query = query.where(Task.title.icontains(q, autoescape=True))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    sort = {Order.newest: [Task.id.desc()], Order.oldest: [Task.id],
            Order.due: [Task.due.is_(None), Task.due, Task.id]}[order]
    rows = await session.scalars(query.order_by(*sort).limit(pages.per_page)
                                 .offset(pages.offset))
    return TaskPage(items=[TaskOut.model_validate(row) for row in rows],
                    page=pages.page, per_page=pages.per_page, total=total)


@api.post("/tasks", tags=TASKS, status_code=201, response_model=TaskOut)
@login_required
async def create_task(new: TaskIn, session: DBSession) -> Task:
    """Add a task."""
    task = Task(**new.model_dump())
    session.add(task)
    await session.flush()  # gives it its id; the commit follows the response's making
    return task


@api.get("/tasks/{id}", tags=TASKS, responses=NOT_FOUND)
async def get_task(task: FoundTask) -> TaskOut:
    """One task."""
    return TaskOut.model_validate(task)


@api.patch("/tasks/{id}", tags=TASKS, responses=NOT_FOUND)
@login_required
async def update_task(task: FoundTask, changes: TaskPatch, session: DBSession) -> TaskOut:
    """Change some fields of a task; those not sent stay as they are."""
    for name, value in changes.model_dump(exclude_unset=True).items():
        setattr(task, name, value)
    await session.flush()  # updated_at is set here
    return TaskOut.model_validate(task)


@api.delete("/tasks/{id}", tags=TASKS, status_code=204, responses=NOT_FOUND)
@login_required
async def delete_task(task: FoundTask, session: DBSession) -> None:
    """Delete a task."""
    await session.delete(task)


@app.get("/", include_in_schema=False)
async def home() -> str:
    """A page for people who open the API in a browser: where its documentation is."""
    return HOME_PAGE


HOME_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Tasks API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 16px/1.5 system-ui, sans-serif; color: #1f2933; background: #f5f7fa;
         margin: 0; }
  main { max-width: 40rem; margin: 4rem auto; padding: 2rem 2.5rem; background: #fff;
         border-radius: 8px; box-shadow: 0 1px 3px rgba(0, 0, 0, .12); }
  h1 { margin-top: 0; }
  li { margin: .4rem 0; }
  a { color: #0b6bcb; }
  code { background: #eef2f7; padding: .1rem .3rem; border-radius: 4px; }
</style></head>
<body><main>
<h1>Tasks API</h1>
<p>A typed JSON API for a to-do list, built with heron.</p>
<ul>
  <li><a href="/docs">Read the API's documentation</a> and try each operation.</li>
  <li><a href="/openapi.json">The OpenAPI document</a> (<code>/openapi.json</code>).</li>
  <li><a href="/api/tasks">The tasks</a> (<code>GET /api/tasks</code>).</li>
  <li><a href="/api/health">Health</a> (<code>GET /api/health</code>).</li>
  <li>Adding, changing or deleting a task takes a token: sign up with
      <code>POST /api/auth/register</code> or log in with <code>POST /api/auth/token</code>,
      then send <code>Authorization: Bearer &lt;token&gt;</code>.</li>
</ul>
</main></body>
</html>
"""


@api.get("/health", tags=["meta"])
async def health() -> Health:
    """Whether the API is up."""
    return Health(status="ok")


app.include(api)
