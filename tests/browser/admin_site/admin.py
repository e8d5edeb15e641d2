"""The catalogue's admin: search, filters, a date hierarchy, inlines and an action."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from admin_site.models import AdmBrAuthor, AdmBrBook, AdmBrChapter, AdmBrStatus
from heron import Request
from heron.admin import ModelAdmin, StackedInline, TabularInline, action, display, register


class BookInline(TabularInline):
    model = AdmBrBook
    fields = ["title", "status", "in_stock", "published"]
    extra = 0


class ChapterInline(StackedInline):
    model = AdmBrChapter
    fields = ["number", "title"]
    extra = 0
    ordering = ["number"]


@register(AdmBrAuthor)
class AuthorAdmin(ModelAdmin):
    list_display = ["name", "email", "book_count"]
    search_fields = ["name", "email"]
    ordering = ["name"]
    inlines = [BookInline]

    @display(description="Books")
    def book_count(self, obj: AdmBrAuthor) -> int:
        return len(obj.books)


@register(AdmBrBook)
class BookAdmin(ModelAdmin):
    list_display = ["title", "author__name", "status", "in_stock", "published"]
    search_fields = ["title", "^author__name"]
    search_help_text = "Searches titles, and authors' names from their start."
    list_filter = ["status", "in_stock", "author"]
    date_hierarchy = "published"
    ordering = ["title"]
    list_per_page = 20
    prepopulated_fields = {"slug": ["title"]}
    actions = ["mark_published"]
    inlines = [ChapterInline]

    @action(description="Mark the selected books published")
    def mark_published(self, request: Request, session: Session, rows: list[Any]) -> None:
        for row in rows:
            row.status = AdmBrStatus.PUBLISHED
