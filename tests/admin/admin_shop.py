"""The models and registrations of the HTTP tests of heron.admin: a small shop.

Class names start with ``AdmShop`` (tables ``adm_shop_*``): ``Model.metadata`` and the
admin's ``site`` are shared by every test in the process.  The models are registered
on ``heron.admin.site`` once, when this module is imported (by tests/admin/conftest.py);
the checks' tests use a private ``AdminSite`` instead.

The component of these models is ``"app"``: their pages are under
``/admin/app/adm_shop_<model>/``.

PYTEST_DONT_REWRITE (imported by conftest.py before pytest could rewrite it)
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from html import unescape as html_unescape
from typing import Any

import httpx
from sqlalchemy import ForeignKey, Numeric, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from heron import App
from heron.admin import (
    EmptyFieldListFilter,
    ModelAdmin,
    SimpleListFilter,
    StackedInline,
    TabularInline,
    action,
    display,
    register,
)
from heron.auth import create_user
from heron.auth.models import Permission
from heron.csrf import get_token
from heron.db import Model, db
from heron.forms import ModelForm, ValidationError
from heron.requests import Request
from heron.responses import PlainTextResponse
from heron.testing import TestClient
from heron.testing.client import extract_csrf_token

# -- models -------------------------------------------------------------------------------


class AdmShopStatus(enum.Enum):
    draft = "draft"
    live = "live"


class AdmShopPublisher(Model):
    name: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(50), default="")
    website: Mapped[str] = mapped_column(String(200), default="")

    def __str__(self) -> str:
        return self.name


class AdmShopAuthor(Model):
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200), default="")
    internal_note: Mapped[str] = mapped_column(String(200), default="")
    publisher_id: Mapped[int | None] = mapped_column(ForeignKey("adm_shop_publisher.id"))
    publisher: Mapped[AdmShopPublisher | None] = relationship()
    books: Mapped[list[AdmShopBook]] = relationship(back_populates="author",
                                                    cascade="all, delete-orphan")

    def __str__(self) -> str:
        return self.name


class AdmShopBook(Model):
    __permissions__ = [("publish_adm_shop_book", "Can publish books")]

    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[AdmShopStatus] = mapped_column(default=AdmShopStatus.draft)
    in_stock: Mapped[bool] = mapped_column(default=True)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    published: Mapped[dt.date | None]
    subtitle: Mapped[str] = mapped_column(String(200), default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("adm_shop_author.id"))
    author: Mapped[AdmShopAuthor] = relationship(back_populates="books")
    chapters: Mapped[list[AdmShopChapter]] = relationship(back_populates="book",
                                                          cascade="all, delete-orphan")
    # No delete cascade and a NOT NULL foreign key: a reviewed book cannot be deleted.
    reviews: Mapped[list[AdmShopReview]] = relationship(back_populates="book")

    def __str__(self) -> str:
        return self.title


class AdmShopChapter(Model):
    number: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(String(200))
    book_id: Mapped[int] = mapped_column(ForeignKey("adm_shop_book.id"))
    book: Mapped[AdmShopBook] = relationship(back_populates="chapters")

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class AdmShopReview(Model):
    text: Mapped[str] = mapped_column(Text)
    book_id: Mapped[int] = mapped_column(ForeignKey("adm_shop_book.id"))
    book: Mapped[AdmShopBook] = relationship(back_populates="reviews")

    def __str__(self) -> str:
        return self.text[:40]


class AdmShopNote(Model):
    title: Mapped[str] = mapped_column(String(100))
    locked: Mapped[bool] = mapped_column(default=False)
    due: Mapped[dt.date | None]

    def __str__(self) -> str:
        return self.title


class AdmShopShelf(Model):
    """A composite primary key: its URLs say ``<room>,<slot>``."""

    room: Mapped[int] = mapped_column(primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(50))

    def __str__(self) -> str:
        return self.label


# -- admins -------------------------------------------------------------------------------


class AdmShopPriceBand(SimpleListFilter):
    title = "price band"
    parameter_name = "band"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("cheap", "Under 10"), ("dear", "10 or more")]

    def queryset(self, request: Any, statement: Any) -> Any:
        if self.value() == "cheap":
            return statement.where(AdmShopBook.price < 10)
        if self.value() == "dear":
            return statement.where(AdmShopBook.price >= 10)
        return None


class AdmShopChapterInline(StackedInline):
    model = AdmShopChapter
    fields = ["number", "title"]
    extra = 1
    max_num = 3
    ordering = ["number"]


class AdmShopReviewInline(TabularInline):
    model = AdmShopReview
    fk_name = "book"
    fields = ["text"]
    extra = 0
    can_delete = False
    verbose_name_plural = "reader reviews"


@action(description="Give a discount", permissions=("publish_adm_shop_book",))
def adm_shop_publish(admin: ModelAdmin, request: Request, session: Session,
                     rows: list[Any]) -> None:
    """An action needing a custom permission (a module-level function)."""
    for row in rows:
        row.status = AdmShopStatus.live
        row.subtitle = "published"


@register(AdmShopBook)
class AdmShopBookAdmin(ModelAdmin):
    list_display = ["title", "author__name", "status", "in_stock", "price", "published",
                    "is_cheap"]
    list_editable = ["in_stock", "price"]
    search_fields = ["title", "^author__name"]
    list_filter = ["status", "in_stock", "published", "author",
                   ("subtitle", EmptyFieldListFilter), AdmShopPriceBand]
    date_hierarchy = "published"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["author"]
    readonly_fields = ["title_length"]
    actions = ["mark_live", "count_them", "archive", adm_shop_publish]
    inlines = [AdmShopChapterInline, AdmShopReviewInline]
    save_as = True
    list_per_page = 20
    list_max_show_all = 100

    @display(description="Cheap?", boolean=True, ordering="price")
    def is_cheap(self, obj: AdmShopBook) -> bool:
        return obj.price < 10

    @display(description="Title length")
    def title_length(self, obj: AdmShopBook) -> int:
        return len(obj.title)

    @action(description="Mark selected books live")
    def mark_live(self, request: Request, session: Session, rows: list[Any]) -> None:
        for row in rows:
            row.status = AdmShopStatus.live

    @action(description="Count them", permissions=("view",))
    def count_them(self, request: Request, session: Session,
                   rows: list[Any]) -> PlainTextResponse:
        return PlainTextResponse(f"{len(rows)} rows")

    @action(description="Archive (out of stock)", confirm=True)
    def archive(self, request: Request, session: Session, rows: list[Any]) -> None:
        session.execute(update(AdmShopBook).where(
            AdmShopBook.id.in_([r.id for r in rows])).values(in_stock=False))


class AdmShopBookInline(TabularInline):
    model = AdmShopBook
    fields = ["title", "status", "in_stock"]
    extra = 1
    min_num = 1


@register(AdmShopAuthor)
class AdmShopAuthorAdmin(ModelAdmin):
    list_display = ["name", "email", "publisher__name", "book_count"]
    list_display_links = ["email"]
    list_select_related = ["publisher"]
    search_fields = ["name"]
    exclude = ["internal_note"]
    raw_id_fields = ["publisher"]
    inlines = [AdmShopBookInline]
    ordering = ["name"]
    show_full_result_count = False
    export_fields = ["name", "email", "publisher__name", "book_count"]

    @display(description="Books")
    def book_count(self, obj: AdmShopAuthor) -> int:
        return len(obj.books)


class AdmShopPublisherForm(ModelForm):
    class Meta:
        model = AdmShopPublisher
        fields = ["name", "country", "website"]

    def clean(self, data: dict[str, Any]) -> dict[str, Any] | None:
        if data.get("name") == "Forbidden":
            raise ValidationError("This name is reserved.", field="name")
        return None


@register(AdmShopPublisher)
class AdmShopPublisherAdmin(ModelAdmin):
    form = AdmShopPublisherForm
    fieldsets = [
        (None, {"fields": ["name"]}),
        ("Where", {"fields": [("country", "website")], "classes": ["collapse"],
                   "description": "Where the publisher works."}),
    ]
    list_display = ["name", "country"]
    search_fields = ["name"]
    ordering = ["name"]
    actions = None
    export_formats = ("csv",)
    verbose_name = "publishing house"


@register(AdmShopNote)
class AdmShopNoteAdmin(ModelAdmin):
    list_display = ["title", "locked", "due"]
    search_fields = ["title"]
    search_help_text = "Search the titles."
    actions_on_top = False
    actions_on_bottom = True
    save_on_top = True
    empty_value_display = "(none)"

    def has_change_permission(self, request: Request, obj: Any = None) -> bool:
        if obj is not None and obj.locked:
            return False  # object level: a locked note is read-only for everyone
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: Request, obj: Any = None) -> bool:
        if obj is not None and obj.locked:
            return False
        return super().has_delete_permission(request, obj)


register(AdmShopReview)
register(AdmShopShelf, list_display=["room", "slot", "label"])


# -- data ---------------------------------------------------------------------------------


def seed(session: Session) -> dict[str, Any]:
    """The shop's rows; returns their ids by name."""
    penguin = AdmShopPublisher(name="Penguin", country="UK")
    orbit = AdmShopPublisher(name="Orbit", country="US")
    ursula = AdmShopAuthor(name="Ursula", email="ursula@example.com", publisher=penguin)
    terry = AdmShopAuthor(name="Terry", email="terry@example.com")
    earthsea = AdmShopBook(title="A Wizard of Earthsea", slug="earthsea", author=ursula,
                           status=AdmShopStatus.live, price=Decimal("8.50"),
                           published=dt.date(2020, 3, 1))
    dispossessed = AdmShopBook(title="The Dispossessed", author=ursula, in_stock=False,
                               price=Decimal("12.00"), published=dt.date(2021, 7, 15),
                               subtitle="An ambiguous utopia")
    mort = AdmShopBook(title="Mort", author=terry, status=AdmShopStatus.live,
                       price=Decimal("9.99"), published=dt.date(2021, 1, 10))
    guards = AdmShopBook(title="Guards! Guards!", author=terry, price=Decimal("15.00"))
    earthsea.chapters = [AdmShopChapter(number=1, title="Warriors in the Mist"),
                         AdmShopChapter(number=2, title="The Shadow")]
    mort.reviews = [AdmShopReview(text="Death takes a holiday, sort of.")]
    notes = [AdmShopNote(title="Open note"), AdmShopNote(title="Locked note", locked=True)]
    shelf = AdmShopShelf(room=1, slot=2, label="Fantasy")
    session.add_all([penguin, orbit, ursula, terry, earthsea, dispossessed, mort, guards,
                     *notes, shelf])
    session.flush()
    return {"penguin": penguin.id, "orbit": orbit.id, "ursula": ursula.id,
            "terry": terry.id, "earthsea": earthsea.id, "dispossessed": dispossessed.id,
            "mort": mort.id, "guards": guards.id, "open_note": notes[0].id,
            "locked_note": notes[1].id,
            "chapters": [c.id for c in earthsea.chapters]}


