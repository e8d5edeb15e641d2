"""heron.auth's models in the admin: users (an add form with the password twice,
validated and hashed; a password page), groups and their permissions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heron.admin.options import ModelAdmin, display
from heron.exceptions import HTTPException
from heron.forms import ModelForm, ValidationError, field
from heron.i18n import gettext as _
from heron.i18n import gettext_lazy, ngettext
from heron.responses import Response

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.orm import Session

    from heron.app import App
    from heron.requests import Request

__all__ = ["GroupAdmin", "UserAdmin", "register_auth_models"]


def _password_errors(request: Request, raw: Mapping[str, Any], user: Any,
                     first: str, second: str) -> None:
    """Raise the first problem of a new password typed twice."""
    from heron.auth.validators import PasswordValidationError, validate_password

    if first != second:
        raise ValidationError(_("The two passwords do not match."), field="password2")
    attributes = {n: v for n in ("username", "email", "first_name", "last_name")
                  if isinstance(v := getattr(user, n, None) or raw.get(n), str) and v}
    try:
        validate_password(first, request.app.settings, attributes)
    except PasswordValidationError as exc:
        raise ValidationError(" ".join(exc.messages), field="password1") from None


#: The labels heron.admin makes from the fields of heron.auth's models ("date_joined"
#: -> "Date joined"), for heron's catalog: the catalog translates them where shown.
_FIELD_LABELS = (
    gettext_lazy("Username"), gettext_lazy("Email"), gettext_lazy("First name"),
    gettext_lazy("Last name"), gettext_lazy("Is active"), gettext_lazy("Is staff"),
    gettext_lazy("Is superuser"), gettext_lazy("Last login"), gettext_lazy("Date joined"),
    gettext_lazy("Groups"), gettext_lazy("User permissions"), gettext_lazy("Name"),
    gettext_lazy("Permissions"),
)


class UserAddForm(ModelForm):
    """The login name and a password typed twice."""

    password1: str = field(widget="password", label=gettext_lazy("Password"), strip=False)
    password2: str = field(widget="password", label=gettext_lazy("Password confirmation"),
                           strip=False, help_text=gettext_lazy("Enter the same password again."))

    def clean(self, data: dict[str, Any]) -> dict[str, Any] | None:
        from heron.auth.users import find_user

        model = self.model()
        login = model.USERNAME_FIELD
        # Logins are unique whatever their case (an index on lower(...)), which the
        # form's unique-column check cannot see: ask the database the way login does.
        if login in data and self._sync_session().scalar(find_user(model, str(data[login]))
                                                         .limit(1)) is not None:
            from heron.auth._accounts import taken_message

            raise ValidationError(taken_message(model), field=login)
        if self.request is not None:
            _password_errors(self.request, self.raw, None, data["password1"], data["password2"])
        return None


class UserAdmin(ModelAdmin):
    """Users: the list with their flags, search by login name and email, filters by
    flag and group; the password is never shown, only changed on its own page."""

    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    readonly_fields = ("password_status", "two_factor_status", "last_login")
    exclude = ("password",)

    @classmethod
    def for_model(cls, model: type[Any]) -> type[UserAdmin]:
        """This admin with columns, search and order fitting ``model``'s fields."""
        from heron.forms._model_fields import model_label

        login = model.USERNAME_FIELD
        names = ("email", "first_name", "last_name")
        # heron's "user" in the request's language; a model of another name keeps its own.
        words: dict[str, Any] = {"verbose_name": gettext_lazy("user"),
                                 "verbose_name_plural": gettext_lazy("users")} \
            if model_label(model)[0] == "user" else {}
        return type(cls.__name__, (cls,), {
            **words,
            "list_display": (login, *[n for n in (*names, "is_staff")
                                      if n != login and hasattr(model, n)]),
            "search_fields": (login, *[n for n in names if n != login and hasattr(model, n)]),
            "ordering": (login,),
            "__module__": cls.__module__,
        })

    @display(description=gettext_lazy("Password"))
    def password_status(self, obj: Any) -> str:
        if obj is None or not obj.has_usable_password():
            return _("No password set.")
        return _("Set (stored hashed; change it on the password page).")

    @display(description=gettext_lazy("Two-factor login"))
    def two_factor_status(self, obj: Any) -> Any:
        """The user's second factors, and a link to reset them."""
        if obj is None or not hasattr(type(obj), "totp_model"):
            return None
        from markupsafe import Markup, escape

        parts = _factor_summary(obj)
        if parts is None:
            return _("None set up.")
        # The change page is .../{pk}/change/: its factors page is .../{pk}/factors/.
        return Markup("{}. <a href=\"../factors/\">{}</a>").format(
            escape("; ".join(parts)), _("Reset…"))

    def get_form(self, request: Request, obj: Any = None) -> type[ModelForm]:
        if obj is not None:
            return super().get_form(request, obj)
        cache: dict[str, type[ModelForm]] = self.__dict__.setdefault("_add_form", {})
        if "form" not in cache:
            login = self.model.USERNAME_FIELD
            meta = type("Meta", (), {"model": self.model, "fields": [login]})
            cache["form"] = type("UserAddForm", (UserAddForm,), {"Meta": meta,
                                                                 "__module__": __name__})
        return cache["form"]

    def get_fieldsets(self, request: Request, obj: Any = None) -> list[Any]:
        if obj is None:
            return [(None, {"fields": [self.model.USERNAME_FIELD, "password1", "password2"]})]
        return super().get_fieldsets(request, obj)

    def get_fields(self, request: Request | None, obj: Any = None) -> list[str]:
        if obj is None:
            return [self.model.USERNAME_FIELD, "password1", "password2"]
        return super().get_fields(request, obj)

    def save_model(self, request: Request, session: Session, obj: Any, form: ModelForm,
                   change: bool) -> None:
        from heron.auth.users import normalize_username

        login = self.model.USERNAME_FIELD
        setattr(obj, login, normalize_username(str(getattr(obj, login))))
        if not change:
            obj.set_password(form.data["password1"], request.app.settings)
        super().save_model(request, session, obj, form, change)


