"""SMTPBackend against a real SMTP server (aiosmtpd on 127.0.0.1): plain, STARTTLS and
implicit TLS with certificate verification, AUTH, alternatives, attachments, Cc/Bcc,
header injection, unreachable servers, and sending from sync and async views (issue 5)."""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import FROM, IMPLICIT_TLS_AUTH, PASSWORD, PLAIN_AUTH, STARTTLS_AUTH, USERNAME

from heron import App, Request, run_async
from heron.exceptions import ImproperlyConfigured
from heron.mail import EmailMessage, MailTimeout, SMTPBackend, mailer, send_mail
from heron.testing import TestClient
from heron.testing.smtp import ReceivedMessage, SMTPServer

AppFactory = Callable[..., App]

# -- delivery, TLS and AUTH ----------------------------------------------------------------


async def test_plain_smtp_delivers_the_message(smtp_app: App, smtp_server: SMTPServer) -> None:
    sent = await send_mail(smtp_app, "Hello", "Plain text body.", ["ada@example.com"])

    assert sent == 1
    (received,) = smtp_server.wait_for(1)
    assert received.sender == "noreply@example.com"
    assert received.recipients == ("ada@example.com",)
    assert received.subject == "Hello"
    assert received.text == "Plain text body.\n"
    assert received.html is None
    assert received.message["From"] == FROM
    assert received.message["To"] == "ada@example.com"
    assert received.message["Message-ID"].endswith("@example.com>")
    assert received.message["Date"]
    assert (received.tls, received.login) == (False, None)


@pytest.mark.parametrize(
    ("smtp_server", "login"),
    [({}, None), (PLAIN_AUTH, USERNAME), (STARTTLS_AUTH, USERNAME),
     (IMPLICIT_TLS_AUTH, USERNAME), ({"starttls": True}, None), ({"implicit_tls": True}, None)],
    indirect=["smtp_server"],
    ids=["plain", "plain-auth", "starttls-auth", "implicit-tls-auth", "starttls", "implicit-tls"],
)
async def test_every_transport_delivers(smtp_app: App, smtp_server: SMTPServer,
                                        login: str | None) -> None:
    await send_mail(smtp_app, "Transport", "Body", ["ada@example.com"])

    (received,) = smtp_server.wait_for(1)
    assert received.tls is smtp_server.tls
    assert received.login == login
    assert received.subject == "Transport"


@pytest.mark.parametrize("smtp_server", [{"starttls": True}, {"implicit_tls": True}],
                         indirect=True, ids=["starttls", "implicit-tls"])
async def test_tls_verifies_the_server_certificate(make_app: AppFactory,
                                                   smtp_server: SMTPServer) -> None:
    """Without mail_ssl_cafile the system's authorities are used, and they do not know the
    test CA: the handshake fails instead of sending in the clear or unverified."""
    settings = smtp_server.mail_settings()
    del settings["mail_ssl_cafile"]
    app = make_app(**settings)

    with pytest.raises(ssl.SSLCertVerificationError):
        await send_mail(app, "Unverified", "Body", ["ada@example.com"])
    assert smtp_server.messages == []


@pytest.mark.parametrize("smtp_server", [{"implicit_tls": True}], indirect=True)
async def test_tls_checks_the_host_name(make_app: AppFactory, smtp_server: SMTPServer) -> None:
    """The certificate names 127.0.0.1 and localhost: both connect, host name checked."""
    for host in ("127.0.0.1", "localhost"):
        app = make_app(**{**smtp_server.mail_settings(), "mail_host": host})
        context = mailer(app).backend.ssl_context  # type: ignore[attr-defined]
        assert context.check_hostname is True
        assert context.verify_mode == ssl.CERT_REQUIRED
        await send_mail(app, f"via {host}", "Body", ["ada@example.com"])
    assert [r.subject for r in smtp_server.wait_for(2)] == ["via 127.0.0.1", "via localhost"]


