"""Users, groups and permissions.

- :class:`Permission` rows name what may be done: ``view``, ``add``, ``change``
  and ``delete`` for every model (made on ``heron db migrate``), plus the ones a
  model declares in ``__permissions__``.  A permission is spelled
  ``"<component>.<codename>"``: ``"blog.change_post"``.
- :class:`Group` bundles permissions; users get them through their groups and
  directly.
- :class:`AbstractUser` is what a project's user model extends (extra fields);
  :class:`AbstractBaseUser` with :class:`PermissionsMixin` is the smaller base for
  a model that logs in by email.  heron's own ``User`` (``heron.auth.user``) is
  used unless the ``auth_user_model`` setting names another.

A concrete user model gets, made for it: the link tables ``<table>_groups`` and
``<table>_permissions``, a token model (table ``<table>_api_token``) for its
API tokens, and the models of its second factors (``<table>_totp``,
``<table>_recovery_code``, ``<table>_passkey``: heron.auth.factor_models).  They
live with the user model's migrations.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    false,
    func,
    select,
    true,
    union,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from heron.db._steps import Steps, run_steps_async, run_steps_sync
from heron.db.models import Model

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    from heron.settings import Settings

__all__ = [
    "AbstractBaseUser",
    "AbstractUser",
    "ApiTokenMixin",
    "Group",
    "Permission",
    "PermissionsMixin",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Permission(Model):
    """Something a user may do: ``"<component>.<codename>"``, e.g. ``"blog.change_post"``."""

    __tablename__ = "auth_permission"
    __table_args__ = (UniqueConstraint("component", "codename"),)

    id: Mapped[int] = mapped_column(primary_key=True)

    #: The component the model belongs to (``"app"`` for the app's own models).
    component: Mapped[str] = mapped_column(String(100))
    #: The model, in snake case: ``"post"``.
    model: Mapped[str] = mapped_column(String(100))
    #: ``"change_post"``.
    codename: Mapped[str] = mapped_column(String(100))
    #: For people: ``"Can change post"``.
    name: Mapped[str] = mapped_column(String(255))

    @property
    def key(self) -> str:
        """``"blog.change_post"``: what ``has_perm`` takes."""
        return f"{self.component}.{self.codename}"

    def __str__(self) -> str:
        return self.key


group_permissions = Table(
    "auth_group_permissions",
    Model.metadata,
    Column("group_id", ForeignKey("auth_group.id", ondelete="CASCADE"), primary_key=True),
    Column("permission_id", ForeignKey("auth_permission.id", ondelete="CASCADE"),
           primary_key=True),
    info={"heron_module": __name__},
)


class Group(Model):
    """A named set of permissions, given to users together."""

    __tablename__ = "auth_group"

    id: Mapped[int] = mapped_column(primary_key=True)

    name: Mapped[str] = mapped_column(String(150), unique=True)
    permissions: Mapped[list[Permission]] = relationship(secondary=group_permissions)

    def __str__(self) -> str:
        return self.name


def _link_table(user_table: str, module: str, kind: str, target: str) -> Table:
    """``<user_table>_groups`` or ``<user_table>_permissions``, made once."""
    name = f"{user_table}_{kind}"
    existing = Model.metadata.tables.get(name)
    if existing is not None:
        return existing
    column = "group_id" if kind == "groups" else "permission_id"
    return Table(
        name,
        Model.metadata,
        Column("user_id", ForeignKey(f"{user_table}.id", ondelete="CASCADE"), primary_key=True),
        Column(column, ForeignKey(f"{target}.id", ondelete="CASCADE"), primary_key=True),
        info={"heron_module": module},
    )


def permissions_query(user_table: str, user_id: Any) -> Select[Any]:
    """One query for the ``(component, codename)`` pairs a user has, directly and
    through groups."""
    users_groups = Model.metadata.tables[f"{user_table}_groups"]
    users_permissions = Model.metadata.tables[f"{user_table}_permissions"]
    direct = (select(Permission.component, Permission.codename)
              .join(users_permissions, users_permissions.c.permission_id == Permission.id)
              .where(users_permissions.c.user_id == user_id))
    grouped = (select(Permission.component, Permission.codename)
               .join(group_permissions, group_permissions.c.permission_id == Permission.id)
               .join(users_groups, users_groups.c.group_id == group_permissions.c.group_id)
               .where(users_groups.c.user_id == user_id))
    return select(union(direct, grouped).subquery())


class PermissionsMixin:
    """Superuser flag, staff flag, groups, direct permissions and ``has_perm``.

    Permissions are read in one query the first time they are asked for, then
    kept on the user object: for the rest of the request when the user is
    ``request.user``.
    """

    #: Has every permission, without them being given.
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: May use the admin and views guarded by ``staff_required``.
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    _permission_cache: set[str] | None = None

    @declared_attr
    def groups(cls) -> Mapped[list[Group]]:
        table = _link_table(cls.__tablename__, cls.__module__, "groups", "auth_group")  # type: ignore[attr-defined]
        return relationship(Group, secondary=table)

    @declared_attr
    def user_permissions(cls) -> Mapped[list[Permission]]:
        table = _link_table(cls.__tablename__, cls.__module__, "permissions",  # type: ignore[attr-defined]
                            "auth_permission")
        return relationship(Permission, secondary=table)

    # -- reading permissions --------------------------------------------------

    def _permissions_statement(self) -> Select[Any]:
        return permissions_query(self.__tablename__, self.id)  # type: ignore[attr-defined]

    def get_all_permissions(self) -> set[str]:
        """Every ``"component.codename"`` the user has (not counting superuser status).

        Runs one query, on the session the user was loaded in, the first time.
        In async code call :meth:`aget_all_permissions` first.
        """
        return run_steps_sync(self._permission_steps(), lambda: _sync_session_of(self))

    async def aget_all_permissions(self) -> set[str]:
        """:meth:`get_all_permissions` for async code."""
        return await run_steps_async(self._permission_steps(), lambda: _async_session_of(self))

    def _permission_steps(self) -> Steps[set[str]]:
        if self._permission_cache is None:
            rows = (yield self._permissions_statement()).all()
            self._permission_cache = {f"{c}.{n}" for c, n in rows}
        return set(self._permission_cache)

    def forget_permissions(self) -> None:
        """Drop the kept permissions (after changing the user's groups or permissions)."""
        self._permission_cache = None

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        """Whether the user may do ``perm`` (``"blog.change_post"``), to ``obj`` if given.

        Inactive users have no permission; active superusers have them all.  With
        ``obj``, the model permission allows it, and so does ``obj``'s own
        ``has_object_permission(user, perm)`` returning ``True`` (the object-level
        hook: "authors may change their own posts").
        """
        settled = self._settled()
        if settled is not None:
            return settled
        return perm in self.get_all_permissions() or _object_allows(obj, self, perm)

    async def ahas_perm(self, perm: str, obj: Any = None) -> bool:
        """:meth:`has_perm` for async code."""
        settled = self._settled()
        if settled is not None:
            return settled
        return perm in await self.aget_all_permissions() or _object_allows(obj, self, perm)

    def _settled(self) -> bool | None:
        """``has_perm``'s answer when the permissions do not matter: none for an
        inactive user, all for an active superuser."""
        if not getattr(self, "is_active", True):
            return False
        return True if self.is_superuser else None

    def has_perms(self, perms: list[str] | tuple[str, ...], obj: Any = None) -> bool:
        """Whether the user has every one of ``perms``."""
        return all(self.has_perm(p, obj) for p in perms)

    async def ahas_perms(self, perms: list[str] | tuple[str, ...], obj: Any = None) -> bool:
        for perm in perms:
            if not await self.ahas_perm(perm, obj):
                return False
        return True


def _object_allows(obj: Any, user: Any, perm: str) -> bool:
    hook = getattr(obj, "has_object_permission", None)
    return bool(hook(user, perm)) if hook is not None else False


def _sync_session_of(user: Any) -> Session:
    """The session to read ``user``'s permissions with in sync code."""
    from heron.concurrency import _on_loop_thread

    if _on_loop_thread():
        raise RuntimeError(
            "The user's permissions are not loaded yet and this is async code: "
            "use `await user.ahas_perm(...)` (or `await user.aget_all_permissions()` "
            "once; has_perm works after it)."
        )
    from sqlalchemy.ext.asyncio import async_object_session
    from sqlalchemy.orm import object_session

    session = object_session(user)
    # A user loaded by async code (an async hook, say) belongs to an
    # AsyncSession, which cannot run queries from this worker thread.
    if session is None or async_object_session(user) is not None:
        from heron.db import db

        session = db.session
    return session


def _async_session_of(user: Any) -> AsyncSession:
    from sqlalchemy.ext.asyncio import async_object_session

    session = async_object_session(user)
    if session is None:
        from heron.db import db

        session = db.async_session
    return session


class ApiTokenMixin:
    """The columns of an API token; each concrete user model gets its token model.

    Only a SHA-256 hash of the token is stored (tokens are 256 random bits, so a
    fast hash is safe and lets the token be found by it); ``prefix`` keeps the
    first characters so that people can tell their tokens apart.
    """

    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: ``None``: never expires.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: ``"api"``: a personal API token; ``"jwt"``: a JWT login (its refresh token's hash).
    kind: Mapped[str] = mapped_column(String(8), default="api", server_default="api")
    #: A keyed fingerprint of the user's password hash when the token was made: a
    #: password change ends the token (``None``: made before heron kept it).
    auth_hash: Mapped[str | None] = mapped_column(String(64))

    @property
    def is_usable(self) -> bool:
        """Not revoked and not expired."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or _aware(self.expires_at) > utcnow()

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"


def _aware(value: datetime) -> datetime:
    # SQLite gives naive datetimes back; heron stores UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class AbstractBaseUser(Model):
    """The least a user model needs: a password, ``is_active``, ``last_login``.

    Subclass it with :class:`PermissionsMixin` and a unique login field for a
    user that logs in by email::

        class Member(PermissionsMixin, AbstractBaseUser):
            USERNAME_FIELD = "email"
            email: Mapped[str] = mapped_column(String(254))

    The ``USERNAME_FIELD`` is unique case-insensitively, for every letter (a
    unique index on ``heron_lower(...)``, the same folding on SQLite and
    PostgreSQL), and logins look it up case-insensitively.
    """

    __abstract__ = True

    #: The column people log in with.
    USERNAME_FIELD: ClassVar[str] = "username"
    #: The column password-reset mail goes to.
    EMAIL_FIELD: ClassVar[str] = "email"
    #: Asked for by ``heron createsuperuser`` besides the login and the password.
    REQUIRED_FIELDS: ClassVar[tuple[str, ...]] = ()
    #: The API token model made for this user model.
    token_model: ClassVar[type[Any]]
    #: The second factors' models made for it (heron.auth.factor_models).
    totp_model: ClassVar[type[Any]]
    recovery_code_model: ClassVar[type[Any]]
    passkey_model: ClassVar[type[Any]]

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The argon2id hash (never the password itself).
    password: Mapped[str] = mapped_column(String(255))
    #: Inactive users cannot log in, and their sessions and tokens stop working.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    last_login: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    is_authenticated: ClassVar[bool] = True
    is_anonymous: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__table__" in cls.__dict__:
            _finish_user_model(cls)

    def get_username(self) -> str:
        return str(getattr(self, self.USERNAME_FIELD))

    def get_email(self) -> str:
        return str(getattr(self, self.EMAIL_FIELD, "") or "")

    def set_password(self, raw: str | None, settings: Settings | None = None) -> None:
        """Store a hash of ``raw`` (``None``: no password will ever match)."""
        from heron.auth.hashing import make_password, make_unusable_password

        self.password = make_unusable_password() if raw is None else \
            make_password(raw, settings or _current_settings())

    def check_password(self, raw: str, settings: Settings | None = None) -> bool:
        """Whether ``raw`` is the password, in constant time (argon2 is slow on purpose:
        in async code use :func:`heron.auth.aauthenticate`, which runs it in a thread)."""
        from heron.auth.hashing import check_password

        return check_password(raw, self.password, settings or _current_settings())

    def has_usable_password(self) -> bool:
        from heron.auth.hashing import is_password_usable

        return is_password_usable(self.password)

    def session_auth_hash(self, key: str) -> str:
        """An HMAC of the password hash: stored in the session at login, so that a
        password change ends the user's other sessions."""
        return hmac.new(key.encode(), b"heron.auth.session:" + self.password.encode(),
                        "sha256").hexdigest()

    def __str__(self) -> str:
        return self.get_username()


class AbstractUser(PermissionsMixin, AbstractBaseUser):
    """heron's full user: username, email, staff and superuser flags, groups,
    permissions, when they joined.  Extend it for more fields::

        class User(AbstractUser):
            __tablename__ = "accounts_user"
            timezone: Mapped[str] = mapped_column(String(50), default="UTC")

    and set ``auth_user_model = "accounts.models:User"``.
    """

    __abstract__ = True
    REQUIRED_FIELDS: ClassVar[tuple[str, ...]] = ("email",)

    username: Mapped[str] = mapped_column(String(150))
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    date_joined: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                  server_default=func.now())


def _finish_user_model(cls: type[AbstractBaseUser]) -> None:
    """A concrete user model's case-insensitive login index and its token model."""
    table: Table = cls.__table__  # type: ignore[assignment]
    field = cls.USERNAME_FIELD
    if field not in table.c:
        from heron.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"{cls.__name__}.USERNAME_FIELD is {field!r}, which is not one of its columns",
            id="heron.auth.E003",
        )
    # heron_lower() folds every letter alike on SQLite and PostgreSQL (heron.db._lower).
    Index(f"uq_{table.name}_{field}_lower", func.heron_lower(table.c[field]), unique=True)
    namespace: dict[str, Any] = {
        "__tablename__": f"{table.name}_api_token",
        "__module__": cls.__module__,
        "__qualname__": f"{cls.__qualname__}ApiToken",
        "__doc__": f"An API token of a {cls.__name__}.",
        "user_id": mapped_column(Integer, ForeignKey(f"{table.name}.id", ondelete="CASCADE"),
                                 index=True, nullable=False),
        "user": relationship(cls),
    }
    cls.token_model = type(f"{cls.__name__}ApiToken", (ApiTokenMixin, Model), namespace)
    _add_factor_models(cls, table.name)


