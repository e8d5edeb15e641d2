"""Password hashing with argon2id, at the costs the ``password_*`` settings give.

A stored password is an argon2 PHC string (``$argon2id$v=19$m=65536,t=3,p=4$salt$hash``)
that carries its own parameters, so raising the costs later does not lock anyone
out: :func:`verify_and_update` checks a login against the old parameters and hands
back a new hash to store.  Nothing here raises on a stored value it cannot read
(a foreign or damaged hash, an unusable password): such a value simply never
matches.  See docs/passwords.md.

These functions are synchronous and CPU-bound (tens to hundreds of milliseconds
by design); async code calls them through ``heron.run_in_threadpool``.  argon2
releases the GIL while it hashes.
"""

from __future__ import annotations

import functools
import re
import secrets
import unicodedata
from typing import TYPE_CHECKING

from argon2 import PasswordHasher, Type
from argon2.exceptions import VerificationError, VerifyMismatchError

from heron.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from heron.settings import Settings

__all__ = [
    "UNUSABLE_PASSWORD",
    "check_password",
    "dummy_check",
    "is_password_usable",
    "make_password",
    "make_unusable_password",
    "needs_rehash",
    "verify_and_update",
]

#: The first character of a stored password that nothing matches: a user who logs
#: in another way, or whose password was disabled.  An argon2 hash starts with ``$``.
UNUSABLE_PASSWORD = "!"

# The PHC string format of argon2 hashes; argon2-cffi's own parser is lenient.
_ARGON2_HASH = re.compile(
    r"\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+", re.ASCII
)

# RFC 9106's sizes; argon2-cffi's defaults too.
_SALT_LEN = 16
_HASH_LEN = 32


def make_password(raw: str, settings: Settings) -> str:
    """Hash ``raw`` with argon2id, a fresh random salt and the current cost settings.

    Returns:
        The encoded hash to store (about 100 ASCII characters).

    Raises:
        ImproperlyConfigured: the ``password_*`` costs are out of argon2's range
            (heron.auth.E002).
    """
    return _hasher(settings).hash(_encode(raw))


def check_password(raw: str, encoded: str | None, settings: Settings) -> bool:
    """Whether ``raw`` is the password ``encoded`` was made from.

    The comparison is argon2's own, in constant time, with the parameters stored
    in ``encoded`` (so hashes made under older settings still verify).  An
    unusable, missing, malformed or foreign ``encoded`` gives ``False`` -- after
    the same work as a real check, so that timing does not tell such accounts apart.
    """
    if encoded is not None and is_password_usable(encoded):
        try:
            return _hasher(settings).verify(encoded, _encode(raw))
        except VerifyMismatchError:
            return False
        except (VerificationError, ValueError):
            # InvalidHashError is a ValueError, so is a non-ASCII hash.  These fail
            # before any hashing: spend the time of a real check below.
            pass
    dummy_check(raw, settings)
    return False


def needs_rehash(encoded: str | None, settings: Settings) -> bool:
    """Whether ``encoded`` was made with other parameters than the current settings.

    Compares the algorithm variant and version, time cost, memory cost,
    parallelism, salt and hash lengths.  Lowered costs count too, so that a change
    in either direction reaches every account that logs in.  ``False`` for an
    unusable, missing or unreadable ``encoded``: there is nothing to upgrade.
    """
    if encoded is None or not _ARGON2_HASH.fullmatch(encoded):
        return False
    try:
        return _hasher(settings).check_needs_rehash(encoded)
    except ValueError:  # argon2's InvalidHashError: the format check above is not its parser
        return False


def verify_and_update(
    raw: str, encoded: str | None, settings: Settings
) -> tuple[bool, str | None]:
    """Check a login and upgrade its hash when the cost settings changed.

    Returns:
        ``(matches, new_hash)``: ``new_hash`` is a fresh hash of ``raw`` at the
        current settings when the password matched but ``encoded`` used other
        parameters -- store it in place of ``encoded``.  Otherwise ``None``.
    """
    if not check_password(raw, encoded, settings):
        return False, None
    if needs_rehash(encoded, settings):
        return True, make_password(raw, settings)
    return True, None


def dummy_check(raw: str, settings: Settings) -> bool:
    """Spend the time of a real :func:`check_password`, and return ``False``.

    Call it when a login names a user that does not exist, so that the answer
    takes as long as a wrong password for a real user and does not reveal which
    usernames exist.  It verifies ``raw`` against a hash of a random secret, made
    once per set of cost settings and kept for the life of the process.
    """
    try:
        _hasher(settings).verify(_dummy_hash(*_costs(settings)), _encode(raw))
    except VerificationError:
        pass
    return False


def is_password_usable(encoded: str | None) -> bool:
    """Whether ``encoded`` is a stored password at all (not missing, empty or unusable).

    ``True`` does not mean the value is a valid hash; :func:`check_password` decides.
    """
    if not encoded:
        return False
    return not encoded.startswith(UNUSABLE_PASSWORD)


def make_unusable_password() -> str:
    """A value to store for a user without a password: nothing ever matches it.

    It is :data:`UNUSABLE_PASSWORD` and random characters, so that two such users
    do not share a value.
    """
    return UNUSABLE_PASSWORD + secrets.token_urlsafe(30)


def _encode(raw: str) -> bytes:
    # NFKC, as NIST SP 800-63B advises: the same password typed where the system
    # composes accents (NFC, Windows) and where it does not (NFD, macOS) must match.
    # "surrogatepass": a lone surrogate from a form must not make hashing raise.
    return unicodedata.normalize("NFKC", raw).encode("utf-8", "surrogatepass")


def _costs(settings: Settings) -> tuple[int, int, int]:
    return (
        settings.password_time_cost, settings.password_memory_cost, settings.password_parallelism
    )


def _hasher(settings: Settings) -> PasswordHasher:
    return _hasher_for(*_costs(settings))


@functools.lru_cache(maxsize=16)
def _hasher_for(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    # argon2's limits (RFC 9106 section 3.1), checked here rather than failing
    # with a HashingError on the first login.
    if not (1 <= parallelism < 2**24 and 8 * parallelism <= memory_cost < 2**32
            and 1 <= time_cost < 2**32):
        raise ImproperlyConfigured(
            f"password hashing costs out of range: password_time_cost={time_cost} (at least "
            f"1), password_memory_cost={memory_cost} (KiB, at least 8 x parallelism), "
            f"password_parallelism={parallelism} (at least 1)",
            id="heron.auth.E002",
        )
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism,
        hash_len=_HASH_LEN, salt_len=_SALT_LEN, type=Type.ID,
    )


@functools.lru_cache(maxsize=16)
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    # One per set of costs, so that the dummy check costs what a real one does.
    # The secret is random and forgotten: no input matches it.
    return _hasher_for(time_cost, memory_cost, parallelism).hash(secrets.token_bytes(32))
