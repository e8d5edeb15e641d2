"""heron.mail.checks.check_mail: the mail_backend setting (heron.mail.E001, E004, E005) and
the SMTP backend's TLS settings (E002, E003), found without sending anything."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from heron import App
from heron.exceptions import ImproperlyConfigured
from heron.mail import mailer
from heron.mail.checks import check_mail

AppFactory = Callable[..., App]


def ids(problems: list[ImproperlyConfigured]) -> list[str]:
    return [problem.id for problem in problems]


@pytest.mark.parametrize("name", ["smtp", "console", "file", "memory"])
def test_the_built_in_backends_pass(make_app: AppFactory, name: str) -> None:
    assert check_mail(make_app(mail_backend=name)) == []


def test_the_check_makes_no_mailer(make_app: AppFactory) -> None:
    app = make_app(mail_backend="memory")
    check_mail(app)
    assert "heron.mail" not in app.extensions


@pytest.mark.parametrize("name", ["carrier-pigeon", "sendgrid", "SMTP", ""])
def test_an_unknown_name_is_e001_listing_the_backends(make_app: AppFactory, name: str) -> None:
    (found,) = check_mail(make_app(mail_backend=name))
    assert found.id == "heron.mail.E001"
    assert repr(name) in found.message
    assert "smtp, console, file, memory" in found.message


def test_a_name_in_the_wrong_case_suggests_the_right_one(make_app: AppFactory) -> None:
    (found,) = check_mail(make_app(mail_backend="Console"))
    assert "did you mean 'console'?" in found.message


@pytest.mark.parametrize("name", ["no_such_module_xyz:Backend", "no.such.module.Backend",
                                  "heron.mail:NoSuchBackend", ":Backend"])
def test_a_path_that_cannot_be_imported_is_e004(make_app: AppFactory, name: str) -> None:
    (found,) = check_mail(make_app(mail_backend=name))
    assert found.id == "heron.mail.E004"
    assert repr(name) in found.message
    assert "cannot be imported" in found.message


@pytest.mark.parametrize("name", ["heron.mail.message:EmailMessage", "heron.mail:mailer",
                                  "pathlib:Path"])
def test_a_path_to_something_else_than_a_backend_is_e005(make_app: AppFactory,
                                                         name: str) -> None:
    (found,) = check_mail(make_app(mail_backend=name))
    assert found.id == "heron.mail.E005"
    assert "not a MailBackend subclass" in found.message


def test_a_backend_of_your_own_passes_and_is_not_made(make_app: AppFactory, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Its constructor might connect somewhere: the check only imports the class.
    (tmp_path / "checked_mail_backend.py").write_text(textwrap.dedent("""
        from heron.mail import MailBackend

        class Api(MailBackend):
            def __init__(self, settings, root):
                raise AssertionError("made by the check")

            async def send(self, messages):
                return 0
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "checked_mail_backend", raising=False)
    assert check_mail(make_app(mail_backend="checked_mail_backend:Api")) == []


@pytest.mark.parametrize("name", ["sendgrid", "no_such_module_xyz:Backend",
                                  "heron.mail.message:EmailMessage"])
def test_the_check_and_the_first_send_agree(make_app: AppFactory, name: str) -> None:
    app = make_app(mail_backend=name)
    (found,) = check_mail(app)
    with pytest.raises(ImproperlyConfigured) as caught:
        mailer(app)
    assert (caught.value.id, caught.value.message) == (found.id, found.message)


def test_implicit_tls_with_starttls_is_e002(make_app: AppFactory) -> None:
    app = make_app(mail_use_tls=True, mail_use_starttls=True)
    assert ids(check_mail(app)) == ["heron.mail.E002"]


def test_an_unreadable_cafile_is_e003(make_app: AppFactory, tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    app = make_app(mail_use_starttls=True, mail_ssl_cafile="ca.pem", root=tmp_path)
    (found,) = check_mail(app)
    assert found.id == "heron.mail.E003"
    assert "ca.pem" in found.message


def test_tls_settings_of_another_backend_are_not_checked(make_app: AppFactory) -> None:
    # They matter only to SMTP; a console backend in development may keep them.
    app = make_app(mail_backend="console", mail_use_tls=True, mail_use_starttls=True)
    assert check_mail(app) == []
