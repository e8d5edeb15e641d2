"""heron.auth.hashing: argon2id hashes, constant-time checks, rehash on login, dummy checks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher, Type

from heron import ImproperlyConfigured, Settings
from heron.auth.hashing import (
    UNUSABLE_PASSWORD,
    check_password,
    dummy_check,
    is_password_usable,
    make_password,
    make_unusable_password,
    needs_rehash,
    verify_and_update,
)


def cheap(**costs: int) -> Settings:
    """Settings with argon2's smallest costs (microseconds a hash), or the ones given."""
    costs.setdefault("password_time_cost", 1)
    costs.setdefault("password_memory_cost", 8)
    costs.setdefault("password_parallelism", 1)
    return Settings(**costs)


@pytest.fixture
def settings() -> Settings:
    return cheap()


def test_round_trip(settings: Settings) -> None:
    encoded = make_password("correct horse battery staple", settings)
    assert encoded.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert check_password("correct horse battery staple", encoded, settings)


def test_wrong_password(settings: Settings) -> None:
    encoded = make_password("correct horse battery staple", settings)
    assert not check_password("correct horse battery stapler", encoded, settings)
    assert not check_password("", encoded, settings)
    assert not check_password("CORRECT HORSE BATTERY STAPLE", encoded, settings)


def test_each_hash_has_its_own_salt(settings: Settings) -> None:
    assert make_password("same", settings) != make_password("same", settings)


def test_the_default_costs_are_rfc_9106_low_memory() -> None:
    settings = Settings()
    assert (settings.password_time_cost, settings.password_memory_cost,
            settings.password_parallelism) == (3, 65536, 4)
    encoded = make_password("s3cret-enough", settings)
    assert encoded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert check_password("s3cret-enough", encoded, settings)
    assert not needs_rehash(encoded, settings)


def test_costs_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_PASSWORD_TIME_COST", "2")
    monkeypatch.setenv("HERON_PASSWORD_MEMORY_COST", "16")
    monkeypatch.setenv("HERON_PASSWORD_PARALLELISM", "2")
    assert make_password("x", Settings()).startswith("$argon2id$v=19$m=16,t=2,p=2$")


@pytest.mark.parametrize(
    "raw",
    ["pässwörd", "密码密码密码", "emoji 🔐🔑", "", " leading and trailing ", "nul\x00byte",
     "lone \udc80 surrogate", "x" * 10_000],
)
def test_any_text_round_trips(raw: str, settings: Settings) -> None:
    encoded = make_password(raw, settings)
    assert check_password(raw, encoded, settings)
    assert not check_password(raw + "x", encoded, settings)


def test_unicode_is_normalized_so_composed_and_decomposed_accents_match(
    settings: Settings,
) -> None:
    composed, decomposed = "caf\u00e9-cr\u00e8me", "cafe\u0301-cre\u0300me"
    assert composed != decomposed
    assert check_password(decomposed, make_password(composed, settings), settings)


@pytest.mark.parametrize(
    "encoded",
    [
        None,
        "",
        "garbage",
        "$argon2id$",
        "$argon2id$v=19$m=8,t=1,p=1$not-base64$@@@",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$",  # no hash
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$\u00e9t\u00e9",  # not ASCII
        "pbkdf2_sha256$600000$salt$aGFzaA==",  # Django's format
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  # bcrypt
        "5f4dcc3b5aa765d61d8327deb882cf99",  # unsalted MD5 of "password"
    ],
)
def test_malformed_or_foreign_hashes_never_match_and_never_raise(
    encoded: str | None, settings: Settings
) -> None:
    assert check_password("password", encoded, settings) is False
    assert verify_and_update("password", encoded, settings) == (False, None)
    assert needs_rehash(encoded, settings) is False


def test_argon2i_and_argon2d_hashes_verify_and_are_upgraded_to_argon2id(
    settings: Settings,
) -> None:
    for kind in (Type.I, Type.D):
        old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=kind).hash("pw")
        assert needs_rehash(old, settings)
        ok, new = verify_and_update("pw", old, settings)
        assert ok
        assert new is not None
        assert new.startswith("$argon2id$")


