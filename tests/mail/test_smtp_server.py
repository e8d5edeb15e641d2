"""heron.testing.smtp: the throwaway SMTP server itself, its certificates, and the
``smtp_server`` fixture of heron's pytest plugin."""

from __future__ import annotations

import importlib.util
import shutil
import smtplib
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PASSWORD, USERNAME

from heron.testing import smtp as smtp_module
from heron.testing.servers import ServerError, ServerUnavailable
from heron.testing.smtp import SMTPServer, make_test_certificates, start_or_skip

pytest_plugins = ["pytester"]

MESSAGE = b"Subject: hi\r\nFrom: a@example.com\r\nTo: b@example.com\r\n\r\nbody\r\n"


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_start_stop_and_context_manager() -> None:
    server = SMTPServer()
    assert not server.running
    assert repr(server) == "<SMTPServer stopped>"
    with pytest.raises(ServerError, match="not running"):
        _ = server.port

    with server as started:
        assert started is server
        assert server.running
        assert server.start() is server  # already running: nothing happens
        port = server.port
        assert repr(server) == f"<SMTPServer 127.0.0.1:{port}>"
        with smtplib.SMTP(server.host, port, timeout=5) as client:
            code, banner = client.ehlo()
            assert code == 250
            assert banner.startswith(b"heron-test-smtp")
            assert b"AUTH" not in banner
            assert b"STARTTLS" not in banner
            client.sendmail("a@example.com", ["b@example.com"], MESSAGE)

    assert not server.running
    assert _refused(port)
    server.stop()  # twice is fine
    (received,) = server.messages  # still readable after stop
    assert (received.sender, received.recipients) == ("a@example.com", ("b@example.com",))
    assert received.subject == "hi"
    assert received.text == "body\n"


def test_two_servers_get_two_ports() -> None:
    with SMTPServer() as first, SMTPServer() as second:
        assert first.port != second.port


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="both"):
        SMTPServer(username="u")
    with pytest.raises(ValueError, match="exclude"):
        SMTPServer(starttls=True, implicit_tls=True)


def test_messages_from_many_threads_are_all_kept() -> None:
    with SMTPServer() as server:
        def send(n: int) -> None:
            with smtplib.SMTP(server.host, server.port, timeout=5) as client:
                client.sendmail(f"s{n}@example.com", [f"r{n}@example.com"], MESSAGE)

        threads = [threading.Thread(target=send, args=(n,)) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        received = server.wait_for(10)
        assert sorted(r.sender for r in received) == sorted(f"s{n}@example.com"
                                                            for n in range(10))
        server.clear()
        assert server.messages == []


def test_wait_for_waits_and_times_out() -> None:
    with SMTPServer() as server:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match=r"expected 1 message.*received 0"):
            server.wait_for(1, timeout=0.2)
        assert 0.15 < time.monotonic() - started < 2

        def later() -> None:
            time.sleep(0.2)
            with smtplib.SMTP(server.host, server.port, timeout=5) as client:
                client.sendmail("a@example.com", ["b@example.com"], MESSAGE)

        thread = threading.Thread(target=later)
        thread.start()
        assert len(server.wait_for(1, timeout=5)) == 1
        thread.join()


def test_auth_over_plain_smtp_is_required_and_checked() -> None:
    with SMTPServer(username=USERNAME, password=PASSWORD) as server:
        with smtplib.SMTP(server.host, server.port, timeout=5) as client:
            _, banner = client.ehlo()
            assert b"AUTH" in banner
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                client.sendmail("a@example.com", ["b@example.com"], MESSAGE)
            assert refused.value.smtp_code == 530
            with pytest.raises(smtplib.SMTPAuthenticationError):
                client.login(USERNAME, "wrong")
            client.login(USERNAME, PASSWORD)
            client.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        (received,) = server.messages
        assert received.login == USERNAME
        assert server.auth_failures >= 1


def test_starttls_is_required_and_auth_comes_after_it() -> None:
    with SMTPServer(starttls=True, username=USERNAME, password=PASSWORD) as server:
        with smtplib.SMTP(server.host, server.port, timeout=5) as client:
            _, banner = client.ehlo()
            assert b"STARTTLS" in banner
            assert b"AUTH" not in banner  # no credentials in the clear
            with pytest.raises(smtplib.SMTPSenderRefused):
                client.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        with smtplib.SMTP(server.host, server.port, timeout=5) as client:
            client.starttls(context=server.client_ssl_context())
            _, banner = client.ehlo()
            assert b"AUTH" in banner
            client.login(USERNAME, PASSWORD)
            client.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        (received,) = server.messages
        assert (received.tls, received.login) == (True, USERNAME)


def test_implicit_tls_speaks_tls_from_the_first_byte() -> None:
    with SMTPServer(implicit_tls=True) as server:
        with pytest.raises(smtplib.SMTPServerDisconnected):
            smtplib.SMTP(server.host, server.port, timeout=0.3)  # plain: no greeting
        with smtplib.SMTP_SSL(server.host, server.port, timeout=5,
                              context=server.client_ssl_context()) as client:
            client.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        (received,) = server.messages
        assert received.tls


def test_certificates_are_removed_on_stop() -> None:
    server = SMTPServer(starttls=True).start()
    ca_file = server.ca_file
    assert ca_file.is_file()
    server.stop()
    assert not ca_file.parent.exists()
    with pytest.raises(ServerError, match="no certificate"):
        _ = server.ca_file
    with SMTPServer() as plain, pytest.raises(ServerError, match="no certificate"):
        _ = plain.ca_file


