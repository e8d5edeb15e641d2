"""Model forms: the fields of a SQLAlchemy model as a form, saved back to the database.

Database work (loading related rows as choices, checking unique columns, saving)
is written once, for a sync ``Session``.  With an ``AsyncSession`` it runs through
SQLAlchemy's own bridge, ``AsyncSession.run_sync``, so async views never block
the event loop and heron has no async twin of it.
"""

from __future__ import annotations

import operator
import typing
from typing import TYPE_CHECKING, Any, ClassVar

from heron.exceptions import ImproperlyConfigured
from heron.forms._constraints import Comparison, Rule, table_checks
from heron.forms._model_fields import ManyRelation, Relation, column_field, model_label
from heron.forms._spec import ChoiceSet, FieldSpec, analyse
from heron.forms.form import RESERVED, Form
from heron.forms.options import FormField

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Mapper, Session

    from heron.requests import Request

__all__ = ["ModelForm"]

ModelFormT = typing.TypeVar("ModelFormT", bound="ModelForm")


class ModelForm(Form):
    """A form made from a model's columns, which creates or updates a row.

    >>> class PostForm(ModelForm):
    ...     class Meta:
    ...         model = Post
    ...         fields = ["title", "slug", "category"]   # or exclude = [...]
    ...     body = field(widget="textarea")             # options for a model field

    Column types become field types, ``NOT NULL`` makes a field required, a
    ``String(n)`` length its ``max_length``, a scalar column default its default;
    unique columns are checked against the database, CHECK constraints of common
    shapes (``stock >= 0``, ``status IN (...)``, ``starts <= ends``) before it; a
    many-to-one relationship is a select of the related rows (``str(row)`` is the
    label), a many-to-many one a multiple select of them.

    Args:
        data, initial, prefix, request: as for :class:`~heron.forms.Form`.
        instance: the row to update; its values are the form's initial values.
        session: a ``Session`` or ``AsyncSession``.  Default: ``db.async_session``
            in :meth:`from_request`, ``db.session`` elsewhere.
    """

    class Meta:
        model: ClassVar[type[Any] | None] = None
        fields: ClassVar[list[str] | str | None] = None
        exclude: ClassVar[list[str]] = []

    _option_overrides: ClassVar[dict[str, FormField]] = {}
    _relations: ClassVar[dict[str, Relation]] = {}
    _many: ClassVar[dict[str, ManyRelation]] = {}
    _unique_sets: ClassVar[list[tuple[str, ...]]] = []
    _comparisons: ClassVar[list[Comparison]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        overrides = dict(cls._option_overrides)
        for name, value in list(vars(cls).items()):
            if isinstance(value, FormField) and name not in cls._declared:
                overrides[name] = value
                delattr(cls, name)
        cls._option_overrides = overrides
        meta = cls.__dict__.get("Meta")
        if meta is not None and getattr(meta, "model", None) is not None:
            if getattr(meta, "fields", None) is None and not getattr(meta, "exclude", None):
                raise ImproperlyConfigured(
                    f"{cls.__qualname__}.Meta names a model but no fields: list them in "
                    "`fields` (or name what to leave out in `exclude`), so that a column "
                    "added later does not become editable by surprise",
                    id="heron.forms.E003",
                )
            for name in list(overrides) + list(cls._declared):
                if name in RESERVED:
                    raise ImproperlyConfigured(f"{cls.__qualname__}.{name}: a field cannot be "
                                               f"named {name!r}", id="heron.forms.E001")

    @classmethod
    def model(cls) -> type[Any]:
        """The model of ``Meta.model``.

        Raises:
            ImproperlyConfigured: the form has no model (heron.forms.E006).
        """
        model = getattr(cls.Meta, "model", None)
        if model is None:
            raise ImproperlyConfigured(f"{cls.__qualname__} needs a Meta with a model",
                                       id="heron.forms.E006")
        return model  # type: ignore[no-any-return]

    @classmethod
    def _build_specs(cls) -> dict[str, FieldSpec]:
        from sqlalchemy import inspect

        model = cls.model()
        mapper: Mapper[Any] = inspect(model)
        available = _editable_attributes(mapper)
        names = _field_names(cls, available)
        declared = super()._build_specs()
        checks = table_checks(mapper.tables)
        specs: dict[str, FieldSpec] = {}
        relations: dict[str, Relation] = {}
        many: dict[str, ManyRelation] = {}
        for name in names:
            prop = available.get(name)
            if name in declared:
                specs[name] = declared[name]
            elif isinstance(prop, (Relation, ManyRelation)):
                options = FormField().merged(cls._option_overrides.get(name))
                specs[name] = prop.spec(name, options)
                if isinstance(prop, Relation):
                    relations[name] = prop
                else:
                    many[name] = prop
            elif prop is not None:
                rules = [r for r in checks if isinstance(r, Rule)
                         and r.column.lower() == prop.name.lower()]
                hint, options = column_field(prop, cls.__qualname__, rules)
                options = options.merged(cls._option_overrides.get(name))
                specs[name] = analyse(name, hint, options, cls.__qualname__)
            else:
                raise ImproperlyConfigured(
                    f"{cls.__qualname__}: {model.__name__} has no column or relationship "
                    f"named {name!r} that a form can edit (editable ones: "
                    f"{', '.join(available)})",
                    id="heron.forms.E004",
                )
        for name, spec in declared.items():
            specs.setdefault(name, spec)
        cls._relations = relations
        cls._many = many
        cls._unique_sets = _unique_sets(mapper, specs, relations)
        cls._comparisons = _comparisons(mapper, specs, checks)
        return specs

    def __init__(self, data: typing.Mapping[str, Any] | None = None, *,
                 instance: Any = None, session: Session | AsyncSession | None = None,
                 initial: typing.Mapping[str, Any] | None = None, prefix: str = "",
                 request: Request | None = None) -> None:
        super().__init__(data, initial=initial, prefix=prefix, request=request)
        self.instance = instance
        self.session = session
        self._prepared = False
        self._many_initial: dict[str, list[str]] = {}

    # -- sessions ------------------------------------------------------------------

    @classmethod
    async def from_request(cls: type[ModelFormT], request: Request,
                           **kwargs: Any) -> ModelFormT:
        """As :meth:`Form.from_request`, with ``db.async_session`` unless ``session=`` is
        given; related rows are loaded and the form validated (unique columns too)."""
        if "session" not in kwargs:
            from heron.db import db

            kwargs["session"] = db.async_session
        form: ModelFormT = await super().from_request(request, **kwargs)
        return form

    @classmethod
    def from_request_sync(cls: type[ModelFormT], request: Request,
                          **kwargs: Any) -> ModelFormT:
        """As :meth:`Form.from_request_sync`, with ``db.session`` unless ``session=`` is given."""
        if "session" not in kwargs:
            from heron.db import db

            kwargs["session"] = db.session
        form: ModelFormT = super().from_request_sync(request, **kwargs)
        return form

    def _sync_session(self) -> Session:
        from sqlalchemy.ext.asyncio import AsyncSession

        session = self.session
        if session is None:
            from heron.db import db

            session = self.session = db.session
        if isinstance(session, AsyncSession):
            raise RuntimeError(
                f"{type(self).__name__} has an AsyncSession: await form.aprepare() before "
                "using it (from_request does), and save with await form.asave()")
        return session

    async def aprepare(self) -> None:
        """With an ``AsyncSession``: load the related rows and, for a bound form,
        validate it (unique columns included).  :meth:`from_request` calls it."""
        from sqlalchemy.ext.asyncio import AsyncSession

        if isinstance(self.session, AsyncSession):
            await self.session.run_sync(self._prepare_with)
        else:
            self._prepare_with(self._sync_session())

    async def _prepare_async(self) -> None:
        await self.aprepare()

    def _prepare_sync(self) -> None:
        self._prepare_with(self._sync_session())

    def _prepare_with(self, session: Session) -> None:
        if not self._prepared:
            self._load_choices(session)
            self._prepared = True
        if self.is_bound and self._errors is None:
            self._errors = {}
            try:
                self._clean_with(session)
            except BaseException:
                self._errors, self._cleaned = None, {}
                raise

    # -- validation ------------------------------------------------------------------

    def full_clean(self) -> None:
        """Validate the fields, then the form, then unique columns in the database."""
        session = self._sync_session()
        if not self._prepared:
            self._load_choices(session)
            self._prepared = True
        self._clean_with(session)

    def _clean_with(self, session: Session) -> None:
        super().full_clean()
        if not self._errors:
            self._check_comparisons()
        if not self._errors:
            self._check_unique(session)

    def _validate(self, spec: FieldSpec, value: Any) -> Any:
        if spec.name in self._relations:
            return value  # one of the rows loaded as choices
        if spec.name in self._many:
            unique = list({id(row): row for row in value}.values())  # a key sent twice
            return super()._validate(spec, unique)  # min_length, max_length
        return super()._validate(spec, value)

    def choices_for(self, name: str) -> ChoiceSet | None:
        if (name in self._relations or name in self._many) and not self._prepared:
            self._load_choices(self._sync_session())
            self._prepared = True
        return super().choices_for(name)

    def choices_query(self, name: str, model: type[Any]) -> Select[Any]:
        """The rows offered by relation field ``name``: all of ``model``, by primary key.
        Override it to filter or order them."""
        from sqlalchemy import inspect, select

        return select(model).order_by(*inspect(model).primary_key)

    def _load_choices(self, session: Session) -> None:
        relations: dict[str, Relation | ManyRelation] = {**self._relations, **self._many}
        for name, relation in relations.items():
            rows = session.scalars(self.choices_query(name, relation.target)).all()
            self._choices[name] = ChoiceSet.keyed(
                [(relation.key_of(row), row, str(row)) for row in rows])
        if self.instance is not None:
            # Read here, where a lazy load may run (in run_sync for an AsyncSession),
            # not when the form is drawn.
            for name, many in self._many.items():
                self._many_initial[name] = [many.key_of(row)
                                            for row in getattr(self.instance, name)]

    def _check_comparisons(self) -> None:
        """The CHECK constraints between two columns (``starts <= ends``)."""
        from heron.forms.messages import message_for

        for rule in self._comparisons:
            left, right = self._cleaned.get(rule.left), self._cleaned.get(rule.right)
            if left is None or right is None:
                continue  # NULL passes a CHECK
            try:
                holds = _OPERATORS[rule.op](left, right)
            except TypeError:
                continue  # values that do not compare: the database decides
            if holds:
                continue
            if rule.message:
                self.add_error(None, rule.message)
                continue
            context = {"label": self.specs[rule.left].label,
                       "other": self.specs[rule.right].label.lower()}
            overrides = [vars(k).get("error_messages") or {} for k in type(self).__mro__]
            self.add_error(None, message_for(_COMPARISON_CODES[rule.op], context, overrides))

    def _check_unique(self, session: Session) -> None:
        from sqlalchemy import and_, inspect, not_, select

        model = self.model()
        mapper = inspect(model)
        for names in self._unique_sets:
            values = {name: self._cleaned.get(name) for name in names}
            if any(value is None for value in values.values()):
                continue  # NULLs never collide
            conditions = [self._column_condition(model, name, value)
                          for name, value in values.items()]
            if self.instance is not None and inspect(self.instance).identity is not None:
                conditions.append(not_(and_(*[
                    column == value for column, value in
                    zip(mapper.primary_key, inspect(self.instance).identity, strict=True)])))
            statement = select(*mapper.primary_key).where(*conditions).limit(1)
            if session.execute(statement).first() is not None:
                self._unique_error(names)

    def _column_condition(self, model: type[Any], name: str, value: Any) -> Any:
        relation = self._relations.get(name)
        if relation is not None:
            return relation.local_column == relation.key_value(value)
        return getattr(model, name) == value

    def _unique_error(self, names: tuple[str, ...]) -> None:
        label, article = model_label(self.model())
        if len(names) == 1:
            spec = self.specs[names[0]]
            context = {"article": article, "model": label, "field": spec.label.lower()}
            self.add_error(names[0], self._message(spec, "unique", context))
            return
        labels = [self.specs[name].label.lower() for name in names]
        context = {"article": article, "model": label,
                   "fields": ", ".join(labels[:-1]) + " and " + labels[-1]}
        overrides = [vars(k).get("error_messages") or {} for k in type(self).__mro__]
        from heron.forms.messages import message_for

        self.add_error(None, message_for("unique_together", context, overrides))

    def initial_value(self, name: str) -> Any:
        many = self._many.get(name)
        if many is not None and name in self.initial:  # rows, or their keys
            return [many.key_of(v) if isinstance(v, many.target) else v
                    for v in self.initial[name]]
        if name not in self.initial and self.instance is not None:
            relation = self._relations.get(name)
            if relation is not None:
                return getattr(self.instance, relation.local_key)
            if name in self._many:
                self.choices_for(name)  # loads the related rows, and the instance's
                return self._many_initial.get(name, [])
            if hasattr(type(self.instance), name):
                return getattr(self.instance, name)
        return super().initial_value(name)

    # -- saving --------------------------------------------------------------------

    def save(self, session: Session | None = None, *, fill: bool = True) -> Any:
        """Create the row (or update ``instance``) from the cleaned data, and flush it,
        so that its id is known.  Commit it yourself (``db.session.commit()``).
        ``fill=False`` stores the row as :meth:`fill` left it (and changes made since).

        Raises:
            ValueError: the form is not valid.
        """
        return self._save(session if session is not None else self._sync_session(), fill)

    async def asave(self, session: AsyncSession | None = None, *, fill: bool = True) -> Any:
        """:meth:`save` with an ``AsyncSession`` (default: the form's session)."""
        import functools

        from sqlalchemy.ext.asyncio import AsyncSession

        target = session if session is not None else self.session
        if not isinstance(target, AsyncSession):
            raise TypeError("asave() needs an AsyncSession; use save() with a Session")
        return await target.run_sync(functools.partial(self._save, fill=fill))

    def fill(self) -> Any:
        """Set the cleaned values of the columns and many-to-one fields on the form's
        row (a new one when it has none) without touching the database, and return it:
        what :meth:`save` does before storing the row.  Code that must change the row
        before it is stored (the admin's ``save_model``) fills it, changes it, then
        calls ``save(fill=False)``."""
        if not self.is_valid():
            raise ValueError(f"{type(self).__name__} is not valid; check is_valid() before "
                             f"filling a row (errors: {self.errors})")
        from sqlalchemy import inspect

        model = self.model()
        instance = self.instance if self.instance is not None else model()
        attributes = set(inspect(model).attrs.keys())
        for name, value in self._cleaned.items():
            if name in attributes and name not in self._many:
                setattr(instance, name, value)
        self.instance = instance
        return instance

    def _save(self, session: Session, fill: bool = True) -> Any:
        if not self._prepared or self._errors is None:
            self._prepare_with(session)
        if not self.is_valid():
            raise ValueError(f"{type(self).__name__} is not valid; check is_valid() before "
                             f"saving (errors: {self.errors})")
        instance = self.fill() if fill or self.instance is None else self.instance
        session.add(instance)
        session.flush()
        if self._many:
            # Once the row is in the database (a new one has its key), so that the
            # association rows can refer to it.
            for name, many in self._many.items():
                if name in self._cleaned:
                    setattr(instance, name, many.collection(self._cleaned[name]))
            session.flush()
        self.instance = instance
        return instance


def _editable_attributes(mapper: Mapper[Any]) -> dict[str, Any]:
    """Column properties (not primary keys, not foreign keys that a relation covers)
    and many-to-one relations, by attribute name, in the model's order; then the
    many-to-many relations."""
    from sqlalchemy.orm import ColumnProperty, RelationshipProperty

    relation_by_key: dict[str, tuple[str, Relation]] = {}
    many: dict[str, ManyRelation] = {}
    for prop in mapper.relationships:
        if not isinstance(prop, RelationshipProperty):
            continue
        relation = Relation.of(prop)
        if relation is not None:
            relation_by_key[relation.local_key] = (prop.key, relation)
        many_relation = ManyRelation.of(prop)
        if many_relation is not None:
            many[prop.key] = many_relation
    attributes: dict[str, Any] = {}
    for prop in mapper.iterate_properties:
        if not isinstance(prop, ColumnProperty) or len(prop.columns) != 1:
            continue
        if prop.key in relation_by_key:  # the relation, where its foreign key is
            name, relation = relation_by_key[prop.key]
            attributes[name] = relation
        elif not prop.columns[0].primary_key:
            attributes[prop.key] = prop.columns[0]
    attributes.update(many)
    return attributes


def _field_names(cls: type[ModelForm], available: dict[str, Any]) -> list[str]:
    fields = getattr(cls.Meta, "fields", None)
    exclude = set(getattr(cls.Meta, "exclude", None) or [])
    if fields is None or fields == "__all__":
        return [name for name in available if name not in exclude]
    return [name for name in fields if name not in exclude]


def _unique_sets(mapper: Mapper[Any], specs: dict[str, FieldSpec],
                 relations: dict[str, Relation]) -> list[tuple[str, ...]]:
    """The sets of form fields whose values must be unique together."""
    from sqlalchemy import UniqueConstraint

    names_by_column: dict[Any, str] = {}
    for prop in mapper.column_attrs:
        for column in prop.columns:
            names_by_column[column] = prop.key
    for name, relation in relations.items():
        names_by_column[relation.local_column] = name
    table = mapper.local_table
    groups: list[list[Any]] = [[c] for c in table.columns if c.unique]
    groups += [list(c.columns) for c in getattr(table, "constraints", ())
               if isinstance(c, UniqueConstraint)]
    groups += [list(i.columns) for i in getattr(table, "indexes", ()) if i.unique]
    result: list[tuple[str, ...]] = []
    for columns in groups:
        names = tuple(names_by_column.get(column, "") for column in columns)
        if all(name in specs for name in names) and names not in result:
            result.append(names)
    return result


_OPERATORS: dict[str, Any] = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                              ">=": operator.ge}
_COMPARISON_CODES = {"<": "less_than_field", "<=": "less_than_equal_field",
                     ">": "greater_than_field", ">=": "greater_than_equal_field"}


def _comparisons(mapper: Mapper[Any], specs: dict[str, FieldSpec],
                 checks: list[Rule | Comparison]) -> list[Comparison]:
    """The CHECK comparisons between two columns that are both fields of the form,
    by field name."""
    names = {column.name.lower(): prop.key for prop in mapper.column_attrs
             for column in prop.columns if hasattr(column, "name")}
    found = []
    for rule in checks:
        if isinstance(rule, Comparison):
            left, right = names.get(rule.left.lower()), names.get(rule.right.lower())
            if left is not None and right is not None and left in specs and right in specs:
                found.append(Comparison(left, rule.op, right, rule.message))
    return found
