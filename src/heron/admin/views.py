"""The admin's pages.  URL names are in the ``admin:`` namespace:

=====================================  ====================  ===========================
URL (under ``admin_url``)              name                  template
=====================================  ====================  ===========================
``/``                                  ``admin:index``       ``admin/index.html``
``/{component}/{model}/``              ``admin:changelist``  ``admin/change_list.html``
``/{component}/{model}/add/``          ``admin:add``         ``admin/change_form.html``
``/{component}/{model}/{pk}/change/``  ``admin:change``      ``admin/change_form.html``
``/{component}/{model}/{pk}/delete/``  ``admin:delete``      ``admin/delete_confirmation.html``
``/{component}/{model}/{pk}/history/`` ``admin:history``     ``admin/object_history.html``
``/{component}/{model}/export/{fmt}``  ``admin:export``      (CSV or JSON, streamed)
``/{component}/{model}/autocomplete/`` ``admin:autocomplete`` (JSON)
=====================================  ====================  ===========================

Each template is looked up first as ``admin/<component>/<model>/<name>``, then
``admin/<component>/<name>``, so a project overrides it for one model or one
component.  Every page is for active staff only; each model's pages check the
user's view, add, change and delete permissions (403 otherwise).  Database work
runs in one ``run_sync`` call per request on ``db.async_session``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from heron.admin.changelist import ChangeList, IncorrectLookupParameters
from heron.admin.forms import fieldsets_of
from heron.admin.history import log_addition, log_change, log_deletion, object_id
from heron.admin.inlines import InlineFormSet
from heron.exceptions import HTTPException
from heron.flash import flash
from heron.i18n import gettext as _
from heron.i18n import ngettext
from heron.responses import RedirectResponse, Response

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from heron.admin.options import ModelAdmin
    from heron.admin.sites import BoundSite
    from heron.datastructures import FormData
    from heron.requests import Request

__all__ = ["add_routes"]

FILTERS_FIELD = "_changelist_filters"


# -- helpers ----------------------------------------------------------------------


def bound_site(request: Request) -> BoundSite:
    plugin = request.app.plugin("heron.admin")
    return plugin.bound_site(request.app)  # type: ignore[union-attr, no-any-return]


async def _user(request: Request) -> Any:
    user = await request.auser()
    if hasattr(user, "aget_all_permissions") and not user.is_superuser:
        await user.aget_all_permissions()  # has_perm then answers from memory
    return user


async def _admin_for(request: Request, component: str, model: str) -> ModelAdmin:
    await _user(request)
    admin = bound_site(request).get(component, model)
    if admin is None:
        raise HTTPException(404, _("There is no such model in the admin."))
    return admin


def _refuse(allowed: bool) -> None:
    if not allowed:
        raise HTTPException(403, _("You do not have permission to do this."))


def _key(admin: ModelAdmin, pk: str) -> Any:
    """The primary key value of ``pk`` from the URL; 404 when it cannot be one."""
    from sqlalchemy import inspect

    columns = inspect(admin.model).primary_key
    parts = pk.split(",") if len(columns) > 1 else [pk]
    if len(parts) != len(columns) or "\x00" in pk:
        raise HTTPException(404, _("There is no such row."))
    values = []
    for column, part in zip(columns, parts, strict=True):
        try:
            value = column.type.python_type(part)
        except (TypeError, ValueError, NotImplementedError):
            raise HTTPException(404, _("There is no such row.")) from None
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise HTTPException(404, _("There is no such row."))
        values.append(value)
    return values[0] if len(values) == 1 else tuple(values)


def _load(admin: ModelAdmin, request: Request, session: Session, pk: str) -> Any:
    """The row ``pk`` among the admin's rows, or 404."""
    from sqlalchemy import inspect

    key = _key(admin, pk)
    columns = inspect(admin.model).primary_key
    keys = key if isinstance(key, tuple) else (key,)
    statement = admin.get_queryset(request).where(
        *[column == value for column, value in zip(columns, keys, strict=True)])
    row = session.scalars(statement.limit(1)).first()
    if row is None:
        raise HTTPException(404, _("There is no %(name)s with this key; perhaps it was "
                                   "deleted.") % {"name": admin.verbose_name})
    return row


