"""heron.admin's tables (imported when the component loads, so that they join the
metadata ``db.create_all`` and migrations compare): the audit log."""

from __future__ import annotations

from heron.admin.audit import LogEntry

__all__ = ["LogEntry"]
