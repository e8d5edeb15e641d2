"""Fixtures of the mail tests: apps pointed at the plugin's real ``smtp_server``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from heron import App
from heron.testing.smtp import SMTPServer

AppFactory = Callable[..., App]

#: Credentials of the AUTH-requiring test servers.
USERNAME = "mailer"
PASSWORD = "correct horse battery staple"
FROM = "Heron <noreply@example.com>"

PLAIN_AUTH = {"username": USERNAME, "password": PASSWORD}
STARTTLS_AUTH = {"starttls": True, "username": USERNAME, "password": PASSWORD}
IMPLICIT_TLS_AUTH = {"implicit_tls": True, "username": USERNAME, "password": PASSWORD}


@pytest.fixture
def smtp_app(make_app: AppFactory, smtp_server: SMTPServer) -> App:
    """An app whose mail goes through ``smtp_server`` (its TLS and AUTH options included)."""
    return make_app(**smtp_server.mail_settings(), default_from_email=FROM)