async def _run(work: Any) -> Any:
    from heron.db import db

    return await db.async_session.run_sync(work)


async def _commit() -> None:
    from heron.db import db

    await db.async_session.commit()


async def render(request: Request, admin: ModelAdmin | None, name: str, status: int = 200,
                 **values: Any) -> Response:
    """Render an admin template, per-model and per-component overrides first."""
    from heron.responses import HTMLResponse

    names = [f"admin/{name}"]
    if admin is not None:
        names[:0] = [f"admin/{admin.component}/{admin.model_name}/{name}",
                     f"admin/{admin.component}/{name}"]
        values.setdefault("opts", admin)
    templates = request.app.templates
    # Jinja's sync renderer: several times faster than its async one on a page of 100
    # rows, and every value the page shows was read from the database before this.
    template = templates.env.select_template(names)
    values.setdefault("site", bound_site(request))
    # The default title, or a project's, in the request's language (its catalog's).
    values.setdefault("site_title", _(request.app.settings.admin_site_title))
    values.setdefault("nav", _nav(request))
    values.setdefault("row_pk", object_id)
    body = template.render(templates.context(request, values))
    return HTMLResponse(body, status, {"cache-control": "no-store"})


def _nav(request: Request) -> list[tuple[str, list[ModelAdmin]]]:
    """The components and models the user may see, for the index and the side menu."""
    result = []
    for component, admins in bound_site(request).grouped().items():
        visible = [a for a in admins
                   if a.has_view_permission(request) or a.has_add_permission(request)]
        if visible:
            result.append((component, visible))
    return result


def _changelist_url(request: Request, admin: ModelAdmin, filters: str = "") -> str:
    url = request.url_for("admin:changelist", component=admin.component, model=admin.model_name)
    return f"{url}?{filters}" if filters else url


def _change_url(request: Request, admin: ModelAdmin, obj: Any) -> str:
    return request.url_for("admin:change", component=admin.component, model=admin.model_name,
                           pk=object_id(obj))


def _safe_filters(value: Any) -> str:
    """The kept change-list query (from the form's hidden field), re-encoded."""
    from urllib.parse import urlencode

    if not isinstance(value, str) or len(value) > 2000:
        return ""
    return urlencode(parse_qsl(value, keep_blank_values=True))


# -- index ------------------------------------------------------------------------


async def index(request: Request) -> Response:
    from heron.admin import audit

    user = await _user(request)
    user_id = str(user.pk if hasattr(user, "pk") else user.id)
    entries = await _run(lambda s: audit.recent_entries(s, user_id=user_id, limit=10))
    return await render(request, None, "index.html", entries=entries)


# -- change list ---------------------------------------------------------------------


async def changelist(request: Request, component: str, model: str) -> Response:
    admin = await _admin_for(request, component, model)
    _refuse(admin.has_view_permission(request))
    form: FormData | None = None
    if request.method == "POST":
        form = await request.form()
        if form.get("action"):
            return await _run_action(request, admin, form)
        if form.get("_save") is not None:
            return await _save_editable(request, admin, form)
        raise HTTPException(400, _("Choose an action, or save the edited rows."))
    return await _changelist_page(request, admin)


async def _changelist_page(request: Request, admin: ModelAdmin, status: int = 200,
                           editable_forms: dict[str, Any] | None = None,
                           message: str = "") -> Response:
    try:
        cl = ChangeList(admin, request)
        await _run(cl.load)
    except IncorrectLookupParameters as exc:
        return await render(request, admin, "bad_lookup.html", status=400, error=str(exc),
                            changelist_url=_changelist_url(request, admin))
    if admin.list_editable and admin.has_change_permission(request):
        given = editable_forms or {}  # a rejected post's rows; the page's others fresh
        fresh = [row for row in cl.rows if object_id(row) not in given]
        editable_forms = {**await _run(lambda s: _editable_forms(request, admin, s, fresh, None)),
                          **given}
    actions = admin.get_actions(request)
    return await render(
        request, admin, "change_list.html", status=status, cl=cl, actions=actions,
        editable=editable_forms or {}, error=message,
        can_add=admin.has_add_permission(request),
        can_change=admin.has_change_permission(request),
        export_formats=admin.export_formats)


