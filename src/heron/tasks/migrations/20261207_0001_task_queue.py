"""heron.tasks' queue on PostgreSQL: procrastinate's schema (jobs, workers, events, and
the functions that defer, fetch and finish jobs) and heron's task results.

Revision ID: heron_tasks_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "heron_tasks_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("heron_tasks",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from procrastinate.schema import SchemaManager

    # Through the driver, without parameters: the schema's text holds % and :: that a
    # parameterised execute would read as placeholders.
    raw: Any = op.get_bind().connection.driver_connection
    raw.execute(SchemaManager.get_schema())
    op.create_table(
        "heron_task_result",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("return_value", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_heron_task_result")),
    )


def downgrade() -> None:
    op.drop_table("heron_task_result")
    for table in ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs",
                  "procrastinate_workers"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    for kind in ("procrastinate_job_status", "procrastinate_job_event_type",
                 "procrastinate_job_to_defer_v1"):
        op.execute(f"DROP TYPE IF EXISTS {kind} CASCADE")
