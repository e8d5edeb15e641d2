"""heron's own user model, used unless the ``auth_user_model`` setting names another.

This module is imported only when it is the chosen model, so that a project
with its own user model has no ``auth_user`` table.
"""

from __future__ import annotations

from heron.auth.models import AbstractUser

__all__ = ["User"]


class User(AbstractUser):
    """A user: username (unique whatever its case), email, password hash, flags,
    groups and permissions.  See :class:`heron.auth.AbstractUser`."""

    __tablename__ = "auth_user"
