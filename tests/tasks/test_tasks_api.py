"""heron.tasks' API on the default ``immediate`` backend: declaring tasks, checking what
is enqueued, results, retries, async tasks from sync and async code, the current app, a
task's database context, and the mail that a task sends."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from heron import App, Request
from heron.db import db
from heron.mail import EmailMessage, mailer
from heron.mail.tasks import asend_later, deliver, send_later
from heron.tasks import (
    Task,
    TaskError,
    TaskResult,
    TaskStatus,
    aget_result,
    cancel,
    current_app,
    get_result,
    get_task,
    list_results,
    registered_tasks,
    task,
)
from heron.testing import TestClient

AppFactory = Callable[..., App]
CALLS: list[Any] = []
FLAKY: dict[str, int] = {"failures_left": 0}


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tasks declared by a test are forgotten after it (a periodic one would otherwise
    run in every later app with the local backend)."""
    from heron.tasks import registry

    monkeypatch.setattr(registry, "_TASKS", dict(registry._TASKS))
    CALLS.clear()
    FLAKY["failures_left"] = 0


# -- tasks of this module -----------------------------------------------------------------


@task
def add(a: int, b: int = 10) -> int:
    CALLS.append(("add", a, b))
    return a + b


@task(name="api.echo", queue="echoes", priority=3)
def echo(value: Any) -> Any:
    return value


@task(name="api.options")
def with_options(a: int, **options: Any) -> dict[str, Any]:
    return {"a": a, **options}


@task(name="api.star")
def star(*items: int) -> int:
    return sum(items)


@task(name="api.flaky", retries=2)
def flaky() -> str:
    CALLS.append("flaky")
    if FLAKY["failures_left"] > 0:
        FLAKY["failures_left"] -= 1
        raise ValueError(f"not yet ({FLAKY['failures_left']} more)")
    return "finally"


@task(name="api.always_fails", retries=1, backoff=60)
def always_fails(reason: str) -> None:
    CALLS.append("always_fails")
    raise ValueError(reason)


@task(name="api.double")
async def double(x: int) -> int:
    CALLS.append(("double", x))
    return 2 * x


@task(name="api.which_app")
def which_app() -> str:
    return str(current_app().settings.secret_key)


@task(name="api.add_note")
def add_note(body: str, commit: bool = True) -> int:
    db.session.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})
    if commit:
        db.session.commit()
    return int(db.session.scalar(text("SELECT count(*) FROM notes")) or 0)


@task(name="api.count_notes")
async def count_notes() -> int:
    result = await db.async_session.execute(text("SELECT count(*) FROM notes"))
    return int(result.scalar_one())


# -- declaring --------------------------------------------------------------------------------


def test_a_task_is_named_after_its_module_and_function() -> None:
    assert isinstance(add, Task)
    assert add.name == "test_tasks_api.add"
    assert repr(add) == "<Task test_tasks_api.add>"
    assert get_task("test_tasks_api.add") is add
    assert registered_tasks()["api.echo"] is echo
    assert (echo.options.queue, echo.options.priority) == ("echoes", 3)
    assert not add.is_async
    assert double.is_async


def test_calling_a_task_runs_its_function_here(app: App) -> None:
    assert add(1, 2) == 3
    assert CALLS == [("add", 1, 2)]
    assert list_results() == []  # no job


def test_get_task_of_an_unknown_name_says_what_is_known() -> None:
    with pytest.raises(TaskError, match=r"No task is named 'nope\.nothing'.*api\.echo"):
        get_task("nope.nothing")


@pytest.mark.parametrize("options", [{"retries": -1}, {"backoff": -0.5}, {"timeout": 0},
                                     {"timeout": -3}])
def test_bad_retries_backoff_or_timeout_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(TaskError, match="retries and backoff must be 0 or more, and timeout "
                                        "a positive number"):
        @task(name="api.bad_options", **options)
        def bad() -> None: ...

    assert "api.bad_options" not in registered_tasks()


def test_a_task_inside_a_function_needs_a_name() -> None:
    with pytest.raises(TaskError, match=r"<locals>.*declare tasks at the top level of a module"):
        @task
        def inner() -> None: ...

    @task(name="api.named_inner")
    def named() -> int:
        return 1

    assert get_task("api.named_inner") is named


