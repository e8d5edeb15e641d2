"""``heron tasks list|retry|cancel|purge`` on the in-process backends (local and
immediate), and ``heron worker`` refusing to run for them."""

from __future__ import annotations

import importlib
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner, Result

from heron.cli import main
from heron.tasks import TaskResult, TaskStatus, get_result
from heron.testing import TestClient

APP_SOURCE = """
from heron import App
from heron.tasks import task

app = App(secret_key="test-secret-key", allowed_hosts=["testserver"], access_log=False,
          tasks_backend={backend!r})
BROKEN = {{"reports": True}}


@task(name="cliapp.report")
def report(number: int) -> int:
    if BROKEN["reports"]:
        raise RuntimeError(f"report {{number}} broke")
    return number


@task(name="cliapp.ping")
def ping() -> str:
    return "pong"
"""

Project = Callable[..., ModuleType]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """``project(backend)``: an app.py with that tasks_backend in the current folder,
    imported (the commands, run here, find the same module and app)."""
    from heron.tasks import registry

    monkeypatch.setattr(registry, "_TASKS", dict(registry._TASKS))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("HERON_APP", raising=False)

    def make(backend: str = "local") -> ModuleType:
        (tmp_path / "app.py").write_text(textwrap.dedent(APP_SOURCE.format(backend=backend)))
        monkeypatch.delitem(sys.modules, "app", raising=False)
        module = importlib.import_module("app")
        monkeypatch.setitem(sys.modules, "app", module)  # removed after the test
        return module

    return make