@pytest.mark.parametrize("smtp_server", [{"implicit_tls": True}], indirect=True)
async def test_mail_ssl_cafile_is_relative_to_the_app_root(make_app: AppFactory,
                                                           smtp_server: SMTPServer,
                                                           tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_bytes(smtp_server.ca_file.read_bytes())
    app = make_app(**{**smtp_server.mail_settings(), "mail_ssl_cafile": "certs/ca.pem"},
                   root=tmp_path)

    await send_mail(app, "Relative CA file", "Body", ["ada@example.com"])
    assert smtp_server.wait_for(1)[0].tls


@pytest.mark.parametrize("smtp_server", [{"starttls": True}], indirect=True)
async def test_a_server_requiring_starttls_refuses_a_plain_client(
        make_app: AppFactory, smtp_server: SMTPServer) -> None:
    app = make_app(**{**smtp_server.mail_settings(), "mail_use_starttls": False})

    with pytest.raises(smtplib.SMTPSenderRefused) as caught:
        await send_mail(app, "Plain", "Body", ["ada@example.com"])
    assert caught.value.smtp_code == 530
    assert smtp_server.messages == []


@pytest.mark.parametrize("smtp_server", [PLAIN_AUTH, STARTTLS_AUTH, IMPLICIT_TLS_AUTH],
                         indirect=True, ids=["plain", "starttls", "implicit-tls"])
async def test_a_wrong_password_is_a_clear_error_without_the_password(
        make_app: AppFactory, smtp_server: SMTPServer) -> None:
    wrong = "Wrong-Password-1234"
    app = make_app(**{**smtp_server.mail_settings(), "mail_password": wrong})

    with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
        await send_mail(app, "Secret", "Body", ["ada@example.com"])

    error = caught.value
    assert error.smtp_code == 535
    report = "".join(traceback.format_exception(error)) + repr(error) + str(error.args)
    assert f"{smtp_server.host}:{smtp_server.port}" in report  # the note names the server
    for secret in (wrong, PASSWORD):
        assert secret not in report
    assert wrong not in repr(app.settings)
    assert smtp_server.messages == []
    assert smtp_server.auth_failures >= 1


@pytest.mark.parametrize("smtp_server", [PLAIN_AUTH], indirect=True)
async def test_a_server_requiring_auth_refuses_an_anonymous_client(
        make_app: AppFactory, smtp_server: SMTPServer) -> None:
    app = make_app(**{**smtp_server.mail_settings(), "mail_username": None,
                      "mail_password": None})

    with pytest.raises(smtplib.SMTPSenderRefused) as caught:
        await send_mail(app, "Anonymous", "Body", ["ada@example.com"])
    assert caught.value.smtp_code == 530
    assert smtp_server.messages == []


# -- what the message carries ---------------------------------------------------------


async def test_html_and_text_alternatives_arrive_intact(smtp_app: App,
                                                        smtp_server: SMTPServer) -> None:
    text = "Grüße, Ada — your code is 123456.\nSee you ✓\n"
    html = "<p>Grüße, <b>Ada</b> — your code is <code>123456</code>.</p>\n"

    await send_mail(smtp_app, "Vérification ✓", text, ["ada@example.com"], html=html)

    (received,) = smtp_server.wait_for(1)
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain", "text/html"]  # the preferred part last (RFC 2046)
    assert received.subject == "Vérification ✓"
    assert received.text == text
    assert received.html == html
    assert b"Subject: =?utf-8?" in received.raw  # encoded for the wire


async def test_attachments_arrive_with_name_type_and_bytes(smtp_app: App,
                                                           smtp_server: SMTPServer) -> None:
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40
    csv = b"name,score\nada,10\n"
    message = EmailMessage(
        subject="Report", body="Attached.", to=["ada@example.com"], html="<p>Attached.</p>",
        attachments=[("report.pdf", pdf, "application/pdf"), ("scores.csv", csv, "text/csv"),
                     ("blob", b"\x00\x01", "")],
    )

    assert await mailer(smtp_app).send(message) == 1

    (received,) = smtp_server.wait_for(1)
    assert received.message.get_content_type() == "multipart/mixed"
    assert received.text == "Attached.\n"
    assert received.html == "<p>Attached.</p>\n"
    attachments = {
        part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))
        for part in received.message.iter_attachments()
    }
    assert attachments == {
        "report.pdf": ("application/pdf", pdf),
        "scores.csv": ("text/csv", csv),
        "blob": ("application/octet-stream", b"\x00\x01"),
    }


async def test_cc_is_a_header_and_bcc_only_an_envelope_recipient(
        smtp_app: App, smtp_server: SMTPServer) -> None:
    await send_mail(smtp_app, "Team", "Hello all", ["ada@example.com", "Grace <grace@example.com>"],
                    cc=["linus@example.com"], bcc=["secret@example.com"],
                    reply_to=["support@example.com"], from_email="ops@example.com")

    (received,) = smtp_server.wait_for(1)
    assert received.recipients == ("ada@example.com", "grace@example.com",
                                   "linus@example.com", "secret@example.com")
    assert received.sender == "ops@example.com"
    assert received.message["To"] == "ada@example.com, Grace <grace@example.com>"
    assert received.message["Cc"] == "linus@example.com"
    assert received.message["Reply-To"] == "support@example.com"
    assert received.message["Bcc"] is None
    assert b"secret@example.com" not in received.raw