@pytest.mark.parametrize("cron", ["* * * *", "* * * * * * *", ""])
def test_a_cron_needs_five_or_six_fields(cron: str) -> None:
    with pytest.raises(TaskError, match=r"api\.bad_cron.*must have 5 fields.*or 6 with "
                                        "seconds last"):
        @task(name="api.bad_cron", cron=cron)
        def periodic(timestamp: int) -> None: ...


def test_a_periodic_task_takes_a_timestamp() -> None:
    with pytest.raises(TaskError, match=r"api\.no_timestamp, cron=.*takes a `timestamp` "
                                        "argument"):
        @task(name="api.no_timestamp", cron="*/5 * * * *")
        def periodic() -> None: ...

    @task(name="api.cron_kwargs", cron="0 3 * * *")
    def nightly(**kwargs: Any) -> None: ...

    @task(name="api.cron_seconds", cron="* * * * * */10")
    def often(timestamp: int) -> None: ...

    assert nightly.options.cron == "0 3 * * *"
    assert often.options.cron == "* * * * * */10"


def test_two_functions_cannot_share_a_name() -> None:
    @task(name="api.shared")
    def first() -> None: ...

    with pytest.raises(TaskError, match=r"Two tasks are named 'api\.shared'; give one "
                                        "another name="):
        @task(name="api.shared")
        def second() -> None: ...

    assert get_task("api.shared") is first


def test_declaring_the_same_function_again_replaces_it() -> None:
    # What a module imported twice (a reload, app.py and __main__) does.
    again = task(name="api.echo", queue="echoes", priority=3)(echo.func)
    assert get_task("api.echo") is again
    task(name="api.echo", queue="echoes", priority=3)(echo.func)


# -- checking what is enqueued --------------------------------------------------------------


@pytest.mark.parametrize(("call", "message"), [
    (lambda: add.enqueue(), "missing a required argument: 'a'"),
    (lambda: add.enqueue(1, 2, 3), "too many positional arguments"),
    (lambda: add.enqueue(1, c=3), "got an unexpected keyword argument 'c'"),
    (lambda: add.enqueue(1, a=2), "multiple values for argument 'a'"),
])
def test_arguments_must_fit_the_function(app: App, call: Callable[[], Any],
                                         message: str) -> None:
    with pytest.raises(TaskError, match=rf"^Task test_tasks_api\.add: {message}"):
        call()
    assert CALLS == []
    assert list_results() == []


@pytest.mark.parametrize("value", [
    {1, 2}, datetime(2024, 1, 1, tzinfo=UTC), object(), b"bytes", {"nested": [Path("/")]},
], ids=["set", "datetime", "object", "bytes", "nested-path"])
def test_arguments_must_be_json(app: App, value: Any) -> None:
    with pytest.raises(TaskError, match=r"^Task api\.echo: its arguments must be JSON \(.*"
                                        r"\); pass ids and plain values, not objects$"):
        echo.enqueue(value)
    assert list_results() == []


def test_star_args_are_refused(app: App) -> None:
    with pytest.raises(TaskError, match=r"^Task api\.star: \*items is not supported"):
        star.enqueue(1, 2)
    assert star(1, 2) == 3  # a plain call still works


def test_arguments_are_stored_by_name_as_json(app: App) -> None:
    assert add.enqueue(1).kwargs == {"a": 1, "b": 10}  # defaults filled in
    assert echo.enqueue((1, "two")).kwargs == {"value": [1, "two"]}  # JSON: a list
    result = with_options.enqueue(1, colour="red", size=2)
    assert result.kwargs == {"a": 1, "colour": "red", "size": 2}  # **kwargs flattened
    assert result.return_value == {"a": 1, "colour": "red", "size": 2}


def test_async_enqueue_checks_the_same(app: App) -> None:
    import asyncio

    with pytest.raises(TaskError, match=r"^Task api\.double: missing a required argument"):
        asyncio.run(double.aenqueue())
    with pytest.raises(TaskError, match=r"^Task api\.double: its arguments must be JSON"):
        asyncio.run(double.aenqueue({1}))


