"""The generic views: :class:`ListView`, :class:`DetailView`, :class:`CreateView`,
:class:`UpdateView` and :class:`DeleteView`, on :class:`GenericView`.

They are written once, async: queries go through ``db.async_session``, so they
never block the event loop.  The hooks a subclass overrides (``get_context``,
``form_valid``...) may be ``def`` or ``async def``; a ``def`` hook runs in heron's
thread pool, as a ``def`` view does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import select

from heron.concurrency import is_async_callable, run_in_threadpool
from heron.db import db
from heron.db.models import table_name_for
from heron.exceptions import HTTPException, ImproperlyConfigured
from heron.i18n import gettext
from heron.requests import Request
from heron.responses import RedirectResponse, Response
from heron.templating import render
from heron.views import MethodView

if TYPE_CHECKING:
    from sqlalchemy import Select

    from heron.app import App
    from heron.forms import ModelForm

__all__ = [
    "CreateView",
    "DeleteView",
    "DetailView",
    "GenericView",
    "ListView",
    "ObjectView",
    "UpdateView",
]

_INT64 = 2**63


class GenericView(MethodView):
    """What the generic views share: a model, a template, guards and a context.

    Attributes:
        model: the heron.db model the view shows or edits (required).
        template_name: the template to render; default
            ``<component>/<model>_<kind>.html`` (``blog/post_list.html``), or
            ``<model>_<kind>.html`` for the app's own models.
        login_required: only logged-in users get through (heron.auth's guard).
        permission_required: a permission (``"blog.change_post"``) or several the
            user needs; checked against the object by the single-object views, so
            the model's ``has_object_permission(user, perm)`` may allow it.
        request: the request being served, set before any hook runs.
    """

    model: ClassVar[type[Any] | None] = None
    template_name: ClassVar[str | None] = None
    login_required: ClassVar[bool] = False
    permission_required: ClassVar[str | Sequence[str]] = ()
    #: The template name's and the route name's suffix (``"list"``).
    kind: ClassVar[str] = ""
    template_suffix: ClassVar[str] = ""
    #: Whether ``permission_required`` is checked against the view's object.
    object_level: ClassVar[bool] = False

    request: Request

    # -- configuration (once, by as_view) ------------------------------------------

    @classmethod
    def model_name(cls) -> str:
        """The model's name in templates and route names: ``BlogPost`` -> ``blog_post``."""
        return table_name_for(cls._model().__name__)

    @classmethod
    def _model(cls) -> type[Any]:
        if cls.model is None:
            raise ImproperlyConfigured(
                f"{cls.__qualname__} needs a model: set `model = Post` on the class or "
                f"call {cls.__qualname__}.as_view(model=Post)",
                id="heron.generic.E001",
            )
        return cls.model

    @classmethod
    def route_name(cls) -> str:
        """``<model>_<kind>`` (``post_list``, ``post_detail``...)."""
        return f"{cls.model_name()}_{cls.kind}" if cls.kind else cls.__name__

    @classmethod
    def check_view(cls) -> None:
        cls._model()

    @classmethod
    def permissions(cls) -> tuple[str, ...]:
        """``permission_required`` as a tuple."""
        perms = cls.permission_required
        return (perms,) if isinstance(perms, str) else tuple(perms)

    @classmethod
    def get_decorators(cls) -> list[Any]:
        decorators = super().get_decorators()
        perms = cls.permissions()
        if perms or cls.login_required:
            from heron.auth import guards

            if perms and not cls.object_level:
                decorators.append(guards.permission_required(*perms))
            else:  # the object is needed to decide: the user is, now
                decorators.append(guards.login_required)
        return decorators

    # -- hooks -------------------------------------------------------------------------

    def get_query(self) -> Select[Any]:
        """The rows the view works on (default: all of ``model``).  Filter, order or
        load relationships eagerly here; ``self.request`` is set."""
        return select(self._model())

    def get_template_name(self) -> str:
        """:attr:`template_name`, or the default name for the model."""
        if self.template_name:
            return self.template_name
        name = f"{self.model_name()}{self.template_suffix}.html"
        component = _component_of(self.request.app, self._model())
        return f"{component}/{name}" if component else name

    def get_context(self, context: dict[str, Any]) -> Any:
        """The template's variables; override it (``def`` or ``async def``) to add some.
        ``context`` holds the view's (``view``, ``object``, ``form``, ``page``...)."""
        return context

    async def render(self, context: Mapping[str, Any], status_code: int = 200) -> Response:
        """The template rendered with ``context`` (through :meth:`get_context`)."""
        values = await call_hook(self.get_context, {"view": self, **context})
        return render(self.request, self.get_template_name(), values, status_code=status_code)


class ListView(GenericView):
    """A page of the model's rows: ``GET`` renders ``<model>_list.html`` with
    ``items``, ``page`` (a :class:`~heron.db.Page`, ``None`` without pagination) and
    ``<model>_list``.

    Attributes:
        paginate_by: rows per page (``None``: every row on one page).
        page_param: the query parameter of the page number (``?page=2``).
        clamp: a page past the last gives the last, a malformed number the first,
            instead of a 404 (as ``db.paginate(..., clamp=True)``).
    """

    kind = "list"
    template_suffix = "_list"
    paginate_by: ClassVar[int | None] = 20
    page_param: ClassVar[str] = "page"
    clamp: ClassVar[bool] = False

    async def get(self, request: Request) -> Response:
        self.request = request
        query = self.get_query()
        if self.paginate_by is None:
            items = list((await db.async_session.scalars(query)).unique().all())
            page = None
        else:
            number = request.query_params.get(self.page_param, "1")
            page = await db.apaginate(query, number, self.paginate_by, self.paginate_by,
                                      clamp=self.clamp)
            items = page.items
        return await self.render({"items": items, "page": page,
                                  f"{self.model_name()}_list": items})


class ObjectView(GenericView):
    """A view of one row, found by a path parameter: 404 when there is none.

    Attributes:
        lookup_field: the model attribute to look the row up by (``"id"``, ``"slug"``).
        lookup_param: the path parameter holding its value (default: ``lookup_field``).
    """

    object_level = True
    lookup_field: ClassVar[str] = "id"
    lookup_param: ClassVar[str | None] = None

    @classmethod
    def check_view(cls) -> None:
        super().check_view()
        if not hasattr(cls._model(), cls.lookup_field):
            raise ImproperlyConfigured(
                f"{cls.__qualname__}.lookup_field is {cls.lookup_field!r}, which "
                f"{cls._model().__name__} has no attribute for",
                id="heron.generic.E002",
            )

    async def get_object(self) -> Any:
        """The row of the path's lookup value among :meth:`get_query`'s, its object
        permission checked.

        Raises:
            HTTPException: 404 when there is no such row, 403 when the user may not
                have it.
        """
        param = self.lookup_param or self.lookup_field
        if param not in self.request.path_params:
            path = self.request.route.path if self.request.route else "?"
            raise ImproperlyConfigured(
                f"{type(self).__qualname__} looks its {self._model().__name__} up by the "
                f"path parameter {param!r}, which {path} lacks: put {{{param}}} in the path "
                "or set lookup_param",
                id="heron.generic.E003",
            )
        column = getattr(self._model(), self.lookup_field)
        value = _lookup_value(column, self.request.path_params[param])
        found = None
        if value is not _MISSING:
            query = self.get_query().where(column == value).limit(1)
            found = (await db.async_session.scalars(query)).unique().first()
        if found is None:
            label = getattr(self._model(), "__verbose_name__", self._model().__name__)
            raise HTTPException(404, gettext("There is no %(name)s %(value)s.") % {
                "name": label, "value": repr(str(value)[:40])})
        await self.check_object_permission(found)
        return found

    async def check_object_permission(self, obj: Any) -> None:
        """Refuse (403) a user without ``permission_required`` on ``obj``; the model
        permission or ``obj.has_object_permission(user, perm)`` allows it."""
        perms = self.permissions()
        if not perms:
            return
        user = await self.request.auser()
        if not await user.ahas_perms(perms, obj):
            raise HTTPException(403, gettext("This needs the permission %(names)s.")
                                % {"names": ", ".join(perms)})

    def object_context(self, obj: Any) -> dict[str, Any]:
        """``object`` and ``<model>`` for the template."""
        return {"object": obj, self.model_name(): obj}


class DetailView(ObjectView):
    """One row: ``GET`` renders ``<model>_detail.html`` with ``object`` and ``<model>``."""

    kind = "detail"
    template_suffix = "_detail"

    async def get(self, request: Request) -> Response:
        self.request = request
        return await self.render(self.object_context(await self.get_object()))


class _SuccessURL:
    """Where a view that changed a row sends the browser (303 after the POST)."""

    success_url: ClassVar[str | None] = None

    @classmethod
    def _check_success_url(cls, object_url: bool) -> None:
        model = cls._model()  # type: ignore[attr-defined]
        if cls.success_url is None and not (object_url and hasattr(model, "get_absolute_url")):
            where = " or give the model a get_absolute_url() method" if object_url else ""
            raise ImproperlyConfigured(
                f"{cls.__qualname__} needs a success_url: a path (\"/posts/{{id}}\") or a "
                f"route name (\"post_detail\") to go to after the change{where}",
                id="heron.generic.E004",
            )

    def get_success_url(self, request: Request, obj: Any) -> str:
        """:attr:`success_url` for ``obj``: a path, its ``{attribute}`` parts filled in
        from ``obj``, or a route name, its path parameters read from ``obj``'s
        attributes of the same names; without it, ``obj.get_absolute_url()``."""
        url = self.success_url
        if url is None:
            return str(obj.get_absolute_url())
        if "/" in url:
            return url.format_map(_Attributes(obj)) if "{" in url else url
        return request.app.url_path_for(url, **_route_values(request.app, url, obj))


class _ModelFormView(_SuccessURL, GenericView):
    """Create and update: a model form drawn on ``GET``, saved on a valid ``POST``.

    Attributes:
        form_class: a :class:`~heron.forms.ModelForm` subclass; default, one of the
            model's ``fields``.
        fields: the columns the default form edits.
        success_url: where to go after saving (see :meth:`get_success_url`).
    """

    template_suffix = "_form"
    form_class: ClassVar[type[ModelForm] | None] = None
    fields: ClassVar[Sequence[str] | None] = None

    @classmethod
    def check_view(cls) -> None:
        super().check_view()
        model = cls._model()
        if cls.form_class is None:
            if cls.fields is None:
                raise ImproperlyConfigured(
                    f"{cls.__qualname__} needs a form: set form_class to a ModelForm of "
                    f"{model.__name__}, or fields to the columns it edits",
                    id="heron.generic.E005",
                )
            from heron.forms import ModelForm

            meta = type("Meta", (), {"model": model, "fields": list(cls.fields)})
            cls.form_class = type(f"{model.__name__}Form", (ModelForm,),
                                  {"Meta": meta, "__module__": cls.__module__})
        cls._check_success_url(object_url=True)

    async def get_form(self, instance: Any = None) -> ModelForm:
        """The form, bound to the body on ``POST``, validated (unique columns too)."""
        form_class: Any = self.form_class  # check_view made one when it was None
        return await form_class.from_request(self.request, instance=instance)  # type: ignore[no-any-return]

    async def form_valid(self, form: ModelForm) -> Response:
        """Save the row, commit, and redirect (303) to the success URL.  Override it
        (calling ``await super().form_valid(form)``) to set more values first,
        through ``form.instance`` on update or ``form.data`` ahead of saving."""
        obj = await form.asave()
        url = self.get_success_url(self.request, obj)
        await db.async_session.commit()
        return RedirectResponse(url, 303)

    async def form_invalid(self, form: ModelForm, obj: Any = None) -> Response:
        """Draw the form again with its errors, with status 422."""
        return await self.render(self._form_context(form, obj), status_code=422)

    def _form_context(self, form: ModelForm, obj: Any) -> dict[str, Any]:
        context: dict[str, Any] = {"form": form, "object": obj}  # None on create
        if obj is not None:
            context[self.model_name()] = obj
        return context

    async def _handle(self, request: Request, obj: Any) -> Response:
        form = await self.get_form(obj)
        if request.method == "POST":
            if form.is_valid():
                return await call_hook(self.form_valid, form)  # type: ignore[no-any-return]
            return await self.form_invalid(form, obj)
        return await self.render(self._form_context(form, obj))


class CreateView(_ModelFormView):
    """A new row: ``GET`` renders ``<model>_form.html`` with an empty ``form``; a
    valid ``POST`` saves it and redirects (303), an invalid one renders the form
    again with its errors (422)."""

    kind = "create"

    async def get(self, request: Request) -> Response:
        self.request = request
        return await self._handle(request, None)

    async def post(self, request: Request) -> Response:
        self.request = request
        return await self._handle(request, None)


class UpdateView(_ModelFormView, ObjectView):
    """A row changed: as :class:`CreateView`, with the form filled from the row found
    by the path (404 without one) and ``object`` and ``<model>`` in the context."""

    kind = "update"

    async def get(self, request: Request) -> Response:
        self.request = request
        return await self._handle(request, await self.get_object())

    async def post(self, request: Request) -> Response:
        self.request = request
        return await self._handle(request, await self.get_object())


class DeleteView(_SuccessURL, ObjectView):
    """A row deleted: ``GET`` renders ``<model>_confirm_delete.html`` with ``object``
    (a form that posts back, with ``{{ csrf_input() }}``); ``POST`` deletes it,
    commits and redirects (303) to :attr:`success_url`, which it needs."""

    kind = "delete"
    template_suffix = "_confirm_delete"

    @classmethod
    def check_view(cls) -> None:
        super().check_view()
        cls._check_success_url(object_url=False)

    async def get(self, request: Request) -> Response:
        self.request = request
        return await self.render(self.object_context(await self.get_object()))

    async def post(self, request: Request) -> Response:
        self.request = request
        obj = await self.get_object()
        url = self.get_success_url(request, obj)
        await db.async_session.delete(obj)
        await db.async_session.commit()
        return RedirectResponse(url, 303)


# -- helpers -----------------------------------------------------------------------


async def call_hook(hook: Any, *args: Any) -> Any:
    """Await an ``async def`` hook; run a ``def`` one in the thread pool."""
    if is_async_callable(hook):
        return await hook(*args)
    return await run_in_threadpool(hook, *args)


def _component_of(app: App, model: type[Any]) -> str | None:
    """The component whose package holds ``model``'s module (``None``: the app's own)."""
    module = model.__module__
    best, length = None, -1
    for name, component in app.components.items():
        prefix = component.module.__name__
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
            best, length = name, len(prefix)
    return best


_MISSING = object()


def _lookup_value(column: Any, value: Any) -> Any:
    """``value`` as the column's type, or ``_MISSING`` when it cannot be one (a 404,
    not a database error: ``/posts/abc`` on an integer key, an id past 64 bits)."""
    if not isinstance(value, (str, int)):
        return value
    try:
        python_type = column.type.python_type
    except (AttributeError, NotImplementedError):
        return value
    try:
        if python_type is int:
            number = int(value)
            return number if -_INT64 <= number < _INT64 else _MISSING
        if python_type is uuid.UUID:
            return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        if python_type is float:
            return float(value)
    except ValueError:
        return _MISSING
    return value


class _Attributes(dict[str, Any]):
    """``str.format_map`` reading an object's attributes."""

    def __init__(self, obj: Any) -> None:
        super().__init__()
        self.obj = obj

    def __missing__(self, key: str) -> Any:
        return getattr(self.obj, key)


def _route_values(app: App, name: str, obj: Any) -> dict[str, Any]:
    """The path parameters of route ``name`` that ``obj`` has attributes for."""
    params: set[str] = set()
    for route in app.routes():
        if route.name == name:
            params.update(route.template.converters)
    return {param: getattr(obj, param) for param in params if hasattr(obj, param)}
