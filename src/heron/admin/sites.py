"""The registry of models in the admin, and what it becomes in one app.

``register`` files a model with its :class:`~heron.admin.ModelAdmin` class in the
process-wide :data:`site`.  At startup each app that uses heron.admin binds the
registry (:meth:`AdminSite.bind`): one ``ModelAdmin`` instance per model, knowing
the component the model belongs to, its URL name and its permission names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from heron.admin.options import ModelAdmin

if TYPE_CHECKING:
    from heron.app import App

__all__ = ["AdminSite", "AlreadyRegistered", "BoundSite", "NotRegistered", "register", "site"]

A = TypeVar("A", bound=type[ModelAdmin])


class AlreadyRegistered(ValueError):
    """A model is registered twice."""


class NotRegistered(KeyError):
    """A model that is not registered is unregistered."""


class AdminSite:
    """The models the admin shows, each with its ``ModelAdmin`` class."""

    def __init__(self) -> None:
        self._registry: dict[type[Any], type[ModelAdmin]] = {}

    def register(self, model: type[Any] | Iterable[type[Any]],
                 admin_class: type[ModelAdmin] | None = None, **options: Any) -> None:
        """Show ``model`` (or each of several) in the admin with ``admin_class``
        (default: :class:`ModelAdmin`); keyword ``options`` make a subclass of it
        with those attributes (``register(Tag, search_fields=["name"])``).

        Raises:
            AlreadyRegistered: the model is registered already.
            TypeError: ``model`` is not a mapped model class.
        """
        models = [model] if isinstance(model, type) else list(model)
        chosen = admin_class or ModelAdmin
        if options:
            chosen = type(f"{chosen.__name__}Options", (chosen,), options)
        for each in models:
            if not hasattr(each, "__mapper__"):
                raise TypeError(f"admin.register() takes model classes; {each!r} is not one")
            if each in self._registry:
                raise AlreadyRegistered(
                    f"{each.__name__} is registered in the admin already (by "
                    f"{self._registry[each].__qualname__}); unregister it first to replace it")
            self._registry[each] = chosen

    def unregister(self, model: type[Any]) -> None:
        """Remove ``model`` from the admin.

        Raises:
            NotRegistered: it was not registered.
        """
        if model not in self._registry:
            raise NotRegistered(f"{model.__name__} is not registered in the admin")
        del self._registry[model]

    def is_registered(self, model: type[Any]) -> bool:
        return model in self._registry

    def registered(self) -> dict[type[Any], type[ModelAdmin]]:
        """A copy of the registry: model -> ModelAdmin class."""
        return dict(self._registry)

    def bind(self, app: App) -> BoundSite:
        """The registry as ``app`` serves it: components' ``admin`` modules imported
        first, then one ModelAdmin per model."""
        autodiscover(app)
        bound = BoundSite(app, self)
        for model, admin_class in self._registry.items():
            bound.add(model, admin_class)
        return bound


@dataclass
class BoundSite:
    """The admin of one app: its ``ModelAdmin`` instances by component and model name."""

    app: App
    site: AdminSite
    by_key: dict[tuple[str, str], ModelAdmin] = field(default_factory=dict)
    by_model: dict[type[Any], ModelAdmin] = field(default_factory=dict)

    def add(self, model: type[Any], admin_class: type[ModelAdmin]) -> ModelAdmin:
        admin = admin_class(model, self)
        self.by_key[(admin.component, admin.model_name)] = admin
        self.by_model[model] = admin
        return admin

    def get(self, component: str, model_name: str) -> ModelAdmin | None:
        return self.by_key.get((component, model_name))

    def component_of(self, model: type[Any]) -> str:
        """The component label of ``model`` (``"app"`` for the app's own models)."""
        from heron.auth.permissions import component_label

        return component_label(self.app, model)

    def grouped(self) -> dict[str, list[ModelAdmin]]:
        """The admins by component, components and models in alphabetical order."""
        groups: dict[str, list[ModelAdmin]] = {}
        for admin in sorted(self.by_key.values(),
                            key=lambda a: (a.component, a.verbose_name_plural.lower())):
            groups.setdefault(admin.component, []).append(admin)
        return groups


def autodiscover(app: App) -> None:
    """Import the ``admin`` module of each of the app's components that has one."""
    for component in app.components.values():
        name = f"{component.module.__name__}.admin"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise  # the admin module exists but one of its imports is missing


#: The admin's registry (one per process, shared by the apps in it).
site = AdminSite()


def register(*models: type[Any], **options: Any) -> Callable[[A], A]:
    """Show ``models`` in the admin: ``register(Tag)`` with the default
    :class:`ModelAdmin` (keyword ``options`` set its attributes), or as a class
    decorator, with the ModelAdmin it decorates::

        @register(Post, Page)
        class ContentAdmin(ModelAdmin):
            search_fields = ["title"]

    Raises:
        AlreadyRegistered: a model is registered already.
    """
    if not models:
        raise TypeError("register() needs at least one model: register(Post)")
    site.register(models, **options)

    def decorate(admin_class: A) -> A:
        if not (isinstance(admin_class, type) and issubclass(admin_class, ModelAdmin)):
            raise TypeError("@register decorates a ModelAdmin subclass")
        for model in models:
            site.unregister(model)
        site.register(models, admin_class, **options)
        return admin_class

    return decorate
