"""heron.admin's settings section (docs/admin.md)."""

from __future__ import annotations

from heron.settings import settings_section

__all__ = ["AdminSettings"]


def _(message: str) -> str:
    # Marks the default title for heron's catalog; the admin's pages translate it.
    return message


@settings_section
class AdminSettings:
    """Where the admin is served, its title, its audit log and its change lists."""

    #: The path the admin's pages are served under.
    admin_url: str = "/admin/"
    #: The name shown in the admin's header and page titles.
    admin_site_title: str = _("heron administration")
    #: Record every write made through heron.db in a request (views, APIs), with the
    #: acting user, in the admin's audit log, not only the admin's own.
    admin_audit_writes: bool = False
    #: On PostgreSQL, a change list whose table the planner estimates above this many rows
    #: shows an estimated count instead of counting every row; 0 always counts.
    admin_estimate_count_above: int = 0
