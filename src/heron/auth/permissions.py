"""The permission rows: ``view``, ``add``, ``change``, ``delete`` for every model,
plus each model's own ``__permissions__``, made on ``heron db migrate``.

    class Post(Model):
        __permissions__ = [("publish_post", "Can publish posts")]

gives ``blog.view_post`` ... ``blog.delete_post`` and ``blog.publish_post``
(``blog`` being the component the model's module belongs to; ``app`` for the
app's own models).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from heron.auth.models import Permission
from heron.db.models import Model, table_name_for

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from heron.app import App

__all__ = ["ACTIONS", "component_label", "model_permissions", "sync_permissions"]

ACTIONS = ("view", "add", "change", "delete")


def component_label(app: App, model: type[Any]) -> str:
    """The component a model belongs to: the one whose package holds its module."""
    module = model.__module__
    best, length = "app", -1
    for name, component in app.components.items():
        prefix = component.module.__name__
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
            best, length = name, len(prefix)
    return best


def model_permissions(model: type[Any]) -> list[tuple[str, str]]:
    """``(codename, name)`` for each permission of ``model``."""
    name = table_name_for(model.__name__)
    words = name.replace("_", " ")
    found = [(f"{action}_{name}", f"Can {action} {words}") for action in ACTIONS]
    for codename, title in getattr(model, "__permissions__", ()):
        found.append((codename, title))
    return found


def _models(app: App) -> list[type[Any]]:
    from heron.auth.models import AbstractBaseUser
    from heron.auth.users import get_user_model

    chosen = get_user_model(app)
    models = []
    for mapper in Model.registry.mappers:
        cls = mapper.class_
        if getattr(cls, "__bind_key__", None):
            continue  # lives in another database
        # heron's own tables (sessions), and a user model that is not the chosen one
        if cls.__module__.startswith("heron.") and cls.__module__ != "heron.auth.models" \
                and cls not in (chosen, chosen.token_model):
            continue
        if issubclass(cls, AbstractBaseUser) and cls is not chosen:
            continue
        models.append(cls)
    return models


def sync_permissions(app: App, session: Session) -> list[Permission]:
    """Add the permission rows that are missing (none is ever deleted); flushes.

    ``heron db migrate`` runs it; call it yourself after ``db.create_all``.
    """
    existing = {(p.component, p.codename) for p in session.scalars(select(Permission))}
    added = []
    for model in _models(app):
        label = component_label(app, model)
        model_name = table_name_for(model.__name__)
        for codename, name in model_permissions(model):
            if (label, codename) not in existing:
                existing.add((label, codename))
                added.append(Permission(component=label, model=model_name, codename=codename,
                                        name=name[:255]))
    session.add_all(added)
    session.flush()
    return added