async def test_several_messages_share_one_connection(smtp_app: App,
                                                     smtp_server: SMTPServer) -> None:
    messages = [EmailMessage(subject=f"n{n}", body="b", to=[f"u{n}@example.com"])
                for n in range(3)]

    assert await mailer(smtp_app).send(*messages) == 3

    received = smtp_server.wait_for(3)
    assert [r.subject for r in received] == ["n0", "n1", "n2"]
    assert await mailer(smtp_app).send() == 0


async def test_custom_headers_reach_the_server(smtp_app: App, smtp_server: SMTPServer) -> None:
    await send_mail(smtp_app, "Thread", "b", ["ada@example.com"],
                    headers={"X-Campaign": "spring", "Message-ID": "<fixed@example.com>"})

    (received,) = smtp_server.wait_for(1)
    assert received.message["X-Campaign"] == "spring"
    assert received.message.get_all("Message-ID") == ["<fixed@example.com>"]


# -- header injection -----------------------------------------------------------------

INJECTIONS = [
    pytest.param({"subject": "Hi\r\nBcc: victim@example.com"}, id="subject"),
    pytest.param({"subject": "Hi\nX-Evil: 1"}, id="subject-lf"),
    pytest.param({"to": ["ada@example.com\r\nBcc: victim@example.com"]}, id="to"),
    pytest.param({"cc": ["ada@example.com\nBcc: victim@example.com"]}, id="cc"),
    pytest.param({"bcc": ["ada@example.com\r\nRCPT TO:<victim@example.com>"]}, id="bcc"),
    pytest.param({"reply_to": ["a@example.com\rBcc: victim@example.com"]}, id="reply-to"),
    pytest.param({"from_email": "me@example.com\r\nBcc: victim@example.com"}, id="from"),
    pytest.param({"headers": {"X-Tag": "a\r\nBcc: victim@example.com"}}, id="header-value"),
    pytest.param({"headers": {"X-Tag\r\nBcc": "victim@example.com"}}, id="header-name"),
    pytest.param({"headers": {"Bcc: victim@example.com\r\nX": "1"}}, id="header-name-colon"),
]


@pytest.mark.parametrize("fields", INJECTIONS)
async def test_header_injection_is_refused_and_nothing_is_sent(
        smtp_app: App, smtp_server: SMTPServer, fields: dict[str, object]) -> None:
    values: dict[str, object] = {"subject": "Hi", "body": "b", "to": ["ada@example.com"],
                                 **fields}
    bad = EmailMessage(**values)  # type: ignore[arg-type]
    good = EmailMessage(subject="Fine", body="b", to=["ada@example.com"])

    with pytest.raises(ValueError, match=r"line breaks|header name"):
        await mailer(smtp_app).send(good, bad)  # all or nothing
    assert smtp_server.messages == []