def heron(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def finished(job_id: str, timeout: float = 5.0) -> TaskResult:
    deadline = time.monotonic() + timeout
    while True:
        result = get_result(job_id)
        assert result is not None
        if result.finished:
            return result
        assert time.monotonic() < deadline, result
        time.sleep(0.01)


def rows(output: str) -> dict[str, list[str]]:
    """`heron tasks list` lines by job id."""
    return {line.split()[0]: line.split() for line in output.splitlines() if line.strip()}


def test_help_lists_worker_and_tasks(project: Project) -> None:
    project()
    listed = heron("--help")
    assert listed.exit_code == 0, listed.output
    assert "worker" in listed.output
    assert "tasks" in listed.output
    assert "See and manage the app's jobs" in listed.output
    group = heron("tasks", "--help")
    assert group.exit_code == 0, group.output
    for command in ("list", "retry", "cancel", "purge"):
        assert command in group.output
    worker = heron("worker", "--help")
    assert worker.exit_code == 0, worker.output
    assert "--queue" in worker.output
    assert "--concurrency" in worker.output


def test_list_shows_ids_statuses_and_errors(project: Project) -> None:
    site = project()
    assert heron("tasks", "list").output == "No jobs.\n"
    failed = site.report.enqueue(7)  # not serving: run at once
    succeeded = site.ping.enqueue()
    assert failed.status is TaskStatus.FAILED

    listed = heron("tasks", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines()[0].split()[0] == succeeded.id  # newest first
    found = rows(listed.output)
    assert found[failed.id][:4] == [failed.id, "failed", "cliapp.report", "attempts=1"]
    assert found[failed.id][4:] == ["error:", "RuntimeError:", "report", "7", "broke"]
    assert found[succeeded.id] == [succeeded.id, "succeeded", "cliapp.ping", "attempts=1"]

    only_failed = heron("tasks", "list", "--status", "failed")
    assert list(rows(only_failed.output)) == [failed.id]
    assert list(rows(heron("tasks", "list", "--limit", "1").output)) == [succeeded.id]
    assert heron("tasks", "list", "--status", "queued").output == "No jobs.\n"
    wrong = heron("tasks", "list", "--status", "lost")
    assert wrong.exit_code == 2
    assert "'lost' is not one of" in wrong.output


def test_app_named_with_the_app_option(project: Project, tmp_path: Path) -> None:
    site = project()
    (tmp_path / "app.py").rename(tmp_path / "site_module.py")  # no app.py to find
    sys.modules["site_module"] = site
    try:
        done = site.ping.enqueue()
        listed = heron("tasks", "--app", "site_module:app", "list")
        assert listed.exit_code == 0, listed.output
        assert list(rows(listed.output)) == [done.id]
        missing = heron("tasks", "list")
        assert missing.exit_code == 2
    finally:
        del sys.modules["site_module"]


def test_retry_runs_a_failed_job_again(project: Project) -> None:
    site = project()
    failed = site.report.enqueue(3)
    ok = site.ping.enqueue()
    site.BROKEN["reports"] = False

    retried = heron("tasks", "retry", failed.id)
    assert retried.exit_code == 0, retried.output
    assert retried.output == f"Job {failed.id} queued again.\n"
    again = get_result(failed.id)
    assert again is not None
    assert (again.status, again.return_value, again.error) == (TaskStatus.SUCCEEDED, 3, None)
    assert rows(heron("tasks", "list").output)[failed.id][1] == "succeeded"

    for job_id in (ok.id, "no-such-job"):
        refused = heron("tasks", "retry", job_id)
        assert refused.exit_code == 1
        assert f"Job {job_id} is not a failed job; nothing queued." in refused.output


def test_retry_while_serving_queues_the_job(project: Project) -> None:
    site = project()
    failed = site.report.enqueue(4)
    site.BROKEN["reports"] = False
    with TestClient(site.app):
        assert heron("tasks", "retry", failed.id).exit_code == 0
        done = finished(failed.id)  # run by the app's workers
    assert (done.status, done.return_value, done.attempts) == (TaskStatus.SUCCEEDED, 4, 1)


def test_cancel_a_queued_job(project: Project) -> None:
    site = project()
    with TestClient(site.app):
        later = site.ping.using(delay=60).enqueue()
        cancelled = heron("tasks", "cancel", later.id)
        assert cancelled.exit_code == 0, cancelled.output
        assert cancelled.output == f"Job {later.id} cancelled.\n"
        assert get_result(later.id).status is TaskStatus.CANCELLED  # type: ignore[union-attr]
        assert rows(heron("tasks", "list").output)[later.id][1] == "cancelled"

        again = heron("tasks", "cancel", later.id)
        assert again.exit_code == 1
        assert f"Job {later.id} could not be cancelled (finished, or unknown)." in again.output
        assert heron("tasks", "cancel", "no-such-job").exit_code == 1

        # A cancelled job can be queued again.
        assert heron("tasks", "retry", later.id).exit_code == 0
        assert get_result(later.id).status is not TaskStatus.CANCELLED  # type: ignore[union-attr]


def test_purge_forgets_finished_jobs(project: Project) -> None:
    site = project()
    with TestClient(site.app):
        waiting = site.ping.using(delay=60).enqueue()
    finished = [site.ping.enqueue().id, site.report.enqueue(1).id]  # not serving: at once

    kept = heron("tasks", "purge")  # 24 hours by default
    assert kept.exit_code == 0, kept.output
    assert kept.output == "Removed 0 finished jobs.\n"
    assert len(rows(heron("tasks", "list").output)) == 3

    # The delayed job was cancelled when the app stopped (the local backend keeps jobs
    # in memory): finished too.
    assert rows(heron("tasks", "list").output)[waiting.id][1] == "cancelled"
    purged = heron("tasks", "purge", "--older-than", "0")
    assert purged.exit_code == 0, purged.output
    assert purged.output == "Removed 3 finished jobs.\n"
    assert heron("tasks", "list").output == "No jobs.\n"
    assert all(get_result(job_id) is None for job_id in [*finished, waiting.id])
    assert heron("tasks", "purge", "--older-than", "-1").exit_code == 2

    site.ping.enqueue()
    assert heron("tasks", "purge", "--older-than", "0").output == "Removed 1 finished job.\n"


def test_the_commands_work_on_the_immediate_backend(project: Project) -> None:
    site = project("immediate")
    failed = site.report.enqueue(5)
    assert rows(heron("tasks", "list").output)[failed.id][1] == "failed"
    site.BROKEN["reports"] = False
    assert heron("tasks", "retry", failed.id).exit_code == 0
    statuses = sorted(row[1] for row in rows(heron("tasks", "list").output).values())
    assert statuses == ["failed", "succeeded"]  # the immediate backend runs a new job
    assert heron("tasks", "cancel", failed.id).exit_code == 1  # finished: nothing to cancel
    assert heron("tasks", "purge", "--older-than", "0").output == "Removed 2 finished jobs.\n"


@pytest.mark.parametrize("backend", ["local", "immediate"])
def test_worker_refuses_other_backends(project: Project, backend: str) -> None:
    project(backend)
    refused = heron("worker")
    assert refused.exit_code == 2
    assert f"tasks_backend is {backend!r}" in refused.output
    assert 'heron worker runs them for tasks_backend = "procrastinate"' in \
        refused.output.replace("\n", " ")
    assert heron("worker", "--once", "-q", "mail").exit_code == 2


def test_without_an_app_the_commands_say_so(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HERON_APP", raising=False)
    missing = heron("tasks", "list")
    assert missing.exit_code == 2
    assert "No such command 'tasks'" in missing.output
