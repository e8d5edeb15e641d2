"""heron.admin: the admin pages generated from your models, with an audit log.

A component: ``App(components=["heron.auth", "heron.admin"])`` serves the admin
under the ``admin_url`` setting (``/admin/``) to staff users.  Register models in
a component's ``admin.py`` (found by itself) or anywhere at import time::

    from heron.admin import ModelAdmin, register

    @register(Post)
    class PostAdmin(ModelAdmin):
        list_display = ["title", "author__name", "published"]
        search_fields = ["title", "^author__name"]
        list_filter = ["published", "created_at"]

See docs/admin.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from heron._lazy import lazy_exports

if TYPE_CHECKING:
    from heron.admin._plugin import plugin as plugin
    from heron.admin.filters import (
        BooleanFieldListFilter,
        ChoicesFieldListFilter,
        DateFieldListFilter,
        EmptyFieldListFilter,
        RelatedFieldListFilter,
        SimpleListFilter,
    )
    from heron.admin.options import (
        ModelAdmin,
        StackedInline,
        TabularInline,
        action,
        display,
    )
    from heron.admin.sites import AlreadyRegistered, NotRegistered, register, site

__all__ = [
    "AlreadyRegistered",
    "BooleanFieldListFilter",
    "ChoicesFieldListFilter",
    "DateFieldListFilter",
    "EmptyFieldListFilter",
    "ModelAdmin",
    "NotRegistered",
    "RelatedFieldListFilter",
    "SimpleListFilter",
    "StackedInline",
    "TabularInline",
    "action",
    "display",
    "register",
    "site",
]

component_name = "admin"
HERE = Path(__file__).parent

_EXPORTS = {
    "AlreadyRegistered": "heron.admin.sites",
    "BooleanFieldListFilter": "heron.admin.filters",
    "ChoicesFieldListFilter": "heron.admin.filters",
    "DateFieldListFilter": "heron.admin.filters",
    "EmptyFieldListFilter": "heron.admin.filters",
    "ModelAdmin": "heron.admin.options",
    "NotRegistered": "heron.admin.sites",
    "RelatedFieldListFilter": "heron.admin.filters",
    "SimpleListFilter": "heron.admin.filters",
    "StackedInline": "heron.admin.options",
    "TabularInline": "heron.admin.options",
    "action": "heron.admin.options",
    "display": "heron.admin.options",
    "register": "heron.admin.sites",
    "site": "heron.admin.sites",
    "plugin": "heron.admin._plugin",
}

__getattr__ = lazy_exports(__name__, _EXPORTS)
