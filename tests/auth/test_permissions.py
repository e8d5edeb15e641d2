"""Permission rows made on migrate: view/add/change/delete for every model of the
app, custom ``__permissions__``, component labels, and no duplicates."""

from __future__ import annotations

import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_helpers import AuthAppFactory
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from heron import App
from heron.auth import Permission
from heron.auth.permissions import component_label, model_permissions, sync_permissions
from heron.db import db
from heron.db.migrations import Migrations
from heron.testing.database import clean_tables, prepare_schema

#: A component with a model declaring a permission of its own (its table is unique
#: to this module: models share one metadata in the test process).
CATALOG = {
    "__init__.py": 'component_name = "catalog"\n',
    "models.py": """
        from sqlalchemy.orm import Mapped, mapped_column

        from heron.db import Model


        class PhotoAlbum(Model):
            __tablename__ = "authperm_photo_album"
            __permissions__ = [("publish_photo_album", "Can publish albums")]

            id: Mapped[int] = mapped_column(primary_key=True)
    """,
}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[types.ModuleType]:
    """The ``authperm_catalog`` component package, importable for the whole module."""
    root = tmp_path_factory.mktemp("components")
    package = root / "authperm_catalog"
    package.mkdir()
    for name, source in CATALOG.items():
        (package / name).write_text(textwrap.dedent(source))
    sys.path.insert(0, str(root))
    try:
        yield __import__("authperm_catalog")
    finally:
        sys.path.remove(str(root))


@pytest.fixture
def app(auth_app: AuthAppFactory, catalog: types.ModuleType) -> App:
    return auth_app(components=["heron.auth", "authperm_catalog"])


def keys(session: Session) -> dict[str, str]:
    """``{"component.codename": name}`` of every permission row."""
    return {p.key: p.name for p in session.scalars(select(Permission))}


def test_migrate_makes_the_model_permissions(app: App, db_session: Session) -> None:
    found = keys(db_session)
    for model in ("user", "group", "permission"):
        for action in ("view", "add", "change", "delete"):
            assert f"auth.{action}_{model}" in found
    assert found["auth.change_user"] == "Can change user"
    # the component's model, under the component's name
    for action in ("view", "add", "change", "delete"):
        assert found[f"catalog.{action}_photo_album"] == f"Can {action} photo album"
    row = db_session.scalars(select(Permission).filter_by(codename="view_photo_album")).one()
    assert (row.component, row.model, str(row)) == ("catalog", "photo_album",
                                                     "catalog.view_photo_album")


def test_a_model_declares_more_permissions(app: App, db_session: Session) -> None:
    assert keys(db_session)["catalog.publish_photo_album"] == "Can publish albums"
    from authperm_catalog.models import PhotoAlbum  # type: ignore[import-not-found]

    assert model_permissions(PhotoAlbum)[-1] == ("publish_photo_album", "Can publish albums")


def test_migrate_again_adds_nothing(app: App, db_session: Session) -> None:
    count = db_session.scalar(select(func.count()).select_from(Permission))
    assert count
    Migrations(app).migrate()  # a second `heron db migrate`
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Permission)) == count
    assert sync_permissions(app, db_session) == []


def test_rows_removed_by_hand_come_back_and_others_stay(app: App, db_session: Session) -> None:
    row = db_session.scalars(select(Permission).filter_by(codename="change_group")).one()
    db_session.delete(row)
    db_session.add(Permission(component="legacy", model="thing", codename="frob_thing",
                              name="Can frob"))
    db_session.flush()
    added = sync_permissions(app, db_session)
    assert [p.key for p in added] == ["auth.change_group"]
    assert "legacy.frob_thing" in keys(db_session)  # never deleted


def test_component_labels(app: App, catalog: types.ModuleType) -> None:
    from authperm_catalog.models import PhotoAlbum

    from heron.auth.user import User

    assert component_label(app, PhotoAlbum) == "catalog"
    assert component_label(app, User) == "auth"
    assert component_label(app, User.token_model) == "auth"
    own = type("Invoice", (), {"__module__": "myproject.billing"})
    assert component_label(app, own) == "app"
    nested = type("Thing", (), {"__module__": "authperm_catalog.admin.things"})
    assert component_label(app, nested) == "catalog"
    lookalike = type("Thing", (), {"__module__": "authperm_catalogue.models"})
    assert component_label(app, lookalike) == "app"


def test_after_create_all_the_rows_are_made_on_request(auth_app: AuthAppFactory,
                                                       tmp_path: Path) -> None:
    """Without migrations: ``db.create_all`` then ``sync_permissions`` by hand."""
    app = auth_app(database_url=f"sqlite:///{tmp_path / 'plain.sqlite3'}")
    db.create_all(app)
    with db.context(app):
        added = sync_permissions(app, db.session)
        db.session.commit()
        assert "auth.delete_user" in {p.key for p in added}
        assert sync_permissions(app, db.session) == []


def test_a_migration_target_before_heron_auth(auth_app: AuthAppFactory, tmp_path: Path) -> None:
    app = auth_app(database_url=f"sqlite:///{tmp_path / 'partial.sqlite3'}")
    migrations = Migrations(app)
    migrations.migrate("heron@head")  # no permission table yet: nothing to fill
    with db.context(app):
        assert not inspect(db.session.connection()).has_table("auth_permission")
    migrations.migrate()
    with db.context(app):
        assert "auth.view_user" in keys(db.session)


def test_emptied_tables_get_their_permission_rows_back(auth_app: AuthAppFactory,
                                                      tmp_path: Path) -> None:
    """``db_clean`` empties every table after a test; the next test on the same
    database still finds the rows migrating made."""
    app = auth_app(database_url=f"sqlite:///{tmp_path / 'cleaned.sqlite3'}")
    prepare_schema(app)
    clean_tables(app)
    with db.context(app):
        assert "auth.change_user" in keys(db.session)