# -- unreachable servers --------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections (kernel backlog) but never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A port whose connection attempts get no answer at all, like a firewalled host: a
    listening socket whose backlog is full, so that Linux drops further SYNs."""
    with socket.socket() as sock, socket.socket() as filler:
        sock.bind(("127.0.0.1", 0))
        sock.listen(0)
        port: int = sock.getsockname()[1]
        filler.connect(("127.0.0.1", port))  # fills the backlog
        probe = socket.socket()
        probe.settimeout(0.2)
        try:
            probe.connect(("127.0.0.1", port))
        except TimeoutError:
            pass
        else:
            pytest.skip("this system answers connections beyond a full backlog")
        finally:
            probe.close()
        yield port


async def test_a_closed_port_fails_at_once_and_names_the_server(make_app: AppFactory) -> None:
    port = _closed_port()
    app = make_app(mail_host="127.0.0.1", mail_port=port, mail_timeout=5.0)

    started = time.monotonic()
    with pytest.raises(ConnectionRefusedError) as caught:
        await send_mail(app, "Nobody home", "b", ["ada@example.com"])
    assert time.monotonic() - started < 2
    assert any(f"127.0.0.1:{port}" in note for note in caught.value.__notes__)


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "implicit-tls"])
async def test_an_unanswered_connection_times_out_after_mail_timeout(
        make_app: AppFactory, unanswered_port: int, tls: bool) -> None:
    app = make_app(mail_host="127.0.0.1", mail_port=unanswered_port, mail_timeout=0.5,
                   mail_use_tls=tls)

    started = time.monotonic()
    with pytest.raises(MailTimeout, match=rf"127\.0\.0\.1:{unanswered_port} .* within "
                                          r"mail_timeout \(0\.5 s\)"):
        await send_mail(app, "Hello?", "b", ["ada@example.com"])
    assert 0.4 < time.monotonic() - started < 3


async def test_a_server_that_never_greets_times_out_after_mail_timeout(
        make_app: AppFactory, silent_server: int) -> None:
    app = make_app(mail_host="127.0.0.1", mail_port=silent_server, mail_timeout=0.5)

    started = time.monotonic()
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out") as caught:
        await send_mail(app, "Hello?", "b", ["ada@example.com"])
    assert 0.4 < time.monotonic() - started < 3
    assert any(f"127.0.0.1:{silent_server}" in note for note in caught.value.__notes__)


async def test_a_tls_handshake_that_never_ends_times_out_after_mail_timeout(
        make_app: AppFactory, silent_server: int) -> None:
    app = make_app(mail_host="127.0.0.1", mail_port=silent_server, mail_timeout=0.5,
                   mail_use_tls=True)

    started = time.monotonic()
    with pytest.raises(MailTimeout, match="handshake") as caught:
        await send_mail(app, "Hello?", "b", ["ada@example.com"])
    assert 0.4 < time.monotonic() - started < 3
    assert isinstance(caught.value, TimeoutError)  # except TimeoutError still catches it


# -- configuration --------------------------------------------------------------------


def test_implicit_tls_and_starttls_together_is_heron_mail_e002(make_app: AppFactory) -> None:
    app = make_app(mail_use_tls=True, mail_use_starttls=True)

    with pytest.raises(ImproperlyConfigured) as caught:
        mailer(app)
    assert caught.value.id == "heron.mail.E002"


@pytest.mark.parametrize("content", [None, b"not a certificate\n"], ids=["missing", "garbage"])
def test_an_unreadable_mail_ssl_cafile_is_heron_mail_e003(make_app: AppFactory, tmp_path: Path,
                                                         content: bytes | None) -> None:
    if content is not None:
        (tmp_path / "ca.pem").write_bytes(content)
    app = make_app(mail_use_starttls=True, mail_ssl_cafile="ca.pem", root=tmp_path)

    with pytest.raises(ImproperlyConfigured, match=r"ca\.pem") as caught:
        mailer(app)
    assert caught.value.id == "heron.mail.E003"


def test_mail_ssl_cafile_is_ignored_without_tls(make_app: AppFactory) -> None:
    app = make_app(mail_ssl_cafile="missing.pem")
    backend = mailer(app).backend
    assert isinstance(backend, SMTPBackend)
    assert backend.ssl_context is None


# -- from views -----------------------------------------------------------------------


def test_a_sync_view_sends_through_run_async(smtp_app: App, smtp_server: SMTPServer) -> None:
    @smtp_app.get("/welcome/{name}")
    def welcome(request: Request, name: str) -> dict[str, int]:
        sent = run_async(send_mail(request.app, f"Welcome {name}", "Hello!",
                                   [f"{name}@example.com"]))
        return {"sent": sent}

    with TestClient(smtp_app) as client:
        assert client.get("/welcome/ada").json() == {"sent": 1}

    (received,) = smtp_server.wait_for(1)
    assert (received.subject, received.recipients) == ("Welcome ada", ("ada@example.com",))


def test_an_async_view_awaits_send_mail(smtp_app: App, smtp_server: SMTPServer) -> None:
    @smtp_app.get("/welcome/{name}")
    async def welcome(request: Request, name: str) -> dict[str, int]:
        sent = await send_mail(request.app, f"Welcome {name}", "Hello!",
                               [f"{name}@example.com"], html=f"<p>Hello {name}</p>")
        return {"sent": sent}

    with TestClient(smtp_app) as client:
        assert client.get("/welcome/grace").json() == {"sent": 1}
        assert client.get("/welcome/linus").json() == {"sent": 1}

    received: list[ReceivedMessage] = smtp_server.wait_for(2)
    assert [r.recipients for r in received] == [("grace@example.com",), ("linus@example.com",)]
    assert received[0].html == "<p>Hello grace</p>\n"