class GroupAdmin(ModelAdmin):
    """Groups and the permissions their members get."""

    verbose_name = gettext_lazy("group")
    verbose_name_plural = gettext_lazy("groups")
    list_display = ("name",)
    search_fields = ("name",)
    fields = ("name", "permissions")
    ordering = ("name",)


def register_auth_models(app: App) -> None:
    """Register the app's user model and heron.auth's groups, unless the project did."""
    if "heron.auth" not in app.plugins:
        return
    from heron.admin.sites import site
    from heron.auth.models import Group
    from heron.auth.users import get_user_model

    user_model = get_user_model(app)
    if not site.is_registered(user_model):
        site.register(user_model, UserAdmin.for_model(user_model))
    if not site.is_registered(Group):
        site.register(Group, GroupAdmin)


async def password_page(request: Request, component: str, model: str, pk: str) -> Response:
    """Set a user's password (twice, validated, hashed): ``admin:user_password``."""
    from heron.admin import views

    admin = await views._admin_for(request, component, model)
    if not isinstance(admin, UserAdmin):
        raise HTTPException(404, _("Only users have a password page."))
    data = await request.form() if request.method == "POST" else None
    errors: dict[str, str] = {}

    def work(session: Session) -> Any:
        from heron.admin.history import log_change

        user = views._load(admin, request, session, pk)
        views._refuse(admin.has_change_permission(request, user))
        if data is None:
            return user
        first, second = str(data.get("password1") or ""), str(data.get("password2") or "")
        try:
            if not first:
                raise ValidationError(_("Enter a new password."), field="password1")
            _password_errors(request, {}, user, first, second)
        except ValidationError as exc:
            errors[exc.field or "password1"] = exc.message
            return user
        from heron.admin import audit

        before = audit.snapshot(user)
        user.set_password(first, request.app.settings)
        session.flush()
        log_change(admin, request, session, user, before, message="Password changed.")
        return None

    user = await views._run(work)
    label = admin.object_repr(user) if user is not None else ""
    if user is None:
        await views._commit()
        from heron.flash import flash
        from heron.responses import RedirectResponse

        flash(request, _("The password was changed."), "success")
        return RedirectResponse(request.url_for("admin:change", component=component,
                                                model=model, pk=pk), 303)
    return await views.render(request, admin, "password_change.html",
                              status=422 if errors else 200, obj=user, errors=errors,
                              title=_("Change password: %(row)s") % {"row": label},
                              obj_label=label)


def _factor_summary(user: Any) -> list[str] | None:
    """What ``user`` has enrolled, for people (``None``: nothing); sync, on the
    user's session (the admin's pages run in ``run_sync``)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import object_session

    session = object_session(user)
    if session is None:
        return None
    model = type(user)
    totp, codes, keys = model.totp_model, model.recovery_code_model, model.passkey_model
    has_totp = session.scalar(select(func.count()).select_from(totp).where(
        totp.user_id == user.id, totp.secret.is_not(None), totp.confirmed_at.is_not(None)))
    left = session.scalar(select(func.count()).select_from(codes).where(
        codes.user_id == user.id, codes.used_at.is_(None)))
    names = list(session.scalars(select(keys.name).where(keys.user_id == user.id)
                                 .order_by(keys.created_at)))
    parts = []
    if has_totp:
        parts.append(_("authenticator app on"))
    if left:
        parts.append(ngettext("%(count)d recovery code left", "%(count)d recovery codes left",
                              left) % {"count": left})
    if names:
        parts.append(_("passkeys: %(names)s") % {"names": ", ".join(names)})
    return parts or None


async def factors_page(request: Request, component: str, model: str, pk: str) -> Response:
    """Show a user's second factors and reset them (POST, after a confirmation):
    ``admin:user_factors``.  For a user locked out of their account; needs the
    change permission.  Each reset sends ``two_factor_changed`` (the audit records it)."""
    from heron.admin import views
    from heron.auth.two_factor import areset_factors
    from heron.db import db

    admin = await views._admin_for(request, component, model)
    if not isinstance(admin, UserAdmin):
        raise HTTPException(404, _("Only users have second factors."))

    def work(session: Session) -> tuple[Any, list[str] | None]:
        user = views._load(admin, request, session, pk)
        views._refuse(admin.has_change_permission(request, user))
        return user, _factor_summary(user)

    user, parts = await views._run(work)
    label = admin.object_repr(user)
    if request.method == "POST":
        form = await request.form()
        if form.get("post") != "yes":
            raise HTTPException(400, _("Confirm the reset with the form's button."))
        await request.auser()  # the audit names who did it
        await areset_factors(user, request, db.async_session)
        from heron.flash import flash
        from heron.responses import RedirectResponse

        flash(request, _("The second factors of %(user)s were removed: they log in with "
                         "their password alone until they set up new ones.") % {"user": label},
              "success")
        return RedirectResponse(request.url_for("admin:change", component=component,
                                                model=model, pk=pk), 303)
    return await views.render(request, admin, "user_factors.html", obj=user, parts=parts,
                              title=_("Two-factor login: %(user)s") % {"user": label},
                              obj_label=label)
