"""What the API reads and writes.  The pydantic models are also its OpenAPI schemas.

Input models are strict (``"5"`` is no integer, ``1`` no boolean) and forbid
unknown fields, so that the API accepts exactly what its schema describes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .models import NOTES_MAX, TITLE_MAX


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"


class Order(StrEnum):
    """How a list of tasks is sorted."""

    newest = "newest"
    oldest = "oldest"
    due = "due"  # soonest first; tasks without a due date last


def _utc(value: datetime) -> datetime:
    # SQLite gives back naive datetimes; heron stores UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


UTCDateTime = Annotated[datetime, AfterValidator(_utc)]
Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX, examples=["Water the plants"])]
Notes = Annotated[str, Field(max_length=NOTES_MAX)]


class TaskIn(BaseModel):
    """A new task."""

    model_config = ConfigDict(strict=True, extra="forbid", use_enum_values=True)

    title: Title
    notes: Notes = ""
    priority: Priority = Priority.normal
    done: bool = False
    due: date | None = None


def _no_defaults(schema: dict[str, Any]) -> None:
    # In a patch, a missing field means "leave it": None is not a value to send.
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


class TaskPatch(BaseModel):
    """Changes to a task: only the fields sent are changed (``due: null`` clears it)."""

    model_config = ConfigDict(strict=True, extra="forbid", use_enum_values=True,
                              json_schema_extra=_no_defaults)

    title: Title = None  # type: ignore[assignment]
    notes: Notes = None  # type: ignore[assignment]
    priority: Priority = None  # type: ignore[assignment]
    done: bool = None  # type: ignore[assignment]
    due: date | None = None


class TaskOut(BaseModel):
    """A task as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    notes: str
    priority: Priority
    done: bool
    due: date | None
    created_at: UTCDateTime
    updated_at: UTCDateTime


class TaskPage(BaseModel):
    """One page of tasks, and how many there are in all."""

    items: list[TaskOut]
    page: int
    per_page: int
    total: int


class Health(BaseModel):
    status: Literal["ok"]