def titles(session: Session) -> list[str]:
    """Every book's title, in id order."""
    return list(session.scalars(select(AdmShopBook.title).order_by(AdmShopBook.id)))


# -- test helpers -------------------------------------------------------------------------
# (``shop.client("alice")`` opens a test client logged in as alice through /auth/login;
# ``Browser`` posts forms with the session's CSRF token, as a browser does.)

#: argon2 at its cheapest (tests/auth/auth_helpers.py).
FAST_HASHING: dict[str, Any] = {
    "password_time_cost": 1, "password_memory_cost": 8 * 1024, "password_parallelism": 1,
}
PASSWORD = "correct horse battery"
#: Where the shop's models are served.
BOOKS = "/admin/app/adm_shop_book/"
AUTHORS = "/admin/app/adm_shop_author/"
PUBLISHERS = "/admin/app/adm_shop_publisher/"
NOTES = "/admin/app/adm_shop_note/"
USERS = "/admin/auth/user/"
GROUPS = "/admin/auth/group/"

AdminAppFactory = Callable[..., App]


class Browser:
    """A logged-in test client that posts forms with the session's CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.token = ""

    def refresh_token(self) -> None:
        self.token = self.client.get("/csrf").text

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: Mapping[str, Any] | None = None,
             csrf: bool = True, **kwargs: Any) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.token)
        return self.client.post(url, data=form, **kwargs)


@dataclass
class Shop:
    """The shop app, its rows' ids and a way to log users in."""

    app: App
    ids: dict[str, Any] = field(default_factory=dict)

    def user(self, username: str, *, staff: bool = True, superuser: bool = False,
             perms: Iterable[str] = (), active: bool = True) -> int:
        """Make a user with ``perms`` (``"app.view_adm_shop_book"``); returns its id."""
        return make_user(self.app, username, staff=staff, superuser=superuser, perms=perms,
                         active=active)

    @contextmanager
    def client(self, username: str | None = "admin") -> Iterator[Browser]:
        """A test client, logged in as ``username`` (``None``: anonymous)."""
        with TestClient(self.app) as client:
            browser = Browser(client)
            if username is not None:
                log_in(client, username)
            browser.refresh_token()
            yield browser

    def run(self, work: Callable[[Any], Any]) -> Any:
        """``work(session)`` in a database context of the app, committed (the rows it
        returns keep their loaded values)."""
        with db.context(self.app):
            db.session.expire_on_commit = False
            result = work(db.session)
            db.session.commit()
            return result

    def fetch(self, model: type[Any], pk: Any) -> Any:
        """The row ``pk`` of ``model`` as stored now (detached: columns only), or None."""
        with db.context(self.app):
            row = db.session.get(model, pk)
            if row is not None:
                db.session.expunge(row)
            return row

    def count(self, model: type[Any], *where: Any) -> int:
        """How many rows of ``model`` (matching ``where``) are stored."""
        from sqlalchemy import func

        with db.context(self.app):
            return int(db.session.scalar(select(func.count()).select_from(model)
                                         .where(*where)) or 0)


