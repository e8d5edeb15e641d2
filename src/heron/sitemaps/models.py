"""``ModelSitemap``: a sitemap section from a heron.db model, one page per query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, inspect, select

from heron.db import db
from heron.sitemaps.sitemap import Sitemap

__all__ = ["ModelSitemap"]


class ModelSitemap(Sitemap):
    """The rows of a model, each the page of a named route::

        class PostSitemap(ModelSitemap):
            model = Post
            route = "post"                 # url_for("post", slug=...)
            params = {"slug": "slug"}      # route parameter -> column
            lastmod_field = "updated_at"
            changefreq = "weekly"

            def filter(self, statement):   # only what the public may see
                return statement.where(Post.published_at.is_not(None))

    or ``ModelSitemap(Post, "post", params={"slug": "slug"})``.  Each page is one
    query for only the columns it needs (the primary key, the route's parameters,
    ``lastmod_field``), ``limit`` rows at a time in primary-key order, on the
    request's ``db.async_session``; the count is one ``SELECT count(*)``.

    Args:
        model: the mapped class.
        route: the name of the route showing one row (``"blog:post"``).
        params: route parameter -> column attribute (default: ``{"id": <primary key>}``).
        lastmod_field: the column giving ``lastmod`` (a date or datetime), if any.
    """

    model: Any = None
    route: str = ""
    params: Mapping[str, str] | None = None
    lastmod_field: str | None = None

    def __init__(self, model: Any = None, route: str | None = None, *,
                 params: Mapping[str, str] | None = None, lastmod_field: str | None = None,
                 changefreq: str | None = None, priority: float | None = None,
                 limit: int | None = None) -> None:
        for name, value in (("model", model), ("route", route), ("params", params),
                            ("lastmod_field", lastmod_field), ("changefreq", changefreq),
                            ("priority", priority), ("limit", limit)):
            if value is not None:
                setattr(self, name, value)
        if self.model is None or not self.route:
            raise ValueError(f"{type(self).__name__} needs a model and a route name")
        mapper = inspect(self.model)
        self._keys = list(mapper.primary_key)
        if self.params is None:
            self.params = {"id": self._keys[0].key}
        names = [*self.params.values(), *([self.lastmod_field] if self.lastmod_field else [])]
        missing = [name for name in names if name not in mapper.all_orm_descriptors]
        if missing:
            raise ValueError(f"{type(self).__name__}: {self.model.__name__} has no "
                             f"attribute {', '.join(map(repr, missing))}")

    def filter(self, statement: Select[Any]) -> Select[Any]:
        """Narrow the rows listed (published posts only); applied to the count too."""
        return statement

    def _columns(self) -> list[Any]:
        assert self.params is not None  # set in __init__
        names = dict.fromkeys([*self.params.values(),
                               *([self.lastmod_field] if self.lastmod_field else [])])
        return [getattr(self.model, name).label(name) for name in names]

    async def count(self) -> int:
        keys = self.filter(select(*self._keys)).subquery()
        found = await db.async_session.scalar(select(func.count()).select_from(keys))
        return int(found or 0)

    async def page_items(self, number: int) -> Sequence[Any]:
        statement = (self.filter(select(*self._columns())).order_by(*self._keys)
                     .limit(self.limit).offset((number - 1) * self.limit))
        result = await db.async_session.execute(statement)
        rows: Sequence[Any] = result.mappings().all()
        return rows

    def location(self, item: Any) -> str:
        assert self.params is not None
        values = {param: item[column] for param, column in self.params.items()}
        return self.request.url_for(self.route, **values)

    def lastmod(self, item: Any) -> datetime | date | None:
        if not self.lastmod_field:
            return None
        value = item[self.lastmod_field]
        return value if isinstance(value, (date, datetime)) else None
