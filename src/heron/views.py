"""Class-based views: one method per HTTP verb (Flask's ``MethodView``).

    from heron.views import MethodView

    @app.route("/items/{id:int}")
    class Item(MethodView):
        def get(self, id: int) -> dict: ...
        async def put(self, id: int, body: ItemIn) -> dict: ...
        def delete(self, id: int) -> None: ...

Each verb method is its own route, analysed at startup like a function view:
typed parameters, bodies and dependencies are injected, ``def`` methods run in
the thread pool and ``async def`` ones on the event loop.  A verb the class
does not define answers 405 with ``Allow``.  A new instance serves each request.
See docs/views.md.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

from heron.concurrency import is_async_callable
from heron.exceptions import ImproperlyConfigured

__all__ = ["ClassView", "MethodView"]

# The verbs a class may define, in the order its routes are declared.
VERBS = ("get", "head", "post", "put", "patch", "delete", "options")


class ClassView:
    """What :meth:`MethodView.as_view` returns: a view class ready to route.

    ``app.add_route(path, view)`` (or a router's) declares one route per verb
    the class defines, all with the same name.

    Attributes:
        view_class: the class each request is served by (a subclass made by
            ``as_view`` when it was given attributes).
        name: the routes' default name (the class's ``__name__``, or what
            :meth:`MethodView.route_name` says).
    """

    def __init__(self, view_class: type[MethodView], name: str) -> None:
        self.view_class = view_class
        self.name = name
        self._endpoints = {verb.upper(): _endpoint(view_class, verb)
                           for verb in view_class.verbs()}

    @property
    def methods(self) -> frozenset[str]:
        """The HTTP methods the class answers (upper case)."""
        return frozenset(self._endpoints)

    def endpoints(self, methods: Sequence[str] | frozenset[str] | None = None) -> Iterator[
        tuple[str, Callable[..., Any]]
    ]:
        """``(METHOD, endpoint)`` for ``methods`` (default: every verb of the class).

        Raises:
            ImproperlyConfigured: a method the class has no method for (heron.views.E001).
        """
        wanted = [m.upper() for m in methods] if methods else list(self._endpoints)
        missing = [m for m in wanted if m not in self._endpoints]
        if missing or not wanted:
            have = ", ".join(self._endpoints) or "none"
            raise ImproperlyConfigured(
                f"{self.view_class.__qualname__} has no method for {', '.join(missing) or 'any'}"
                f" HTTP verb (it defines: {have}); add "
                f"{' or '.join(m.lower() for m in missing) or 'get'}(self, ...) or route "
                "only the verbs it defines",
                id="heron.views.E001",
            )
        for method in wanted:
            yield method, self._endpoints[method]

    def __repr__(self) -> str:
        return f"<ClassView {self.view_class.__qualname__} {sorted(self._endpoints)}>"


class MethodView:
    """A view with one method per HTTP verb: ``get``, ``post``, ``put``, ``patch``,
    ``delete``, ``head`` and ``options``, each ``def`` or ``async def``.

    Route the class itself (``@app.route(path)`` on it, or
    ``app.add_route(path, ItemView)``) or what :meth:`as_view` makes of it.  Each
    method takes the parameters a function view would (``request: Request``,
    path parameters, query parameters, a body model, dependencies); ``self`` is
    a new instance for every request.

    Attributes:
        decorators: view decorators applied to every verb's endpoint, first one
            outermost (``[login_required]``), as if stacked on a function view.
    """

    decorators: ClassVar[Sequence[Callable[..., Any]]] = ()

    @classmethod
    def verbs(cls) -> list[str]:
        """The verb methods the class defines (lower case, in :data:`VERBS` order)."""
        return [verb for verb in VERBS if callable(getattr(cls, verb, None))]

    @classmethod
    def route_name(cls) -> str:
        """The routes' default name: the class's ``__name__``."""
        return cls.__name__

    @classmethod
    def check_view(cls) -> None:
        """Refuse a mistaken configuration when :meth:`as_view` is called (override it
        to add checks; raise :class:`~heron.ImproperlyConfigured` with an id)."""

    @classmethod
    def get_decorators(cls) -> list[Callable[..., Any]]:
        """The decorators for each verb's endpoint, outermost first (default:
        :attr:`decorators`)."""
        return list(cls.decorators)

    @classmethod
    def as_view(cls, name: str | None = None, **attributes: Any) -> ClassView:
        """The class ready to route, with ``attributes`` overriding its class
        attributes (``ListView.as_view(model=Post, paginate_by=10)``).

        Args:
            name: the routes' default name (``add_route(..., name=)`` wins over it).
            attributes: class attributes to set on a subclass made once, now.

        Raises:
            TypeError: an attribute the class does not have.
            ImproperlyConfigured: what :meth:`check_view` finds.
        """
        unknown = [key for key in attributes if not hasattr(cls, key)]
        if unknown:
            raise TypeError(f"{cls.__qualname__}.as_view() got {', '.join(map(repr, unknown))}, "
                            "which the class has no attribute for")
        view_class = cls
        if attributes:
            view_class = type(cls.__name__, (cls,), {
                **attributes, "__module__": cls.__module__, "__qualname__": cls.__qualname__})
        view_class.check_view()
        return ClassView(view_class, name or view_class.route_name())


def _endpoint(view_class: type[MethodView], verb: str) -> Callable[..., Any]:
    """A function view calling ``verb`` on a new instance of ``view_class``, with the
    method's signature less ``self`` (so that it is analysed as any view is)."""
    method = getattr(view_class, verb)
    endpoint: Callable[..., Any]
    if is_async_callable(method):
        async def endpoint(*args: Any, **kwargs: Any) -> Any:
            return await method(view_class(), *args, **kwargs)
    else:
        def endpoint(*args: Any, **kwargs: Any) -> Any:
            return method(view_class(), *args, **kwargs)

    functools.update_wrapper(endpoint, method)
    signature = inspect.signature(method)
    setattr(endpoint, "__signature__",  # noqa: B010 (a function has no such attribute to type)
            signature.replace(parameters=list(signature.parameters.values())[1:]))
    endpoint.__qualname__ = f"{view_class.__qualname__}.{verb}"
    for decorator in reversed(view_class.get_decorators()):
        endpoint = decorator(endpoint)
    # The routes of one class share their name: the app tells them apart from a clash.
    setattr(endpoint, "view_class", view_class)  # noqa: B010
    return endpoint
