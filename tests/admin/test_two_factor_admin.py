"""The admin shows a user's second factors and resets them, and every change of them
is in the user's history (issue 22)."""

from __future__ import annotations

from typing import Any

from admin_shop import USERS, Browser, Shop

from heron import signals


def _enrol(shop: Shop, user_id: int) -> None:
    """carol has an authenticator app, two recovery codes (one used) and a passkey."""
    from heron.auth import _totp
    from heron.auth.models import utcnow
    from heron.auth.user import User

    def work(session: Any) -> None:
        session.add(User.totp_model(user_id=user_id, confirmed_at=utcnow(), last_used_step=0,
                                    secret=_totp.encrypt_secret(shop.app, "JBSWY3DPEHPK3PXP")))
        session.add_all([User.recovery_code_model(user_id=user_id, code_hash="a" * 64),
                         User.recovery_code_model(user_id=user_id, code_hash="b" * 64),
                         User.recovery_code_model(user_id=user_id, code_hash="c" * 64,
                                                  used_at=utcnow())])
        session.add(User.passkey_model(user_id=user_id, name="Laptop <b>", credential_id=b"c1",
                                       public_key=b"k", sign_count=0))

    shop.run(work)


def test_the_change_page_shows_the_factors_and_a_reset_link(shop: Shop,
                                                            browser: Browser) -> None:
    user_id = shop.user("carol")
    assert "None set up." in browser.get(f"{USERS}{user_id}/change/").text
    _enrol(shop, user_id)
    page = browser.get(f"{USERS}{user_id}/change/").text
    assert ("authenticator app on; 2 recovery codes left; passkeys: Laptop &lt;b&gt;. "
            '<a href="../factors/">Reset…</a>') in page
    assert "JBSWY3DP" not in page


def test_a_reset_asks_first_then_removes_every_factor_and_is_in_the_history(
        shop: Shop, browser: Browser) -> None:
    from heron.auth.user import User

    user_id = shop.user("carol")
    _enrol(shop, user_id)
    url = f"{USERS}{user_id}/factors/"
    confirm = browser.get(url)
    assert confirm.status_code == 200
    assert "Yes, reset the second factors" in confirm.text
    assert "Passkeys: Laptop &lt;b&gt;" in confirm.text
    assert browser.post(url, {}).status_code == 400  # not the confirmation's button
    assert browser.post(url, {"post": "yes"}, csrf=False).status_code == 403

    seen: list[tuple[str, str]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append((kwargs["factor"], kwargs["action"]))

    with signals.two_factor_changed.connected_to(receiver):
        done = browser.post(url, {"post": "yes"})
    assert done.status_code == 303
    assert done.headers["location"].endswith(f"{USERS}{user_id}/change/")
    assert seen == [("totp", "reset"), ("recovery_codes", "reset"), ("passkey", "reset")]
    assert shop.count(User.passkey_model) == 0
    assert shop.count(User.recovery_code_model) == 0
    assert "None set up." in browser.get(f"{USERS}{user_id}/change/").text
    history = browser.get(f"{USERS}{user_id}/history/").text
    assert "Two-factor login: Authenticator app reset." in history
    assert "Two-factor login: Passkey reset." in history
    assert "JBSWY3DP" not in history


def test_resetting_needs_the_change_permission(shop: Shop) -> None:
    user_id = shop.user("carol")
    _enrol(shop, user_id)
    shop.user("viewer", perms=["auth.view_user"])
    with shop.client("viewer") as viewer:
        assert viewer.post(f"{USERS}{user_id}/factors/", {"post": "yes"}).status_code == 403


def test_a_user_setting_up_totp_is_in_their_history(shop: Shop, browser: Browser) -> None:
    import re

    import pyotp

    user_id = shop.user("carol", staff=False)
    with shop.client("carol") as carol:
        page = carol.get("/auth/security/totp").text
        secret = re.search(r'<code class="secret" translate="no">([A-Z2-7 ]+)</code>', page)
        assert secret is not None
        code = pyotp.TOTP(secret.group(1).replace(" ", "")).now()
        done = carol.post("/auth/security/totp", {"code": code})
        assert done.status_code == 200, done.text
    history = browser.get(f"{USERS}{user_id}/history/").text
    assert "Two-factor login: Authenticator app added." in history
    assert "Two-factor login: Recovery codes regenerated." in history