def test_enqueue_without_an_app_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from heron.tasks import registry

    monkeypatch.setattr(registry, "_LAST_APP", None)
    with pytest.raises(TaskError, match=r"No app with heron\.tasks is running here"):
        add.enqueue(1)
    with pytest.raises(TaskError, match=r"No app with heron\.tasks"):
        current_app()


# -- using() ----------------------------------------------------------------------------------


def test_using_changes_options_for_one_enqueue(app: App) -> None:
    moved = echo.using(queue="other", priority=9, lock="L", delay=timedelta(minutes=1))
    assert moved is not echo
    assert moved.name == echo.name
    assert moved.func is echo.func
    assert (moved.options.queue, moved.options.priority, moved.options.lock) == ("other", 9, "L")
    assert moved.options.delay == 60.0
    assert (echo.options.queue, echo.options.priority, echo.options.lock) == ("echoes", 3, None)
    job = moved.job(("x",), {})
    assert job.queue == "other"
    assert job.priority == 9
    assert job.lock == "L"
    assert job.run_at is not None
    assert 55 < (job.run_at - datetime.now(UTC)).total_seconds() <= 60
    naive = datetime(2030, 1, 2, 3, 4, 5)
    assert echo.using(run_at=naive).job(("x",), {}).run_at == naive.replace(tzinfo=UTC)
    assert moved.enqueue("y").queue == "other"  # immediate: run now, whatever the delay


def test_using_refuses_delay_and_run_at_together_and_negative_delays() -> None:
    with pytest.raises(TaskError, match=r"using\(\): give delay= or run_at=, not both"):
        echo.using(delay=1, run_at=datetime.now(UTC))
    with pytest.raises(TaskError, match=r"using\(\): delay must be 0 or more seconds, not -1"):
        echo.using(delay=-1)
    with pytest.raises(TaskError, match=r"not -5\.0"):
        echo.using(delay=timedelta(seconds=-5))
    with pytest.raises(TypeError):
        echo.using(retries=3)  # type: ignore[call-arg]


# -- the immediate backend ----------------------------------------------------------------------


def test_enqueue_runs_at_once_and_returns_the_result(app: App) -> None:
    before = datetime.now(UTC)
    result = add.enqueue(2, b=3)
    assert isinstance(result, TaskResult)
    assert CALLS == [("add", 2, 3)]
    assert result.status is TaskStatus.SUCCEEDED
    assert result.finished
    assert (result.return_value, result.attempts, result.error) == (5, 1, None)
    assert (result.task_name, result.kwargs, result.queue) == (
        "test_tasks_api.add", {"a": 2, "b": 3}, "default")
    assert result.finished_at is not None
    assert result.finished_at >= before
    assert isinstance(result.id, str)
    assert len(result.id) == 32
    assert add.enqueue(1).id != result.id
    assert echo.enqueue({"deep": [1, None, True]}).return_value == {"deep": [1, None, True]}


def test_retries_follow_at_once_until_one_succeeds(app: App) -> None:
    FLAKY["failures_left"] = 2
    result = flaky.enqueue()
    assert (result.status, result.attempts, result.return_value) == (
        TaskStatus.SUCCEEDED, 3, "finally")
    assert result.error is None
    assert CALLS == ["flaky"] * 3


