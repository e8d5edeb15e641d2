"""heron.auth's settings section: passwords, the user model, login and tokens (docs/auth.md,
docs/passwords.md).
"""

from __future__ import annotations

import dataclasses

from heron.settings import settings_section

__all__ = ["AuthSettings"]


@settings_section
class AuthSettings:
    """Password hashing and validation, the user model, login pages, throttles, tokens."""

    #: Argon2id passes over memory (RFC 9106's low-memory profile: 3).
    password_time_cost: int = 3
    #: Argon2id memory per hash, in KiB (64 MiB): each login being checked holds this much.
    password_memory_cost: int = 64 * 1024
    #: Argon2id lanes (threads) per hash.
    password_parallelism: int = 4
    #: Checks a new password must pass: built-in names or ``package.module:Class``.
    password_validators: list[str] = dataclasses.field(
        default_factory=lambda: ["minimum_length", "user_attribute_similarity", "common",
                                 "numeric"]
    )
    #: Fewest characters the ``minimum_length`` validator accepts.
    password_min_length: int = 10
    #: The user model, ``package.module:Class``: heron's own, or a subclass of
    #: ``heron.auth.AbstractUser`` (extra fields, email as the login name).
    auth_user_model: str = "heron.auth.user:User"
    #: Where ``login_required`` sends a browser: a route name or a path.
    login_url: str = "auth:login"
    #: Where a login goes when the form has no (safe) ``next``: a route name or a path.
    login_redirect_url: str = "/"
    #: Where a logout goes: a route name or a path.
    logout_redirect_url: str = "/"
    #: Serve the sign-up page (``/auth/signup``), open to anyone.
    auth_signup: bool = False
    #: Where heron.auth's pages are served: ``/auth`` gives ``/auth/login``...
    auth_url_prefix: str = "/auth"
    #: Which of heron.auth's pages to serve: ``login`` (with logout),
    #: ``password_change``, ``password_reset``, ``signup`` (which ``auth_signup``
    #: also turns on), ``two_factor`` (the second login step and the security
    #: page).  ``[]`` serves none; the models, guards and hashing stay.
    auth_pages: list[str] = dataclasses.field(
        default_factory=lambda: ["login", "password_change", "password_reset", "signup",
                                 "two_factor"]
    )
    #: The login page's messages by key (``wrong_login``, ``username_required``,
    #: ``password_required``, ``throttled``), replacing heron's (docs/auth.md).
    auth_messages: dict[str, str] = dataclasses.field(default_factory=dict)
    #: Seconds a password-reset link works (it also stops once used).
    password_reset_timeout: int = 3600
    #: Failed logins allowed per username within ``login_throttle_window`` (429 after).
    login_throttle_limit: int = 5
    #: Failed logins allowed per client address within the window.
    login_throttle_ip_limit: int = 20
    #: Seconds the failure counts last.
    login_throttle_window: int = 900
    #: Seconds a new API token works unless its creator says otherwise; 0: no expiry.
    api_token_lifetime: int = 90 * 24 * 3600
    #: The ``Authorization`` schemes whose credentials are API tokens or JWTs
    #: (``Bearer``; add ``Token`` for clients that send ``Token <secret>``).  Any
    #: other scheme answers 401 naming these, unless it is in ``auth_ignored_schemes``.
    auth_token_schemes: list[str] = dataclasses.field(default_factory=lambda: ["Bearer"])
    #: Schemes left to something else (a proxy's password prompt): ``request.user``
    #: ignores them and stays anonymous.
    auth_ignored_schemes: list[str] = dataclasses.field(
        default_factory=lambda: ["Basic", "Digest", "Negotiate"])
    #: JWT signing keys by key id (``kid``), at least 32 bytes each; none: no JWTs.
    #: Keep an old key here while its tokens may still be in use (key rotation).
    jwt_keys: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)
    #: The key id that signs new JWTs; empty: the last of ``jwt_keys``.
    jwt_key_id: str = ""
    #: Seconds a JWT access token works.
    jwt_access_lifetime: int = 300
    #: Seconds a refresh token works (each refresh gives a new one).
    jwt_refresh_lifetime: int = 14 * 24 * 3600
    #: Who must use a second factor: ``"none"``, ``"staff"`` or ``"all"`` (docs/auth.md).
    auth_two_factor_required: str = "none"
    #: Seconds a user whom ``auth_two_factor_required`` concerns may go on without a
    #: second factor (reminded at each login); after it, only the setup pages open.
    auth_two_factor_grace: int = 7 * 24 * 3600
    #: The name authenticator apps show beside the account; empty: the site's host.
    auth_totp_issuer: str = ""
    #: Time steps (30 s each) accepted either side of now, for clocks that drift.
    auth_totp_drift: int = 1
    #: How many recovery codes a user gets (each works once).
    auth_recovery_codes: int = 10
    #: Serve passkeys (WebAuthn): their list on the security page, a second login
    #: step with one, and "Log in with a passkey" on the login page.
    auth_passkeys: bool = True
    #: The site passkeys are bound to (WebAuthn's RP ID): a domain, such as
    #: ``example.com`` (its subdomains may use it too); empty: the request's host.
    auth_passkey_rp_id: str = ""
    #: The site's name that the browser shows when making a passkey; empty: the RP ID.
    auth_passkey_rp_name: str = ""
    #: The origins passkey answers may come from (``https://example.com``); empty:
    #: the request's own origin.
    auth_passkey_origins: list[str] = dataclasses.field(default_factory=list)
