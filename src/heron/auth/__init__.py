"""heron.auth: users, logins and permissions -- being built.

So far it has password hashing (:mod:`heron.auth.hashing`), password
validators (:mod:`heron.auth.validators`; both in docs/passwords.md) and the
failure throttle logins will use (:mod:`heron.auth.throttle`).  Import them from
those modules: this package exports nothing yet.
"""
