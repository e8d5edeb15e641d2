"""The ``local`` backend: tasks run in the app's own process, in the background.

For ``heron run`` on SQLite: nothing else to start.  A pool of ``tasks_concurrency``
workers on the server's event loop takes jobs by priority, once their time has come;
``def`` tasks run in heron's thread pool.  Retries wait their backoff, a lock keeps
two jobs from running at once, periodic tasks fire on their schedule.  A job enqueued
in a database transaction is queued when it commits and dropped if it rolls back.
Jobs live in memory: a restart loses those not run yet (use ``procrastinate`` for jobs
that must survive it).  Stopping the server lets running jobs finish.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from heron.tasks.backends.base import Backend, MemoryResults, logger, run_attempt
from heron.tasks.results import TaskResult, TaskStatus

if TYPE_CHECKING:
    from heron.tasks.registry import Job, Task

__all__ = ["LocalBackend"]

_STOP_GRACE = 30.0  # seconds running jobs get to finish when the app stops
_BACKGROUND: set[asyncio.Future[Any]] = set()  # runs started outside a server, kept alive


class LocalBackend(Backend):
    """Runs jobs on the app's event loop while it serves."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.results = MemoryResults()
        self.concurrency: int = app.settings.tasks_concurrency
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.PriorityQueue[tuple[int, int, str]] | None = None
        self._jobs: dict[str, tuple[Task[Any, Any], Job]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._schedules: list[asyncio.Task[None]] = []  # the periodic tasks' timers
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._order = itertools.count()
        self._stopping = False

    # -- enqueueing ---------------------------------------------------------------------------

    def _new(self, job: Job) -> TaskResult:
        return self.results.add(TaskResult(uuid.uuid4().hex, job.task_name, TaskStatus.QUEUED,
                                           job.kwargs, queue=job.queue))

    def _when_committed(self, result: TaskResult, task: Task[Any, Any], job: Job) -> None:
        from heron.db import db

        session = db.current_transaction()
        if session is None:
            self._submit_threadsafe(result, task, job)
            return
        sync = getattr(session, "sync_session", session)
        waiting = sync.info.get(_WAITING)
        if waiting is None:
            waiting = sync.info[_WAITING] = []
            _watch(sync)
        waiting.append((self, result, task, job))

    def enqueue(self, task: Task[Any, Any], job: Job) -> TaskResult:
        result = self._new(job)
        self._when_committed(result, task, job)
        return result

    async def aenqueue(self, task: Task[Any, Any], job: Job) -> TaskResult:
        from heron.db import db

        loop = self._loop
        if (loop is None or loop.is_closed()) and db.current_transaction() is None:
            # Not serving: run it now, awaited (an async task cannot be run to its end
            # from sync code on this loop).
            from heron.tasks.backends.immediate import ImmediateBackend

            result = self._new(job)
            _update(result, await ImmediateBackend(self.app).aenqueue(task, job))
            return result
        return self.enqueue(task, job)

    def _submit_threadsafe(self, result: TaskResult, task: Task[Any, Any], job: Job) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            # Not serving (a script, the shell): run it now, as the immediate backend would.
            from heron.tasks.backends.immediate import ImmediateBackend

            immediate = ImmediateBackend(self.app)
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                _update(result, immediate.enqueue(task, job))
                return
            # Async code outside a server (a commit in an asyncio script): run it on this
            # loop once the commit returns.
            future = asyncio.ensure_future(immediate.aenqueue(task, job))
            future.add_done_callback(
                lambda done: None if done.cancelled() or done.exception() is not None
                else _update(result, done.result()))
            _BACKGROUND.add(future)
            future.add_done_callback(_BACKGROUND.discard)
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._submit(result, task, job)
        else:
            loop.call_soon_threadsafe(self._submit, result, task, job)

    def _submit(self, result: TaskResult, task: Task[Any, Any], job: Job) -> None:
        self._jobs[result.id] = (task, job)
        delay = 0.0 if job.run_at is None else job.run_at.timestamp() - time.time()
        self._ready_in(result.id, job.priority, delay)

    def _ready_in(self, job_id: str, priority: int, delay: float) -> None:
        if self._loop is None:
            return  # stopped: stop() marks what did not run
        if self._stopping and delay > 0:
            return  # a retry or a lock wait after stop began: not run (stop() says so)
        if delay > 0:
            self._timers[job_id] = self._loop.call_later(
                delay, self._ready_now, job_id, priority)
        else:
            self._ready_now(job_id, priority)

    def _ready_now(self, job_id: str, priority: int) -> None:
        self._timers.pop(job_id, None)
        if job_id in self._jobs and self._ready is not None:
            self._ready.put_nowait((-priority, next(self._order), job_id))

    # -- running ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._ready = asyncio.PriorityQueue()
        self._workers = [asyncio.create_task(self._work(), name=f"heron-task-{n}")
                         for n in range(self.concurrency)]
        from heron.tasks.registry import registered_tasks

        for task in registered_tasks().values():
            if task.options.cron:
                self._schedules.append(asyncio.create_task(self._periodic(task)))

    async def stop(self) -> None:
        schedules, self._schedules = self._schedules, []
        for schedule in schedules:  # they never end by themselves
            schedule.cancel()
        await asyncio.gather(*schedules, return_exceptions=True)
        workers, self._workers = self._workers, []
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._stopping = True
        if self._ready is not None:
            for _ in workers:  # after the jobs already waiting: they run first
                self._ready.put_nowait((2**62, next(self._order), ""))
        if workers:
            _, pending = await asyncio.wait(workers, timeout=_STOP_GRACE)
            for worker in pending:
                worker.cancel()
        for timer in self._timers.values():  # retries and lock waits armed meanwhile
            timer.cancel()
        self._timers.clear()
        # What did not run is lost (the jobs live in memory): say so in its result.
        for job_id in list(self._jobs):
            result = self.results.get(job_id)
            if result is not None and not result.finished:
                result.status, result.finished_at = TaskStatus.CANCELLED, datetime.now(UTC)
                result.error = "the app stopped before it ran (local jobs live in memory)"
        self._jobs.clear()
        self._loop, self._stopping = None, False

    async def _work(self) -> None:
        assert self._ready is not None
        while True:
            _, _, job_id = await self._ready.get()
            if not job_id:
                return
            found = self._jobs.get(job_id)
            result = self.results.get(job_id)
            if found is None or result is None or result.status is TaskStatus.CANCELLED:
                self._jobs.pop(job_id, None)
                continue
            task, job = found
            lock = self._locks.setdefault(job.lock, asyncio.Lock()) if job.lock else None
            if lock is not None and lock.locked():
                self._ready_in(job_id, job.priority, 0.05)  # another holds it: come back
                continue
            await self._attempt(task, job, result, lock)

    async def _attempt(self, task: Task[Any, Any], job: Job, result: TaskResult,
                       lock: asyncio.Lock | None) -> None:
        result.status = TaskStatus.RUNNING
        result.attempts += 1
        try:
            if lock is not None:
                async with lock:
                    value = await run_attempt(self.app, task, job.kwargs)
            else:
                value = await run_attempt(self.app, task, job.kwargs)
        except Exception as exc:
            # Not the arguments: they may hold secrets (a reset link).
            logger.warning("Task %s (job %s) failed, attempt %d", job.task_name, result.id,
                           result.attempts, exc_info=exc)
            if result.attempts <= task.options.retries:
                result.status = TaskStatus.QUEUED
                wait = task.options.backoff * 2 ** (result.attempts - 1)
                self._ready_in(result.id, job.priority, wait)
                return
            self.results.finish(result, error=exc)
        else:
            self.results.finish(result, value)
        self._jobs.pop(result.id, None)

    async def _periodic(self, task: Task[Any, Any]) -> None:
        try:
            from croniter import croniter
        except ImportError:
            logger.error("Periodic task %s needs croniter: pip install \"heron[tasks]\"",
                         task.name)
            return
        from heron.tasks.registry import Job

        schedule = croniter(task.options.cron, datetime.now(UTC))
        while True:
            moment: datetime = schedule.get_next(datetime)
            await asyncio.sleep(max(0.0, moment.timestamp() - time.time()))
            job = Job(task.name, {"timestamp": int(moment.timestamp())}, task.options.queue,
                      task.options.priority, None, task.options.lock)
            self._submit(self._new(job), task, job)

    # -- reading and managing -----------------------------------------------------------------

    def get_result(self, job_id: str) -> TaskResult | None:
        return self.results.get(job_id)

    async def aget_result(self, job_id: str) -> TaskResult | None:
        return self.results.get(job_id)

    def cancel(self, job_id: str) -> bool:
        result = self.results.get(job_id)
        if result is None or result.status is not TaskStatus.QUEUED:
            return False  # a running job finishes: its code is not interrupted
        result.status, result.finished_at = TaskStatus.CANCELLED, datetime.now(UTC)
        timer = self._timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()
        self._jobs.pop(job_id, None)
        return True

    async def acancel(self, job_id: str) -> bool:
        return self.cancel(job_id)

    def list_results(self, status: TaskStatus | None = None, limit: int = 100
                     ) -> list[TaskResult]:
        return self.results.recent(status, limit)

    def retry(self, job_id: str) -> bool:
        from heron.tasks.registry import Job, get_task

        old = self.results.get(job_id)
        if old is None or old.status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
            return False
        # Again from the start: its retries too.
        old.status, old.error, old.finished_at, old.attempts = TaskStatus.QUEUED, None, None, 0
        task = get_task(old.task_name)
        job = Job(old.task_name, old.kwargs, old.queue, task.options.priority, None,
                  task.options.lock)  # its lock, or it could overlap with another holder
        self._submit_threadsafe(old, task, job)
        return True

    def purge(self, older_than_hours: float) -> int:
        return self.results.purge(older_than_hours)


def _update(result: TaskResult, done: TaskResult) -> None:
    """``result`` (what enqueue returned, what the backend keeps) as ``done`` ended."""
    result.status, result.attempts = done.status, done.attempts
    result.return_value, result.error, result.finished_at = (
        done.return_value, done.error, done.finished_at)


_WAITING = "heron.tasks.waiting"  # Session.info: the jobs its transaction holds back
_COMMITTED = "heron.tasks.committed"  # Session.info: its transaction committed


def _watch(session: Any) -> None:
    """Queue the jobs of ``session``'s transaction when it commits; drop them when it
    ends otherwise: rolled back, or the session closed without a commit (a request that
    failed).  A savepoint, released or rolled back, decides nothing."""
    from sqlalchemy import event

    def committed(session: Any) -> None:
        if session.get_nested_transaction() is None:  # the transaction, not a savepoint
            session.info[_COMMITTED] = True

    def ended(session: Any, transaction: Any) -> None:
        if transaction.parent is not None:
            return  # a savepoint: the transaction goes on
        ok = session.info.pop(_COMMITTED, False)
        waiting = session.info.get(_WAITING) or []
        jobs, waiting[:] = list(waiting), []
        for backend, result, task, job in jobs:
            if result.status is TaskStatus.CANCELLED:
                continue  # cancel() before the commit
            if ok:
                backend._submit_threadsafe(result, task, job)
            else:
                result.status, result.error = TaskStatus.CANCELLED, "its transaction rolled back"
                result.finished_at = datetime.now(UTC)

    # Once per session (listeners cannot be removed while their event runs).
    event.listen(session, "after_commit", committed)
    event.listen(session, "after_transaction_end", ended)
