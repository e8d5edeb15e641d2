"""Helpers of the two-factor tests (test_two_factor*.py): enrolment with a real pyotp
code, and a clock the tests choose (heron.auth._totp.now), so that no test sleeps."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pyotp
import pytest
from auth_pages import PASSWORD, log_in, token_of

#: A moment in the middle of a 30-second step: codes of the steps around it are known.
T0 = 1_800_000_015.0


def freeze(monkeypatch: pytest.MonkeyPatch, at: float = T0) -> None:
    import heron.auth._totp as totp

    monkeypatch.setattr(totp, "now", lambda: at)


def secret_of(page: str) -> str:
    found = re.search(r'<code class="secret" translate="no">([A-Z2-7 ]+)</code>', page)
    assert found, page
    return found.group(1).replace(" ", "")


def codes_of(page: str) -> list[str]:
    return re.findall(r"<li><code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code></li>", page)


def enrol(client: httpx.Client, at: float = T0,
          password: str | None = None) -> tuple[str, list[str]]:
    """Set up TOTP for the logged-in client's user; the secret and the recovery codes."""
    page = client.get("/auth/security/totp")
    assert page.status_code == 200, page.text
    secret = secret_of(page.text)
    data = {"csrf_token": token_of(client, "/auth/security/totp"),
            "code": pyotp.TOTP(secret).at(at)}
    if password is not None:
        data["password"] = password
    done = client.post("/auth/security/totp", data=data)
    assert done.status_code == 200, done.text
    codes = codes_of(done.text)
    assert len(codes) == 10
    return secret, codes


def second_step(client: httpx.Client, code: str, **fields: Any) -> httpx.Response:
    data = {"csrf_token": token_of(client, "/auth/login"), "code": code, **fields}
    return client.post("/auth/two-factor", data=data)


def password_step(client: httpx.Client, username: str, **fields: str) -> httpx.Response:
    answer = log_in(client, username, PASSWORD, **fields)
    assert answer.status_code == 303, answer.text
    return answer
