"""The change list: one page of a model's rows, searched, filtered, sorted and counted.

Its query parameters: ``q`` the search, ``o`` the sort (column numbers from 1, ``-``
for descending, comma-separated: ``o=-2,1``), ``p`` the page, ``all`` every row (up to
``list_max_show_all``), the filters' own parameters, and ``<field>__year``,
``__month``, ``__day`` for ``date_hierarchy``.  Any other parameter, or a bad
value, is a 400 (:class:`~heron.admin.filters.IncorrectLookupParameters`).

The rows of a page are read with the many-to-one paths of ``list_display`` loaded
in the same query (or one per to-many path), so the number of queries does not grow
with the rows shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlencode

from heron.admin.columns import Column, column_for
from heron.admin.filters import IncorrectLookupParameters, ListFilter, build_filter
from heron.admin.lookups import FieldPathError, loader_options, order_column, resolve
from heron.i18n import gettext

if TYPE_CHECKING:
    from markupsafe import Markup
    from sqlalchemy import Select
    from sqlalchemy.orm import Session

    from heron.admin.options import ModelAdmin
    from heron.requests import Request

__all__ = ["ChangeList", "Header", "IncorrectLookupParameters"]

SEARCH, ORDER, PAGE, ALL = "q", "o", "p", "all"
_RESERVED = frozenset({SEARCH, ORDER, PAGE, ALL})
_DATE_PARTS = ("year", "month", "day")


def _month(number: int) -> str:
    """The name of month ``number`` (1 to 12) in the active language ("March", "März")."""
    from heron.i18n import format_date

    return format_date(dt.date(2000, number, 1), "LLLL")


@dataclass
class Header:
    """A column heading and its sort links."""

    label: str
    name: str
    sortable: bool
    sorted: bool = False
    descending: bool = False
    priority: int = 0
    toggle_url: str = ""
    remove_url: str = ""


@dataclass
class Result:
    """One row of the page, ready to draw: its key, its name and its cells
    (``(value, links to the change form)`` per column)."""

    pk: str
    label: str
    cells: list[tuple[str | Markup, bool]]
    obj: Any


@dataclass
class DateLink:
    label: str
    url: str


class ChangeList:
    """One page of ``admin``'s rows for ``request``'s query parameters.

    Build it with :meth:`load` (sync, on a Session).  Raises
    :class:`IncorrectLookupParameters` for parameters it cannot use.
    """

    def __init__(self, admin: ModelAdmin, request: Request,
                 params: Mapping[str, str] | None = None) -> None:
        self.admin = admin
        self.request = request
        self.params: dict[str, str] = dict(params if params is not None
                                           else request.query_params.items())
        self.columns: list[Column] = [column_for(admin, entry)
                                      for entry in admin.get_list_display(request)]
        self.link_columns = set(admin.get_list_display_links(request, admin.list_display))
        self.search = self.params.get(SEARCH, "").strip()
        self.filters: list[ListFilter] = [
            build_filter(spec, admin.model, self.params, admin, request)
            for spec in admin.get_list_filter(request)]
        self.ordering = self._ordering()
        self.show_all = ALL in self.params
        self.page_number = self._page_number()
        self.rows: list[Any] = []
        self.results: list[Result] = []
        self.result_count = 0
        self.full_count: int | None = None
        self.estimated = False
        self.date_links: list[DateLink] = []
        self.date_crumbs: list[DateLink] = []
        self._check_parameters()

    # -- parameters --------------------------------------------------------------

    def _check_parameters(self) -> None:
        known = set(_RESERVED)
        for each in self.filters:
            known.update(each.expected_parameters())
        if self.admin.date_hierarchy:
            known.update(f"{self.admin.date_hierarchy}__{part}" for part in _DATE_PARTS)
        unknown = sorted(set(self.params) - known)
        if unknown:
            raise IncorrectLookupParameters(
                gettext("Unknown parameter %(name)s") % {"name": repr(unknown[0])})
        if any("\x00" in value for value in self.params.values()):
            raise IncorrectLookupParameters(gettext("A parameter holds a NUL character"))

    def _page_number(self) -> int:
        raw = self.params.get(PAGE, "1")
        if not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
            raise IncorrectLookupParameters(
                gettext("Page %(page)s is not a page number") % {"page": repr(raw)})
        return int(raw)

    def _ordering(self) -> list[tuple[int, bool]]:
        """``[(column index, descending)]`` from ``o``."""
        raw = self.params.get(ORDER)
        if raw is None:
            return []
        found: list[tuple[int, bool]] = []
        for part in raw.split(","):
            descending = part.startswith("-")
            number = part.lstrip("-")
            if not number.isdigit() or len(number) > 4:
                raise IncorrectLookupParameters(
                    gettext("Sort %(sort)s is not a list of column numbers") % {"sort": repr(raw)})
            index = int(number) - 1
            if not 0 <= index < len(self.columns) or self.columns[index].order is None:
                raise IncorrectLookupParameters(
                    gettext("Column %(number)s cannot be sorted by") % {"number": number})
            if index not in [i for i, _ in found]:
                found.append((index, descending))
        return found

    def url(self, **changes: Any) -> str:
        """The query string of this list with ``changes`` (``None`` removes one);
        the page number goes unless it is among the changes."""
        # Called once per filter choice and heading (a thousand times on a page with a
        # large related filter): each kept parameter is encoded once, not per link.
        encoded = self.__dict__.get("_encoded")
        if encoded is None:
            encoded = self.__dict__["_encoded"] = {
                key: f"{quote_plus(key)}={quote_plus(value)}"
                for key, value in self.params.items() if key != PAGE}
        parts = dict(encoded)
        for key, value in changes.items():
            if value is None:
                parts.pop(key, None)
            else:
                parts[key] = f"{quote_plus(key)}={quote_plus(str(value))}"
        return "?" + "&".join(parts.values()) if parts else "?"

    @property
    def has_active_filters(self) -> bool:
        return any(each.is_active() for each in self.filters)

    def clear_filters_url(self) -> str:
        """This list without its filters (the search and sort kept)."""
        names: dict[str, None] = {}
        for each in self.filters:
            names.update(dict.fromkeys(each.expected_parameters()))
        return self.url(**names)

    @property
    def query_string(self) -> str:
        """The list's filters, search and sort (no page): kept across a change form."""
        return urlencode({k: v for k, v in self.params.items() if k != PAGE})

    # -- the query ------------------------------------------------------------------

    def filtered(self) -> Select[Any]:
        """The admin's rows with the search, the filters and the date drill-down applied."""
        from heron.admin.search import search_condition

        statement = self.admin.get_queryset(self.request)
        for each in self.filters:
            statement = each.apply(statement)
        if self.search:
            fields = self.admin.get_search_fields(self.request)
            condition = search_condition(self.admin.model, fields, self.search,
                                         self._dialect_name())
            if condition is not None:
                statement = statement.where(condition)
        return self._date_filtered(statement)

    def _dialect_name(self) -> str:
        from heron.db import db

        state = db.state(self.request.app)
        return str(state.engine().dialect.name)

    def _date_filtered(self, statement: Select[Any]) -> Select[Any]:
        field = self.admin.date_hierarchy
        if not field:
            return statement
        start, end = self._date_range()
        if start is None or end is None:
            return statement
        column = resolve(self.admin.model, field).attribute
        if _is_datetime(column):
            start = dt.datetime.combine(start, dt.time(), dt.UTC)  # type: ignore[assignment]
            end = dt.datetime.combine(end, dt.time(), dt.UTC)  # type: ignore[assignment]
        return statement.where(column >= start, column < end)

    def _date_parts(self) -> list[int]:
        field = self.admin.date_hierarchy
        parts: list[int] = []
        for part in _DATE_PARTS:
            raw = self.params.get(f"{field}__{part}")
            if raw is None:
                break
            if not raw.isdigit() or len(raw) > 4:
                raise IncorrectLookupParameters(f"{part} {raw!r} is not a number")
            parts.append(int(raw))
        return parts

    def _date_range(self) -> tuple[dt.date | None, dt.date | None]:
        parts = self._date_parts()
        try:
            if len(parts) == 1:
                return dt.date(parts[0], 1, 1), dt.date(parts[0] + 1, 1, 1)
            if len(parts) == 2:
                start = dt.date(parts[0], parts[1], 1)
                return start, (start + dt.timedelta(days=32)).replace(day=1)
            if len(parts) == 3:
                start = dt.date(*parts)
                return start, start + dt.timedelta(days=1)
        except (ValueError, OverflowError):
            raise IncorrectLookupParameters(
                gettext("The date drill-down names no real date")) from None
        return None, None

    def ordered(self, statement: Select[Any]) -> Select[Any]:
        """``statement`` sorted by the chosen columns, then the default ordering, then
        the primary key (so that pages never overlap)."""
        from sqlalchemy import inspect

        paths: list[tuple[str, bool]] = [(self.columns[i].order or "", desc)
                                         for i, desc in self.ordering]
        for entry in self.admin.get_ordering(self.request):
            paths.append((entry.lstrip("-"), entry.startswith("-")))
        keys = []
        for path, descending in paths:
            try:
                joins, column = order_column(resolve(self.admin.model, path))
            except FieldPathError as exc:
                raise IncorrectLookupParameters(str(exc)) from None
            for target, onclause in joins:
                statement = statement.outerjoin(target, onclause)
            keys.append(column.desc() if descending else column.asc())
        primary = inspect(self.admin.model).primary_key
        has_ordering = bool(paths)
        keys += [c.asc() if has_ordering else c.desc() for c in primary]
        return statement.order_by(*keys)

    def load(self, session: Session) -> ChangeList:
        """Run the queries: the count(s), the page of rows, the filters' choices."""

        statement = self.filtered()
        for each in self.filters:
            each.load(session)
        if not self._page_and_count_in_one_pass(session, statement):
            self.estimated, self.result_count = self._count(session, _count_of(statement))
            # A page past the end (a link from before a filter or a delete) shows the last.
            self.page_number = min(self.page_number, self.pages)
            self.rows = list(session.scalars(self._page(statement)).unique())
        if self._narrowed() and self.admin.show_full_result_count:
            everything = _count_of(self.admin.get_queryset(self.request))
            self.full_count = session.scalar(everything) or 0
        from heron.admin.history import object_id

        # Cells are computed here, in the database's context: a column may read a
        # relationship that is not loaded yet (drawing happens after, with no session).
        self.results = [Result(object_id(row), self.admin.object_repr(row), self.cells(row), row)
                        for row in self.rows]
        if self.admin.date_hierarchy:
            self._load_dates(session, statement)
        return self

    def _page(self, statement: Select[Any]) -> Select[Any]:
        page = self.ordered(statement).options(*self._loaders())
        if self.show_all:
            return page.limit(self.admin.list_max_show_all)
        return page.limit(self.per_page).offset((self.page_number - 1) * self.per_page)

    def _page_and_count_in_one_pass(self, session: Session, statement: Select[Any]) -> bool:
        """On SQLite, read the page and count the matching rows in one query when the
        plan sorts every matching row anyway (a search or filter the sort's index cannot
        serve): the count then costs no second scan.  Where the plan walks an index in
        the sort's order and stops after one page, the two queries are cheaper, so
        SQLite's own plan decides.  False (nothing kept) when not done, or when a page
        after the first is empty (past the end: the caller counts, then shows the last)."""
        from sqlalchemy import func

        if self.show_all or not self._narrowed() or session.bind is None \
                or session.bind.dialect.name != "sqlite":
            return False
        # The plan depends on the query's shape (sort, filters used, number of words),
        # not on the values: asked once per shape and model admin.
        plans: dict[Any, bool] = self.admin.__dict__.setdefault("_heron_plans", {})
        shape = (tuple(self.ordering), len(self.search.split()),
                 tuple(sorted(k for k in self.params if k not in (PAGE, ALL, SEARCH))))
        if shape not in plans:
            if len(plans) >= 256:
                plans.clear()
            plans[shape] = _sorts_every_row(session, self.ordered(statement))
        if not plans[shape]:
            return False
        counted = self._page(statement).add_columns(func.count().over())
        found = session.execute(counted).unique().all()
        if not found and self.page_number > 1:
            return False  # past the end, or nothing: the caller counts, then shows the last
        if not found:  # the first page is empty: nothing matches
            self.estimated, self.result_count, self.rows = False, 0, []
            return True
        self.estimated, self.result_count = False, found[0][1]
        self.rows = [row[0] for row in found]
        return True

    def _count(self, session: Session, counted: Select[Any]) -> tuple[bool, int]:
        limit = self.request.app.settings.admin_estimate_count_above
        if limit and not self._narrowed() and session.bind is not None \
                and session.bind.dialect.name == "postgresql":
            from sqlalchemy import text

            table = self.admin.model.__table__.name
            estimate = session.scalar(text(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"),
                {"t": table})
            if estimate is not None and estimate > limit:
                return True, int(estimate)
        return False, session.scalar(counted) or 0

    def _narrowed(self) -> bool:
        return bool(self.search) or any(f.is_active() for f in self.filters) \
            or bool(self._date_parts())

    def _loaders(self) -> list[Any]:
        """Loader options for the relationships the columns read (``list_select_related``)."""
        chosen = self.admin.list_select_related
        if chosen is False:
            return []
        if chosen is True:
            paths = []
            for column in self.columns:
                try:
                    lookup = resolve(self.admin.model, column.name)
                    if lookup.relationships or lookup.column is None:
                        paths.append(column.name)
                except FieldPathError:
                    continue  # a callable or an attribute: nothing to load ahead
        else:
            paths = list(chosen)
        try:
            return loader_options(self.admin.model, paths)
        except FieldPathError:
            return []

    def _load_dates(self, session: Session, statement: Select[Any]) -> None:
        from sqlalchemy import extract, func, select

        field = self.admin.date_hierarchy or ""
        column = resolve(self.admin.model, field).attribute
        parts = self._date_parts()
        names = [f"{field}__{part}" for part in _DATE_PARTS]
        self.date_crumbs = [DateLink(gettext("All dates"), self.url(**dict.fromkeys(names)))]
        for depth, value in enumerate(parts):
            label = str(value) if depth != 1 else _month(value) \
                if 1 <= value <= 12 else str(value)
            keep = {names[i]: parts[i] for i in range(depth + 1)}
            drop = dict.fromkeys(names[depth + 1:])
            self.date_crumbs.append(DateLink(label, self.url(**keep, **drop)))
        if len(parts) >= 3:
            return
        level = _DATE_PARTS[len(parts)]
        inner = statement.order_by(None).subquery()
        part = extract(level, inner.c[column.key])
        values = session.scalars(select(func.distinct(part)).where(part.is_not(None))
                                 .order_by(part).limit(400)).all()
        for value in values:
            number = int(value)
            label = _month(number) if level == "month" else str(number)
            keep = {names[i]: parts[i] for i in range(len(parts))}
            self.date_links.append(DateLink(label, self.url(**keep, **{names[len(parts)]: number})))

    # -- for the page ------------------------------------------------------------

    @property
    def per_page(self) -> int:
        return max(1, int(self.admin.list_per_page))

    @property
    def pages(self) -> int:
        return max(1, -(-self.result_count // self.per_page))

    def page_links(self) -> list[int | None]:
        """Page numbers for the pager, ``None`` where numbers are skipped."""
        pages, current = self.pages, self.page_number
        wanted = sorted({1, 2, pages - 1, pages, *range(current - 2, current + 3)})
        numbers: list[int | None] = []
        last = 0
        for number in wanted:
            if 1 <= number <= pages:
                if last and number - last > 1:
                    numbers.append(None)
                numbers.append(number)
                last = number
        return numbers

    @property
    def can_show_all(self) -> bool:
        return not self.show_all and self.pages > 1 \
            and self.result_count <= self.admin.list_max_show_all

    def headers(self) -> list[Header]:
        heads = []
        positions = {index: n for n, (index, _) in enumerate(self.ordering)}
        for index, column in enumerate(self.columns):
            head = Header(column.label, column.name, column.order is not None)
            if head.sortable:
                current = dict(self.ordering)
                head.sorted = index in current
                head.descending = current.get(index, False)
                head.priority = positions.get(index, -1) + 1
                first = [(index, not head.descending if head.sorted else False)]
                rest = [(i, d) for i, d in self.ordering if i != index]
                head.toggle_url = self.url(o=_order_param(first + rest))
                head.remove_url = self.url(o=_order_param(rest) or None)
            heads.append(head)
        return heads

    def cells(self, obj: Any) -> list[tuple[str | Markup, bool]]:
        """``(value, links to the change form)`` of each column for ``obj``."""
        return [(column.cell(obj), column.name in self.link_columns) for column in self.columns]


def _count_of(statement: Select[Any]) -> Select[Any]:
    """``SELECT count(*)`` of ``statement``'s rows: its own FROM and WHERE when it is a
    plain query (the planner then reads no column it does not test), else a subquery."""
    from sqlalchemy import func, select

    plain = not (statement._distinct or statement._group_by_clauses
                 or statement._limit_clause is not None or statement._offset_clause is not None
                 or statement._having_criteria)
    if plain:
        return statement.with_only_columns(func.count(), maintain_column_froms=True) \
            .order_by(None)
    return select(func.count()).select_from(statement.order_by(None).subquery())


def _sorts_every_row(session: Session, statement: Select[Any]) -> bool:
    """Whether SQLite's plan for ``statement`` sorts its rows in a temporary B-tree
    (``EXPLAIN QUERY PLAN``): it then reads every matching row before the first.

    The statement runs with ``EXPLAIN QUERY PLAN`` put before its SQL at the cursor, so
    that SQLAlchemy binds its parameters as for the real query."""
    from sqlalchemy import event

    connection = session.connection()

    def explain(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any,
                executemany: bool) -> tuple[str, Any]:
        return "EXPLAIN QUERY PLAN " + sql, parameters

    event.listen(connection, "before_cursor_execute", explain, retval=True)
    try:
        result = connection.execute(statement.limit(1))
        plan = result.cursor.fetchall() if result.cursor is not None else []
        result.close()
    finally:
        event.remove(connection, "before_cursor_execute", explain)
    return any("TEMP B-TREE FOR ORDER BY" in str(step[-1]) for step in plan)


def _order_param(ordering: list[tuple[int, bool]]) -> str:
    return ",".join(f"{'-' if desc else ''}{index + 1}" for index, desc in ordering)


def _is_datetime(column: Any) -> bool:
    from sqlalchemy import DateTime

    return isinstance(getattr(column, "type", None), DateTime)