def _editable_forms(request: Request, admin: ModelAdmin, session: Session, rows: list[Any],
                    data: Mapping[str, Any] | None) -> dict[str, Any]:
    from heron.forms import ModelForm

    names = list(admin.list_editable)
    meta = type("Meta", (), {"model": admin.model, "fields": names})
    form_class = type(f"{admin.model.__name__}ListForm", (ModelForm,), {"Meta": meta})
    forms = {}
    for row in rows:
        pk = object_id(row)
        forms[pk] = form_class(data, instance=row, session=session, prefix=f"row-{pk}-",
                               request=request)
        forms[pk]._prepare_sync()
    return forms


async def _save_editable(request: Request, admin: ModelAdmin, form: FormData) -> Response:
    from heron.admin import audit

    _refuse(bool(admin.list_editable) and admin.has_change_permission(request))
    keys = list(dict.fromkeys(k for k in form.getlist("_row") if isinstance(k, str)))[
        :admin.list_per_page]  # each row once, however often it was sent

    def save(session: Session) -> tuple[bool, dict[str, Any]]:
        rows = [_load(admin, request, session, pk) for pk in keys]
        for row in rows:
            _refuse(admin.has_change_permission(request, row))  # object-level permissions
        forms = _editable_forms(request, admin, session, rows, form)
        if not all(f.is_valid() for f in forms.values()):
            return False, forms
        for row, each in zip(rows, forms.values(), strict=True):
            before = audit.snapshot(row)
            each.save(session)
            if audit.diff(before, audit.snapshot(row), admin.model):
                log_change(admin, request, session, row, before)
        return True, forms

    ok, forms = await _run(save)
    if not ok:
        return await _changelist_page(request, admin, 422, forms,
                                      _("Please correct the errors below."))
    await _commit()
    noun = admin.verbose_name if len(keys) == 1 else admin.verbose_name_plural
    flash(request, ngettext("%(count)d %(name)s saved.", "%(count)d %(name)s saved.",
                            len(keys)) % {"count": len(keys), "name": noun}, "success")
    return RedirectResponse(_changelist_url(request, admin, request.url.query), 303)


async def _run_action(request: Request, admin: ModelAdmin, form: FormData) -> Response:
    actions = admin.get_actions(request)
    name = form.get("action")
    if not isinstance(name, str) or name not in actions:
        raise HTTPException(400, _("There is no such action."))
    func, description = actions[name][0], actions[name][2]
    selected = list(dict.fromkeys(k for k in form.getlist("_selected") if isinstance(k, str)))
    across = form.get("select_across") == "1"
    if not selected and not across:
        flash(request, _("Tick the rows the action should act on; nothing was changed."),
              "warning")
        return RedirectResponse(_changelist_url(request, admin, request.url.query), 303)
    confirmed = form.get("post") == "yes"

    def rows_of(session: Session) -> list[Any]:
        if across:
            cl = ChangeList(admin, request)
            return list(session.scalars(cl.ordered(cl.filtered())))
        return [_load(admin, request, session, pk) for pk in selected[:10_000]]

    if getattr(func, "confirm", False) and not confirmed:
        from heron.admin.actions import plan_deletion

        def plan(session: Session) -> tuple[list[str], Any]:
            rows = rows_of(session)
            deleting = name == "delete_selected"
            labels = [admin.object_repr(row) for row in rows]
            return labels, plan_deletion(admin, request, session, rows) if deleting else None

        try:
            rows, deletion = await _run(plan)
        except IncorrectLookupParameters as exc:
            raise HTTPException(400, str(exc)) from None
        return await render(request, admin, "action_confirmation.html", rows=rows,
                            deletion=deletion, action=name, description=description,
                            selected=selected, across=across)

    def run(session: Session) -> tuple[int, Any]:
        rows = rows_of(session)
        if name == "delete_selected":
            from heron.admin.actions import plan_deletion

            if not plan_deletion(admin, request, session, rows).allowed:
                raise HTTPException(403, _("These rows cannot be deleted: related rows "
                                           "block it or need a permission you do not have."))
        return len(rows), func(request, session, rows)

    try:
        count, result = await _run(run)
    except IncorrectLookupParameters as exc:
        raise HTTPException(400, str(exc)) from None
    await _commit()
    if isinstance(result, Response):
        return result
    noun = admin.verbose_name if count == 1 else admin.verbose_name_plural
    values = {"count": count, "name": noun, "action": str(description)}
    if name == "delete_selected":
        done = ngettext("%(count)d %(name)s deleted.", "%(count)d %(name)s deleted.", count)
    else:
        done = ngettext("%(count)d %(name)s done: %(action)s.",
                        "%(count)d %(name)s done: %(action)s.", count)
    flash(request, done % values, "success")
    return RedirectResponse(_changelist_url(request, admin, request.url.query), 303)


