"""A software WebAuthn authenticator for the passkey tests: real P-256 keys
(``cryptography``), real CBOR (``cbor2``), the "none" attestation format.

It answers the options heron's endpoints give (as JSON, the way the browser
script reads them) with the JSON the browser script posts back: the same bytes a
platform authenticator and a browser would produce, signed for real, so the
server's checks (challenge, origin, RP ID hash, flags, signature, sign count)
all run.  It is an authenticator, not a stand-in for any part of heron.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    """One passkey the authenticator holds."""

    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """``create(options)`` and ``get(options)`` as ``navigator.credentials`` would
    answer them on ``origin``; ``user_verified`` says whether it checks a PIN."""

    origin: str = "http://testserver"
    user_verified: bool = True
    backed_up: bool = False
    credentials: dict[bytes, Credential] = field(default_factory=dict)

    def _auth_data(self, rp_id: str, flags: int, count: int, attested: bytes = b"") -> bytes:
        if self.user_verified:
            flags |= UV
        if self.backed_up:
            flags |= BE | BS
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + \
            count.to_bytes(4, "big") + attested

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin,
                           "crossOrigin": False}).encode()

    def create(self, options: dict[str, Any],
               credential_id: bytes | None = None) -> dict[str, Any]:
        """A new credential for ``options`` (PublicKeyCredentialCreationOptionsJSON),
        with a random id unless ``credential_id`` is given."""
        rp_id = options["rp"]["id"]
        excluded = {unb64(c["id"]) for c in options.get("excludeCredentials", [])}
        if excluded & set(self.credentials):
            raise ValueError("InvalidStateError: this authenticator already has a passkey")
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big")}
        credential_id = credential_id or os.urandom(32)
        attested = bytes(16) + len(credential_id).to_bytes(2, "big") + credential_id + \
            cbor2.dumps(cose)
        auth_data = self._auth_data(rp_id, UP | AT, 0, attested)
        self.credentials[credential_id] = Credential(credential_id, key, rp_id,
                                                     unb64(options["user"]["id"]))
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64(credential_id), "rawId": b64(credential_id), "type": "public-key",
            "clientExtensionResults": {}, "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64(self._client_data("webauthn.create", options["challenge"])),
                "attestationObject": b64(attestation), "transports": ["internal", "hybrid"],
            },
        }

    def get(self, options: dict[str, Any], credential_id: bytes | None = None) -> dict[str, Any]:
        """An assertion for ``options`` (PublicKeyCredentialRequestOptionsJSON), by the
        credential ``credential_id`` or else the first one the options allow."""
        rp_id = options["rpId"]
        if credential_id is None:
            allowed = [unb64(c["id"]) for c in options.get("allowCredentials", [])]
            usable = [c for c in self.credentials.values()
                      if c.rp_id == rp_id and (not allowed or c.id in allowed)]
            if not usable:
                raise ValueError("NotAllowedError: no passkey for these options")
            credential = usable[0]
        else:
            credential = self.credentials[credential_id]
        credential.sign_count += 1
        auth_data = self._auth_data(rp_id, UP, credential.sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = credential.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                        ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64(credential.id), "rawId": b64(credential.id), "type": "public-key",
            "clientExtensionResults": {}, "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64(client_data), "authenticatorData": b64(auth_data),
                "signature": b64(signature), "userHandle": b64(credential.user_handle),
            },
        }

    def clone(self) -> SoftAuthenticator:
        """A copy of this authenticator, keys and counters included (what a cloned
        security key would be)."""
        return SoftAuthenticator(self.origin, self.user_verified, self.backed_up,
                                 {k: copy.copy(v) for k, v in self.credentials.items()})
