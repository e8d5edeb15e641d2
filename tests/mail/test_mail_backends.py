"""The console, file and memory backends, choosing a backend (heron.mail.E001, E004,
E005), and the EmailMessage model: recipients, headers, attachments (issue 5)."""

from __future__ import annotations

import email
import email.policy
import sys
import textwrap
from collections.abc import Callable, Sequence
from email.message import EmailMessage as StdlibMessage
from pathlib import Path

import pytest

from heron import App, Settings
from heron.exceptions import ImproperlyConfigured
from heron.mail import (
    ConsoleBackend,
    EmailMessage,
    FileBackend,
    MailBackend,
    Mailer,
    MemoryBackend,
    SMTPBackend,
    mailer,
    send_mail,
)

AppFactory = Callable[..., App]


def parse(data: bytes) -> StdlibMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, StdlibMessage)
    return parsed


# -- console --------------------------------------------------------------------------


async def test_console_backend_prints_each_message(make_app: AppFactory,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(mail_backend="console", default_from_email="site@example.com")
    first = EmailMessage(subject="First", body="One", to=["ada@example.com"],
                         bcc=["hidden@example.com"])
    second = EmailMessage(subject="Second", body="Two", to=["grace@example.com"],
                          html="<p>Two</p>")

    assert await mailer(app).send(first, second) == 2

    out = capsys.readouterr().out
    assert isinstance(mailer(app).backend, ConsoleBackend)
    blocks = [block for block in out.split("-" * 72 + "\n") if block.strip()]
    assert len(blocks) == 2
    printed = parse(blocks[0].encode())
    assert (printed["Subject"], printed["From"], printed["To"]) == (
        "First", "site@example.com", "ada@example.com")
    assert printed.get_content().strip() == "One"
    assert "hidden@example.com" not in out  # Bcc is never shown
    assert "Content-Type: multipart/alternative" in blocks[1]
    assert "<p>Two</p>" in blocks[1]


async def test_console_backend_refuses_header_injection(
        make_app: AppFactory, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(mail_backend="console")

    with pytest.raises(ValueError, match="line breaks"):
        await send_mail(app, "Hi\r\nBcc: victim@example.com", "b", ["ada@example.com"])
    assert capsys.readouterr().out == ""


# -- file -----------------------------------------------------------------------------


async def test_file_backend_writes_eml_files_that_parse(make_app: AppFactory,
                                                       tmp_path: Path) -> None:
    app = make_app(mail_backend="file", root=tmp_path)
    attachment = bytes(range(256))

    await send_mail(app, "Grüße", "Hallo ✓", ["ada@example.com"], html="<p>Hallo ✓</p>",
                    attachments=[("data.bin", attachment, "application/octet-stream")])
    await send_mail(app, "Second", "b", ["grace@example.com"])

    folder = tmp_path / "instance" / "mail"
    files = sorted(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
    assert len(files) == 2
    assert {path.suffix for path in folder.iterdir()} == {".eml"}
    parsed = [parse(path.read_bytes()) for path in files]
    subjects = {message["Subject"] for message in parsed}
    assert subjects == {"Grüße", "Second"}
    (first,) = [message for message in parsed if message["Subject"] == "Grüße"]
    body = first.get_body(preferencelist=("plain",))
    html = first.get_body(preferencelist=("html",))
    assert body is not None
    assert html is not None
    assert body.get_content() == "Hallo ✓\n"
    assert html.get_content() == "<p>Hallo ✓</p>\n"
    (part,) = first.iter_attachments()
    assert (part.get_filename(), part.get_payload(decode=True)) == ("data.bin", attachment)


async def test_file_backend_folder_is_relative_to_the_root(make_app: AppFactory,
                                                          tmp_path: Path) -> None:
    app = make_app(mail_backend="file", mail_file_dir="outbox/dev", root=tmp_path)
    backend = mailer(app).backend
    assert isinstance(backend, FileBackend)

    await send_mail(app, "s", "b", ["ada@example.com"])

    assert backend.folder == tmp_path / "outbox" / "dev"
    assert len(list(backend.folder.glob("*.eml"))) == 1


async def test_file_backend_writes_nothing_for_a_bad_message(make_app: AppFactory,
                                                            tmp_path: Path) -> None:
    app = make_app(mail_backend="file", root=tmp_path)

    with pytest.raises(ValueError, match="line breaks"):
        await send_mail(app, "s", "b", ["ada@example.com\nBcc: victim@example.com"])
    assert list((tmp_path / "instance" / "mail").glob("*.eml")) == []


# -- memory ---------------------------------------------------------------------------


async def test_memory_backend_keeps_messages_in_the_outbox(make_app: AppFactory) -> None:
    app = make_app(mail_backend="memory")

    assert mailer(app).outbox == []
    await send_mail(app, "Welcome", "Hello", ["ada@example.com"], cc=["boss@example.com"])
    await send_mail(app, "Again", "Hello", ["grace@example.com"])

    outbox = mailer(app).outbox
    assert [message.subject for message in outbox] == ["Welcome", "Again"]
    assert outbox[0].to == ["ada@example.com"]
    assert outbox[0].recipients() == ["ada@example.com", "boss@example.com"]
    assert mailer(app) is mailer(app)  # one Mailer per app
    outbox.clear()  # tests may empty it
    assert mailer(app).outbox == []


async def test_memory_backend_checks_messages_like_a_real_send(make_app: AppFactory) -> None:
    app = make_app(mail_backend="memory")

    with pytest.raises(ValueError, match="line breaks"):
        await send_mail(app, "Hi\nX-Evil: 1", "b", ["ada@example.com"])
    assert mailer(app).outbox == []


def test_the_outbox_exists_only_with_the_memory_backend(make_app: AppFactory) -> None:
    app = make_app(mail_backend="console")

    with pytest.raises(RuntimeError, match="mail_backend = 'memory'"):
        _ = mailer(app).outbox


def test_each_app_has_its_own_mailer(make_app: AppFactory) -> None:
    first, second = make_app(mail_backend="memory"), make_app(mail_backend="memory")
    assert mailer(first) is not mailer(second)
    assert isinstance(mailer(first), Mailer)


# -- choosing a backend ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "backend"),
    [("smtp", SMTPBackend), ("console", ConsoleBackend), ("file", FileBackend),
     ("memory", MemoryBackend)],
)
def test_backend_names(make_app: AppFactory, name: str, backend: type[MailBackend]) -> None:
    assert type(mailer(make_app(mail_backend=name)).backend) is backend


def test_smtp_is_the_default_backend(make_app: AppFactory) -> None:
    assert isinstance(mailer(make_app()).backend, SMTPBackend)


@pytest.mark.parametrize(("name", "problem_id"), [
    ("carrier-pigeon", "heron.mail.E001"), ("SMTP", "heron.mail.E001"),
    ("no.such.module:Backend", "heron.mail.E004"), ("heron.mail:nothing", "heron.mail.E004"),
    ("heron.mail.backends:MailBackend.nope", "heron.mail.E004"),
    ("heron.mail.message:EmailMessage", "heron.mail.E005"),
])
def test_a_bad_backend_name_names_the_backends(make_app: AppFactory, name: str,
                                               problem_id: str) -> None:
    app = make_app(mail_backend=name)

    with pytest.raises(ImproperlyConfigured, match="smtp, console, file, memory") as caught:
        mailer(app)
    assert caught.value.id == problem_id
    assert repr(name) in str(caught.value)


def test_an_unknown_backend_from_the_environment(make_app: AppFactory,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_MAIL_BACKEND", "sendgrid")
    app = make_app()

    with pytest.raises(ImproperlyConfigured) as caught:
        mailer(app)
    assert caught.value.id == "heron.mail.E001"


async def test_a_backend_of_your_own(make_app: AppFactory, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_mail_backend.py").write_text(textwrap.dedent("""
        from heron.mail import MailBackend

        class Recorder(MailBackend):
            sent = []

            async def send(self, messages):
                self.sent.extend(message.to_mime(self.default_from) for message in messages)
                return len(messages)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_mail_backend", raising=False)
    app = make_app(mail_backend="my_mail_backend:Recorder", default_from_email="me@example.com")

    assert await send_mail(app, "Custom", "b", ["ada@example.com"]) == 1

    backend = mailer(app).backend
    assert type(backend).__name__ == "Recorder"
    (sent,) = backend.sent  # type: ignore[attr-defined]
    assert (sent["Subject"], sent["From"]) == ("Custom", "me@example.com")


# -- the message ----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["to", "cc", "bcc", "reply_to"])
def test_a_single_address_string_is_refused(field: str) -> None:
    values: dict[str, object] = {"subject": "s", "body": "b", "to": ["a@example.com"],
                                 field: "ada@example.com"}
    with pytest.raises(TypeError, match=f"{field} must be a list"):
        EmailMessage(**values)  # type: ignore[arg-type]


async def test_send_mail_refuses_a_string_for_to(make_app: AppFactory) -> None:
    app = make_app(mail_backend="memory")
    to: Sequence[str] = "ada@example.com"  # a str is a Sequence[str]: type checkers allow it

    with pytest.raises(TypeError, match="list of addresses"):
        await send_mail(app, "s", "b", to)
    assert mailer(app).outbox == []


def test_a_bcc_only_message_has_no_empty_to_header() -> None:
    mime = EmailMessage(subject="News", body="b", to=[],
                        bcc=["a@example.com", "b@example.com"]).to_mime("site@example.com")
    assert "To" not in mime
    assert "Bcc" not in mime
    assert b"a@example.com" not in mime.as_bytes()


def test_headers_add_and_replace() -> None:
    message = EmailMessage(subject="s", body="b", to=["a@example.com"],
                           reply_to=["help@example.com"],
                           headers={"Message-ID": "<thread-1@example.com>",
                                    "Reply-To": "other@example.com", "X-Priority": "1"})
    mime = message.to_mime("site@example.com")
    assert mime.get_all("Message-ID") == ["<thread-1@example.com>"]
    assert mime.get_all("Reply-To") == ["other@example.com"]
    assert mime["X-Priority"] == "1"


@pytest.mark.parametrize("name", ["", "X Tag", "X:Tag", "X-Tag\n", "Tëst"])
def test_invalid_header_names_are_refused(name: str) -> None:
    message = EmailMessage(subject="s", body="b", to=["a@example.com"], headers={name: "v"})
    with pytest.raises(ValueError, match=r"header name|line breaks"):
        message.to_mime("site@example.com")


def test_message_id_uses_the_sender_domain() -> None:
    mime = EmailMessage(subject="s", body="b", to=["a@example.com"]).to_mime(
        "Heron <noreply@mail.example.com>")
    assert mime["Message-ID"].endswith("@mail.example.com>")
    assert mime["Date"]


@pytest.mark.parametrize(
    ("filename", "mimetype", "expected"),
    [("report.pdf", "application/pdf", "application/pdf"),
     ("notes.txt", "", "text/plain"),
     ("picture.png", "", "image/png"),
     ("data", "", "application/octet-stream"),
     ("data", "application", "application/octet-stream")],
)
def test_attachment_types(filename: str, mimetype: str, expected: str) -> None:
    message = EmailMessage(subject="s", body="b", to=["a@example.com"],
                           attachments=[(filename, b"content", mimetype)])
    (part,) = parse(message.to_mime("site@example.com").as_bytes()).iter_attachments()
    assert part.get_content_type() == expected
    assert (part.get_filename(), part.get_payload(decode=True)) == (filename, b"content")


# -- settings -------------------------------------------------------------------------


def test_mail_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"BACKEND": "console", "HOST": "smtp.example.com", "PORT": "587",
                        "USE_STARTTLS": "true", "TIMEOUT": "2.5", "USERNAME": "mailer",
                        "PASSWORD": "s3cret", "SSL_CAFILE": "/etc/ssl/corp-ca.pem"}.items():
        monkeypatch.setenv(f"HERON_MAIL_{name}", value)
    settings = Settings()
    assert (settings.mail_backend, settings.mail_host, settings.mail_port) == (
        "console", "smtp.example.com", 587)
    assert (settings.mail_use_starttls, settings.mail_use_tls) == (True, False)
    assert settings.mail_timeout == 2.5
    assert settings.mail_ssl_cafile == "/etc/ssl/corp-ca.pem"
    assert "s3cret" not in repr(settings)
    assert "mail_password" not in settings.public()
    assert Settings(mail_ssl_cafile=None).mail_ssl_cafile is None