# -- add and change -----------------------------------------------------------------


async def add(request: Request, component: str, model: str) -> Response:
    admin = await _admin_for(request, component, model)
    _refuse(admin.has_add_permission(request))
    return await _change_form(request, admin, None)


async def change(request: Request, component: str, model: str, pk: str) -> Response:
    admin = await _admin_for(request, component, model)
    return await _change_form(request, admin, pk)


async def _change_form(request: Request, admin: ModelAdmin, pk: str | None) -> Response:
    from heron.admin import audit

    data = await request.form() if request.method == "POST" else None
    saving_as_new = data is not None and data.get("_saveasnew") is not None and admin.save_as
    sent = data.get(FILTERS_FIELD) if data is not None else None
    filters = _safe_filters(sent or request.query_params.get(FILTERS_FIELD))

    def work(session: Session) -> dict[str, Any]:
        obj = _load(admin, request, session, pk) if pk is not None else None
        if obj is not None and not admin.has_view_permission(request, obj):
            raise HTTPException(403, _("You do not have permission to see this row."))
        editing_obj = None if saving_as_new else obj
        if editing_obj is None and data is not None:
            _refuse(admin.has_add_permission(request))
        may_change = admin.has_change_permission(request, obj) if obj is not None \
            else admin.has_add_permission(request)
        if data is not None and not may_change:
            raise HTTPException(403, _("You may view this row but not change it."))
        form_class = admin.get_form(request, editing_obj)
        form = form_class(data, instance=editing_obj, session=session, request=request)
        form._prepare_sync()  # related rows and validation now, while the session is here
        inlines = [InlineFormSet.build(inline, request, session, editing_obj, n, data,
                                       readonly=not may_change
                                       or _inline_locked(inline, request, editing_obj))
                   for n, inline in enumerate(admin.get_inlines(request, obj))
                   if inline.has_view_permission(request, obj)]
        result: dict[str, Any] = {"obj": obj, "form": form, "inlines": inlines,
                                  "may_change": may_change, "saved": None,
                                  "label": admin.object_repr(obj) if obj is not None else ""}
        if data is None:
            return result
        valid = form.is_valid()
        valid = all([formset.is_valid() for formset in inlines]) and valid  # noqa: C419 (each)
        if not valid:
            return result
        before = audit.snapshot(editing_obj) if editing_obj is not None else None
        session.info[audit.AUDITED_KEY] = True
        try:
            # Filled from the form, then save_model (which may change it), then stored
            # as save_model left it (with the form's many-to-many rows).
            instance = form.fill()
            admin.save_model(request, session, instance, form, editing_obj is not None)
            form.save(session, fill=False)
            notes = []
            for formset in inlines:
                added, changed, deleted = formset.save(session, instance, request)
                notes += _inline_notes(formset, added, changed, deleted)
            admin.save_related(request, session, instance, inlines)
            if before is None:
                log_addition(admin, request, session, instance, "; ".join(notes))
            else:
                log_change(admin, request, session, instance, before, "; ".join(notes))
        finally:
            session.info.pop(audit.AUDITED_KEY, None)
        result["saved"] = instance
        return result

    page = await _run(work)
    saved = page["saved"]
    if saved is not None:
        await _commit()
        return _after_save(request, admin, saved, data or {}, page["obj"] is None
                           or saving_as_new, filters)
    status = 422 if data is not None else 200
    return await _form_page(request, admin, page, status, filters)