def test_a_task_failing_every_time_fails_with_its_error(app: App,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    FLAKY["failures_left"] = 5
    result = flaky.enqueue()
    assert (result.status, result.attempts) == (TaskStatus.FAILED, 3)
    assert result.error == "ValueError: not yet (2 more)"  # the last failure
    assert result.return_value is None
    assert result.finished

    caplog.clear()
    started = datetime.now(UTC)
    failed = always_fails.enqueue("the disk is full")
    assert (datetime.now(UTC) - started).total_seconds() < 5  # no backoff here
    assert (failed.status, failed.attempts) == (TaskStatus.FAILED, 2)
    assert failed.error == "ValueError: the disk is full"
    logged = [r for r in caplog.records if r.name == "heron.tasks"]
    assert len(logged) == 2
    assert logged[-1].message == f"Task api.always_fails (job {failed.id}) failed, attempt 2"
    assert logged[-1].exc_info is not None  # the traceback is logged
    assert not any("the disk is full" in r.message for r in logged)  # arguments are not


def test_an_async_task_enqueued_from_a_script(app: App) -> None:
    result = double.enqueue(21)  # no event loop here: it runs on one of its own
    assert (result.status, result.return_value) == (TaskStatus.SUCCEEDED, 42)


async def test_an_async_task_awaited_with_aenqueue(app: App) -> None:
    result = await double.aenqueue(x=4)
    assert (result.status, result.return_value, result.attempts) == (TaskStatus.SUCCEEDED, 8, 1)
    sync_task = await add.aenqueue(1, 1)  # a def task too
    assert sync_task.return_value == 2
    FLAKY["failures_left"] = 1
    retried = await flaky.aenqueue()
    assert (retried.status, retried.attempts) == (TaskStatus.SUCCEEDED, 2)
    again = await aget_result(result.id)
    assert again is not None
    assert again.return_value == 8


def test_views_enqueue_sync_and_async_tasks(make_app: AppFactory) -> None:
    app = make_app()

    @app.get("/sync")
    def sync_view() -> dict[str, Any]:
        done = double.enqueue(5)  # async task from a def view: on the server's loop
        return {"status": done.status, "value": done.return_value, "id": done.id}

    @app.get("/async")
    async def async_view() -> dict[str, Any]:
        done = await double.aenqueue(6)
        plain = await add.aenqueue(1, 2)
        return {"status": done.status, "value": done.return_value, "plain": plain.return_value}

    @app.get("/sync-def")
    def sync_def_view() -> dict[str, int]:
        return {"sum": add.enqueue(7, 8).return_value}

    with TestClient(app) as client:
        answer = client.get("/sync").json()
        assert answer["status"] == "succeeded"
        assert answer["value"] == 10
        assert client.get("/async").json() == {"status": "succeeded", "value": 12, "plain": 3}
        assert client.get("/sync-def").json() == {"sum": 15}
    stored = get_result(answer["id"])
    assert stored is not None
    assert stored.return_value == 10
    assert ("double", 5) in CALLS
    assert ("double", 6) in CALLS


def test_get_result_cancel_and_list_results(app: App) -> None:
    ok = add.enqueue(1, 1)
    FLAKY["failures_left"] = 9
    bad = flaky.enqueue()
    other = echo.enqueue("x")
    found = get_result(ok.id)
    assert found is not None
    assert (found.id, found.status, found.return_value) == (ok.id, TaskStatus.SUCCEEDED, 2)
    assert get_result("0" * 32) is None
    assert cancel(ok.id) is False  # finished already
    assert [r.id for r in list_results()] == [other.id, bad.id, ok.id]  # newest first
    assert [r.id for r in list_results(TaskStatus.FAILED)] == [bad.id]
    assert [r.id for r in list_results(status=TaskStatus.SUCCEEDED)] == [other.id, ok.id]
    assert [r.id for r in list_results(limit=2)] == [other.id, bad.id]
    assert list_results(TaskStatus.QUEUED) == []


def test_results_belong_to_their_app(make_app: AppFactory) -> None:
    first = make_app()
    done = add.enqueue(3)
    second = make_app()  # the current app now
    assert get_result(done.id) is None
    assert list_results() == []
    from heron.tasks.backends import backend_for

    assert backend_for(first).get_result(done.id) is not None
    assert current_app() is second


def test_current_app_is_the_requests_or_the_last_made(make_app: AppFactory) -> None:
    first = make_app(secret_key="first-secret-key")

    @first.get("/")
    def view(request: Request) -> dict[str, Any]:
        return {"current": current_app() is request.app,
                "task": which_app.enqueue().return_value}

    second = make_app(secret_key="second-secret-key")
    assert current_app() is second
    assert which_app.enqueue().return_value == "second-secret-key"
    with TestClient(first) as client:
        assert client.get("/").json() == {"current": True, "task": "first-secret-key"}
    assert current_app() is second


def test_a_task_has_a_database_context_outside_requests(make_app: AppFactory,
                                                        tmp_path: Path) -> None:
    app = make_app(database_url=f"sqlite:///{tmp_path / 'tasks.sqlite3'}")
    with db.context(app):
        db.session.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        db.session.commit()

    assert add_note.enqueue("first").return_value == 1
    # What a task does not commit is rolled back when its run ends.
    assert add_note.enqueue("lost", commit=False).return_value == 2
    assert add_note.enqueue("second").return_value == 2
    assert count_notes.enqueue().return_value == 2  # async: db.async_session
    with db.context(app):
        bodies = db.session.scalars(text("SELECT body FROM notes ORDER BY id")).all()
    assert bodies == ["first", "second"]


def test_a_sync_task_in_a_request_shares_its_session(make_app: AppFactory,
                                                     tmp_path: Path) -> None:
    app = make_app(database_url=f"sqlite:///{tmp_path / 'tasks.sqlite3'}")
    with db.context(app):
        db.session.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        db.session.commit()

    @app.post("/notes")
    def create() -> dict[str, int]:
        # The immediate backend runs a def task as the view's own code: same session.
        db.session.execute(text("INSERT INTO notes (body) VALUES ('by the view')"))
        return {"count": add_note.enqueue("by the task", commit=False).return_value}

    with TestClient(app) as client:
        assert client.post("/notes").json() == {"count": 2}
    with db.context(app):
        assert db.session.scalar(text("SELECT count(*) FROM notes")) == 0  # never committed


# -- mail through a task ----------------------------------------------------------------------


def test_an_email_message_survives_json(make_app: AppFactory) -> None:
    message = EmailMessage(
        "Report", "See attached.", ["ada@example.com"], from_email="shop@example.com",
        html="<p>See attached.</p>", cc=["cc@example.com"], bcc=["bcc@example.com"],
        reply_to=["help@example.com"], headers={"X-Report": "7"},
        attachments=[("report.pdf", b"%PDF-\x00\xff binary", "application/pdf"),
                     ("notes.txt", "héron".encode(), "")])
    data = json.loads(json.dumps(message.to_dict()))
    assert data["attachments"][0] == ["report.pdf", "JVBERi0A/yBiaW5hcnk=", "application/pdf"]
    again = EmailMessage.from_dict(data)
    assert again == message
    assert again.attachments[0][1] == b"%PDF-\x00\xff binary"
    assert EmailMessage.from_dict(EmailMessage("s", "b", ["a@b.c"]).to_dict()).attachments == []


def test_send_later_goes_through_the_deliver_task(make_app: AppFactory) -> None:
    app = make_app(mail_backend="memory", default_from_email="shop@example.com")
    message = EmailMessage("Hi", "Hello", ["ada@example.com"],
                           attachments=[("a.bin", b"\x00\x01", "application/octet-stream")])
    result = send_later(message)
    assert (result.task_name, result.queue, result.status) == (
        "heron.mail.deliver", "mail", TaskStatus.SUCCEEDED)
    assert result.return_value == 1
    assert mailer(app).outbox == [message]
    assert (deliver.options.retries, deliver.options.backoff) == (3, 30)

    import asyncio

    later = asyncio.run(asend_later(EmailMessage("Again", "Hello", ["bob@example.com"])))
    assert later.status is TaskStatus.SUCCEEDED
    assert [m.subject for m in mailer(app).outbox] == ["Hi", "Again"]


# -- settings ---------------------------------------------------------------------------------


def test_an_unknown_backend_is_a_check_error(make_app: AppFactory) -> None:
    app = make_app(tasks_backend="celery")
    problems = [p for p in app.check() if p.id == "heron.tasks.E001"]
    assert len(problems) == 1
    assert "tasks_backend 'celery' is not one heron has" in str(problems[0])
    assert "immediate, local or procrastinate" in str(problems[0])
    for name in ("immediate", "local"):
        assert not [p for p in make_app(tasks_backend=name).check()
                    if p.id.startswith("heron.tasks")]


def test_the_plugin_is_on_by_default(make_app: AppFactory) -> None:
    app = make_app()
    assert app.plugin("heron.tasks") is not None
    assert app.settings.tasks_backend == "immediate"
    assert app.settings.tasks_concurrency == 4
