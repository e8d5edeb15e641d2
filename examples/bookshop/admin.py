"""The bookshop in heron's admin: what staff see at /admin/.

The app's own models belong to no component, so app.py imports this module (a
component's ``admin.py`` would be found by itself).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select

from heron.admin import (
    ModelAdmin,
    SimpleListFilter,
    TabularInline,
    action,
    display,
    register,
)

from .models import Author, Book, Category, Review

#: Fewer copies than this count as "low" stock.
LOW_STOCK = 5


class StockFilter(SimpleListFilter):
    """Out of stock, low, or in stock: choices of our own, not a column's values."""

    title = "stock"
    parameter_name = "stock"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("out", "Out of stock"), ("low", f"Fewer than {LOW_STOCK}"),
                ("in", "In stock")]

    def queryset(self, request: Any, statement: Select[Any]) -> Select[Any] | None:
        if self.value() == "out":
            return statement.where(Book.stock == 0)
        if self.value() == "low":
            return statement.where(Book.stock > 0, Book.stock < LOW_STOCK)
        if self.value() == "in":
            return statement.where(Book.stock > 0)
        return None


class ReviewInline(TabularInline):
    """The reviews of a book, as rows of a table under the book's form."""

    model = Review
    fields = ["reviewer", "rating", "text"]
    extra = 1


@register(Author)
class AuthorAdmin(ModelAdmin):
    list_display = ["name", "country"]
    search_fields = ["name"]  # also what the book form's author search box looks in
    list_filter = ["country"]
    ordering = ["name"]


@register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name"]


@register(Book)
class BookAdmin(ModelAdmin):
    list_display = ["title", "author__name", "category", "format", "shown_price", "stock",
                    "in_print"]
    list_editable = ["stock", "in_print"]
    search_fields = ["title", "^author__name", "=slug"]
    search_help_text = "Title words, the start of the author's name, or the exact slug."
    list_filter = ["in_print", "format", "category", "published_on", StockFilter]
    date_hierarchy = "published_on"
    ordering = ["title"]
    list_per_page = 50
    autocomplete_fields = ["author"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "author", "category"]}),
        ("Sale", {"fields": [("format", "price"), ("stock", "in_print"), "published_on"]}),
        ("Description", {"fields": ["description"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [ReviewInline]
    actions = ["mark_out_of_print", "discount_ten_percent"]
    save_on_top = True
    export_fields = ["id", "title", "author__name", "format", "price", "stock", "in_print"]

    @display(description="Price", ordering="price")
    def shown_price(self, book: Book) -> str:
        return f"€{book.price:.2f}"

    @action(description="Mark as out of print")
    def mark_out_of_print(self, request: Any, session: Any, rows: list[Book]) -> None:
        for book in rows:
            book.in_print = False

    @action(description="Take 10% off the price", confirm=True)
    def discount_ten_percent(self, request: Any, session: Any, rows: list[Book]) -> None:
        for book in rows:
            book.price = (book.price * Decimal("0.9")).quantize(Decimal("0.01"))
