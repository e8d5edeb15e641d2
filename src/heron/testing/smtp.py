"""A real SMTP server for tests: aiosmtpd in a background thread on 127.0.0.1.

:class:`SMTPServer` listens on a free port of ``127.0.0.1`` and keeps every message it
receives (envelope sender and recipients, and the parsed message) in a thread-safe list::

    from heron import App
    from heron.testing.smtp import SMTPServer

    with SMTPServer(username="mailer", password="s3cret", starttls=True) as server:
        app = App(**server.mail_settings())   # heron's mail_* settings for this server
        ...                                   # send mail through the app
        (received,) = server.wait_for(1)
        assert received.recipients == ("ada@example.com",)
        assert "reset" in received.text

Options:

- ``username`` and ``password``: the server offers AUTH (PLAIN and LOGIN) and refuses
  ``MAIL FROM`` until the client logged in with them.
- ``starttls=True``: the server offers STARTTLS and requires it before ``MAIL FROM``; with
  ``username``, AUTH is offered only once the connection is encrypted, as real mail
  submission servers do.
- ``implicit_tls=True``: TLS from the first byte (SMTPS, what ``mail_use_tls`` expects).

For TLS, a throwaway certificate authority and a server certificate for ``127.0.0.1`` and
``localhost`` are made when the server starts (with the ``cryptography`` package if it is
installed, else the ``openssl`` command); clients trust :attr:`SMTPServer.ca_file`.
Without aiosmtpd (``pip install aiosmtpd``, in heron's ``test`` extra), or without either
tool for TLS, :meth:`SMTPServer.start` raises
:class:`~heron.testing.servers.ServerUnavailable`, which :func:`start_or_skip` turns into a
skipped test (a failure when ``CI=true``). The pytest plugin's ``smtp_server`` fixture
wraps all of this.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import functools
import hmac
import importlib.util
import logging
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from heron.testing.servers import ServerError, ServerUnavailable, require_server

if TYPE_CHECKING:
    import asyncio

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP as SMTPProtocol
    from aiosmtpd.smtp import AuthResult, Envelope, Session

__all__ = [
    "HOST",
    "CertificateFiles",
    "ReceivedMessage",
    "SMTPServer",
    "make_test_certificates",
    "start_or_skip",
]

HOST = "127.0.0.1"
#: The name the server gives itself in its greeting and EHLO reply.
SERVER_NAME = "heron-test-smtp"
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class ReceivedMessage:
    """One message the server accepted."""

    #: The envelope sender (``MAIL FROM``).
    sender: str
    #: The envelope recipients (``RCPT TO``), Bcc included, in the order given.
    recipients: tuple[str, ...]
    #: The message as received, parsed with ``email.policy.default``.
    message: EmailMessage
    #: The message's bytes as received.
    raw: bytes
    #: The user name the client logged in with, or ``None`` without AUTH.
    login: str | None
    #: Whether the session was encrypted (STARTTLS or implicit TLS).
    tls: bool

    @property
    def subject(self) -> str:
        """The decoded ``Subject`` header ("" when there is none)."""
        return str(self.message.get("Subject", ""))

    @property
    def text(self) -> str | None:
        """The decoded ``text/plain`` body (``\n`` line ends), or ``None``."""
        return self._body("plain")

    @property
    def html(self) -> str | None:
        """The decoded ``text/html`` body (``\n`` line ends), or ``None``."""
        return self._body("html")

    def _body(self, subtype: str) -> str | None:
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None:
            return None
        content: str = part.get_content()
        return content.replace("\r\n", "\n")  # SMTP's CRLF, as a mail client shows it


@dataclass(frozen=True)
class CertificateFiles:
    """PEM files made by :func:`make_test_certificates`."""

    #: The throwaway certificate authority: what clients trust.
    ca_file: Path
    #: The server's certificate (for 127.0.0.1, ::1 and localhost), signed by the CA.
    cert_file: Path
    #: The server certificate's private key.
    key_file: Path


def start_or_skip(server: SMTPServer) -> SMTPServer:
    """Start ``server`` and return it; when it cannot run here (no aiosmtpd, or no
    certificate tool for TLS), end the test with
    :func:`~heron.testing.servers.require_server` (skip, or fail under ``CI=true``)."""
    try:
        return server.start()
    except ServerUnavailable as exc:
        require_server(exc.reason)


class SMTPServer:
    """A throwaway SMTP server (aiosmtpd) on a free port of 127.0.0.1, in a thread.

    Args:
        username: with ``password``, require AUTH with these credentials.
        password: the password of ``username``.
        starttls: offer and require STARTTLS.
        implicit_tls: speak TLS from the first byte (SMTPS).
        start_timeout: seconds to wait for the server to answer when starting.
    """

    def __init__(self, *, username: str | None = None, password: str | None = None,
                 starttls: bool = False, implicit_tls: bool = False,
                 start_timeout: float = START_TIMEOUT) -> None:
        if (username is None) != (password is None):
            raise ValueError("Give both username and password, or neither")
        if starttls and implicit_tls:
            raise ValueError("starttls and implicit_tls exclude each other")
        self.host = HOST
        self.username = username
        self.password = password
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.start_timeout = start_timeout
        self._controller: Controller | None = None
        self._tmpdir: Path | None = None
        self._certificates: CertificateFiles | None = None
        self._messages: list[ReceivedMessage] = []
        self._auth_failures = 0
        self._condition = threading.Condition()

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def tls(self) -> bool:
        """Whether the server uses TLS (STARTTLS or implicit)."""
        return self.starttls or self.implicit_tls

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._controller is not None

    def start(self) -> Self:
        """Start listening; returns ``self``. Does nothing if already running.

        Raises:
            ServerUnavailable: aiosmtpd is not installed, or TLS was asked for and
                neither the ``cryptography`` package nor the ``openssl`` command is there.
            ServerError: the server did not answer within ``start_timeout``.
        """
        if self._controller is not None:
            return self
        controller_class = _controller_class()
        _quiet_aiosmtpd_log()
        try:
            server_context: ssl.SSLContext | None = None
            if self.tls:
                self._tmpdir = Path(tempfile.mkdtemp(prefix="heron-smtp-"))
                self._certificates = make_test_certificates(self._tmpdir)
                server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                server_context.load_cert_chain(self._certificates.cert_file,
                                               self._certificates.key_file)
            controller = controller_class(
                _Handler(self), hostname=self.host, server_hostname=SERVER_NAME,
                ready_timeout=self.start_timeout, **self._smtp_options(server_context),
            )
            try:
                controller.start()
            except Exception as exc:
                controller.stop(no_assert=True)
                if not controller.loop.is_closed():
                    controller.loop.close()
                raise ServerError(f"the SMTP server did not start: {exc}") from exc
            self._controller = controller
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server and remove its certificates. Safe to call more than once;
        the messages received stay readable."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        self._certificates = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"{self.host}:{self.port}" if self.running else "stopped"
        return f"<{type(self).__name__} {where}>"

    # -- where it is --------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on (only while it runs)."""
        if self._controller is None:
            raise ServerError("the SMTP server is not running: start() it first")
        port: int = self._controller.port
        return port

    @property
    def ca_file(self) -> Path:
        """The PEM certificate clients must trust (only for a TLS server that runs)."""
        if self._certificates is None:
            raise ServerError("no certificate: the SMTP server is not running, or not with TLS")
        return self._certificates.ca_file

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client SSL context that trusts this server's certificate authority (only)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def mail_settings(self) -> dict[str, Any]:
        """heron's ``mail_*`` settings for sending through this server:
        ``App(**server.mail_settings())``, or ``app.settings.update(**...)`` before the
        app's first mail (its mailer, made then, keeps the settings it saw)."""
        settings: dict[str, Any] = {
            "mail_backend": "smtp",
            "mail_host": self.host,
            "mail_port": self.port,
            "mail_use_tls": self.implicit_tls,
            "mail_use_starttls": self.starttls,
            "mail_username": self.username,
            "mail_password": self.password,
            "mail_timeout": 5.0,
        }
        if self.tls:
            settings["mail_ssl_cafile"] = str(self.ca_file)
        return settings

    # -- what it received ---------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMessage]:
        """The messages received so far, oldest first (a copy)."""
        with self._condition:
            return list(self._messages)

    @property
    def auth_failures(self) -> int:
        """How many AUTH attempts failed."""
        with self._condition:
            return self._auth_failures

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Wait until at least ``count`` messages arrived and return them all.

        Raises:
            TimeoutError: fewer than ``count`` arrived within ``timeout`` seconds.
        """
        with self._condition:
            if not self._condition.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(
                    f"expected {count} message(s) within {timeout:g} s; "
                    f"the SMTP server received {len(self._messages)}"
                )
            return list(self._messages)

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self._condition:
            self._messages.clear()
            self._auth_failures = 0

    # -- internals ----------------------------------------------------------------------

    def _smtp_options(self, server_context: ssl.SSLContext | None) -> dict[str, Any]:
        """Keyword arguments of aiosmtpd's Controller (and its SMTP class)."""
        # aiosmtpd offers AUTH only over STARTTLS unless auth_require_tls is off; its
        # implicit TLS does not count as TLS there. Off, then, when AUTH is wanted without
        # STARTTLS; on otherwise, so that a server without credentials offers no AUTH.
        wants_auth = self.username is not None
        options: dict[str, Any] = {"auth_require_tls": not wants_auth or self.starttls}
        if self.implicit_tls:
            options["ssl_context"] = server_context
        elif self.starttls:
            options.update(tls_context=server_context, require_starttls=True)
        if wants_auth:
            options["authenticator"] = self._authenticate
        return options

    def _authenticate(self, server: SMTPProtocol, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        assert self.username is not None
        assert self.password is not None
        if isinstance(auth_data, LoginPassword):
            user_ok = hmac.compare_digest(auth_data.login, self.username.encode())
            password_ok = hmac.compare_digest(auth_data.password, self.password.encode())
            if user_ok and password_ok:
                return AuthResult(success=True, auth_data=auth_data)
        with self._condition:
            self._auth_failures += 1
        return AuthResult(success=False, handled=False)

    def _record(self, message: ReceivedMessage) -> None:
        with self._condition:
            self._messages.append(message)
            self._condition.notify_all()


class _Handler:
    """aiosmtpd's handler: refuses MAIL before AUTH when required, records DATA."""

    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_MAIL(self, server: SMTPProtocol, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        if self.server.username is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTPProtocol, session: Session,
                          envelope: Envelope) -> str:
        raw = envelope.original_content
        if raw is None:
            content = envelope.content or b""
            raw = content.encode() if isinstance(content, str) else content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        login_data = getattr(session.auth_data, "login", None)
        self.server._record(ReceivedMessage(
            sender=envelope.mail_from or "",
            recipients=tuple(envelope.rcpt_tos),
            message=parsed,
            raw=raw,
            login=login_data.decode() if isinstance(login_data, bytes) else None,
            tls=self.server.implicit_tls or session.ssl is not None,
        ))
        return "250 2.0.0 Message accepted"


@functools.cache
def _controller_class() -> type[Controller]:
    """aiosmtpd's Controller, listening on a socket bound to port 0 (no port race)."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        raise ServerUnavailable(
            "aiosmtpd is not installed; install it with `pip install aiosmtpd` "
            "(it is in heron's `test` extra)"
        ) from None

    class _Controller(Controller):
        def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((self.hostname, 0))
            except OSError:
                sock.close()
                raise
            self.port = sock.getsockname()[1]
            return self.loop.create_server(self._factory_invoker, sock=sock,
                                           ssl=self.ssl_context)

    return _Controller


class _DropDeprecationNotice(logging.Filter):
    """aiosmtpd logs a warning of its own deprecation on each successful AUTH."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


def _quiet_aiosmtpd_log() -> None:
    logger = logging.getLogger("mail.log")
    if not any(isinstance(f, _DropDeprecationNotice) for f in logger.filters):
        logger.addFilter(_DropDeprecationNotice())


# -- certificates --------------------------------------------------------------------


def make_test_certificates(
    folder: Path, *, tool: Literal["auto", "cryptography", "openssl"] = "auto",
) -> CertificateFiles:
    """Write a throwaway certificate authority and a server certificate it signed (for
    ``127.0.0.1``, ``::1`` and ``localhost``, valid for a day) into ``folder``.

    ``tool="auto"`` uses the ``cryptography`` package if it is installed, else the
    ``openssl`` command. The certificates pass Python's strict X.509 checks (3.13+).

    Raises:
        ServerUnavailable: the tool asked for (or, with ``auto``, both) is missing.
        ServerError: ``openssl`` failed.
    """
    files = CertificateFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    if tool in ("auto", "cryptography"):
        if importlib.util.find_spec("cryptography") is not None:
            _certificates_with_cryptography(files)
            return files
        if tool == "cryptography":
            raise ServerUnavailable(
                "the cryptography package is not installed (pip install cryptography)"
            )
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ServerUnavailable(
            "TLS tests need a certificate: install the cryptography package "
            "(pip install cryptography) or the openssl command"
        )
    _certificates_with_openssl(openssl, files)
    return files


def _certificates_with_cryptography(files: CertificateFiles) -> None:
    import ipaddress

    # Optional: not a dependency of heron (the openssl command is the fallback).
    from cryptography import x509  # type: ignore[import-not-found]
    from cryptography.hazmat.primitives import (  # type: ignore[import-not-found]
        hashes,
        serialization,
    )
    from cryptography.hazmat.primitives.asymmetric import ec  # type: ignore[import-not-found]
    from cryptography.x509.oid import (  # type: ignore[import-not-found]
        ExtendedKeyUsageOID,
        NameOID,
    )

    now = datetime.datetime.now(datetime.UTC)
    not_before, not_after = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "heron test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    files.key_file.chmod(0o600)


_OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = heron test CA
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _certificates_with_openssl(openssl: str, files: CertificateFiles) -> None:
    folder = files.ca_file.parent
    config = folder / "openssl.cnf"
    config.write_text(_OPENSSL_CONFIG)
    ca_key, request = folder / "ca.key", folder / "server.csr"
    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    commands = [
        [openssl, "req", "-x509", *new_key, "-config", str(config), "-extensions", "ca",
         "-subj", "/CN=heron test CA", "-days", "1", "-keyout", str(ca_key),
         "-out", str(files.ca_file)],
        [openssl, "req", "-new", *new_key, "-config", str(config),
         "-subj", f"/CN={SERVER_NAME}", "-keyout", str(files.key_file), "-out", str(request)],
        [openssl, "x509", "-req", "-in", str(request), "-CA", str(files.ca_file),
         "-CAkey", str(ca_key), "-CAcreateserial", "-days", "1", "-sha256",
         "-extfile", str(config), "-extensions", "server", "-out", str(files.cert_file)],
    ]
    deadline = time.monotonic() + 30
    for command in commands:
        try:
            result = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, check=False, cwd=folder,
                timeout=max(deadline - time.monotonic(), 1),
            )
        except subprocess.TimeoutExpired:
            raise ServerError(f"openssl did not finish: {' '.join(command)}") from None
        if result.returncode != 0:
            output = result.stdout.decode(errors="replace").strip()
            raise ServerError(f"openssl failed ({' '.join(command[:3])}):\n{output}")
    files.key_file.chmod(0o600)
    ca_key.unlink()  # nothing else is ever signed with it