def _inline_locked(inline: Any, request: Request, parent: Any) -> bool:
    """Whether the user may only see an inline's rows: changing stored rows takes the
    inline model's change permission; the rows of a new parent, its add permission."""
    if parent is None:
        return not inline.has_add_permission(request, parent)
    return not inline.has_change_permission(request, parent)


def _inline_notes(formset: InlineFormSet, added: list[Any], changed: list[Any],
                  deleted: list[Any]) -> list[str]:
    """"Added 2 reviews" and the like, for the parent's entry in the audit log."""
    inline = formset.inline
    notes = []
    # Kept in English: the note is stored in the audit log, whoever reads it later.
    for verb, rows in (("Added", added), ("Changed", changed), ("Deleted", deleted)):
        if rows:
            name = inline.verbose_name if len(rows) == 1 else inline.verbose_name_plural
            notes.append(f"{verb} {len(rows)} {name}")
    return notes


def _after_save(request: Request, admin: ModelAdmin, obj: Any, data: Mapping[str, Any],
                added: bool, filters: str) -> Response:
    name = admin.object_repr(obj)
    values = {"name": admin.verbose_name, "row": name}
    if data.get("_continue") is not None or data.get("_saveasnew") is not None:
        text = _('The %(name)s "%(row)s" was added. You may edit it again below.') if added \
            else _('The %(name)s "%(row)s" was changed. You may edit it again below.')
        flash(request, text % values, "success")
        url = _change_url(request, admin, obj)
        return RedirectResponse(url + (f"?{FILTERS_FIELD}={_quote(filters)}" if filters
                                       else ""), 303)
    if data.get("_addanother") is not None:
        text = _('The %(name)s "%(row)s" was added. You may add another %(name)s below.') \
            if added else \
            _('The %(name)s "%(row)s" was changed. You may add another %(name)s below.')
        flash(request, text % values, "success")
        return RedirectResponse(request.url_for("admin:add", component=admin.component,
                                                model=admin.model_name), 303)
    text = _('The %(name)s "%(row)s" was added.') if added \
        else _('The %(name)s "%(row)s" was changed.')
    flash(request, text % values, "success")
    if admin.has_view_permission(request):
        return RedirectResponse(_changelist_url(request, admin, filters), 303)
    return RedirectResponse(request.url_for("admin:index"), 303)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


async def _form_page(request: Request, admin: ModelAdmin, page: dict[str, Any], status: int,
                     filters: str) -> Response:
    obj, form = page["obj"], page["form"]
    readonly_only = not page["may_change"]
    fieldsets = await _run(lambda s: fieldsets_of(admin, request, form, obj, readonly_only))
    if obj is None:
        title = _("Add %(name)s")
    else:
        title = _("Change %(name)s") if page["may_change"] else _("View %(name)s")
    title = title % {"name": admin.verbose_name}
    return await render(
        request, admin, "change_form.html", status=status, obj=obj, form=form,
        fieldsets=fieldsets, inlines=page["inlines"], title=title, obj_label=page["label"],
        readonly=readonly_only, filters=filters, filters_field=FILTERS_FIELD,
        can_delete=obj is not None and admin.has_delete_permission(request, obj),
        can_add_another=admin.has_add_permission(request),
        has_errors=status == 422)


# -- delete and history ---------------------------------------------------------------


