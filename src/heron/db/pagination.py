"""Pages of query results: ``db.paginate(select(Post), page=2)``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from heron.exceptions import HTTPException

__all__ = ["MAX_PER_PAGE", "Page", "count_statement", "page_bounds"]

T = TypeVar("T")
#: The hard ceiling on ``per_page``, whatever the client asks for.
MAX_PER_PAGE = 100
_MAX_OFFSET = 2**63 - 1


@dataclass
class Page(Generic[T]):
    """One page of results and what a pager needs to link to the others."""

    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1)."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def iter_pages(self, edge: int = 2, around: int = 2) -> Iterator[int | None]:
        """Page numbers for a pager, ``None`` where numbers are skipped: 1 2 None 7 8 9 None 20."""
        pages = self.pages
        numbers = sorted({*range(1, min(edge, pages) + 1),
                          *range(max(1, self.page - around), min(pages, self.page + around) + 1),
                          *range(max(1, pages - edge + 1), pages + 1)})
        last = 0
        for number in numbers:  # a handful, however many pages there are
            if last and number - last > 1:
                yield None
            yield number
            last = number

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def page_bounds(page: Any, per_page: Any, max_per_page: int | None) -> tuple[int, int]:
    """Check page numbers from a client: 404 for a page that cannot exist."""
    try:
        page, per_page = int(page), int(per_page)
    except (TypeError, ValueError):
        raise HTTPException(404, "There is no such page.") from None
    if page < 1 or per_page < 1:
        raise HTTPException(404, "There is no such page.")
    per_page = min(per_page, max_per_page or MAX_PER_PAGE)
    if (page - 1) * per_page > _MAX_OFFSET:  # databases refuse an OFFSET past 64 bits
        raise HTTPException(404, "There is no such page.")
    return page, per_page


def count_statement(statement: Select[Any]) -> Select[Any]:
    return select(func.count()).select_from(statement.order_by(None).subquery())


def check_page(page: Page[Any]) -> Page[Any]:
    if page.page > 1 and not page.items:
        raise HTTPException(404, f"There is no page {page.page}; the last is {page.pages}.")
    return page