def test_mail_settings() -> None:
    with SMTPServer(implicit_tls=True, username="u", password="p") as server:
        settings = server.mail_settings()
        assert settings == {
            "mail_backend": "smtp", "mail_host": "127.0.0.1", "mail_port": server.port,
            "mail_use_tls": True, "mail_use_starttls": False, "mail_username": "u",
            "mail_password": "p", "mail_timeout": 5.0, "mail_ssl_cafile": str(server.ca_file),
        }


def test_a_server_that_cannot_start_is_a_server_error(monkeypatch: pytest.MonkeyPatch) -> None:
    base = smtp_module._controller_class()

    class Broken(base):  # type: ignore[valid-type, misc]
        def _create_server(self) -> object:
            raise OSError("no sockets today")

    monkeypatch.setattr(smtp_module, "_controller_class", lambda: Broken)
    server = SMTPServer(starttls=True, start_timeout=0.2)

    with pytest.raises(ServerError, match="did not start: no sockets today"):
        server.start()
    assert not server.running
    assert server._tmpdir is None  # the certificates are gone too


# -- certificates ---------------------------------------------------------------------

TOOLS = [
    pytest.param("openssl", marks=pytest.mark.skipif(shutil.which("openssl") is None,
                                                     reason="no openssl command")),
    pytest.param("cryptography", marks=pytest.mark.skipif(
        importlib.util.find_spec("cryptography") is None,
        reason="the cryptography package is not installed")),
]


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_certificates_pass_strict_verification(tmp_path: Path, tool: str, host: str) -> None:
    """Python 3.13 verifies with VERIFY_X509_STRICT by default; the test CA must pass it."""
    files = make_test_certificates(tmp_path, tool=tool)  # type: ignore[arg-type]
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(files.cert_file, files.key_file)
    client_context = ssl.create_default_context(cafile=str(files.ca_file))
    client_context.verify_flags |= ssl.VERIFY_X509_STRICT

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        errors: list[BaseException] = []

        def serve() -> None:
            connection, _ = listener.accept()
            try:
                with server_context.wrap_socket(connection, server_side=True) as tls:
                    tls.sendall(b"ok")
            except (OSError, ssl.SSLError) as exc:  # pragma: no cover - shown on failure
                errors.append(exc)

        thread = threading.Thread(target=serve)
        thread.start()
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                client_context.wrap_socket(raw, server_hostname=host) as tls:
            assert tls.recv(2) == b"ok"
        thread.join()
    assert errors == []
    assert oct(files.key_file.stat().st_mode & 0o777) == "0o600"


def test_no_certificate_tool_is_server_unavailable(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)

    with pytest.raises(ServerUnavailable, match=r"cryptography package .* openssl"):
        make_test_certificates(tmp_path)
    with pytest.raises(ServerUnavailable, match="cryptography package is not installed"):
        make_test_certificates(tmp_path, tool="cryptography")
    with pytest.raises(ServerUnavailable):
        SMTPServer(starttls=True).start()


def test_a_failing_openssl_is_a_server_error(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: "/bin/false")

    with pytest.raises(ServerError, match="openssl failed"):
        make_test_certificates(tmp_path, tool="openssl")


# -- without aiosmtpd -----------------------------------------------------------------


@pytest.fixture
def no_aiosmtpd(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make ``import aiosmtpd.controller`` fail, as if aiosmtpd were not installed."""
    monkeypatch.setitem(sys.modules, "aiosmtpd.controller", None)
    smtp_module._controller_class.cache_clear()
    yield
    smtp_module._controller_class.cache_clear()


@pytest.mark.usefixtures("no_aiosmtpd")
def test_without_aiosmtpd_start_explains(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ServerUnavailable, match="pip install aiosmtpd"):
        SMTPServer().start()

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="aiosmtpd is not installed"):
        start_or_skip(SMTPServer())
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        start_or_skip(SMTPServer())


# -- the fixture ----------------------------------------------------------------------


def test_the_fixture_is_a_running_plain_server(smtp_server: SMTPServer) -> None:
    assert smtp_server.running
    assert not smtp_server.tls
    assert smtp_server.username is None
    assert smtp_server.messages == []


@pytest.mark.parametrize("smtp_server", [{"implicit_tls": True, "username": "u",
                                          "password": "p"}], indirect=True)
def test_the_fixture_takes_options_indirectly(smtp_server: SMTPServer) -> None:
    assert smtp_server.implicit_tls
    assert smtp_server.username == "u"
    assert smtp_server.ca_file.is_file()


def test_the_fixture_in_a_user_project(pytester: pytest.Pytester) -> None:
    """A project's tests get the fixture from heron's plugin, send through it, and the
    server is stopped after each test."""
    pytester.makepyfile(test_signup="""
        import socket

        from heron import App
        from heron.mail import send_mail

        PORTS = []


        async def test_mail(smtp_server):
            PORTS.append(smtp_server.port)
            app = App(secret_key="k", **smtp_server.mail_settings())
            await send_mail(app, "Hi", "Body", ["ada@example.com"])
            (received,) = smtp_server.wait_for(1)
            assert received.subject == "Hi"
            assert received.recipients == ("ada@example.com",)


        def test_closed_afterwards():
            try:
                socket.create_connection(("127.0.0.1", PORTS[0]), timeout=1).close()
            except ConnectionRefusedError:
                return
            raise AssertionError("the SMTP server still listens")
    """)
    pytester.makeini("[pytest]\nasyncio_mode = auto\n")

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")

    result.assert_outcomes(passed=2)