async def delete(request: Request, component: str, model: str, pk: str) -> Response:
    from heron.admin.actions import plan_deletion

    admin = await _admin_for(request, component, model)
    confirmed = False
    if request.method == "POST":
        data = await request.form()
        confirmed = data.get("post") == "yes"

    def work(session: Session) -> tuple[Any, Any, str]:
        obj = _load(admin, request, session, pk)
        _refuse(admin.has_delete_permission(request, obj))
        plan = plan_deletion(admin, request, session, [obj])
        name = admin.object_repr(obj)
        if confirmed and plan.allowed:
            log_deletion(admin, request, session, obj)
            admin.delete_model(request, session, obj)
            return None, plan, name
        return obj, plan, name

    obj, plan, name = await _run(work)
    if obj is None:
        await _commit()
        flash(request, _('The %(name)s "%(row)s" was deleted.')
              % {"name": admin.verbose_name, "row": name}, "success")
        if admin.has_view_permission(request):
            return RedirectResponse(_changelist_url(request, admin), 303)
        return RedirectResponse(request.url_for("admin:index"), 303)
    status = 409 if confirmed else 200  # confirmed, but blocked
    return await render(request, admin, "delete_confirmation.html", status=status, obj=obj,
                        plan=plan, title=_("Delete %(name)s") % {"name": admin.verbose_name},
                        obj_label=name, pk=pk)


async def history(request: Request, component: str, model: str, pk: str) -> Response:
    from heron.admin import audit

    admin = await _admin_for(request, component, model)

    def work(session: Session) -> tuple[Any, list[Any], str]:
        obj = _load(admin, request, session, pk)
        _refuse(admin.has_view_permission(request, obj))
        return obj, audit.entries_for(session, admin.model, object_id(obj),
                                      component=admin.component), \
            admin.object_repr(obj)

    obj, entries, label = await _run(work)
    return await render(request, admin, "object_history.html", obj=obj, entries=entries,
                        title=_("History: %(row)s") % {"row": label}, obj_label=label)


# -- export and autocomplete -------------------------------------------------------------


async def export(request: Request, component: str, model: str, fmt: str) -> Response:
    from heron.admin.export import export_response

    admin = await _admin_for(request, component, model)
    _refuse(admin.has_view_permission(request))
    if fmt not in admin.export_formats:
        raise HTTPException(404, _("This list cannot be exported in that format."))
    try:
        cl = ChangeList(admin, request)
        statement = cl.ordered(cl.filtered())
    except IncorrectLookupParameters as exc:
        raise HTTPException(400, str(exc)) from None
    return export_response(request, admin, statement, fmt)


async def autocomplete(request: Request, component: str, model: str) -> Response:
    from heron.admin.search import search_condition
    from heron.responses import JSONResponse

    admin = await _admin_for(request, component, model)
    _refuse(admin.has_view_permission(request))
    if not admin.search_fields:
        raise HTTPException(404, _("This model has no search_fields to look up rows by."))
    term = request.query_params.get("term", "")[:200]
    if "\x00" in term:
        raise HTTPException(400, _("The search holds a NUL character."))

    def work(session: Session) -> list[dict[str, str]]:
        from sqlalchemy import inspect

        statement = admin.get_queryset(request)
        dialect = session.get_bind().dialect.name
        condition = search_condition(admin.model, admin.search_fields, term, dialect)
        if condition is not None:
            statement = statement.where(condition)
        statement = statement.order_by(*inspect(admin.model).primary_key).limit(20)
        return [{"id": object_id(row), "text": admin.object_repr(row)}
                for row in session.scalars(statement)]

    return JSONResponse({"results": await _run(work)})


def add_routes(router: Any, **options: Any) -> None:
    """The admin's routes on ``router`` (its prefix is the ``admin_url`` setting)."""
    from heron.admin.auth_admin import password_page

    both = ["GET", "POST"]
    base = "/{component}/{model}"
    for path, view, methods, name in [
        ("/", index, ["GET"], "index"),
        (base + "/", changelist, both, "changelist"),
        (base + "/add/", add, both, "add"),
        (base + "/autocomplete/", autocomplete, ["GET"], "autocomplete"),
        (base + "/export/{fmt}", export, ["GET"], "export"),
        (base + "/{pk}/change/", change, both, "change"),
        (base + "/{pk}/delete/", delete, both, "delete"),
        (base + "/{pk}/history/", history, ["GET"], "history"),
        (base + "/{pk}/password/", password_page, both, "user_password"),
    ]:
        router.add_route(path, view, methods, name, **options)
