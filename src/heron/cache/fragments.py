"""Template fragment caching: ``{% cache 300, "sidebar", user.id %}...{% endcache %}``.

The first argument is the time to live in seconds (``None``: until invalidated), the
second the fragment's name, the others what the fragment varies on.  The rendered
HTML is kept in the cache the ``cache_fragments`` setting names; invalidate one with
``invalidate_fragment(app, "sidebar", user.id)`` (or ``await ainvalidate_fragment``).
A cache that is down renders the block every time.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from jinja2 import nodes
from jinja2.ext import Extension
from markupsafe import Markup

if TYPE_CHECKING:
    from jinja2.parser import Parser

    from heron.app import App
    from heron.cache.caches import Caches
    from heron.cache.client import Cache

__all__ = ["FragmentCacheExtension", "ainvalidate_fragment", "fragment_key",
           "invalidate_fragment"]


def fragment_key(name: str, *vary_on: Any) -> str:
    """The cache key of fragment ``name`` for the values ``vary_on``."""
    values = orjson.dumps(list(vary_on), default=str)
    return f"fragment:{name}:{hashlib.blake2b(values, digest_size=16).hexdigest()}"


def _cache(app: App) -> Cache:
    caches: Caches = app.caches
    return caches[app.settings.cache_fragments]


def invalidate_fragment(app: App, name: str, *vary_on: Any) -> bool:
    """Forget fragment ``name`` for ``vary_on``; True when it was cached."""
    return _cache(app).delete(fragment_key(name, *vary_on))


async def ainvalidate_fragment(app: App, name: str, *vary_on: Any) -> bool:
    """Forget fragment ``name`` for ``vary_on``; True when it was cached."""
    return await _cache(app).adelete(fragment_key(name, *vary_on))


class FragmentCacheExtension(Extension):
    """The ``{% cache %}`` tag (heron.cache's plugin gives it to every template)."""

    tags: ClassVar[set[str]] = {"cache"}  # type: ignore[misc]
    #: Set on the subclass the plugin makes for one app.
    app: ClassVar[App | None] = None

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        arguments = [parser.parse_expression()]
        while parser.stream.skip_if("comma"):
            arguments.append(parser.parse_expression())
        if len(arguments) < 2:
            parser.fail("{% cache %} needs a time to live and a name: "
                        '{% cache 300, "sidebar" %}', lineno)
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        call = self.call_method("_cached", [nodes.List(arguments)])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _fragment(self, arguments: list[Any]) -> tuple[Cache, str, float | None]:
        ttl, name, *vary_on = arguments
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float)
                                or not ttl > 0):  # NaN too
            raise ValueError(f"{{% cache %}}: the time to live must be a positive number of "
                             f"seconds or None, not {ttl!r}")
        if self.app is None:
            raise RuntimeError("{% cache %} works in the templates of an app with heron.cache")
        return _cache(self.app), fragment_key(str(name), *vary_on), ttl

    def _cached(self, arguments: list[Any], caller: Any) -> Any:
        if self.environment.is_async:
            return self._acached(arguments, caller)
        cache, key, ttl = self._fragment(arguments)
        html = cache.get(key)
        if not isinstance(html, str):
            html = str(caller())
            cache.set(key, html, ttl)
        return Markup(html)

    async def _acached(self, arguments: list[Any], caller: Any) -> Any:
        cache, key, ttl = self._fragment(arguments)
        html = await cache.aget(key)
        if not isinstance(html, str):
            html = str(await caller())
            await cache.aset(key, html, ttl)
        return Markup(html)