def _add_factor_models(cls: type[AbstractBaseUser], user_table: str) -> None:
    """The user model's second factors: ``totp_model``, ``recovery_code_model`` and
    ``passkey_model`` (heron.auth.factor_models)."""
    from heron.auth.factor_models import PasskeyMixin, RecoveryCodeMixin, TotpMixin

    kinds: list[tuple[str, str, str, type, bool]] = [
        ("totp_model", "totp", "Totp", TotpMixin, True),
        ("recovery_code_model", "recovery_code", "RecoveryCode", RecoveryCodeMixin, False),
        ("passkey_model", "passkey", "Passkey", PasskeyMixin, False),
    ]
    for attribute, suffix, name, mixin, one_per_user in kinds:
        namespace: dict[str, Any] = {
            "__tablename__": f"{user_table}_{suffix}",
            "__module__": cls.__module__,
            "__qualname__": f"{cls.__qualname__}{name}",
            "__doc__": f"{mixin.__doc__.splitlines()[0] if mixin.__doc__ else name} "
                       f"({cls.__name__})",
            "user_id": mapped_column(Integer, ForeignKey(f"{user_table}.id", ondelete="CASCADE"),
                                     index=not one_per_user, unique=one_per_user,
                                     nullable=False),
            "user": relationship(cls),
        }
        setattr(cls, attribute, type(f"{cls.__name__}{name}", (mixin, Model), namespace))


def _current_settings() -> Settings:
    from heron._context import current_scope

    scope = current_scope.get()
    if scope is None or "app" not in scope:
        raise RuntimeError("Pass settings=app.settings outside a request or db.context(app).")
    return scope["app"].settings  # type: ignore[no-any-return]
