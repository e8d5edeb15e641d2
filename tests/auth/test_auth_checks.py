"""heron.auth.checks.check_user_model: the auth_user_model setting must import
(heron.auth.E004) and name a concrete user model (heron.auth.E006)."""

from __future__ import annotations

import pytest
from auth_helpers import AuthAppFactory

from heron.auth import get_user_model
from heron.auth.checks import check_user_model
from heron.exceptions import ImproperlyConfigured


@pytest.mark.parametrize("spec", ["heron.auth.user:User", "heron.auth.user.User"])
def test_the_default_user_model_passes(auth_app: AuthAppFactory, spec: str) -> None:
    assert check_user_model(auth_app(auth_user_model=spec)) == []


@pytest.mark.parametrize("spec", ["nowhere:Nobody", "heron.auth.user:Nobody", "nodots", ""])
def test_a_model_that_cannot_be_imported_is_e004(auth_app: AuthAppFactory, spec: str) -> None:
    (found,) = check_user_model(auth_app(auth_user_model=spec))
    assert found.id == "heron.auth.E004"
    assert repr(spec) in found.message
    assert "package.module:Class" in found.message


@pytest.mark.parametrize("spec", [
    "heron.auth.models:AbstractBaseUser",  # abstract: no table
    "heron.auth.models:AbstractUser",
    "heron.auth.models:Group",  # a model, but not a user
    "heron.auth:login_required",  # not a class
])
def test_something_that_is_not_a_concrete_user_model_is_e006(auth_app: AuthAppFactory,
                                                            spec: str) -> None:
    (found,) = check_user_model(auth_app(auth_user_model=spec))
    assert found.id == "heron.auth.E006"
    assert repr(spec) in found.message
    assert "AbstractUser" in found.message


@pytest.mark.parametrize("spec", ["nowhere:Nobody", "heron.auth.models:Group"])
def test_the_check_and_get_user_model_agree(auth_app: AuthAppFactory, spec: str) -> None:
    app = auth_app(auth_user_model=spec)
    (found,) = check_user_model(app)
    with pytest.raises(ImproperlyConfigured) as caught:
        get_user_model(app)
    assert (caught.value.id, caught.value.message) == (found.id, found.message)


def test_the_check_leaves_the_app_as_it_was(auth_app: AuthAppFactory) -> None:
    app = auth_app()
    before = dict(app.extensions)
    assert check_user_model(app) == []
    assert app.extensions == before