def make_user(app: App, username: str, *, staff: bool = True, superuser: bool = False,
              perms: Iterable[str] = (), active: bool = True) -> int:
    with db.context(app):
        session = db.session
        user: Any = create_user(session, app, username, PASSWORD, is_staff=staff,
                                is_superuser=superuser, is_active=active)
        for perm in perms:
            component, codename = perm.split(".", 1)
            found = session.scalars(select(Permission).where(
                Permission.component == component, Permission.codename == codename)).one()
            user.user_permissions.append(found)
        session.commit()
        return int(user.id)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """Log in through heron.auth's login page, as a browser does."""
    token = extract_csrf_token(client.get("/auth/login").text)
    response = client.post("/auth/login", data={"username": username, "password": password,
                                                "csrf_token": token})
    assert response.status_code == 303, response.text[:500]


def add_test_views(app: App) -> None:
    @app.get("/csrf")
    def csrf(request: Request) -> str:
        return get_token(request)


def make_shop(app: App) -> Shop:
    shop = Shop(app)
    shop.ids = shop.run(seed)
    shop.user("admin", superuser=True)
    return shop


def form_fields(html: str, form_id: str | None = None) -> dict[str, str]:
    """The values the page's form (``form_id``, default: the change form) posts, as a
    browser would: inputs, checked boxes, selected options, text areas; no buttons and
    no CSRF token (the Browser adds its own)."""
    html = _form_html(html, form_id)
    values: dict[str, str] = {}
    for tag in re.findall(r"<input\b[^>]*>", html):
        name = _attr(tag, "name")
        if name is None or name == "csrf_token":
            continue
        kind = (_attr(tag, "type") or "text").lower()
        if kind in ("checkbox", "radio"):
            if re.search(r"\schecked\b", tag):
                values[name] = _attr(tag, "value") or "on"
            continue
        if kind in ("submit", "button"):
            continue
        values[name] = _attr(tag, "value") or ""
    for name, body in re.findall(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html,
                                 re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*\sselected', body)
        values[name] = chosen.group(1) if chosen else ""
    for name, body in re.findall(r'<textarea\b[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>',
                                 html, re.S):
        values[name] = body.strip()
    return {k: html_unescape(v) for k, v in values.items() if "__prefix__" not in k}


def _form_html(html: str, form_id: str | None) -> str:
    for match in re.finditer(r'<form\b[^>]*\sid="([^"]+)"[^>]*>', html):
        if match.group(1) == form_id or (form_id is None and match.group(1).endswith("_form")):
            return html[match.start():html.index("</form>", match.end())]
    raise LookupError(f"no form {form_id or '*_form'} in the page")


def _attr(tag: str, name: str) -> str | None:
    match = re.search(rf'\s{name}="([^"]*)"', tag)
    return match.group(1) if match else None


def row_ids(html: str) -> list[str]:
    """The keys of the change list's rows, in page order."""
    return re.findall(r'name="_selected" value="([^"]+)"', html)


def flashes(html: str) -> list[str]:
    return re.findall(r'<li class="message message-\w+">(.*?)</li>', html, re.S)