def test_needs_rehash_is_false_for_the_current_parameters(settings: Settings) -> None:
    assert not needs_rehash(make_password("pw", settings), settings)
    assert verify_and_update("pw", make_password("pw", settings), settings) == (True, None)


@pytest.mark.parametrize(
    "newer",
    [
        {"password_time_cost": 2},
        {"password_memory_cost": 16},
        {"password_parallelism": 2, "password_memory_cost": 16},
    ],
)
def test_rehash_on_login_when_the_costs_change(newer: dict[str, int], settings: Settings) -> None:
    old = make_password("hunter2-but-longer", settings)
    current = cheap(**newer)
    assert needs_rehash(old, current)

    ok, new = verify_and_update("hunter2-but-longer", old, current)
    assert ok
    assert new is not None
    assert new != old
    assert check_password("hunter2-but-longer", new, current)
    assert not needs_rehash(new, current)
    # The old hash still verifies (with its own parameters) until it is replaced.
    assert check_password("hunter2-but-longer", old, current)


def test_lowered_costs_rehash_too(settings: Settings) -> None:
    assert needs_rehash(make_password("pw", cheap(password_time_cost=2)), settings)


def test_a_wrong_password_does_not_rehash(settings: Settings) -> None:
    old = make_password("right", settings)
    assert verify_and_update("wrong", old, cheap(password_time_cost=2)) == (False, None)


def test_unusable_passwords(settings: Settings) -> None:
    unusable = make_unusable_password()
    assert UNUSABLE_PASSWORD == "!"
    assert unusable.startswith("!")
    assert unusable != make_unusable_password()
    assert not is_password_usable(unusable)
    assert not is_password_usable(None)
    assert not is_password_usable("")
    assert is_password_usable(make_password("pw", settings))
    for guess in ("", "!", unusable, unusable[1:]):
        assert not check_password(guess, unusable, settings)
    assert not needs_rehash(unusable, settings)
    assert verify_and_update("pw", unusable, settings) == (False, None)


def test_dummy_check_is_false_whatever_the_input(settings: Settings) -> None:
    for raw in ("", "password", "x" * 10_000, "\udc80"):
        assert dummy_check(raw, settings) is False


@pytest.mark.parametrize(
    "costs",
    [
        {"password_time_cost": 0},
        {"password_parallelism": 0},
        {"password_memory_cost": 7},
        {"password_memory_cost": 16, "password_parallelism": 4},  # under 8 KiB a lane
    ],
)
def test_costs_out_of_range_are_a_configuration_error(costs: dict[str, int]) -> None:
    bad = cheap(**costs)
    for call in (
        lambda: make_password("pw", bad),
        lambda: check_password("pw", "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA", bad),
        lambda: dummy_check("pw", bad),
    ):
        with pytest.raises(ImproperlyConfigured) as caught:
            call()
        assert caught.value.id == "heron.auth.E002"


def _median_seconds(call: Callable[[], object], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_unknown_users_take_as_long_as_wrong_passwords() -> None:
    """The point of dummy_check: login timing does not reveal whether a user exists.

    Costs big enough (a few milliseconds) that argon2, not Python overhead, dominates;
    the bounds are loose, this is an order-of-magnitude check, not a benchmark.
    """
    settings = cheap(password_time_cost=2, password_memory_cost=4096)
    encoded = make_password("the real one", settings)
    dummy_check("warm up: makes the cached dummy hash", settings)
    check_password("warm up", encoded, settings)

    real = _median_seconds(lambda: check_password("a wrong guess", encoded, settings))
    dummy = _median_seconds(lambda: dummy_check("a wrong guess", settings))
    unusable = _median_seconds(lambda: check_password("a guess", "!unusable", settings))
    malformed = _median_seconds(lambda: check_password("a guess", "garbage", settings))
    for other in (dummy, unusable, malformed):
        assert 0.3 <= other / real <= 3, (real, dummy, unusable, malformed)
