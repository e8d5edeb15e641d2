"""Posts in heron's admin, at /admin/ (app.py imports this module).

The names and headings are marked for translation (gettext_lazy: translated when a
page shows them, in its language); the field labels the admin makes from the column
names ("Published at") are looked up in the catalog too, so ``LABELS`` lists them for
``heron i18n extract``.
"""

from __future__ import annotations

from heron.admin import ModelAdmin, register
from heron.i18n import gettext_lazy as _

from .models import Post

#: The labels made from Post's columns, for the catalog.
LABELS = (_("Title"), _("Slug"), _("Author"), _("Body"), _("Published at"),
          _("Created at"), _("Updated at"))


@register(Post)
class PostAdmin(ModelAdmin):
    verbose_name = _("post")
    verbose_name_plural = _("posts")
    list_display = ["title", "author", "published_at"]
    search_fields = ["title", "body"]
    list_filter = ["author", "published_at"]
    date_hierarchy = "published_at"
    ordering = ["-published_at"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "author", "published_at"]}),
        (_("Text"), {"fields": ["body"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]
